// SPDX-License-Identifier: MIT
// RedisConnection against a real redis-server started by the test (redisserver.h): replies of every type, binary
// values, pipelined order, AUTH and SELECT from the URL, exactly one answer per command through a Redis that is
// down, killed with commands in flight, paused past the timeout and started again, and the durability check.
#include "redis/redisconnection.h"
#include "redisserver.h"

#include <QSignalSpy>
#include <QTest>

#include <memory>

using namespace Qt::Literals::StringLiterals;
using lark::redis::RedisConnection;
using lark::redis::RedisReply;
using lark::redis::RedisUrl;

class TstRedisConnection : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void urls();
    void repliesOfEveryType();
    void pipelinedInOrder();
    void passwordAndDatabaseFromTheUrl();
    void downThenUp();
    void killedWithCommandsInFlight();
    void pausedPastTheTimeout();
    void durabilityCheck();

private:
    /** Runs one command and waits for its reply. */
    static RedisReply call(RedisConnection &c, const QList<QByteArray> &argv)
    {
        RedisReply out = RedisReply::error("no reply");
        bool done = false;
        c.command(argv, &c, [&](const RedisReply &r) {
            out = r;
            done = true;
        });
        if (!QTest::qWaitFor([&] { return done; }, 10000))
            return RedisReply::error("timed out in the test");
        return out;
    }
    static std::unique_ptr<RedisConnection> connectTo(const RedisUrl &url)
    {
        auto c = std::make_unique<RedisConnection>(url);
        c->setReconnectDelays(20, 200);
        c->open();
        return c;
    }
    static RedisUrl local(quint16 port)
    {
        RedisUrl u;
        u.port = port;
        return u;
    }
};

void TstRedisConnection::urls()
{
    RedisUrl u;
    QString error;
    QVERIFY(RedisUrl::parse(u"redis://127.0.0.1:7000/3"_s, &u, &error));
    QCOMPARE(u.host, u"127.0.0.1"_s);
    QCOMPARE(u.port, quint16(7000));
    QCOMPARE(u.db, 3);
    QVERIFY(u.password.isEmpty());
    QVERIFY(RedisUrl::parse(u"redis://:s%40cret@localhost"_s, &u, &error));
    QCOMPARE(u.port, quint16(6379));
    QCOMPARE(u.password, u"s@cret"_s);
    QCOMPARE(u.db, 0);
    QCOMPARE(u.toString(), u"redis://localhost:6379"_s); // never the password
    for (const QString &bad : {u"http://127.0.0.1:6379"_s, u"redis://"_s, u"redis://h:0"_s, u"redis://h/x"_s,
             u"redis://h/-1"_s, u"redis://h?db=1"_s, u"127.0.0.1:6379"_s}) {
        QVERIFY2(!RedisUrl::parse(bad, &u, &error), qPrintable(bad));
        QVERIFY2(error.contains(u"redis://[:password@]host[:port][/db]"_s), qPrintable(error));
    }
}

void TstRedisConnection::repliesOfEveryType()
{
    RedisServer server;
    QVERIFY(server.start());
    auto c = connectTo(local(server.port()));
    QTRY_VERIFY_WITH_TIMEOUT(c->isReady(), 10000);
    const QByteArray binary("a\0b\r\nc", 6);
    QCOMPARE(call(*c, {"SET", "k", binary}).type, RedisReply::Type::Status);
    const RedisReply got = call(*c, {"GET", "k"});
    QCOMPARE(got.type, RedisReply::Type::String);
    QCOMPARE(got.string, binary);
    QCOMPARE(call(*c, {"GET", "missing"}).type, RedisReply::Type::Nil);
    const RedisReply n = call(*c, {"INCRBY", "n", "41"});
    QCOMPARE(n.type, RedisReply::Type::Integer);
    QCOMPARE(n.integer, 41);
    const RedisReply many = call(*c, {"MGET", "k", "missing", "n"});
    QCOMPARE(many.type, RedisReply::Type::Array);
    QCOMPARE(many.elements.size(), size_t(3));
    QCOMPARE(many.elements[0].string, binary);
    QCOMPARE(many.elements[1].type, RedisReply::Type::Nil);
    QCOMPARE(many.elements[2].string, QByteArray("41"));
    const RedisReply wrong = call(*c, {"LPUSH", "k", "x"});
    QVERIFY(wrong.isError());
    QVERIFY2(wrong.string.startsWith("WRONGTYPE"), wrong.string.constData());
    QVERIFY(c->isReady()); // an error reply is an answer, not a lost connection
}

