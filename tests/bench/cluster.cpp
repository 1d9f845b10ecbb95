// SPDX-License-Identifier: MIT
// The cluster scenarios (issue #17, docs/cluster.md): lark-server nodes on a Redis that each scenario starts itself
// (Debian's redis-server as docs/cluster.md requires it: appendonly yes, appendfsync always, noeviction), in a
// temporary folder on a free loopback port. Besides what the clients see, each reads Redis's own account of the
// run: INFO commandstats (calls and microseconds of FCALL) and SLOWLOG, which logs every command that held Redis
// for 1 ms or more, so that the longest function call and those over 10 ms are known, and its latency monitor. Redis
// runs at nice -10.
#include "scenarios.h"

#include "harness.h"
#include "redis/redisconnection.h"
#include "redis/redisurl.h"

#include <QFile>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTemporaryDir>

#include <algorithm>
#include <functional>
#include <memory>
#include <sys/resource.h>
#include <vector>

using namespace Qt::Literals::StringLiterals;
using lark::redis::BlockingRedis;
using lark::redis::RedisConnection;
using lark::redis::RedisReply;
using lark::redis::RedisUrl;

namespace bench
{

namespace
{

const QByteArray NodesKey = "lark:nodes", EpochKey = "lark:epoch";

// The namespace's keys as the nodes pass them (core/server/redisbackend.cpp), for the direct calls.
QList<QByteArray> benchKeys()
{
    const QByteArray tag = "{bench}";
    return {tag + ":t", tag + ":ix", tag + ":log", tag + ":meta", tag + ":sess", tag + ":dl", tag + ":own", NodesKey,
        "lark:nss"};
}

/** A redis-server of the scenario's own, stopped with it. */
class BenchRedis
{
public:
    explicit BenchRedis(const Settings &s)
        : m_program(s.redisServerPath)
    {
    }
    ~BenchRedis() { stop(); }
    BenchRedis(const BenchRedis &) = delete;
    BenchRedis &operator=(const BenchRedis &) = delete;

    /** Starts it and waits until it answers; false, with the reason in r's errors, if it does not. */
    bool start(QJsonObject &r)
    {
        QString why;
        const bool up = start(&why);
        if (!up)
            fail(r, why);
        return up;
    }

private:
    bool start(QString *error)
    {
        // Below the ephemeral range, where the load's own connections take their ports.
        for (int attempt = 0; attempt < 100 && m_port == 0; ++attempt) {
            const auto port = quint16(20000 + QRandomGenerator::global()->bounded(12000));
            QTcpServer probe;
            if (probe.listen(QHostAddress::LocalHost, port))
                m_port = port;
        }
        if (!m_dir.isValid() || m_port == 0) {
            *error = u"no temporary folder or free port for redis-server"_s;
            return false;
        }
        m_proc.setStandardOutputFile(m_dir.filePath(u"redis.log"_s));
        m_proc.setStandardErrorFile(m_dir.filePath(u"redis.log"_s), QIODevice::Append);
        m_proc.start(m_program,
            {u"--port"_s, QString::number(m_port), u"--bind"_s, u"127.0.0.1"_s, u"--dir"_s, m_dir.path(),
                u"--daemonize"_s, u"no"_s, u"--save"_s, u""_s, u"--appendonly"_s, u"yes"_s, u"--appendfsync"_s,
                u"always"_s, u"--maxmemory-policy"_s, u"noeviction"_s, u"--slowlog-log-slower-than"_s, u"1000"_s,
                u"--slowlog-max-len"_s, u"100000"_s, u"--latency-monitor-threshold"_s, u"10"_s});
        if (!m_proc.waitForStarted(10000)) {
            *error
                = u"cannot start %1 (Debian: apt-get install redis-server): %2"_s.arg(m_program, m_proc.errorString());
            return false;
        }
        // Redis is every node's ceiling: on a machine shared with the nodes and the load it gets the CPU first,
        // as an operator would give it a core of its own. Without this, on 2 cores, the scheduler preempts it in
        // the middle of calls (docs/performance.md, "Cluster mode"). Needs root; without it, Redis runs as is.
        if (setpriority(PRIO_PROCESS, id_t(m_proc.processId()), -10) == 0)
            m_nice = -10;
        RedisUrl url;
        url.port = m_port;
        QString why;
        const bool up = waitFor(
            [&] {
                if (m_proc.state() == QProcess::NotRunning)
                    return true;
                return m_admin.connect(url, 2000, &why) && m_admin.command({"PING"}).string == "PONG";
            },
            10000);
        if (!up || m_proc.state() == QProcess::NotRunning) {
            QFile log(m_dir.filePath(u"redis.log"_s));
            log.open(QIODevice::ReadOnly);
            *error = u"redis-server did not come up on port %1: %2 %3"_s.arg(m_port).arg(
                why, QString::fromUtf8(log.readAll().right(300)));
            return false;
        }
        return true;
    }

public:
    void stop()
    {
        if (m_proc.state() == QProcess::NotRunning)
            return;
        m_proc.terminate();
        if (!m_proc.waitForFinished(10000))
            m_proc.kill();
        m_proc.waitForFinished(2000);
    }
    [[nodiscard]] QString url() const { return u"redis://127.0.0.1:%1"_s.arg(m_port); }
    [[nodiscard]] quint16 port() const { return m_port; }
    [[nodiscard]] qint64 pid() const { return m_proc.processId(); }
    RedisReply command(const QList<QByteArray> &argv) { return m_admin.command(argv); }

