// SPDX-License-Identifier: MIT
// lark-server --redis as real processes: three nodes on one Redis that the test starts itself, raw v5 clients over
// 127.0.0.1. Any node takes any client and every listener sees one order, the writer's push before its ok; the
// node refuses a Redis that would lose acknowledged writes and --data with --redis; acknowledged writes survive a
// Redis kill -9 and restart, and the nodes carry on without restarting.
#include "rawclient.h"
#include "redisserver.h"
#include "serverprocess.h"
#include "websockettest.h"

#include <QElapsedTimer>
#include <QProcess>

#include <csignal>

#include <memory>

using namespace Qt::Literals::StringLiterals;

class TstCluster : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void anyNodeOneOrder();
    void refusesWeakRedisAndData();
    void writesSurviveARedisRestart();
    void pausedPastItsLeaseIsFenced();
    void sessionResumesOnAnotherNode();
    void liveSessionTakenOverByAnotherNode();
    void cleanCloseFiresAtOnce();
    void killedNodeSessionsFireOnce();
    void nodeLeavingHandsItsSessionsOver();

private:
    /** Starts node `name` on a free port; its port, 0 on failure. */
    quint16 startNode(const QString &name, const QStringList &extra = {});
    std::unique_ptr<RedisServer> m_redis;
    std::vector<std::unique_ptr<QProcess>> m_nodes;
};

namespace
{

QJsonObject put(const QString &path, const QJsonValue &value)
{
    return {{u"p"_s, path}, {u"d"_s, value}};
}

QJsonObject listenTo(const QString &path)
{
    return {{u"p"_s, path}, {u"h"_s, u""_s}};
}

QString redisUrl(quint16 port)
{
    return u"redis://127.0.0.1:%1"_s.arg(port);
}

/** Whether a new client of the node on port is closed with code instead of getting a hello (a raw peer: Qt's own
 *  client does not accept 1013). */
bool closedWith(quint16 port, int code)
{
    Peer p;
    if (!p.connectTo(port))
        return false;
    p.send(upgradeRequest());
    (void)QTest::qWaitFor([&] { return p.closeCode() != -1 || p.closed; }, 5000);
    return p.closeCode() == code && p.hello().isEmpty();
}

/** The values pushed for path, in order. */
QList<QJsonValue> pushedValues(const RawClient &c, const QString &path)
{
    QList<QJsonValue> out;
    for (const QJsonObject &p : c.pushes) {
        const QJsonObject b = p.value(u"b"_s).toObject();
        if (p.value(u"a"_s) == u"d"_s && b.value(u"p"_s).toString() == path)
            out << b.value(u"d"_s);
    }
    return out;
}

} // namespace

void TstCluster::init()
{
    m_redis = std::make_unique<RedisServer>();
    QVERIFY(m_redis->start());
}

void TstCluster::cleanup()
{
    for (auto &p : m_nodes) {
        p->terminate();
        if (!p->waitForFinished(5000))
            p->kill();
    }
    m_nodes.clear();
    m_redis.reset();
}

quint16 TstCluster::startNode(const QString &name, const QStringList &extra)
{
    auto p = std::make_unique<QProcess>();
    p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    const quint16 port = startServerProcess(*p,
        QStringList {u"--port"_s, u"0"_s, u"--redis"_s, redisUrl(m_redis->port()), u"--node-name"_s, name,
            u"--ping-interval"_s, u"200ms"_s, u"--dead-after"_s, u"1s"_s, u"--grace"_s, u"1s"_s}
            + extra);
    m_nodes.push_back(std::move(p));
    return port;
}

