// SPDX-License-Identifier: MIT
// The session lifecycle of docs/semantics.md §1–§4 against a real server over loopback: what fires, when, and
// what never fires.

#include "rawclient.h"
#include "silentclient.h"
#include "testserver.h"

#include <QDateTime>
#include <QElapsedTimer>

using namespace Qt::Literals::StringLiterals;

class TstSessions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void cleanCloseFiresAtOnce();
    void abortSuspendsThenFiresOnceAfterGrace();
    void resumeWithinGraceKeepsOpsAndFiresNothing();
    void resumedSessionFiresLaterExactlyOnce();
    void unknownOrEndedSessionIdStartsANewSession();
    void takeoverOfALiveSession();
    void batchFiresAtomically();
    void timestampsResolvedAtFireTime();
    void cancelledOpsDoNotFire();
    void silentPeerIsDetectedAndFired();
    void identityChangeOnResumeEndsOldSession();

private:
    /** An observer listening on "/" of namespace test. */
    static void observeRoot(RawClient &observer) { observer.call(u"q"_s, {{u"p"_s, u"/"_s}, {u"h"_s, u""_s}}); }
    static int countPushesTouching(const RawClient &observer, const QString &path);
};

int TstSessions::countPushesTouching(const RawClient &observer, const QString &path)
{
    int n = 0;
    for (const QJsonObject &p : observer.pushes) {
        const QJsonObject b = p.value(u"b"_s).toObject();
        const QString at = b.value(u"p"_s).toString();
        if (at == path
            || (p.value(u"a"_s) == u"m"_s
                && b.value(u"d"_s).toObject().contains(path.mid(at == u"/"_s ? 1 : at.size() + 1))))
            ++n;
    }
    return n;
}

void TstSessions::cleanCloseFiresAtOnce()
{
    // A grace far longer than the test: only a clean close can explain a fire.
    auto server = startTestServer(50, 60000, 60000);
    RawClient a, observer;
    QVERIFY(a.open(server->port()));
    QVERIFY(observer.open(server->port()));
    QCOMPARE(replyStatus(a.call(u"o"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"offline"_s}})), u"ok"_s);
    a.call(u"p"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"online"_s}});
    observer.call(u"q"_s, {{u"p"_s, u"/status/a"_s}, {u"h"_s, u""_s}});
    a.socket.close(); // close frame 1000, like goOffline() or a closed tab
    const QJsonObject push = observer.waitPush(
        [](const QJsonObject &p) { return pushAt(u"d"_s, u"/status/a"_s)(p) && pushData(p) == u"offline"_s; }, 5000);
    QVERIFY2(!push.isEmpty(), "onDisconnect did not fire on a clean close");
    QVERIFY(server->sessions().size() == 1); // only the observer's session is left
}

void TstSessions::abortSuspendsThenFiresOnceAfterGrace()
{
    auto server = startTestServer(50, 400, 800);
    RawClient a, observer;
    QVERIFY(a.open(server->port()));
    QVERIFY(observer.open(server->port()));
    a.call(u"o"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"offline"_s}});
    observeRoot(observer);
    QElapsedTimer t;
    t.start();
    a.socket.abort(); // TCP gone without a close frame
    QTRY_COMPARE_WITH_TIMEOUT(server->sessions().constFirst()->state(), lark::Session::State::Suspended, 5000);
    QCOMPARE(countPushesTouching(observer, u"/status/a"_s), 0);
    const QJsonObject push = observer.waitPush(pushAt(u"d"_s, u"/status/a"_s), 10000);
    QVERIFY(!push.isEmpty());
    QVERIFY2(t.elapsed() >= 750, "fired before the grace period was over");
    QTest::qWait(300);
    QCOMPARE(countPushesTouching(observer, u"/status/a"_s), 1);
    QCOMPARE(server->sessions().size(), 1);
}

void TstSessions::resumeWithinGraceKeepsOpsAndFiresNothing()
{
    auto server = startTestServer(50, 60000, 2000);
    RawClient a, observer;
    QVERIFY(a.open(server->port()));
    QVERIFY(observer.open(server->port()));
    const QString sid = a.sessionId();
    a.call(u"o"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"offline"_s}});
    observeRoot(observer);
    a.socket.abort();
    QTRY_COMPARE_WITH_TIMEOUT(server->sessions().size(), 2, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(server->sessions().constFirst()->state() == lark::Session::State::Suspended, 5000);

    RawClient again;
    QVERIFY(again.open(server->port(), u"test"_s, sid));
    QCOMPARE(again.sessionId(), sid); // same session, same ops
    QCOMPARE(server->sessions().constFirst()->state(), lark::Session::State::Live);
    QCOMPARE(server->sessions().constFirst()->queue().ops().size(), size_t(1));
    QTest::qWait(2500); // past the original grace deadline: it must have been cancelled
    QCOMPARE(countPushesTouching(observer, u"/status/a"_s), 0);
}

