// SPDX-License-Identifier: MIT
// RedisBackend and its function library (core/server/lark_v1.lua) against a real redis-server started by the test:
// several backends in one process stand for several nodes, each with its own copy of the namespace. A write through
// one reaches every copy, applied before its commit is reported; random writes leave every copy and a fresh read of
// Redis equal; a transaction checked against an old copy is refused; a lease that expired is fenced and the node
// registers again; Redis's configuration is checked at start; Redis down and back; the writes of one loop round go
// in one call, where a refused one harms none of the others; another build's library is refused; a call that fires or
// takes over sessions stops at its time budget.
#include "db/database.h"
#include "redis/redisconnection.h"
#include "redisserver.h"
#include "server/redisbackend.h"
#include "server/session.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>

#include <memory>

using namespace Qt::Literals::StringLiterals;
using lark::Database;
using lark::Node;
using lark::Path;
using lark::RedisBackend;
using lark::Write;
using lark::WriteOrigin;
using lark::redis::BlockingRedis;
using lark::redis::RedisReply;

namespace
{

Path path(const QString &text)
{
    return text.isEmpty() ? Path() : Path(text.split(u'/'));
}

Node node(const QByteArray &json)
{
    Node n;
    QString why;
    if (!Node::fromJson(QJsonDocument::fromJson("[" + json + "]").array().at(0), &n, &why))
        qFatal("bad test value %s: %s", json.constData(), qPrintable(why));
    return n;
}

lark::redis::RedisUrl localUrl(quint16 port)
{
    lark::redis::RedisUrl u;
    u.port = port;
    return u;
}

/** An FCALL of a function of namespace t with its 9 keys, as a node sends it (core/server/redisbackend.cpp). */
QList<QByteArray> namespaceCall(const QByteArray &function, const QList<QByteArray> &args)
{
    return QList<QByteArray> {"FCALL", function, "9", "{t}:t", "{t}:ix", "{t}:log", "{t}:meta", "{t}:sess", "{t}:dl",
               "{t}:own", "lark:nodes", "lark:nss"}
    + args;
}

/** Every committed() of a backend, by batch. */
struct CommitLog : QObject {
    explicit CommitLog(RedisBackend *b)
        : QObject(b)
    {
        connect(b, &RedisBackend::committed, this, [this](quint64 batch, bool ok, const QString &error) {
            commits.insert(batch, {ok, error});
        });
    }
    QHash<quint64, std::pair<bool, QString>> commits;
};

/** One node: a backend with its copy of namespace "t". */
struct TestNode {
    TestNode(quint16 port, const QString &name, int leaseMs = 5000, bool unsafe = false)
        : db(u"t"_s)
    {
        RedisBackend::Options o;
        o.url = localUrl(port);
        o.nodeName = name;
        o.leaseMs = leaseMs;
        o.unsafe = unsafe;
        o.commandTimeoutMs = 2000;
        backend = std::make_unique<RedisBackend>(o);
        new CommitLog(backend.get());
    }
    bool start(QString *error)
    {
        if (!backend->start([this](const QString &ns) { return ns == u"t"_s ? &db : nullptr; }, nullptr, error))
            return false;
        backend->attach(&db);
        return true;
    }
    /** Writes through this node; the batch it went into, 0 if refused at once (why in *error). */
    quint64 write(const QString &at, const QByteArray &json, bool conditional = false, QString *error = nullptr)
    {
        std::vector<Write> w;
        w.push_back({Path(), node(json)});
        QString why;
        if (!db.write(path(at), std::move(w), {WriteOrigin::Kind::Client, u"S1"_s, conditional}, &why)) {
            if (error)
                *error = why;
            return 0;
        }
        return backend->openBatch();
    }
    /** A write whose ServerValues Redis resolves (as the request path sends one that held them). */
    quint64 writeAsSent(const QString &at, const QJsonValue &asSent)
    {
        std::vector<Write> w;
        w.push_back({Path(), Node::fromNumber(0), asSent}); // the local guess, which Redis must not use
        if (!db.write(path(at), std::move(w), {WriteOrigin::Kind::Client, u"S1"_s}))
            return 0;
        return backend->openBatch();
    }
    Database db;
    std::unique_ptr<RedisBackend> backend;
};

/** Waits for batch's committed() (reported since the node started) and returns (ok, error). */
std::pair<bool, QString> waitCommitted(RedisBackend &b, quint64 batch)
{
    auto *log = b.findChild<CommitLog *>();
    if (!QTest::qWaitFor([&] { return log->commits.contains(batch); }, 10000))
        return {false, u"no commit within 10 s"_s};
    return log->commits.value(batch);
}

/** A write after everything sent before it: once it is applied, so is all of that. */
bool barrier(TestNode &n)
{
    return waitCommitted(*n.backend, n.write(u"barrier"_s, "true")).first;
}

} // namespace