void TstCluster::anyNodeOneOrder()
{
    const quint16 ports[] {startNode(u"n1"_s), startNode(u"n2"_s), startNode(u"n3"_s)};
    for (quint16 port : ports)
        QVERIFY(port != 0);
    RawClient writer, second, third;
    QVERIFY(writer.open(ports[0]));
    QVERIFY(second.open(ports[1]));
    QVERIFY(third.open(ports[2]));
    for (RawClient *c : {&writer, &second, &third})
        QCOMPARE(replyStatus(c->call(u"q"_s, listenTo(u"/room"_s))), u"ok"_s);

    // Pipelined writes through one node, a racing writer on another: every listener sees the same sequence, and the
    // first writer's own push comes before each of its oks.
    QList<qint64> requests;
    for (int i = 0; i < 30; ++i) {
        requests << writer.request(u"p"_s, put(u"/room/value"_s, i));
        second.request(u"p"_s, put(u"/room/value"_s, 100 + i));
    }
    for (qint64 r : std::as_const(requests))
        QCOMPARE(replyStatus(writer.waitReply(r)), u"ok"_s);
    const QString value = u"/room/value"_s;
    QTRY_COMPARE(pushedValues(third, value).size(), 60);
    QTRY_COMPARE(pushedValues(second, value).size(), 60);
    QTRY_COMPARE(pushedValues(writer, value).size(), 60);
    QCOMPARE(pushedValues(writer, value), pushedValues(third, value));
    QCOMPARE(pushedValues(second, value), pushedValues(third, value));
    // Push before ack: when the ok of the write of value i arrived, the push of value i had come before it.
    for (int i = 0; i < 30; ++i) {
        qsizetype okAt = -1, pushAtIndex = -1;
        for (qsizetype m = 0; m < writer.messages.size(); ++m) {
            const QJsonObject d = writer.messages.at(m).value(u"d"_s).toObject();
            if (qint64(d.value(u"r"_s).toDouble()) == requests.at(i) && okAt < 0)
                okAt = m;
            const QJsonObject b = d.value(u"b"_s).toObject();
            if (!d.contains(u"r"_s) && b.value(u"p"_s) == value && b.value(u"d"_s) == QJsonValue(i) && pushAtIndex < 0)
                pushAtIndex = m;
        }
        QVERIFY2(pushAtIndex >= 0 && pushAtIndex < okAt, qPrintable(u"write %1"_s.arg(i)));
    }

    // A client new to the third node reads what the first wrote.
    RawClient late;
    QVERIFY(late.open(ports[2]));
    const QJsonObject got = late.call(u"g"_s, {{u"p"_s, u"/room/value"_s}, {u"q"_s, QJsonObject()}});
    QCOMPARE(got.value(u"d"_s), pushedValues(third, value).last());
}

void TstCluster::refusesWeakRedisAndData()
{
    RedisServer weak({u"--appendfsync"_s, u"everysec"_s});
    QVERIFY(weak.start());
    QProcess refused;
    refused.start(QStringLiteral(LARK_SERVER_PATH), {u"--port"_s, u"0"_s, u"--redis"_s, redisUrl(weak.port())});
    QVERIFY(refused.waitForFinished(15000));
    QVERIFY(refused.exitCode() != 0);
    const QString why = QString::fromUtf8(refused.readAllStandardError());
    QVERIFY2(why.contains(u"appendfsync is everysec"_s) && why.contains(u"--redis-unsafe"_s), qPrintable(why));

    QProcess unsafe;
    unsafe.setProcessChannelMode(QProcess::MergedChannels);
    QVERIFY(startServerProcess(unsafe, {u"--port"_s, u"0"_s, u"--redis"_s, redisUrl(weak.port()), u"--redis-unsafe"_s})
        != 0);
    unsafe.terminate();
    QVERIFY(unsafe.waitForFinished(10000));

    QProcess both;
    both.start(QStringLiteral(LARK_SERVER_PATH),
        {u"--port"_s, u"0"_s, u"--redis"_s, redisUrl(m_redis->port()), u"--data"_s, u"x.lark"_s});
    QVERIFY(both.waitForFinished(15000));
    QVERIFY(both.exitCode() != 0);
    QVERIFY(QString::fromUtf8(both.readAllStandardError()).contains(u"--data and --redis exclude each other"_s));

    QProcess badUrl;
    badUrl.start(QStringLiteral(LARK_SERVER_PATH), {u"--redis"_s, u"http://127.0.0.1:1"_s});
    QVERIFY(badUrl.waitForFinished(15000));
    QVERIFY(badUrl.exitCode() != 0);
    QVERIFY(QString::fromUtf8(badUrl.readAllStandardError()).contains(u"--redis"_s));
}

