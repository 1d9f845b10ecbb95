// SPDX-License-Identifier: MIT
// The C++ client through the netsim proxy: what a blip, a silent drop and a clean close do to a session and its
// onDisconnect ops (docs/semantics.md §1), checked from an independent observer client.

#include "testserver.h"

#include "client/database.h"
#include "netsim/linkproxy.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark::client;
using lark::netsim::LinkProxy;

namespace
{

DatabaseOptions fastReconnect()
{
    DatabaseOptions o;
    o.minReconnectDelayMs = 50;
    o.maxReconnectDelayMs = 200;
    return o;
}

/** Every value an observer saw at one location, in order. */
struct Watch {
    QList<QJsonValue> values;
    EventCallback callback()
    {
        return [this](const DataSnapshot &s, const QString &) { values.append(s.value()); };
    }
    [[nodiscard]] bool sawValue(const QJsonValue &v) const { return values.contains(v); }
    [[nodiscard]] qsizetype count(const QJsonValue &v) const { return values.count(v); }
};

bool completes(std::function<void(const QObject *, Completion)> op)
{
    bool done = false, ok = false;
    QObject context;
    op(&context, [&](const Error &e) {
        done = true;
        ok = e.isOk();
    });
    return QTest::qWaitFor([&] { return done; }, 10000) && ok;
}

/** A client behind its own proxy, with an onDisconnect set of status/<name> = "offline" and status = "online". */
struct Tab {
    LinkProxy proxy;
    Database db;
    // The proxy must listen before the client is built, since the client connects from its constructor.
    Tab(const lark::Server &server, const QString &name)
        : proxy(QHostAddress::LocalHost, server.port())
        , db(QUrl(u"ws://127.0.0.1:%1"_s.arg(proxy.listen() ? proxy.port() : 0)), u"test"_s, fastReconnect())
        , m_name(name)
    {
    }
    bool registerOps()
    {
        if (!QTest::qWaitFor([this] { return db.isConnected(); }, 10000))
            return false;
        const Reference status = db.ref(u"status"_s).child(m_name);
        return completes([&](const QObject *context, Completion c) {
            status.onDisconnect().set(u"offline"_s, context, c);
        }) && completes([&](const QObject *context, Completion c) { status.set(u"online"_s, context, c); });
    }

private:
    QString m_name;
};

} // namespace

class TstNetsim : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void blipResumesTheSessionAndFiresNothing();
    void blackholeFiresAfterDetectionAndGrace();
    void cleanCloseFiresAtOnce();
    void proxyCountsAndDelay();
};

