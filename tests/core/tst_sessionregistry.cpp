// SPDX-License-Identifier: MIT
#include "db/database.h"
#include "server/sessionregistry.h"

#include <QSet>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

namespace
{
// The registry only stores and hands back connection pointers; these stand in for real ones.
Connection *const First = reinterpret_cast<Connection *>(0x10);
Connection *const Second = reinterpret_cast<Connection *>(0x20);
} // namespace

class TestSessionRegistry : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void openGivesFreshIdsAndNumbers();
    void resumeAfterSuspend();
    void takeoverOfALiveSession();
    void resumeNeedsTheSameNamespace();
    void graceExpiresInOrder();
    void resumedSessionDoesNotExpire();
    void stallMovesDeadlines();
    void restoredSessionsAreSuspended();

private:
    Database m_db {u"ns"_s};
    Database m_other {u"other"_s};
};

void TestSessionRegistry::openGivesFreshIdsAndNumbers()
{
    SessionRegistry r;
    QSet<QString> ids;
    for (int i = 0; i < 100; ++i) {
        Session *s = r.open(First, &m_db, u"127.0.0.1"_s, 1000);
        QCOMPARE(s->number(), quint64(i + 1));
        QCOMPARE(s->id().size(), 22); // 128 bits, base64url without padding
        ids.insert(s->id());
        QCOMPARE(s->state(), Session::State::Live);
        QCOMPARE(s->connection(), First);
        QCOMPARE(r.find(s->id()), s);
    }
    QCOMPARE(ids.size(), 100);
    QCOMPARE(r.size(), 100);
}

void TestSessionRegistry::resumeAfterSuspend()
{
    SessionRegistry r;
    Session *s = r.open(First, &m_db, u"a"_s, 1000);
    r.suspend(s, 500, 2000, 10000);
    QCOMPARE(s->state(), Session::State::Suspended);
    QCOMPARE(s->connection(), nullptr);
    QCOMPARE(s->fireAt, 12000);
    QCOMPARE(s->graceDeadline, 10500);
    const SessionRegistry::Resumed back = r.resume(s->id(), &m_db, Second, u"b"_s, 3000);
    QCOMPARE(back.session, s);
    QCOMPARE(back.takenFrom, nullptr);
    QCOMPARE(s->state(), Session::State::Live);
    QCOMPARE(s->connection(), Second);
    QCOMPARE(s->remoteAddress, u"b"_s);
    QCOMPARE(s->resumeCount, 1);
    QCOMPARE(s->fireAt, 0);
    QVERIFY(!r.resume(u"unknown"_s, &m_db, Second, u"b"_s, 3000).session);
}

void TestSessionRegistry::takeoverOfALiveSession()
{
    SessionRegistry r;
    Session *s = r.open(First, &m_db, u"a"_s, 1000);
    // The old socket is half-open and not yet known dead: the new one takes the session, the old one is released.
    const SessionRegistry::Resumed back = r.resume(s->id(), &m_db, Second, u"b"_s, 2000);
    QCOMPARE(back.session, s);
    QCOMPARE(back.takenFrom, First);
    QCOMPARE(s->connection(), Second);
}

void TestSessionRegistry::resumeNeedsTheSameNamespace()
{
    SessionRegistry r;
    Session *s = r.open(First, &m_db, u"a"_s, 1000);
    r.suspend(s, 0, 1000, 1000);
    QVERIFY(!r.resume(s->id(), &m_other, Second, u"b"_s, 1500).session);
    QCOMPARE(s->state(), Session::State::Suspended);
}

void TestSessionRegistry::graceExpiresInOrder()
{
    SessionRegistry r;
    Session *late = r.open(First, &m_db, u"a"_s, 0);
    Session *early = r.open(Second, &m_db, u"b"_s, 0);
    r.suspend(late, 100, 0, 500); // due at 600
    r.suspend(early, 200, 0, 100); // due at 300
    QCOMPARE(r.nextDeadline(), 300);
    QVERIFY(r.takeExpired(299).empty());
    QCOMPARE(r.takeExpired(300), std::vector<Session *> {early});
    QVERIFY(r.takeExpired(300).empty()); // handed out once
    QCOMPARE(r.nextDeadline(), 600);
    QCOMPARE(r.takeExpired(10000), std::vector<Session *> {late});
    QCOMPARE(r.nextDeadline(), -1);
    const QString id = early->id();
    r.remove(early);
    QVERIFY(!r.find(id));
    QCOMPARE(r.size(), 1);
}

void TestSessionRegistry::resumedSessionDoesNotExpire()
{
    SessionRegistry r;
    Session *s = r.open(First, &m_db, u"a"_s, 0);
    r.suspend(s, 0, 0, 100);
    QVERIFY(r.resume(s->id(), &m_db, Second, u"b"_s, 50).session);
    QVERIFY(r.takeExpired(1000).empty());
    // Suspended again later: only the new deadline counts.
    r.suspend(s, 2000, 2000, 100);
    QVERIFY(r.takeExpired(2099).empty());
    QCOMPARE(r.takeExpired(2100), std::vector<Session *> {s});
}

void TestSessionRegistry::stallMovesDeadlines()
{
    SessionRegistry r;
    Session *s = r.open(First, &m_db, u"a"_s, 0);
    Session *live = r.open(Second, &m_db, u"b"_s, 0);
    r.suspend(s, 1000, 5000, 2000);
    r.shiftDeadlines(4500);
    QCOMPARE(s->graceDeadline, 7500);
    QCOMPARE(s->fireAt, 11500);
    QCOMPARE(live->graceDeadline, 0); // live sessions have no deadline to move
    QVERIFY(r.takeExpired(7499).empty());
    QCOMPARE(r.takeExpired(7500), std::vector<Session *> {s});
}

void TestSessionRegistry::restoredSessionsAreSuspended()
{
    SessionRegistry r;
    Session *s = r.restore(u"stored-id"_s, 41, &m_db, 100, 5000, 3000);
    QCOMPARE(s->state(), Session::State::Suspended);
    QCOMPARE(s->fireAt, 8000);
    QCOMPARE(r.takeExpired(3100), std::vector<Session *> {s});
    // New sessions never reuse a stored number.
    QCOMPARE(r.open(First, &m_db, u"a"_s, 0)->number(), quint64(42));
}

QTEST_GUILESS_MAIN(TestSessionRegistry)
#include "tst_sessionregistry.moc"