    /** Starts a new account: commandstats, the slow log and the latency monitor from zero. */
    void resetAccount()
    {
        command({"CONFIG", "RESETSTAT"});
        command({"SLOWLOG", "RESET"});
        command({"LATENCY", "RESET"});
    }
    /**
     * Redis's account since resetAccount(), into r under prefix: FCALL calls and mean µs per call, the longest
     * function call in the slow log, the longest of each function, how many held Redis for more than 10 ms, and
     * the latency monitor's worst of each event over 10 ms (the AOF's fsync among them). A call over 10 ms is a
     * target missed, not an error of the run: the machine can stall Redis that long in a call that does almost no
     * work (docs/performance.md, "Slow calls"), and the longest heartbeat or one-set call shows it.
     */
    void account(QJsonObject &r, const QString &prefix)
    {
        const RedisReply stats = command({"INFO", "commandstats"});
        double calls = 0, usec = 0;
        for (const QByteArray &line : stats.string.split('\n')) {
            if (!line.startsWith("cmdstat_fcall:") && !line.startsWith("cmdstat_fcall_ro:"))
                continue;
            for (const QByteArray &field : line.mid(line.indexOf(':') + 1).trimmed().split(',')) {
                if (field.startsWith("calls="))
                    calls += field.mid(6).toDouble();
                else if (field.startsWith("usec="))
                    usec += field.mid(5).toDouble();
            }
        }
        r.insert(prefix + u"fcall_calls"_s, calls);
        if (calls > 0)
            r.insert(prefix + u"redis_us_per_fcall"_s, usec / calls);
        const RedisReply slow = command({"SLOWLOG", "GET", "100000"});
        double maxUs = 0;
        int over = 0;
        QString longest;
        QJsonObject byFunction;
        for (const RedisReply &e : slow.elements) {
            if (e.elements.size() < 4 || e.elements[3].elements.size() < 2)
                continue;
            const QByteArray name = e.elements[3].elements[0].string.toUpper();
            if (name != "FCALL" && name != "FCALL_RO")
                continue;
            const auto us = double(e.elements[2].integer);
            over += us > 10000 ? 1 : 0;
            const QString function = QString::fromUtf8(e.elements[3].elements[1].string);
            byFunction.insert(function, std::max(byFunction.value(function).toDouble(), us / 1000));
            if (us > maxUs) {
                maxUs = us;
                longest = function;
            }
        }
        // Below the slow log's 1 ms threshold nothing is logged: 0 then means "under 1 ms".
        r.insert(prefix + u"fcall_max_ms"_s, maxUs / 1000);
        if (!longest.isEmpty())
            r.insert(prefix + u"fcall_longest"_s, longest);
        r.insert(prefix + u"fcall_over_10ms"_s, over);
        r.insert(prefix + u"fcall_max_ms_by_function"_s, byFunction);
        r.insert(prefix + u"heartbeat_max_ms"_s, byFunction.value(u"lark_node_heartbeat"_s).toDouble());
        // LATENCY LATEST: [event, when, latest ms, max ms] for each event that took 10 ms or more.
        QJsonObject latency;
        for (const RedisReply &e : command({"LATENCY", "LATEST"}).elements) {
            if (e.elements.size() >= 4)
                latency.insert(QString::fromUtf8(e.elements[0].string), double(e.elements[3].integer));
        }
        r.insert(prefix + u"redis_latency_max_ms"_s, latency);
        r.insert(prefix + u"redis_nice"_s, m_nice);
        // A fork (the AOF rewrite) makes the commands after it pay copy-on-write faults: it explains slow calls.
        const RedisReply info = command({"INFO", "stats"});
        const qsizetype at = info.string.indexOf("total_forks:");
        if (at >= 0)
            r.insert(prefix + u"redis_forks"_s,
                info.string.mid(at + 12, info.string.indexOf('\r', at) - at - 12).toDouble());
    }

private:
    QString m_program;
    QTemporaryDir m_dir;
    QProcess m_proc;
    quint16 m_port = 0;
    int m_nice = 0;
    BlockingRedis m_admin;
};

/** Nodes n1..nN of one Redis; empty, with the error in r, if one does not start. */
std::vector<std::unique_ptr<Target>> startNodes(
    const Settings &s, const BenchRedis &redis, int n, const QStringList &extra, QJsonObject &r)
{
    std::vector<std::unique_ptr<Target>> nodes;
    for (int i = 1; i <= n; ++i) {
        nodes.push_back(startTarget(
            s, Kind::Lark, QStringList {u"--redis"_s, redis.url(), u"--node-name"_s, u"n%1"_s.arg(i)} + extra));
        if (!nodes.back()->error.isEmpty()) {
            fail(r, u"node n%1: %2"_s.arg(i).arg(nodes.back()->error));
            for (auto &t : nodes)
                stopTarget(*t);
            return {};
        }
    }
    return nodes;
}

QList<const Target *> pointers(const std::vector<std::unique_ptr<Target>> &nodes)
{
    QList<const Target *> list;
    for (const auto &t : nodes)
        list.append(t.get());
    return list;
}

/**
 * Drives lark_write directly: clients connections, each a closed loop of inflight calls of one small set for
 * durationMs, with the arguments a node sends for {"p": prefix/<client>, "d": <n>}. Returns the calls answered
 * inside the window per second; refusals go to r.
 */
double directWrites(const Settings &s, BenchRedis &redis, const QByteArray &epoch, int inflight,
    const QByteArray &prefix, QJsonObject &r, double *redisCores)
{
    RedisUrl url;
    url.port = redis.port();
    std::vector<std::unique_ptr<RedisConnection>> conns;
    for (int i = 0; i < s.writeClients; ++i) {
        conns.push_back(std::make_unique<RedisConnection>(url));
        conns.back()->open();
    }
    if (!waitFor([&] { return std::all_of(conns.begin(), conns.end(), [](const auto &c) { return c->isReady(); }); },
            10000)) {
        fail(r, u"direct: not every Redis connection became ready"_s);
        return 0;
    }
    const QList<QByteArray> keys = benchKeys();
    qint64 sent = 0, answered = 0, inWindow = 0, refused = 0;
    QString firstError;
    const qint64 start = nowUs(), end = start + qint64(s.durationMs) * 1000;
    // Destroyed before the counters and the connections: a reply still pending then reaches no callback.
    QObject context;
    std::function<void(int)> send = [&](int i) {
        const QByteArray path = prefix + '/' + QByteArray::number(i), value = QByteArray::number(sent++);
        QList<QByteArray> argv {"FCALL", "lark_write", "9"};
        // One group (one request) per call: what a node sends for a lone write.
        argv << keys << "bench-direct" << epoch << QByteArray() << "1"
             << "c"
             << "S" + QByteArray::number(i) << "1" << path << value << "1" << path << value;
        conns[size_t(i)]->command(argv, &context, [&, i](const RedisReply &reply) {
            ++answered;
            const qint64 now = nowUs();
            if (reply.isError()) {
                ++refused;
                if (firstError.isEmpty())
                    firstError = QString::fromUtf8(reply.string);
            } else if (now <= end) {
                ++inWindow;
            }
            if (now < end)
                send(i);
        });
    };
    const double cpu0 = processCpuSeconds(redis.pid());
    for (int i = 0; i < s.writeClients; ++i) {
        for (int k = 0; k < inflight; ++k)
            send(i);
    }
    waitFor([&] { return nowUs() >= end && answered >= sent; }, s.durationMs + 15000);
    *redisCores = (processCpuSeconds(redis.pid()) - cpu0) / (double(nowUs() - start) / 1e6);
    if (refused)
        fail(r, u"direct: %1 calls refused: %2"_s.arg(refused).arg(firstError));
    if (answered < sent)
        fail(r, u"direct: %1 of %2 calls never answered"_s.arg(sent - answered).arg(sent));
    return double(inWindow) / (s.durationMs / 1000.0);
}

QJsonObject stripped(QJsonObject r, const QString &prefix, QJsonObject &into)
{
    for (const QJsonValue &e : r.value(u"errors"_s).toArray())
        fail(into, prefix + e.toString());
    r.remove(u"errors"_s);
    return r;
}

} // namespace

QJsonObject runClusterWrites(const Settings &s)
{
    QJsonObject r;
    BenchRedis redis(s);
    if (!redis.start(r))
        return r;
    // The direct calls need the library and a lease of their own, as a node would have.
    QFile lua(s.redisFunctionsPath);
    if (!lua.open(QIODevice::ReadOnly)) {
        fail(r, u"cannot read %1"_s.arg(s.redisFunctionsPath));
        return r;
    }
    const RedisReply loaded = redis.command({"FUNCTION", "LOAD", lua.readAll()});
    const RedisReply lease
        = redis.command({"FCALL", "lark_node_heartbeat", "2", NodesKey, EpochKey, "bench-direct", "0", "3600000"});
    if (loaded.isError() || lease.elements.size() != 2) {
        fail(r,
            u"cannot prepare the direct calls: %1 %2"_s.arg(
                QString::fromUtf8(loaded.string), QString::fromUtf8(lease.string)));
        return r;
    }
    const QByteArray epoch = QByteArray::number(lease.elements[0].integer);
    const QByteArray directPrefix = "bench/direct-" + randomTag().toUtf8();

    // Direct before and after the nodes, and the mean of both: a steady drift of the machine cancels out.
    const auto direct = [&](const QString &when) {
        for (const int inflight : {1, 16}) {
            std::fprintf(stderr, "lark-bench: cluster-writes: FCALL lark_write directly, %d in flight (%s) ...\n",
                inflight, qPrintable(when));
            redis.resetAccount();
            double cores = 0;
            const double perS = directWrites(s, redis, epoch, inflight, directPrefix, r, &cores);
            const QString k = QString::number(inflight);
            r.insert(u"direct_per_s_%1_%2"_s.arg(k, when), perS);
            r.insert(u"direct_redis_cores_%1_%2"_s.arg(k, when), cores);
            QJsonObject account;
            redis.account(account, QString());
            r.insert(u"direct_redis_us_per_fcall_%1_%2"_s.arg(k, when), account.value(u"redis_us_per_fcall"_s));
            r.insert(u"direct_fcall_max_ms_%1_%2"_s.arg(k, when), account.value(u"fcall_max_ms"_s));
            r.insert(u"direct_fcall_max_ms"_s,
                std::max(r.value(u"direct_fcall_max_ms"_s).toDouble(), account.value(u"fcall_max_ms"_s).toDouble()));
            r.insert(u"direct_fcall_over_10ms_%1_%2"_s.arg(k, when), account.value(u"fcall_over_10ms"_s));
        }
    };
    direct(u"before"_s);

    std::fprintf(stderr, "lark-bench: cluster-writes: through 3 nodes ...\n");
    const std::vector<std::unique_ptr<Target>> nodes = startNodes(s, redis, 3, {}, r);
    if (nodes.empty())
        return r;
    redis.resetAccount();
    const double redisCpu0 = processCpuSeconds(redis.pid()), wall0 = double(nowUs());
    const QJsonObject w = stripped(runWrites(s, pointers(nodes)), u"nodes: "_s, r);
    r.insert(u"nodes_redis_cores"_s, (processCpuSeconds(redis.pid()) - redisCpu0) / ((double(nowUs()) - wall0) / 1e6));
    redis.account(r, u"nodes_"_s);
    for (auto &t : nodes)
        stopTarget(*t);
    for (const QString &k : {u"acked_per_s_1"_s, u"acked_per_s_16"_s, u"server_cores"_s, u"load_cores"_s,
             u"server_cpu_us_per_write"_s, u"p50_ms"_s, u"p99_ms"_s, u"half_rate"_s})
        r.insert(u"nodes_"_s + k, w.value(k));
    // How much the nodes gather in a call (the few heartbeats and sweeps among the calls counted too).
    const double calls = r.value(u"nodes_fcall_calls"_s).toDouble();
    if (calls > 0)
        r.insert(u"writes_per_fcall"_s, w.value(u"acked_total"_s).toDouble() / calls);

    direct(u"after"_s);
    for (const QString &k : {u"1"_s, u"16"_s}) {
        const double d = (r.value(u"direct_per_s_%1_before"_s.arg(k)).toDouble()
                             + r.value(u"direct_per_s_%1_after"_s.arg(k)).toDouble())
            / 2;
        r.insert(u"direct_per_s_"_s + k, d);
        if (d > 0)
            r.insert(u"nodes_vs_direct_"_s + k, r.value(u"nodes_acked_per_s_"_s + k).toDouble() / d);
    }
    r.insert(u"clients"_s, s.writeClients);
    return r;
}

QJsonObject runClusterFanout(const Settings &s, int listeners)
{
    QJsonObject r;
    // The same load processes in every run, one per node of the largest, so only the servers differ.
    constexpr int workers = 3;
    {
        std::fprintf(stderr, "lark-bench: cluster-fanout: one node in memory ...\n");
        const std::unique_ptr<Target> t = startTarget(s, Kind::Lark);
        if (!t->error.isEmpty()) {
            fail(r, t->error);
            return r;
        }
        const QJsonObject f = stripped(runFanout(s, {t.get()}, listeners, workers), u"in memory: "_s, r);
        stopTarget(*t);
        r.insert(u"memory_per_s"_s, f.value(u"deliveries_per_s"_s));
        r.insert(u"memory_p95_ms"_s, f.value(u"p95_ms"_s));
    }
    for (const int n : {1, 3}) {
        std::fprintf(stderr, "lark-bench: cluster-fanout: %d node(s) on Redis ...\n", n);
        BenchRedis redis(s);
        if (!redis.start(r))
            return r;
        const std::vector<std::unique_ptr<Target>> nodes = startNodes(s, redis, n, {}, r);
        if (nodes.empty())
            return r;
        redis.resetAccount();
        const QString key = n == 1 ? u"single_"_s : u"cluster_"_s;
        const QJsonObject f = stripped(runFanout(s, pointers(nodes), listeners, workers), key, r);
        for (auto &t : nodes)
            stopTarget(*t);
        redis.account(r, key);
        for (const QString &k :
            {u"deliveries_per_s"_s, u"writes_per_s"_s, u"p95_ms"_s, u"server_cores"_s, u"server_cpu_us_per_delivery"_s})
            r.insert(key + k, f.value(k));
    }
    const double single = r.value(u"single_deliveries_per_s"_s).toDouble();
    const double memory = r.value(u"memory_per_s"_s).toDouble();
    const double cluster = r.value(u"cluster_deliveries_per_s"_s).toDouble();
    if (single > 0)
        r.insert(u"cluster_vs_single"_s, cluster / single);
    if (memory > 0)
        r.insert(u"cluster_vs_memory"_s, cluster / memory);
    r.insert(u"listeners"_s, listeners);
    return r;
}

QJsonObject runClusterKill(const Settings &s)
{
    QJsonObject r;
    BenchRedis redis(s);
    if (!redis.start(r))
        return r;
    const QStringList timers {u"--ping-interval"_s, u"%1ms"_s.arg(s.silentPingMs), u"--dead-after"_s,
        u"%1ms"_s.arg(s.silentDeadMs), u"--grace"_s, u"%1ms"_s.arg(s.silentGraceMs)};
    std::vector<std::unique_ptr<Target>> nodes = startNodes(s, redis, 3, timers, r);
    if (nodes.empty())
        return r;
    const int n = s.mass, expected = 2 * n;
    const QString prefix = u"/bench/kill-"_s + randomTag();
    // The observer on another node than the sessions: it sees the fired ops as any client of the cluster would.
    Observer obs;
    const std::unique_ptr<Client> observer = openObserver(*nodes[1], prefix, obs, r);
    if (observer) {
        std::fprintf(stderr, "lark-bench: cluster-kill: %d sessions × 2 ops on n1 ...\n", n);
        Fleet fleet(workersFor(s, n), n);
        openFleet(fleet, *nodes[0], QString(), u"mass"_s, prefix, r);
        if (!r.contains(u"errors"_s)) {
            redis.resetAccount(); // the takeover and the firing
            std::fprintf(stderr, "lark-bench: cluster-kill: kill -9 n1 ...\n");
            const qint64 killUs = nowUs();
            nodes[0]->proc->kill();
            const int deadline = s.silentDeadMs + s.silentGraceMs + 2000;
            waitFor([&] { return obs.firstSeen.size() >= expected; }, deadline + 15000);
            waitFor([] { return false; }, 500); // a doubled firing would show up now
            double first = 1e300, last = 0;
            for (const qint64 t : std::as_const(obs.firstSeen)) {
                first = std::min(first, double(t));
                last = std::max(last, double(t));
            }
            const int lost = expected - int(obs.firstSeen.size()), doubled = obs.doubled();
            if (lost > 0)
                fail(r, u"%1 of %2 onDisconnect ops never observed"_s.arg(lost).arg(expected));
            if (doubled > 0)
                fail(r, u"%1 onDisconnect ops observed more than once"_s.arg(doubled));
            const int stored = storedLeaves(*observer, prefix);
            if (stored != expected)
                fail(r, u"%1 ops stored, expected %2"_s.arg(stored).arg(expected));
            // Nothing of n1 may be left waiting in Redis.
            const qint64 waiting = redis.command({"ZCARD", "{bench}:dl"}).integer;
            if (waiting != 0)
                fail(r, u"%1 sessions still wait to fire in Redis"_s.arg(waiting));
            redis.account(r, QString());
            r.insert(u"sessions"_s, n);
            r.insert(u"ops"_s, expected);
            r.insert(u"observed"_s, int(obs.firstSeen.size()));
            r.insert(u"stored"_s, stored);
            r.insert(u"lost"_s, lost);
            r.insert(u"doubled"_s, doubled);
            r.insert(u"deadline_ms"_s, deadline);
            if (last > 0) {
                r.insert(u"first_ms"_s, (first - double(killUs)) / 1000);
                r.insert(u"all_ms"_s, (last - double(killUs)) / 1000);
                r.insert(u"spread_ms"_s, (last - first) / 1000);
            }
        }
    }
    for (auto &t : nodes)
        stopTarget(*t);
    return r;
}

} // namespace bench
