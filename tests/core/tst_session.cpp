// SPDX-License-Identifier: MIT
// The session lifecycle of docs/semantics.md §2 and §4: live -> suspended -> ended, live -> ended on a clean
// close, resume with `ls`, takeover, identity change, ops firing once. Driven through Server's attach/lose calls
// with connections whose sockets never connect, so no network and no waiting, except for a zero grace timer.
#include "testvalues.h"

#include "db/database.h"
#include "server/connection.h"
#include "server/server.h"
#include "server/session.h"
#include "server/websocket.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TestSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void basics();
    void names();
    void newSessions();
    void suspendAndResume();
    void cleanCloseFiresAtOnce();
    void graceExpiryFires();
    void staleGraceDeadlineIgnored();
    void takeoverDoesNotFire();
    void identityChangeEndsSession();
    void resumeNeedsSameNamespace();
    void describeHidesTheId();
    void shutdownDoesNotFire();
};

namespace
{

ServerConfig config(int graceMs = 3600 * 1000)
{
    ServerConfig c;
    c.port = 0;
    c.graceMs = graceMs;
    return c;
}

/** A connection whose socket never connects: enough for the server's session bookkeeping. */
Connection *connection(Server &server, Database *db)
{
    return new Connection(&server, new ServerWebSocket(-1, {}, nullptr), db);
}

Session *attach(Server &server, Database *db, const QString &ls = {}, bool *resumedOut = nullptr)
{
    bool resumed = false;
    Session *s = server.attach(connection(server, db), db, ls, &resumed);
    if (resumedOut)
        *resumedOut = resumed;
    return s;
}

void queuePresence(Session *s)
{
    s->queue().set(path(u"/presence/u1"_s), QJsonObject {{u"online"_s, false}}, 1);
    s->queue().set(path(u"/conns/c1"_s), QJsonValue::Null, 2);
}

} // namespace

void TestSession::basics()
{
    Database db(u"ns"_s);
    Session s(u"abcdefghijklmnopqrstuv"_s, 12, &db);
    QCOMPARE(s.id(), u"abcdefghijklmnopqrstuv"_s);
    QCOMPARE(s.handle(), u"S12"_s);
    QCOMPARE(s.shortId(), u"abcdef"_s);
    QCOMPARE(s.number(), 12u);
    QCOMPARE(s.database(), &db);
    QCOMPARE(s.state(), Session::State::Live);
    QCOMPARE(s.endReason(), Session::EndReason::None);
    QCOMPARE(s.identity().kind, Identity::Kind::Anonymous);
    QVERIFY(s.queue().isEmpty());
    QCOMPARE(s.connection(), nullptr);
}

void TestSession::names()
{
    QCOMPARE(Session::stateName(Session::State::Live), u"live"_s);
    QCOMPARE(Session::stateName(Session::State::Suspended), u"suspended"_s);
    QCOMPARE(Session::stateName(Session::State::Ended), u"ended"_s);
    QVERIFY(Session::endReasonName(Session::EndReason::None).isEmpty());
    QCOMPARE(Session::endReasonName(Session::EndReason::CleanClose), u"clean close"_s);
    QCOMPARE(Session::endReasonName(Session::EndReason::Timeout), u"timeout"_s);
    QCOMPARE(Session::endReasonName(Session::EndReason::Takeover), u"takeover"_s);
    QCOMPARE(Session::endReasonName(Session::EndReason::IdentityChanged), u"identity changed"_s);
    QCOMPARE(Session::endReasonName(Session::EndReason::ServerShutdown), u"server shutdown"_s);
}

void TestSession::newSessions()
{
    Server server(config());
    Database *db = server.database(u"ns"_s);
    bool resumed = true;
    Session *a = attach(server, db, {}, &resumed);
    QVERIFY(!resumed);
    QCOMPARE(a->state(), Session::State::Live);
    QVERIFY(a->connection());
    // 128 random bits as base64url: 22 characters, a bearer secret.
    QCOMPARE(a->id().size(), 22);
    QCOMPARE(QByteArray::fromBase64Encoding(
                 a->id().toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors)
                 .decoded.size(),
        16);
    // An unknown `ls` simply starts a new session.
    Session *b = attach(server, db, u"no-such-session"_s, &resumed);
    QVERIFY(!resumed);
    QVERIFY(b != a);
    QVERIFY(b->id() != a->id());
    QCOMPARE(b->number(), a->number() + 1);
    QCOMPARE(server.sessions(), (QList<Session *> {a, b}));
}