class TstRedisBackend : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void refusesRedisThatLosesWrites();
    void writeReachesEveryNodeInOneOrder();
    void copiesMatchRedisAfterRandomWrites();
    void transactionAgainstAnOldCopyIsStale();
    void expiredLeaseIsFencedThenRegistersAgain();
    void redisDownThenBack();
    void serverValuesResolveInRedis();
    void queuedOpsFireInRedisExactly();
    void aRoundsWritesGoInOneCall();
    void refusesAnotherBuildsLibrary();
    void firingAndTakingOverStopAtTheirBudget();

private:
    std::unique_ptr<RedisServer> m_redis;
};

void TstRedisBackend::init()
{
    m_redis = std::make_unique<RedisServer>();
    QVERIFY(m_redis->start());
}

void TstRedisBackend::cleanup()
{
    m_redis.reset();
}

void TstRedisBackend::refusesRedisThatLosesWrites()
{
    RedisServer weak({u"--appendonly"_s, u"no"_s});
    QVERIFY(weak.start());
    QString why;
    {
        TestNode n(weak.port(), u"a"_s);
        QVERIFY(!n.start(&why));
        QVERIFY2(why.contains(u"appendonly is no"_s) && why.contains(u"--redis-unsafe"_s), qPrintable(why));
    }
    TestNode unsafe(weak.port(), u"a"_s, 5000, true);
    QVERIFY2(unsafe.start(&why), qPrintable(why));
    QVERIFY(!unsafe.backend->lease().isEmpty());
}

void TstRedisBackend::writeReachesEveryNodeInOneOrder()
{
    TestNode a(m_redis->port(), u"a"_s), b(m_redis->port(), u"b"_s);
    QString why;
    QVERIFY2(a.start(&why), qPrintable(why));
    QVERIFY2(b.start(&why), qPrintable(why));
    QVERIFY(a.backend->lease() != b.backend->lease());

    // The write is not applied by record(): it comes back from the stream, before its commit is reported.
    bool appliedBeforeCommit = false;
    connect(a.backend.get(), &RedisBackend::committed, this,
        [&] { appliedBeforeCommit = a.db.valueJson(path(u"users/alice"_s)) == QJsonValue(u"here"_s); });
    const quint64 batch = a.write(u"users/alice"_s, "\"here\"");
    QVERIFY(batch != 0);
    QCOMPARE(a.db.valueJson(path(u"users/alice"_s)), QJsonValue(QJsonValue::Null));
    const auto [ok, error] = waitCommitted(*a.backend, batch);
    QVERIFY2(ok, qPrintable(error));
    QVERIFY(appliedBeforeCommit);
    QTRY_COMPARE(b.db.valueJson(path(u"users/alice"_s)), QJsonValue(u"here"_s));

    // Two nodes racing on one path: both copies end with the same value, the one Redis applied last.
    QStringList seenOnA, seenOnB;
    connect(&a.db, &Database::changed, this, [&] { seenOnA << a.db.valueJson(path(u"race"_s)).toString(); });
    connect(&b.db, &Database::changed, this, [&] { seenOnB << b.db.valueJson(path(u"race"_s)).toString(); });
    quint64 last = 0;
    for (int i = 0; i < 50; ++i) {
        a.write(u"race"_s, QByteArray("\"a") + QByteArray::number(i) + '"');
        last = b.write(u"race"_s, QByteArray("\"b") + QByteArray::number(i) + '"');
    }
    QVERIFY(waitCommitted(*b.backend, last).first);
    QTRY_COMPARE(seenOnA.size(), 100);
    QTRY_COMPARE(seenOnB.size(), 100);
    QCOMPARE(seenOnA, seenOnB);
    QCOMPARE(a.backend->version(u"t"_s), b.backend->version(u"t"_s));
}