void TstRedisConnection::pipelinedInOrder()
{
    RedisServer server;
    QVERIFY(server.start());
    auto c = connectTo(local(server.port()));
    QTRY_VERIFY_WITH_TIMEOUT(c->isReady(), 10000);
    std::vector<qint64> seen;
    for (int i = 0; i < 2000; ++i)
        c->command({"INCR", "counter"}, c.get(), [&](const RedisReply &r) { seen.push_back(r.integer); });
    QTRY_COMPARE_WITH_TIMEOUT(seen.size(), size_t(2000), 10000);
    for (size_t i = 0; i < seen.size(); ++i)
        QCOMPARE(seen[i], qint64(i + 1));
}

void TstRedisConnection::passwordAndDatabaseFromTheUrl()
{
    RedisServer server({u"--requirepass"_s, u"pw"_s});
    QVERIFY(server.start());
    RedisUrl url;
    QString error;
    QVERIFY(RedisUrl::parse(u"redis://:pw@127.0.0.1:%1/2"_s.arg(server.port()), &url, &error));
    auto c = connectTo(url);
    QTRY_VERIFY_WITH_TIMEOUT(c->isReady(), 10000);
    QCOMPARE(call(*c, {"SET", "where", "db2"}).type, RedisReply::Type::Status);
    auto zero = connectTo([&] {
        RedisUrl u = url;
        u.db = 0;
        return u;
    }());
    QTRY_VERIFY_WITH_TIMEOUT(zero->isReady(), 10000);
    QCOMPARE(call(*zero, {"GET", "where"}).type, RedisReply::Type::Nil); // SELECT 2 took effect
    QCOMPARE(call(*zero, {"SELECT", "2"}).type, RedisReply::Type::Status);
    QCOMPARE(call(*zero, {"GET", "where"}).string, QByteArray("db2"));

    // A wrong password: never ready, and it says why.
    RedisUrl bad = url;
    bad.password = u"nope"_s;
    auto refused = connectTo(bad);
    QTRY_VERIFY2_WITH_TIMEOUT(
        refused->lastError().startsWith(u"AUTH refused"_s), qPrintable(refused->lastError()), 10000);
    QVERIFY(!refused->isReady());
    const RedisReply r = call(*refused, {"PING"});
    QVERIFY(r.isError());
    QVERIFY2(r.string.startsWith("UNAVAILABLE not connected to redis://127.0.0.1:"), r.string.constData());
}

void TstRedisConnection::downThenUp()
{
    RedisServer server;
    auto c = connectTo(local(server.port())); // nothing listens yet
    QTRY_VERIFY_WITH_TIMEOUT(!c->lastError().isEmpty(), 10000);
    const RedisReply early = call(*c, {"PING"});
    QVERIFY(early.isError());
    QVERIFY2(early.string.startsWith("UNAVAILABLE not connected"), early.string.constData());
    QSignalSpy ready(c.get(), &RedisConnection::readyChanged);
    QVERIFY(server.start());
    QTRY_VERIFY_WITH_TIMEOUT(c->isReady(), 10000); // the backoff found it
    QCOMPARE(ready.size(), 1);
    QCOMPARE(call(*c, {"PING"}).string, QByteArray("PONG"));
    QVERIFY(c->lastError().isEmpty());
}