void TstCluster::writesSurviveARedisRestart()
{
    // A lease longer than the restart takes, so that the nodes keep their clients through it.
    const QStringList longLease {u"--dead-after"_s, u"10s"_s};
    const quint16 first = startNode(u"n1"_s, longLease), second = startNode(u"n2"_s, longLease);
    QVERIFY(first != 0 && second != 0);
    RawClient writer, listener;
    QVERIFY(writer.open(first));
    QVERIFY(listener.open(second));
    QCOMPARE(replyStatus(listener.call(u"q"_s, listenTo(u"/log"_s))), u"ok"_s);
    for (int i = 0; i < 20; ++i)
        QCOMPARE(replyStatus(writer.call(u"p"_s, put(u"/log/%1"_s.arg(i), i))), u"ok"_s);

    m_redis->kill();
    // While Redis is away a new client gets no session (1013, try again later), and a write is refused with a
    // reason, never acknowledged.
    QTRY_VERIFY_WITH_TIMEOUT(closedWith(first, 1013), 10000);
    QJsonObject down;
    QTRY_VERIFY_WITH_TIMEOUT(
        (down = writer.call(u"p"_s, put(u"/log/down"_s, true))).value(u"s"_s) == u"write_failed"_s, 10000);
    QVERIFY2(
        down.value(u"d"_s).toString().contains(u"storage unavailable"_s), qPrintable(down.value(u"d"_s).toString()));

    QVERIFY(m_redis->start());
    QJsonObject after;
    QTRY_VERIFY_WITH_TIMEOUT((after = writer.call(u"p"_s, put(u"/log/after"_s, true))).value(u"s"_s) == u"ok"_s, 15000);
    // The listener from before the restart hears the next write, and a third node started now has them all.
    QVERIFY(!listener.waitPush(pushAt(u"d"_s, u"/log/after"_s)).isEmpty());
    const quint16 third = startNode(u"n3"_s);
    QVERIFY(third != 0);
    RawClient reader;
    QVERIFY(reader.open(third));
    const QJsonObject all
        = reader.call(u"g"_s, {{u"p"_s, u"/log"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toObject();
    for (int i = 0; i < 20; ++i)
        QCOMPARE(all.value(QString::number(i)), QJsonValue(i));
    QCOMPARE(all.value(u"after"_s), QJsonValue(true));
    QVERIFY(!all.contains(u"down"_s));
}

void TstCluster::pausedPastItsLeaseIsFenced()
{
    const quint16 paused = startNode(u"n1"_s), other = startNode(u"n2"_s); // lease = dead-after = 1 s
    QVERIFY(paused != 0 && other != 0);
    const auto pid = pid_t(m_nodes.front()->processId());
    RawClient client, watcher;
    QVERIFY(client.open(paused));
    QVERIFY(watcher.open(other));
    QCOMPARE(replyStatus(client.call(u"p"_s, put(u"/x"_s, 1))), u"ok"_s);

    // SIGSTOP for longer than the lease, with a write waiting in the node's socket meanwhile.
    ::kill(pid, SIGSTOP);
    const qint64 late = client.request(u"p"_s, put(u"/x"_s, 2));
    QTest::qWait(2000); // the lease runs out on Redis's clock: there is nothing to wait on but time
    ::kill(pid, SIGCONT);

    // The node finds its lease gone: the late write is never acknowledged, and its clients are dropped so that
    // they reconnect (the SDK sends unacknowledged writes again).
    QTRY_VERIFY_WITH_TIMEOUT(client.closed, 10000);
    QVERIFY(replyStatus(client.replies.value(late)) != u"ok"_s);
    QCOMPARE(watcher.call(u"g"_s, {{u"p"_s, u"/x"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s), QJsonValue(1));
    // It registered again under a new epoch and takes writes again.
    RawClient again;
    QVERIFY(again.open(paused));
    QTRY_VERIFY_WITH_TIMEOUT(replyStatus(again.call(u"p"_s, put(u"/x"_s, 3))) == u"ok"_s, 10000);
    QTRY_COMPARE(watcher.call(u"g"_s, {{u"p"_s, u"/x"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s), QJsonValue(3));
}

namespace
{

/** Pushes of value at path, counted. */
int pushesOf(const RawClient &c, const QString &path, const QJsonValue &value)
{
    int n = 0;
    for (const QJsonObject &p : c.pushes) {
        const QJsonObject b = p.value(u"b"_s).toObject();
        if (p.value(u"a"_s) == u"d"_s && b.value(u"p"_s) == path && b.value(u"d"_s) == value)
            ++n;
    }
    return n;
}

/** A client present at /presence/<name> with an onDisconnect set to false. */
bool present(RawClient &c, const QString &name)
{
    const QString at = u"/presence/"_s + name;
    return replyStatus(c.call(u"o"_s, put(at, false))) == u"ok"_s
        && replyStatus(c.call(u"p"_s, put(at, true))) == u"ok"_s;
}

} // namespace

void TstCluster::sessionResumesOnAnotherNode()
{
    const quint16 first = startNode(u"n1"_s), second = startNode(u"n2"_s);
    QVERIFY(first != 0 && second != 0);
    RawClient watcher, client;
    QVERIFY(watcher.open(second));
    QCOMPARE(replyStatus(watcher.call(u"q"_s, listenTo(u"/presence"_s))), u"ok"_s);
    QVERIFY(client.open(first));
    QVERIFY(present(client, u"a"_s));
    const QString id = client.sessionId();

    // The network drops; the client comes back through the other node within the grace, with ls.
    client.socket.abort();
    RawClient back;
    QVERIFY(back.open(second, u"test"_s, id));
    QCOMPARE(back.sessionId(), id);
    // Past the grace of the first node's suspend (1 s): nothing fired, the ops went with the session.
    QTest::qWait(1500);
    QCOMPARE(pushesOf(watcher, u"/presence/a"_s, false), 0);
    back.socket.close();
    QTRY_COMPARE(pushesOf(watcher, u"/presence/a"_s, false), 1);
}

void TstCluster::liveSessionTakenOverByAnotherNode()
{
    const quint16 first = startNode(u"n1"_s), second = startNode(u"n2"_s);
    QVERIFY(first != 0 && second != 0);
    RawClient watcher, old;
    QVERIFY(watcher.open(second));
    QCOMPARE(replyStatus(watcher.call(u"q"_s, listenTo(u"/presence"_s))), u"ok"_s);
    QVERIFY(old.open(first));
    QVERIFY(present(old, u"b"_s));

    // A half-open socket on the first node; the client is back on the second: the first closes its socket.
    RawClient back;
    QVERIFY(back.open(second, u"test"_s, old.sessionId()));
    QCOMPARE(back.sessionId(), old.sessionId());
    QTRY_VERIFY(old.closed);
    QCOMPARE(old.socket.closeReason(), u"session resumed on another node"_s);
    QCOMPARE(replyStatus(watcher.call(u"p"_s, put(u"/barrier"_s, 1))), u"ok"_s);
    QCOMPARE(pushesOf(watcher, u"/presence/b"_s, false), 0);
    back.socket.close();
    QTRY_COMPARE(pushesOf(watcher, u"/presence/b"_s, false), 1);
}

void TstCluster::cleanCloseFiresAtOnce()
{
    const quint16 first = startNode(u"n1"_s), second = startNode(u"n2"_s);
    QVERIFY(first != 0 && second != 0);
    RawClient watcher, tab;
    QVERIFY(watcher.open(second));
    QCOMPARE(replyStatus(watcher.call(u"q"_s, listenTo(u"/presence"_s))), u"ok"_s);
    QVERIFY(tab.open(first));
    QVERIFY(present(tab, u"c"_s));
    QCOMPARE(replyStatus(tab.call(u"o"_s, put(u"/lastSeen/c"_s, QJsonObject {{u".sv"_s, u"timestamp"_s}}))), u"ok"_s);
    tab.socket.close(); // a closed tab: fires at once, not after the grace
    QTRY_COMPARE_WITH_TIMEOUT(pushesOf(watcher, u"/presence/c"_s, false), 1, 900);
    const QJsonValue lastSeen
        = watcher.call(u"g"_s, {{u"p"_s, u"/lastSeen/c"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s);
    QVERIFY2(lastSeen.isDouble() && lastSeen.toDouble() > 1.7e12, "the timestamp resolved by Redis when it fired");
}

void TstCluster::killedNodeSessionsFireOnce()
{
    const quint16 doomed = startNode(u"n1"_s), second = startNode(u"n2"_s), third = startNode(u"n3"_s);
    QVERIFY(doomed != 0 && second != 0 && third != 0);
    RawClient watcher;
    QVERIFY(watcher.open(third));
    QCOMPARE(replyStatus(watcher.call(u"q"_s, listenTo(u"/presence"_s))), u"ok"_s);
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 20; ++i) {
        clients.push_back(std::make_unique<RawClient>());
        QVERIFY(clients.back()->open(i % 2 ? doomed : second));
        QVERIFY(present(*clients.back(), QString::number(i)));
    }

    // Under load: a writer on the doomed node has writes in flight when it dies.
    RawClient writer;
    QVERIFY(writer.open(doomed));
    QList<qint64> writes;
    for (int i = 0; i < 300; ++i)
        writes << writer.request(u"p"_s, put(u"/load/%1"_s.arg(i), i));
    QTRY_VERIFY(!writer.replies.isEmpty());

    // kill -9: no close frame, no suspend, the lease just stops being renewed. The others take its sessions over
    // once the lease (dead-after, 1 s) has run out, and they fire after the grace (1 s), each exactly once.
    QElapsedTimer clock;
    clock.start();
    m_nodes.front()->kill();
    for (int i = 1; i < 20; i += 2)
        QTRY_COMPARE_WITH_TIMEOUT(pushesOf(watcher, u"/presence/%1"_s.arg(i), false), 1, 10000);
    QVERIFY2(clock.elapsed() < 1000 + 250 + 1000 + 2000, qPrintable(u"%1 ms"_s.arg(clock.elapsed())));
    // The clients of the node that lives on keep their presence; a write after the fires has seen them all.
    QCOMPARE(replyStatus(watcher.call(u"p"_s, put(u"/barrier"_s, 1))), u"ok"_s);
    QTest::qWait(500); // a second fire by a slower sweeper would come within a sweep or two (100 ms)
    for (int i = 0; i < 20; ++i)
        QCOMPARE(pushesOf(watcher, u"/presence/%1"_s.arg(i), false), i % 2 ? 1 : 0);
    // Every write the dead node acknowledged is there.
    const QJsonObject load
        = watcher.call(u"g"_s, {{u"p"_s, u"/load"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toObject();
    int acked = 0;
    for (int i = 0; i < writes.size(); ++i) {
        if (replyStatus(writer.replies.value(writes.at(i))) != u"ok"_s)
            continue;
        ++acked;
        QCOMPARE(load.value(QString::number(i)), QJsonValue(i));
    }
    QVERIFY(acked > 0);
}

void TstCluster::nodeLeavingHandsItsSessionsOver()
{
    // A lease far longer than the test: only the leaving node giving it up lets the others take over in time.
    const QStringList longLease {u"--dead-after"_s, u"30s"_s};
    const quint16 leaving = startNode(u"n1"_s, longLease), staying = startNode(u"n2"_s, longLease);
    QVERIFY(leaving != 0 && staying != 0);
    RawClient watcher, moving, gone;
    QVERIFY(watcher.open(staying));
    QCOMPARE(replyStatus(watcher.call(u"q"_s, listenTo(u"/presence"_s))), u"ok"_s);
    QVERIFY(moving.open(leaving));
    QVERIFY(gone.open(leaving));
    QVERIFY(present(moving, u"moving"_s));
    QVERIFY(present(gone, u"gone"_s));

    QElapsedTimer clock;
    clock.start();
    m_nodes.front()->terminate();
    QVERIFY(m_nodes.front()->waitForFinished(10000));
    QTRY_VERIFY(moving.closed);
    QCOMPARE(moving.socket.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    RawClient back;
    QVERIFY(back.open(staying, u"test"_s, moving.sessionId()));
    QCOMPARE(back.sessionId(), moving.sessionId());
    // The one that does not come back fires after the grace (1 s), not after the 30 s lease.
    QTRY_COMPARE_WITH_TIMEOUT(pushesOf(watcher, u"/presence/gone"_s, false), 1, 10000);
    QVERIFY2(clock.elapsed() < 8000, qPrintable(u"%1 ms"_s.arg(clock.elapsed())));
    QCOMPARE(pushesOf(watcher, u"/presence/moving"_s, false), 0);
}

QTEST_GUILESS_MAIN(TstCluster)
#include "tst_cluster.moc"