void TstRedisBackend::copiesMatchRedisAfterRandomWrites()
{
    TestNode a(m_redis->port(), u"a"_s), b(m_redis->port(), u"b"_s);
    QString why;
    QVERIFY2(a.start(&why), qPrintable(why));
    QVERIFY2(b.start(&why), qPrintable(why));
    // Sets, deletions, priorities, leaves turned into objects and back, at overlapping paths.
    const QStringList paths {u""_s, u"a"_s, u"a/b"_s, u"a/b/c"_s, u"a/d"_s, u"e"_s, u"a/.priority"_s,
        u"a/b/.priority"_s, u".priority"_s, u"e/f/g"_s};
    const QList<QByteArray> values {"null", "1", "\"x\"", "true", "2.5", "{\"b\":{\"c\":3},\"d\":\"y\"}",
        "{\"f\":{\"g\":false,\".priority\":4}}", "{\".value\":7,\".priority\":\"p\"}",
        "{\"c\":{\"z\":0.30000000000000004}}"};
    QRandomGenerator random(17);
    quint64 lastA = 0, lastB = 0;
    for (int i = 0; i < 400; ++i) {
        TestNode &n = random.bounded(2) ? a : b;
        const QString at = paths.at(int(random.bounded(paths.size())));
        QByteArray value = values.at(int(random.bounded(values.size())));
        if (at.endsWith(u".priority"_s))
            value = random.bounded(2) ? "3" : "null";
        // Some with ServerValues, which Lua resolves, flattens and encodes itself.
        const quint64 batch = !at.endsWith(u".priority"_s) && random.bounded(4) == 0 ? n.writeAsSent(at,
                                  QJsonDocument::fromJson(random.bounded(2)
                                          ? "{\"t\":{\".sv\":\"timestamp\"},\"l\":[1,{\"c\":0.1}],\".priority\":\"q\"}"
                                          : "{\"n\":{\".sv\":{\"increment\":1.5}},\"s\":\"\u00e9\\\"/\"}")
                                      .object())
                                                                                     : n.write(at, value);
        QVERIFY2(batch != 0, qPrintable(at));
        (&n == &a ? lastA : lastB) = batch;
    }
    const auto [okA, errorA] = waitCommitted(*a.backend, lastA);
    QVERIFY2(okA, qPrintable(errorA));
    const auto [okB, errorB] = waitCommitted(*b.backend, lastB);
    QVERIFY2(okB, qPrintable(errorB));
    QTRY_COMPARE(a.backend->version(u"t"_s), b.backend->version(u"t"_s));
    TestNode fresh(m_redis->port(), u"c"_s);
    QVERIFY2(fresh.start(&why), qPrintable(why));
    const auto text = [](const Database &db) { return QJsonDocument(QJsonArray {db.root().toJson()}).toJson(); };
    QCOMPARE(text(a.db), text(b.db));
    QCOMPARE(text(fresh.db), text(a.db));
    QCOMPARE(fresh.db.root().hash(), a.db.root().hash());
}