void TestSession::suspendAndResume()
{
    Server server(config());
    Database *db = server.database(u"ns"_s);
    QSignalSpy fired(server.adminFeed(), &AdminFeed::opsFired);
    Session *s = attach(server, db);
    queuePresence(s);
    const QString id = s->id();

    // An abnormal loss suspends; the grace timer runs, nothing fires.
    server.connectionLost(s->connection(), s, false);
    QCOMPARE(s->state(), Session::State::Suspended);
    QCOMPARE(s->connection(), nullptr);
    QCOMPARE(s->fireAt - s->suspendedAt, server.config().graceMs);
    QCOMPARE(server.sessions(), QList<Session *> {s});

    // Resuming with ls reattaches the same session with its ops.
    bool resumed = false;
    Session *again = attach(server, db, id, &resumed);
    QVERIFY(resumed);
    QCOMPARE(again, s);
    QCOMPARE(s->id(), id);
    QCOMPARE(s->state(), Session::State::Live);
    QCOMPARE(s->resumeCount, 1);
    QCOMPARE(s->suspendedAt, 0);
    QCOMPARE(s->queue().ops().size(), 2u);
    QVERIFY(!s->authSeenOnConnection);
    QCOMPARE(fired.size(), 0);
    QVERIFY(db->valueJson(Path()).isNull());
}

void TestSession::cleanCloseFiresAtOnce()
{
    Server server(config());
    Database *db = server.database(u"ns"_s);
    std::vector<Write> w;
    w.push_back({Path(), Node::fromBool(true)});
    db->write(path(u"/conns/c1"_s), std::move(w), {});
    QSignalSpy fired(server.adminFeed(), &AdminFeed::opsFired);
    QSignalSpy removed(server.adminFeed(), &AdminFeed::sessionRemoved);
    Session *s = attach(server, db);
    queuePresence(s);
    const QString id = s->id();

    server.connectionLost(s->connection(), s, true); // s is gone after this
    QCOMPARE(fired.size(), 1);
    QCOMPARE(removed.size(), 1);
    const QJsonObject description = removed.at(0).at(0).toJsonObject();
    QCOMPARE(description.value(u"state"_s).toString(), u"ended"_s);
    QCOMPARE(description.value(u"endReason"_s).toString(), u"clean close"_s);
    QCOMPARE(fired.at(0).at(1).toJsonArray().size(), 2);
    QCOMPARE(db->valueJson(Path()),
        QJsonValue(QJsonObject {{u"presence"_s, QJsonObject {{u"u1"_s, QJsonObject {{u"online"_s, false}}}}}}));
    QVERIFY(server.sessions().isEmpty());

    // An ended session can never be resumed: its id starts nothing but a fresh session.
    bool resumed = true;
    Session *fresh = attach(server, db, id, &resumed);
    QVERIFY(!resumed);
    QVERIFY(fresh->id() != id);
    QVERIFY(fresh->queue().isEmpty());
}

void TestSession::graceExpiryFires()
{
    Server server(config(0));
    Database *db = server.database(u"ns"_s);
    QSignalSpy fired(server.adminFeed(), &AdminFeed::opsFired);
    QSignalSpy removed(server.adminFeed(), &AdminFeed::sessionRemoved);
    Session *s = attach(server, db);
    queuePresence(s);
    const QString id = s->id();
    server.connectionLost(s->connection(), s, false);
    QCOMPARE(fired.size(), 0); // not synchronously: the grace timer decides
    QVERIFY(fired.wait());
    QCOMPARE(fired.size(), 1);
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.at(0).at(0).toJsonObject().value(u"endReason"_s).toString(), u"timeout"_s);
    QCOMPARE(db->valueJson(path(u"/presence/u1/online"_s)), QJsonValue(false));
    bool resumed = true;
    Session *fresh = attach(server, db, id, &resumed);
    QVERIFY(!resumed);
    QVERIFY(fresh->id() != id);
}

void TestSession::staleGraceDeadlineIgnored()
{
    // s1 is suspended with a zero grace but resumes before the timer runs, then is suspended again with a long
    // grace: its first deadline must not fire it. s2's zero grace, due after s1's stale deadline, shows that the
    // timer has run.
    Server server(config(0));
    Database *db = server.database(u"ns"_s);
    QSignalSpy fired(server.adminFeed(), &AdminFeed::opsFired);
    Session *s1 = attach(server, db);
    queuePresence(s1);
    Session *s2 = attach(server, db);
    s2->queue().set(path(u"/s2"_s), QJsonValue(u"gone"_s), 1);
    server.connectionLost(s1->connection(), s1, false);
    QVERIFY(attach(server, db, s1->id()) == s1);
    server.setTimers(server.config().pingIntervalMs, server.config().deadAfterMs, 3600 * 1000);
    server.connectionLost(s1->connection(), s1, false);
    server.setTimers(server.config().pingIntervalMs, server.config().deadAfterMs, 0);
    server.connectionLost(s2->connection(), s2, false);
    QVERIFY(fired.wait());
    QCOMPARE(fired.size(), 1);
    QCOMPARE(fired.at(0).at(1).toJsonArray().at(0).toObject().value(u"path"_s).toString(), u"/s2"_s);
    QCOMPARE(s1->state(), Session::State::Suspended);
    QCOMPARE(server.sessions(), QList<Session *> {s1});
    QVERIFY(db->valueJson(path(u"/presence"_s)).isNull());
}