void TstNetsim::blipResumesTheSessionAndFiresNothing()
{
    // A long grace: if anything fired it would be the blip, not a timeout.
    auto server = startTestServer(50, 400, 20000);
    QSignalSpy fired(server->adminFeed(), &lark::AdminFeed::opsFired);
    Tab tab(*server, u"a"_s);
    QVERIFY(tab.registerOps());
    Database observer(QUrl(server->url()), u"test"_s);
    Watch seen;
    const Subscription seenListen = observer.ref(u"status/a"_s).on(Event::Value, this, seen.callback());
    QTRY_VERIFY_WITH_TIMEOUT(seen.sawValue(u"online"_s), 10000);

    const QString sessionBefore = tab.db.sessionId();
    QSignalSpy connected(&tab.db, &Database::connectedChanged);
    tab.proxy.blip();
    QTRY_VERIFY_WITH_TIMEOUT(connected.size() >= 2, 10000);
    QCOMPARE(connected.at(0).at(0).toBool(), false);
    QCOMPARE(connected.at(1).at(0).toBool(), true);
    QVERIFY(tab.db.lastConnectResumed());
    QCOMPARE(tab.db.sessionId(), sessionBefore);
    QCOMPARE(tab.proxy.resets(), 1);

    // The ops are still queued on the resumed session: a later clean close fires them exactly once.
    tab.db.goOffline();
    QTRY_VERIFY_WITH_TIMEOUT(seen.sawValue(u"offline"_s), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(fired.size(), 1, 10000);
    QCOMPARE(seen.count(u"offline"_s), 1);
    // Nothing in between: the observer went from online straight to the one offline of the close.
    QCOMPARE(seen.values.indexOf(QJsonValue(u"offline"_s)), seen.values.size() - 1);
}

void TstNetsim::blackholeFiresAfterDetectionAndGrace()
{
    constexpr int pingMs = 50, deadAfterMs = 400, graceMs = 800;
    auto server = startTestServer(pingMs, deadAfterMs, graceMs);
    Tab tab(*server, u"b"_s);
    QVERIFY(tab.registerOps());
    Database observer(QUrl(server->url()), u"test"_s);
    Watch seen;
    const Subscription seenListen = observer.ref(u"status/b"_s).on(Event::Value, this, seen.callback());
    QTRY_VERIFY_WITH_TIMEOUT(seen.sawValue(u"online"_s), 10000);
    const QString sessionBefore = tab.db.sessionId();

    bool suspended = false;
    connect(server->adminFeed(), &lark::AdminFeed::sessionChanged, this, [&](const QJsonObject &s) {
        if (s.value(u"state"_s).toString() == u"suspended"_s)
            suspended = true;
    });
    QElapsedTimer sinceDrop;
    sinceDrop.start();
    tab.proxy.setMode(LinkProxy::Mode::Blackhole);
    QTRY_VERIFY_WITH_TIMEOUT(seen.sawValue(u"offline"_s), 15000);
    QVERIFY(suspended);
    // Never early: the last pong can be at most one ping interval older than the drop.
    QCOMPARE_GE(sinceDrop.elapsed(), deadAfterMs + graceMs - pingMs);
    QCOMPARE(seen.count(u"offline"_s), 1);

    // The client never noticed (no close reached it). Once the network passes again it learns the link is dead,
    // reconnects, and gets a new session: the old one is gone with its ops.
    tab.proxy.setMode(LinkProxy::Mode::Pass);
    QTRY_VERIFY_WITH_TIMEOUT(tab.db.isConnected() && tab.db.sessionId() != sessionBefore, 15000);
    QVERIFY(!tab.db.lastConnectResumed());
}

void TstNetsim::cleanCloseFiresAtOnce()
{
    // Detection and grace far beyond the test's timeout: only the close frame can fire the ops.
    auto server = startTestServer(50, 60000, 60000);
    Tab tab(*server, u"c"_s);
    QVERIFY(tab.registerOps());
    Database observer(QUrl(server->url()), u"test"_s);
    Watch seen;
    const Subscription seenListen = observer.ref(u"status/c"_s).on(Event::Value, this, seen.callback());
    QTRY_VERIFY_WITH_TIMEOUT(seen.sawValue(u"online"_s), 10000);
    tab.db.goOffline();
    QTRY_VERIFY_WITH_TIMEOUT(seen.sawValue(u"offline"_s), 10000);
    QCOMPARE(tab.proxy.resets(), 0);
}

void TstNetsim::proxyCountsAndDelay()
{
    auto server = startTestServer();
    LinkProxy proxy(QHostAddress::LocalHost, server->port());
    QVERIFY(proxy.listen());
    proxy.setDelayMs(150);
    proxy.setMode(LinkProxy::Mode::Delay);
    Database db(QUrl(u"ws://127.0.0.1:%1"_s.arg(proxy.port())), u"test"_s, fastReconnect());
    QTRY_VERIFY_WITH_TIMEOUT(db.isConnected(), 10000);
    QCOMPARE(proxy.connectionsAccepted(), 1);
    QCOMPARE(proxy.linkCount(), 1);
    QElapsedTimer rtt;
    rtt.start();
    QVERIFY(completes([&](const QObject *context, Completion c) { db.ref(u"x"_s).set(1, context, c); }));
    // A set and its ack each cross the proxy once: the delay applies both ways.
    QCOMPARE_GE(rtt.elapsed(), 2 * 150);
    QVERIFY(proxy.bytesUp() > 0);
    QVERIFY(proxy.bytesDown() > 0);

    // Blackholed bytes are counted as dropped, not forwarded.
    proxy.setMode(LinkProxy::Mode::Blackhole);
    const qint64 up = proxy.bytesUp();
    db.ref(u"x"_s).set(2);
    QTRY_VERIFY_WITH_TIMEOUT(proxy.bytesDropped() > 0, 10000);
    QCOMPARE(proxy.bytesUp(), up);
}

QTEST_GUILESS_MAIN(TstNetsim)
#include "tst_netsim.moc"