void TstRedisBackend::transactionAgainstAnOldCopyIsStale()
{
    TestNode a(m_redis->port(), u"a"_s);
    QString why;
    QVERIFY2(a.start(&why), qPrintable(why));
    QVERIFY(waitCommitted(*a.backend, a.write(u"counter"_s, "1")).first);

    // Another node's write lands in Redis before this node's copy has it (no event loop turn in between).
    BlockingRedis other;
    QVERIFY2(other.connect(localUrl(m_redis->port()), 2000, &why), qPrintable(why));
    const RedisReply reg
        = other.command({"FCALL", "lark_node_heartbeat", "2", "lark:nodes", "lark:epoch", "z", "0", "5000"});
    QCOMPARE(int(reg.type), int(RedisReply::Type::Array));
    const QByteArray epoch = QByteArray::number(reg.elements[0].integer);
    const RedisReply w = other.command(
        namespaceCall("lark_write", {"z", epoch, "", "1", "c", "", "1", "counter", "5", "1", "counter", "5"}));
    QVERIFY2(!w.isError(), w.string.constData());

    // The copy still says 1: a transaction checked against it must not overwrite the 5.
    QCOMPARE(a.db.valueJson(path(u"counter"_s)), QJsonValue(1));
    const quint64 stale = a.write(u"counter"_s, "2", true);
    const auto [ok, error] = waitCommitted(*a.backend, stale);
    QVERIFY(!ok);
    QCOMPARE(error, lark::Backend::DataStaleError);
    QTRY_COMPARE(a.db.valueJson(path(u"counter"_s)), QJsonValue(5));
    // Checked against the current copy, it goes through; a plain write never checks.
    QVERIFY(waitCommitted(*a.backend, a.write(u"counter"_s, "6", true)).first);
    QCOMPARE(a.db.valueJson(path(u"counter"_s)), QJsonValue(6));
}

void TstRedisBackend::expiredLeaseIsFencedThenRegistersAgain()
{
    TestNode a(m_redis->port(), u"a"_s, 60000);
    QString why;
    QVERIFY2(a.start(&why), qPrintable(why));
    const QString lease = a.backend->lease();
    QVERIFY(waitCommitted(*a.backend, a.write(u"x"_s, "1")).first);

    // As if the node had been paused past its lease: Redis holds it expired, the node does not know yet.
    BlockingRedis admin;
    QVERIFY2(admin.connect(localUrl(m_redis->port()), 2000, &why), qPrintable(why));
    QCOMPARE(admin.command({"ZADD", "lark:nodes", "1", lease.toUtf8()}).integer, 0);
    QSignalSpy fenced(a.backend.get(), &RedisBackend::fenced);
    const auto [ok, error] = waitCommitted(*a.backend, a.write(u"x"_s, "2"));
    QVERIFY(!ok);
    QVERIFY2(error.contains(u"FENCED"_s), qPrintable(error));
    QCOMPARE(a.db.valueJson(path(u"x"_s)), QJsonValue(1)); // refused in Redis: no copy applied it
    QTRY_COMPARE(fenced.size(), 1);
    QTRY_VERIFY(!a.backend->lease().isEmpty() && a.backend->lease() != lease);
    QVERIFY(waitCommitted(*a.backend, a.write(u"x"_s, "3")).first);
    QCOMPARE(a.db.valueJson(path(u"x"_s)), QJsonValue(3));
}