void TstSessions::resumedSessionFiresLaterExactlyOnce()
{
    auto server = startTestServer(50, 60000, 600);
    RawClient a, observer;
    QVERIFY(a.open(server->port()));
    QVERIFY(observer.open(server->port()));
    const QString sid = a.sessionId();
    a.call(u"o"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"offline"_s}});
    observeRoot(observer);
    a.socket.abort();
    QTRY_VERIFY_WITH_TIMEOUT(server->sessions().constFirst()->state() == lark::Session::State::Suspended, 5000);
    RawClient again;
    QVERIFY(again.open(server->port(), u"test"_s, sid));
    again.socket.close();
    QVERIFY(!observer.waitPush(pushAt(u"d"_s, u"/status/a"_s)).isEmpty());
    QTest::qWait(1000); // past the first grace deadline too
    QCOMPARE(countPushesTouching(observer, u"/status/a"_s), 1);
    // A fired session can never resume: its id now starts a new session.
    RawClient late;
    QVERIFY(late.open(server->port(), u"test"_s, sid));
    QVERIFY(late.sessionId() != sid);
}

void TstSessions::unknownOrEndedSessionIdStartsANewSession()
{
    auto server = startTestServer();
    RawClient c;
    QVERIFY(c.open(server->port(), u"test"_s, u"not-a-session"_s));
    QVERIFY(c.sessionId() != u"not-a-session"_s);
    QCOMPARE(c.sessionId().size(), 22);
}

void TstSessions::takeoverOfALiveSession()
{
    auto server = startTestServer(50, 60000, 60000);
    RawClient a, observer;
    QVERIFY(a.open(server->port()));
    QVERIFY(observer.open(server->port()));
    a.call(u"o"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"offline"_s}});
    observeRoot(observer);
    // The server still thinks a is live (a half-open socket); the same client comes back on a new one.
    RawClient b;
    QVERIFY(b.open(server->port(), u"test"_s, a.sessionId()));
    QCOMPARE(b.sessionId(), a.sessionId());
    QTRY_VERIFY_WITH_TIMEOUT(a.closed, 5000);
    QCOMPARE(a.socket.closeCode(), QWebSocketProtocol::CloseCodeNormal);
    QTest::qWait(200);
    QCOMPARE(countPushesTouching(observer, u"/status/a"_s), 0);
    QCOMPARE(server->sessions().size(), 2);
    QCOMPARE(replyStatus(b.call(u"p"_s, {{u"p"_s, u"/still/works"_s}, {u"d"_s, 1}})), u"ok"_s);
}