void TestSession::takeoverDoesNotFire()
{
    Server server(config());
    Database *db = server.database(u"ns"_s);
    QSignalSpy fired(server.adminFeed(), &AdminFeed::opsFired);
    Session *s = attach(server, db);
    queuePresence(s);
    Connection *old = s->connection();
    // Still live (a half-open socket not detected yet): the new connection takes the session over.
    bool resumed = false;
    Session *again = attach(server, db, s->id(), &resumed);
    QVERIFY(resumed);
    QCOMPARE(again, s);
    QVERIFY(s->connection() != old);
    QCOMPARE(s->state(), Session::State::Live);
    QCOMPARE(old->session(), nullptr); // released: losing it later does not touch the session
    server.connectionLost(old, nullptr, false);
    QCOMPARE(s->state(), Session::State::Live);
    QCOMPARE(fired.size(), 0);
    QCOMPARE(s->queue().ops().size(), 2u);
}

void TestSession::identityChangeEndsSession()
{
    Server server(config());
    Database *db = server.database(u"ns"_s);
    QSignalSpy removed(server.adminFeed(), &AdminFeed::sessionRemoved);
    Session *s = attach(server, db);
    queuePresence(s);
    const QString oldId = s->id();
    Connection *c = s->connection();
    Session *fresh = server.restartSession(c, s); // s is gone after this
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.at(0).at(0).toJsonObject().value(u"endReason"_s).toString(), u"identity changed"_s);
    QCOMPARE(db->valueJson(path(u"/presence/u1/online"_s)), QJsonValue(false));
    QVERIFY(fresh->id() != oldId);
    QCOMPARE(fresh->connection(), c);
    QCOMPARE(fresh->state(), Session::State::Live);
    QVERIFY(fresh->queue().isEmpty());
}

void TestSession::resumeNeedsSameNamespace()
{
    Server server(config());
    Database *a = server.database(u"a"_s);
    Database *b = server.database(u"b"_s);
    Session *s = attach(server, a);
    server.connectionLost(s->connection(), s, false);
    bool resumed = true;
    Session *other = attach(server, b, s->id(), &resumed);
    QVERIFY(!resumed);
    QVERIFY(other != s);
    QCOMPARE(s->state(), Session::State::Suspended);
}

void TestSession::describeHidesTheId()
{
    Server server(config());
    Database *db = server.database(u"ns"_s);
    Session *s = attach(server, db);
    queuePresence(s);
    QJsonObject d = server.adminFeed()->describeSession(*s);
    QCOMPARE(d.value(u"handle"_s).toString(), s->handle());
    QCOMPARE(d.value(u"state"_s).toString(), u"live"_s);
    QCOMPARE(d.value(u"namespace"_s).toString(), u"ns"_s);
    QCOMPARE(d.value(u"ops"_s).toArray().size(), 2);
    QCOMPARE(d.value(u"ops"_s).toArray().at(1).toObject().value(u"kind"_s).toString(), u"remove"_s);
    // The id is a bearer secret: only a short prefix ever leaves the server.
    const QByteArray text = QJsonDocument(d).toJson();
    QVERIFY(!text.contains(s->id().toLatin1()));
    QCOMPARE(d.value(u"id"_s).toString(), s->shortId());

    server.connectionLost(s->connection(), s, false);
    d = server.adminFeed()->describeSession(*s);
    QCOMPARE(d.value(u"state"_s).toString(), u"suspended"_s);
    QCOMPARE(qint64(d.value(u"fireAt"_s).toDouble()), s->fireAt);
}

void TestSession::shutdownDoesNotFire()
{
    Server server(config());
    Database *db = server.database(u"ns"_s);
    QSignalSpy fired(server.adminFeed(), &AdminFeed::opsFired);
    Session *s = attach(server, db);
    queuePresence(s);
    server.shutdown();
    // Connections closing during a shutdown are no client leaving: the sessions' ops stay unfired.
    server.connectionLost(s->connection(), s, true);
    QCOMPARE(fired.size(), 0);
    QCOMPARE(s->state(), Session::State::Live);
    QVERIFY(db->valueJson(Path()).isNull());
}

QTEST_GUILESS_MAIN(TestSession)
#include "tst_session.moc"