void TstRedisBackend::redisDownThenBack()
{
    TestNode a(m_redis->port(), u"a"_s, 60000), b(m_redis->port(), u"b"_s, 60000);
    QString why;
    QVERIFY2(a.start(&why), qPrintable(why));
    QVERIFY2(b.start(&why), qPrintable(why));
    QVERIFY(waitCommitted(*a.backend, a.write(u"kept"_s, "\"before\"")).first);
    QSignalSpy availability(a.backend.get(), &RedisBackend::availabilityChanged);

    m_redis->kill();
    QTRY_COMPARE(availability.size(), 1);
    QCOMPARE(availability.at(0).at(0).toBool(), false);
    QCOMPARE(a.backend->describe().value(u"available"_s).toBool(), false);
    // Refused at once with a clear reason: nothing was sent, so nothing may have been applied.
    QCOMPARE(a.write(u"lost"_s, "1", false, &why), quint64(0));
    QVERIFY2(why.startsWith(u"storage unavailable"_s), qPrintable(why));
    QCOMPARE(a.db.valueJson(path(u"kept"_s)), QJsonValue(u"before"_s)); // reads go on from the copy

    // Back from its append-only file: the acknowledged write is there, and the copies follow new writes again.
    QVERIFY(m_redis->start());
    QTRY_COMPARE_WITH_TIMEOUT(availability.size(), 2, 10000);
    QVERIFY(availability.at(1).at(0).toBool());
    QTRY_VERIFY_WITH_TIMEOUT(a.write(u"after"_s, "\"yes\"") != 0, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(b.db.valueJson(path(u"after"_s)), QJsonValue(u"yes"_s), 10000);
    TestNode fresh(m_redis->port(), u"c"_s);
    QVERIFY2(fresh.start(&why), qPrintable(why));
    QCOMPARE(fresh.db.valueJson(path(u"kept"_s)), QJsonValue(u"before"_s));
    QCOMPARE(fresh.db.valueJson(path(u"lost"_s)), QJsonValue(QJsonValue::Null));
}

void TstRedisBackend::serverValuesResolveInRedis()
{
    TestNode a(m_redis->port(), u"a"_s), b(m_redis->port(), u"b"_s);
    QString why;
    QVERIFY2(a.start(&why), qPrintable(why));
    QVERIFY2(b.start(&why), qPrintable(why));
    // Increments racing through two nodes, none waiting for the other's copy: each counts.
    const QJsonObject increment {{u".sv"_s, QJsonObject {{u"increment"_s, 1}}}};
    quint64 lastA = 0, lastB = 0;
    for (int i = 0; i < 50; ++i) {
        lastA = a.writeAsSent(u"counter"_s, increment);
        lastB = b.writeAsSent(u"counter"_s, increment);
    }
    QVERIFY(waitCommitted(*a.backend, lastA).first);
    QVERIFY(waitCommitted(*b.backend, lastB).first);
    QTRY_COMPARE(a.db.valueJson(path(u"counter"_s)), QJsonValue(100));
    QTRY_COMPARE(b.db.valueJson(path(u"counter"_s)), QJsonValue(100));
    // A timestamp is Redis's time, inside an object too.
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    const QJsonObject stamped {{u"at"_s, QJsonObject {{u".sv"_s, u"timestamp"_s}}}, {u"who"_s, u"x"_s}};
    QVERIFY(waitCommitted(*a.backend, a.writeAsSent(u"seen"_s, stamped)).first);
    const double at = a.db.valueJson(path(u"seen/at"_s)).toDouble();
    QVERIFY2(at >= double(before - 1000) && at <= double(QDateTime::currentMSecsSinceEpoch() + 1000),
        qPrintable(QString::number(at)));
    QCOMPARE(a.db.valueJson(path(u"seen/who"_s)), QJsonValue(u"x"_s));
}

void TstRedisBackend::queuedOpsFireInRedisExactly()
{
    TestNode a(m_redis->port(), u"a"_s), b(m_redis->port(), u"b"_s);
    QString why;
    QVERIFY2(a.start(&why), qPrintable(why));
    QVERIFY2(b.start(&why), qPrintable(why));
    QVERIFY(waitCommitted(*a.backend, a.write(u"visits"_s, "41")).first);

    lark::Session s(u"session-id-1"_s, 1, &a.db);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    s.queue().set(path(u"exact"_s), QJsonValue(0.30000000000000004), now);
    s.queue().set(path(u"visits"_s), QJsonObject {{u".sv"_s, QJsonObject {{u"increment"_s, 1}}}}, now);
    s.queue().set(path(u"list"_s), QJsonArray {u"x"_s, QJsonObject {{u"y"_s, true}}}, now);
    s.queue().set(path(u"ranked"_s), QJsonObject {{u".value"_s, u"v"_s}, {u".priority"_s, 2.5}}, now);
    a.backend->openSession(s);
    QVERIFY(a.backend->saveSession(s, &why));
    QVERIFY(waitCommitted(*a.backend, a.backend->openBatch()).first);

    // A clean close: Redis fires the queue at once, and both copies follow the stream.
    a.backend->suspendSession(s, 0);
    QTRY_COMPARE(b.db.valueJson(path(u"visits"_s)), QJsonValue(42));
    QCOMPARE(b.db.valueJson(path(u"exact"_s)).toDouble(), 0.30000000000000004);
    QCOMPARE(b.db.valueJson(path(u"list/0"_s)), QJsonValue(u"x"_s));
    QCOMPARE(b.db.valueJson(path(u"list/1/y"_s)), QJsonValue(true));
    QCOMPARE(b.db.valueJson(path(u"ranked/.priority"_s)), QJsonValue(2.5));
    QTRY_COMPARE(a.db.valueJson(path(u"visits"_s)), QJsonValue(42));
    QCOMPARE(a.db.root().hash(), b.db.root().hash());
    // Fired means gone: it cannot be resumed, and firing it again does nothing.
    std::optional<bool> found;
    b.backend->resumeSession(
        u"t"_s, s.id(), [&](bool reached, RedisBackend::SharedSession shared) { found = reached && shared.found; });
    QTRY_VERIFY(found.has_value());
    QVERIFY(!*found);
    a.backend->suspendSession(s, 0);
    QVERIFY(barrier(a));
    QCOMPARE(a.db.valueJson(path(u"visits"_s)), QJsonValue(42));
}

void TstRedisBackend::firingAndTakingOverStopAtTheirBudget()
{
    // Two leases of our own, without nodes: y will die with live sessions, z fires and takes over.
    BlockingRedis r;
    QString why;
    QVERIFY2(r.connect(localUrl(m_redis->port()), 2000, &why), qPrintable(why));
    QVERIFY(!r.command({"FUNCTION", "LOAD", RedisBackend::functionLibrary()}).isError());
    using Counts = std::pair<qint64, qint64>;
    // [done, left] of a call, or (-1, -1) when it did not answer that.
    const auto counts = [](const RedisReply &reply) {
        return reply.elements.size() == 2 ? std::pair(reply.elements[0].integer, reply.elements[1].integer)
                                          : Counts(-1, -1);
    };
    const auto lease = [&](const QByteArray &name, const QByteArray &ttl) {
        return QByteArray::number(
            counts(r.command({"FCALL", "lark_node_heartbeat", "2", "lark:nodes", "lark:epoch", name, "0", ttl})).first);
    };
    const QByteArray z = lease("z", "60000"), y = lease("y", "200");
    const auto call = [&](const QByteArray &function, const QByteArray &node, const QByteArray &epoch,
                          const QList<QByteArray> &args) {
        return r.command(namespaceCall(function, QList<QByteArray> {node, epoch} + args));
    };
    for (int i = 0; i < 6; ++i) {
        const QByteArray sid = "sid" + QByteArray::number(i), owner = i < 3 ? "z" : "y", epoch = i < 3 ? z : y;
        const RedisReply opened = call("lark_session_open", owner, epoch, {sid, "", "S" + QByteArray::number(i), ""});
        QVERIFY2(!opened.isError(), opened.string.constData());
        const QByteArray plan = "[[\"fired/" + QByteArray::number(i) + "\",true]]";
        QVERIFY(!call("lark_session_save", owner, epoch, {sid, plan, ""}).isError());
        if (i < 3)
            QVERIFY(!call("lark_session_suspend", "z", z, {sid, "1"}).isError());
    }

    // With a budget of 0 every call does one session (at least one, so it always progresses); without, the rest.
    Counts fired;
    QVERIFY(QTest::qWaitFor(
        [&] {
            return (fired = counts(call("lark_fire_due", "z", z, {"100", "0"}))).first != 0;
        },
        5000));
    QCOMPARE(fired, Counts(1, 2));
    QCOMPARE(counts(call("lark_fire_due", "z", z, {"100", "0"})), Counts(1, 1));
    QCOMPARE(counts(call("lark_fire_due", "z", z, {"100"})), Counts(1, 0));
    QCOMPARE(r.command({"XLEN", "{t}:log"}).integer, 3);

    const QByteArray dead = "y#" + y;
    // Once y's lease has lapsed (NOT_DEAD before).
    Counts moved;
    QVERIFY(QTest::qWaitFor(
        [&] {
            return (moved = counts(call("lark_take_over", "z", z, {dead, "60000", "500", "0"}))).first != -1;
        },
        5000));
    QCOMPARE(moved, Counts(1, 2));
    QCOMPARE(counts(call("lark_take_over", "z", z, {dead, "60000", "500"})), Counts(2, 0));
    QCOMPARE(r.command({"ZCARD", "{t}:dl"}).integer, 3);
}

QTEST_GUILESS_MAIN(TstRedisBackend)
void TstRedisBackend::aRoundsWritesGoInOneCall()
{
    TestNode a(m_redis->port(), u"a"_s), b(m_redis->port(), u"b"_s);
    QString why;
    QVERIFY2(a.start(&why), qPrintable(why));
    QVERIFY2(b.start(&why), qPrintable(why));
    QVERIFY(waitCommitted(*a.backend, a.writeAsSent(u"big"_s, 1.7e308)).first);
    BlockingRedis admin;
    QVERIFY2(admin.connect(localUrl(m_redis->port()), 2000, &why), qPrintable(why));
    QVERIFY(!admin.command({"CONFIG", "RESETSTAT"}).isError());

    // 60 requests in one round, the 30th an increment that overflows: Redis refuses it alone.
    std::vector<quint64> batches;
    for (int i = 0; i < 60; ++i) {
        batches.push_back(i == 29
                ? a.writeAsSent(u"big"_s, QJsonObject {{u".sv"_s, QJsonObject {{u"increment"_s, 1.7e308}}}})
                : a.write(u"round/%1"_s.arg(i), QByteArray::number(i)));
        QVERIFY(batches.back() != 0);
    }
    for (int i = 0; i < 60; ++i) {
        const auto [ok, error] = waitCommitted(*a.backend, batches[size_t(i)]);
        if (i == 29)
            QVERIFY2(!ok && error.contains(u"overflows"_s), qPrintable(error));
        else
            QVERIFY2(ok, qPrintable(error));
    }
    QTRY_COMPARE(b.db.valueJson(path(u"round"_s)).toObject().size(), 59);
    QCOMPARE(b.db.valueJson(path(u"big"_s)), QJsonValue(1.7e308));
    // Each request is still its own entry (its own event) in the stream.
    QCOMPARE(admin.command({"XLEN", "{t}:log"}).integer, 1 + 59);

    // One lark_write for the round, not 60 (the rest: heartbeats, sweeps of a node's timers meanwhile).
    const RedisReply stats = admin.command({"INFO", "commandstats"});
    const QByteArray line = stats.string.mid(stats.string.indexOf("cmdstat_fcall:"));
    const QByteArray calls = line.mid(line.indexOf("calls=") + 6, line.indexOf(',') - line.indexOf("calls=") - 6);
    QVERIFY2(calls.toInt() < 20, line.left(line.indexOf('\r')).constData());
}

void TstRedisBackend::refusesAnotherBuildsLibrary()
{
    // Our library's name with other code, as an older build would have left it.
    BlockingRedis admin;
    QString why;
    QVERIFY2(admin.connect(localUrl(m_redis->port()), 2000, &why), qPrintable(why));
    const RedisReply loaded = admin.command({"FUNCTION", "LOAD", RedisBackend::functionLibrary() + "\n-- older\n"});
    QVERIFY2(!loaded.isError(), loaded.string.constData());
    TestNode a(m_redis->port(), u"a"_s);
    QVERIFY(!a.start(&why));
    QVERIFY2(why.contains(u"another build's lark_v1"_s) && why.contains(u"FUNCTION DELETE"_s), qPrintable(why));
}

#include "tst_redisbackend.moc"