void TstSessions::batchFiresAtomically()
{
    auto server = startTestServer();
    RawClient a, observer;
    QVERIFY(a.open(server->port()));
    QVERIFY(observer.open(server->port()));
    a.call(u"p"_s, {{u"p"_s, u"/presence/a/connections/c1"_s}, {u"d"_s, true}});
    a.call(u"o"_s, {{u"p"_s, u"/presence/a/connections/c1"_s}, {u"d"_s, QJsonValue()}});
    a.call(u"o"_s, {{u"p"_s, u"/presence/a/lastSeen"_s}, {u"d"_s, 42}});
    a.call(u"om"_s, {{u"p"_s, u"/status"_s}, {u"d"_s, QJsonObject {{u"state"_s, u"offline"_s}, {u"n"_s, 1}}}});
    observeRoot(observer);
    observer.pushes.clear();
    a.socket.close();
    QTRY_VERIFY_WITH_TIMEOUT(!observer.pushes.isEmpty(), 5000);
    QTest::qWait(100);
    // One message carries every op: listeners never see a half-applied set of ops.
    QCOMPARE(observer.pushes.size(), 1);
    const QJsonObject merge = pushData(observer.pushes.constFirst()).toObject();
    QCOMPARE(observer.pushes.constFirst().value(u"a"_s).toString(), u"m"_s);
    QCOMPARE(merge.keys(),
        (QStringList {u"presence/a/connections/c1"_s, u"presence/a/lastSeen"_s, u"status/n"_s, u"status/state"_s}));
    const QJsonObject stored
        = observer.call(u"g"_s, {{u"p"_s, u"/"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toObject();
    QCOMPARE(stored,
        (QJsonObject {{u"presence"_s, QJsonObject {{u"a"_s, QJsonObject {{u"lastSeen"_s, 42}}}}},
            {u"status"_s, QJsonObject {{u"n"_s, 1}, {u"state"_s, u"offline"_s}}}}));
}

void TstSessions::timestampsResolvedAtFireTime()
{
    auto server = startTestServer();
    RawClient a, observer;
    QVERIFY(a.open(server->port()));
    QVERIFY(observer.open(server->port()));
    a.call(u"p"_s, {{u"p"_s, u"/n"_s}, {u"d"_s, 10}});
    a.call(u"o"_s, {{u"p"_s, u"/lastSeen"_s}, {u"d"_s, QJsonObject {{u".sv"_s, u"timestamp"_s}}}});
    a.call(u"o"_s, {{u"p"_s, u"/n"_s}, {u"d"_s, QJsonObject {{u".sv"_s, QJsonObject {{u"increment"_s, 1}}}}}});
    QTest::qWait(300);
    a.call(u"p"_s, {{u"p"_s, u"/n"_s}, {u"d"_s, 100}}); // the increment applies to the value at fire time
    const qint64 closedAt = QDateTime::currentMSecsSinceEpoch();
    a.socket.close();
    QTRY_COMPARE_WITH_TIMEOUT(server->sessions().size(), 1, 5000);
    const QJsonObject v = observer.call(u"g"_s, {{u"p"_s, u"/"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toObject();
    QVERIFY2(v.value(u"lastSeen"_s).toDouble() >= double(closedAt), "timestamp was resolved at registration");
    QCOMPARE(v.value(u"n"_s).toDouble(), 101.0);
}

void TstSessions::cancelledOpsDoNotFire()
{
    auto server = startTestServer();
    RawClient a, observer;
    QVERIFY(a.open(server->port()));
    QVERIFY(observer.open(server->port()));
    a.call(u"o"_s, {{u"p"_s, u"/keep"_s}, {u"d"_s, 1}});
    a.call(u"o"_s, {{u"p"_s, u"/scratch/x"_s}, {u"d"_s, u"bye"_s}});
    QCOMPARE(replyStatus(a.call(u"oc"_s, {{u"p"_s, u"/scratch"_s}, {u"d"_s, QJsonValue()}})), u"ok"_s);
    a.socket.close();
    QTRY_COMPARE_WITH_TIMEOUT(server->sessions().size(), 1, 5000);
    const QJsonObject v = observer.call(u"g"_s, {{u"p"_s, u"/"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toObject();
    QCOMPARE(v, (QJsonObject {{u"keep"_s, 1}}));
}

void TstSessions::silentPeerIsDetectedAndFired()
{
    auto server = startTestServer(50, 400, 500);
    SilentClient silent;
    QVERIFY(silent.open(server->port(), u"test"_s));
    silent.request(1, u"o"_s, {{u"p"_s, u"/status/s"_s}, {u"d"_s, u"offline"_s}});
    QElapsedTimer t; // from its last frame: the server can hear nothing after this
    t.start();
    QTRY_COMPARE_WITH_TIMEOUT(server->sessions().size(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(server->sessions().constFirst()->queue().ops().size(), size_t(1), 5000);
    RawClient observer;
    QVERIFY(observer.open(server->port()));
    observeRoot(observer);
    // The socket stays open, but nothing answers the server's pings: dead after 400 ms, then 500 ms of grace.
    QVERIFY(!observer.waitPush(pushAt(u"d"_s, u"/status/s"_s), 10000).isEmpty());
    QVERIFY2(t.elapsed() >= 850, "fired before dead-after + grace");
}

void TstSessions::identityChangeOnResumeEndsOldSession()
{
    auto server = startTestServer(50, 60000, 60000);
    auto token = [](const QString &sub) {
        auto b64 = [](const QByteArray &b) {
            return QString::fromLatin1(b.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
        };
        return b64(R"({"alg":"none"})") + u'.' + b64(QJsonDocument(QJsonObject {{u"sub"_s, sub}}).toJson()) + u'.';
    };
    RawClient a, observer;
    QVERIFY(a.open(server->port()));
    QVERIFY(observer.open(server->port()));
    QCOMPARE(replyStatus(a.call(u"auth"_s, {{u"cred"_s, token(u"alice"_s)}})), u"ok"_s);
    a.call(u"o"_s, {{u"p"_s, u"/status/alice"_s}, {u"d"_s, u"offline"_s}});
    a.socket.abort();
    QTRY_VERIFY_WITH_TIMEOUT(server->sessions().constFirst()->state() == lark::Session::State::Suspended, 5000);
    RawClient b;
    QVERIFY(b.open(server->port(), u"test"_s, a.sessionId()));
    QCOMPARE(replyStatus(b.call(u"auth"_s, {{u"cred"_s, token(u"mallory"_s)}})), u"ok"_s);
    // Alice's ops fired; mallory did not inherit them.
    QCOMPARE(observer.call(u"g"_s, {{u"p"_s, u"/status/alice"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toString(),
        u"offline"_s);
    for (const lark::Session *s : server->sessions())
        QVERIFY(s->queue().isEmpty());
}

QTEST_GUILESS_MAIN(TstSessions)
#include "tst_sessions.moc"