void TstRedisConnection::killedWithCommandsInFlight()
{
    RedisServer server;
    QVERIFY(server.start());
    auto c = connectTo(local(server.port()));
    QTRY_VERIFY_WITH_TIMEOUT(c->isReady(), 10000);
    // Many increments in flight, then SIGKILL: each gets exactly one answer, a count or "outcome unknown".
    constexpr int sent = 200000; // enough that Redis is still at them when it dies
    int answered = 0;
    qint64 lastAcked = 0;
    int unknown = 0;
    for (int i = 0; i < sent; ++i) {
        c->command({"INCR", "n"}, c.get(), [&](const RedisReply &r) {
            ++answered;
            if (r.isError()) {
                QVERIFY2(r.string.startsWith("UNAVAILABLE outcome unknown"), r.string.constData());
                ++unknown;
            } else {
                lastAcked = std::max(lastAcked, r.integer);
            }
        });
    }
    QTRY_VERIFY_WITH_TIMEOUT(answered > 1000, 10000);
    server.kill();
    QTRY_COMPARE_WITH_TIMEOUT(answered, sent, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!c->isReady(), 10000);
    QVERIFY2(unknown > 0, "the kill came after the last reply: nothing was in flight");
    // Back on the same folder: with appendfsync always, every acknowledged increment is there.
    QVERIFY(server.start());
    QTRY_VERIFY_WITH_TIMEOUT(c->isReady(), 10000);
    const RedisReply n = call(*c, {"GET", "n"});
    QVERIFY2(n.string.toLongLong() >= lastAcked,
        qPrintable(u"%1 after restart, %2 acknowledged"_s.arg(QString::fromUtf8(n.string)).arg(lastAcked)));
    QVERIFY(n.string.toLongLong() <= sent);
    qInfo("%d acknowledged before the kill, %d outcome unknown, %s after the restart", int(lastAcked), unknown,
        n.string.constData());
}

void TstRedisConnection::pausedPastTheTimeout()
{
    RedisServer server;
    QVERIFY(server.start());
    auto c = connectTo(local(server.port()));
    c->setCommandTimeout(300);
    QTRY_VERIFY_WITH_TIMEOUT(c->isReady(), 10000);
    server.pause();
    const RedisReply r = call(*c, {"PING"});
    QVERIFY(r.isError());
    QVERIFY2(r.string.startsWith("UNAVAILABLE outcome unknown: no reply within 300 ms"), r.string.constData());
    QVERIFY(!c->isReady());
    server.resume();
    QTRY_VERIFY_WITH_TIMEOUT(c->isReady(), 10000);
    QCOMPARE(call(*c, {"PING"}).string, QByteArray("PONG"));
}

void TstRedisConnection::durabilityCheck()
{
    const auto check = [](RedisConnection &c) {
        QStringList problems;
        QString error;
        bool done = false;
        lark::redis::checkDurability(c, &c, [&](QStringList p, QString e) {
            problems = std::move(p);
            error = std::move(e);
            done = true;
        });
        [[maybe_unused]] const bool answered = QTest::qWaitFor([&] { return done; }, 10000);
        return std::make_pair(problems, error);
    };
    {
        RedisServer good;
        QVERIFY(good.start());
        auto c = connectTo(local(good.port()));
        QTRY_VERIFY_WITH_TIMEOUT(c->isReady(), 10000);
        const auto [problems, error] = check(*c);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u"; "_s)));
    }
    {
        RedisServer weak({u"--appendfsync"_s, u"everysec"_s, u"--maxmemory-policy"_s, u"allkeys-lru"_s});
        QVERIFY(weak.start());
        auto c = connectTo(local(weak.port()));
        QTRY_VERIFY_WITH_TIMEOUT(c->isReady(), 10000);
        const auto [problems, error] = check(*c);
        QVERIFY(error.isEmpty());
        QCOMPARE(problems.size(), 2);
        QVERIFY2(problems[0].startsWith(u"appendfsync is everysec, not always"_s), qPrintable(problems[0]));
        QVERIFY2(problems[1].startsWith(u"maxmemory-policy is allkeys-lru, not noeviction"_s), qPrintable(problems[1]));
    }
    {
        RedisServer none({u"--appendonly"_s, u"no"_s});
        QVERIFY(none.start());
        auto c = connectTo(local(none.port()));
        QTRY_VERIFY_WITH_TIMEOUT(c->isReady(), 10000);
        const auto [problems, error] = check(*c);
        QCOMPARE(problems.size(), 1);
        QVERIFY2(problems[0].startsWith(u"appendonly is no, not yes"_s), qPrintable(problems[0]));
    }
}

QTEST_GUILESS_MAIN(TstRedisConnection)
#include "tst_redisconnection.moc"
