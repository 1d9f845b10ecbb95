// SPDX-License-Identifier: MIT
// lark-bench: load generator for lark-server (issue #6). Starts the server (or uses --url), a raw Qt WebSocket
// baseline and, where it can run the scenario, the peer firebase-server, then drives each over 127.0.0.1 from
// worker processes (lark-bench re-executed with --worker) and prints a table (and JSON with --json).
// Exits non-zero when any run has errors, lost or doubled ops, or zero throughput.
// The scenarios are in scenarios.h (writes.cpp, fanout.cpp, connections.cpp, http.cpp, cluster.cpp); what they run with
// in harness.h and targets.h; the command line in settings.h; the table in report.h. This file runs each scenario on
// each server.
#include "harness.h"
#include "report.h"
#include "scenarios.h"
#include "settings.h"
#include "targets.h"
#include "worker.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSysInfo>

#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <sys/resource.h>
#include <thread>

using namespace Qt::Literals::StringLiterals;
using namespace bench;

namespace
{

void raiseFileLimit()
{
    // 10 000 connections need more descriptors than the usual soft limit; the hard limit is the ceiling.
    rlimit rl {};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int runWorker()
{
    bench::Worker worker;
    // A reader thread, so commands arrive as queued calls and the worker's nested waits keep the loop running.
    std::thread([&worker] {
        std::string line;
        while (std::getline(std::cin, line)) {
            const QJsonObject cmd = QJsonDocument::fromJson(QByteArray::fromStdString(line)).object();
            QMetaObject::invokeMethod(
                &worker,
                [&worker, cmd] {
                    if (cmd.value(u"cmd"_s) == u"quit"_s)
                        QCoreApplication::exit(0);
                    const QByteArray out = QJsonDocument(worker.handle(cmd)).toJson(QJsonDocument::Compact);
                    std::fwrite(out.constData(), 1, size_t(out.size()), stdout);
                    std::fputc('\n', stdout);
                    std::fflush(stdout);
                },
                Qt::QueuedConnection);
        }
        QMetaObject::invokeMethod(
            qApp, [] { QCoreApplication::exit(0); }, Qt::QueuedConnection);
    }).detach();
    return QCoreApplication::exec();
}

} // namespace

int main(int argc, char *argv[])
{
    // The loader polls thousands of sockets too: poll() beats glib there as well (docs/transport.md §2).
    qputenv("QT_NO_GLIB", "1");
    raiseFileLimit();
    QCoreApplication app(argc, argv);
    if (app.arguments().contains(u"--worker"_s))
        return runWorker();

    Settings s;
    if (!parseSettings(app, &s))
        return 2;

    QJsonObject report;
    report.insert(u"machine"_s,
        QJsonObject {{u"nproc"_s, int(std::thread::hardware_concurrency())}, {u"cpu"_s, cpuModel()},
            {u"kernel"_s, QSysInfo::kernelVersion()}, {u"loadavg_start"_s, loadAverage()}});
    report.insert(u"command"_s, app.arguments().join(u' '));
    report.insert(u"size"_s, s.tiny ? u"tiny"_s : u"full"_s);
    if (!s.peerNote.isEmpty())
        report.insert(u"peer_note"_s, s.peerNote);
    QJsonArray results;
    QList<Row> rows;
    QStringList failures, peerIssues;

    // Runs one scenario on lark, baseline and (when it can) the peer; each on a fresh server process.
    const auto runAll = [&](const QString &name, bool peerCan, bool baselineCan,
                            const std::function<QJsonObject(const Target &)> &body, const QStringList &larkArgs = {}) {
        QJsonObject entry {{u"scenario"_s, name}};
        QList<Kind> kinds {Kind::Lark};
        if (s.baseline && baselineCan)
            kinds.append(Kind::Baseline);
        if (s.peer && peerCan)
            kinds.append(Kind::Peer);
        for (const Kind k : kinds) {
            std::fprintf(stderr, "lark-bench: %s on %s ...\n", qPrintable(name), qPrintable(kindName(k)));
            const std::unique_ptr<Target> t = startTarget(s, k, larkArgs);
            QJsonObject r;
            if (!t->error.isEmpty())
                fail(r, t->error);
            else
                r = body(*t);
            stopTarget(*t);
            r.insert(u"loadavg"_s, loadAverage());
            // The peer is someone else's server: its shortfalls are reported, not failures of this bench.
            for (const QJsonValue &e : r.value(u"errors"_s).toArray())
                (k == Kind::Peer ? peerIssues : failures).append(u"%1/%2: %3"_s.arg(name, kindName(k), e.toString()));
            entry.insert(kindName(k), r);
        }
        if (!peerCan)
            entry.insert(u"peer"_s, u"n/a: firebase-server has no onDisconnect (o/om/oc are never answered)"_s);
        else if (!s.peer)
            entry.insert(u"peer"_s, s.peerNote);
        results.append(entry);
        return entry;
    };

    const QString clientsText = QString::number(s.writeClients);
    if (s.scenarios.contains(u"writes"_s)) {
        runAll(u"writes"_s, true, true, [&](const Target &t) { return runWrites(s, t); });
        rows.append({u"writes"_s, u"acked sets/s, %1 clients × 1 in flight"_s.arg(clientsText), u"acked_per_s_1"_s});
        rows.append({u"writes"_s, u"acked sets/s, %1 clients × 16 in flight"_s.arg(clientsText), u"acked_per_s_16"_s,
            true, 50000, u"≥ 50 000/s"_s});
        rows.append({u"writes"_s, u"  server CPU µs per acked write"_s, u"server_cpu_us_per_write"_s, false});
        rows.append({u"writes"_s, u"  server cores busy at 16 in flight"_s, u"server_cores"_s, false});
        rows.append({u"writes"_s, u"  load cores busy at 16 in flight"_s, u"load_cores"_s, false});
        const QString at = s.writeRate > 0 ? u"at %1/s"_s.arg(s.writeRate, 0, 'f', 0) : u"at 50 % of max"_s;
        rows.append({u"writes"_s, u"ack p50 ms "_s + at, u"p50_ms"_s, false});
        // The target is for half the best rate; at another rate it is shown, not judged.
        rows.append({u"writes"_s, u"ack p99 ms "_s + at, u"p99_ms"_s, false, s.writeRate > 0 ? -1.0 : 5.0,
            u"≤ 5 ms at 50 %"_s});
        rows.append({u"writes"_s, u"  ack p99.9 ms "_s + at, u"p999_ms"_s, false});
        rows.append({u"writes"_s, u"  open loop: writes/s offered"_s, u"half_rate"_s, false});
        rows.append({u"writes"_s, u"  open loop: acked/s inside the window"_s, u"half_achieved"_s, false});
        rows.append({u"writes"_s, u"  server cores busy "_s + at, u"half_server_cores"_s, false});
        // Unpipelined, the load pays a TCP send per write too: with both near 1, the machine is the limit.
        rows.append({u"writes"_s, u"  load cores busy "_s + at, u"half_load_cores"_s, false});
        rows.append({u"writes"_s, u"  server preempted (times), open loop"_s, u"half_server_preempted"_s, false});
        if (!s.qtWriters)
            rows.append({u"writes"_s, u"  load's own send lag p99 ms "_s + at, u"send_lag_p99_ms"_s, false});
    }
    if (s.scenarios.contains(u"fanout"_s)) {
        for (const int n : std::as_const(s.listeners)) {
            const QString name = u"fanout-%1"_s.arg(n);
            runAll(name, true, true, [&](const Target &t) { return runFanout(s, t, n); });
            const double target = n >= 10000 ? 200000 : n >= 1000 ? 500000 : -1;
            rows.append({name, u"deliveries/s, %1 listeners"_s.arg(n), u"deliveries_per_s"_s, true, target,
                target > 0 ? u"≥ %1/s"_s.arg(target, 0, 'f', 0) : QString()});
            rows.append({name, u"write→listener p95 ms"_s, u"p95_ms"_s, false});
            rows.append({name, u"  server CPU µs per delivery"_s, u"server_cpu_us_per_delivery"_s, false});
            rows.append({name, u"  server cores busy"_s, u"server_cores"_s, false});
            rows.append({name, u"  load cores busy"_s, u"load_cores"_s, false});
        }
    }
    if (s.scenarios.contains(u"connect"_s)) {
        runAll(u"connect"_s, true, true, [&](const Target &t) { return runConnect(s, t); });
        const QString n = QString::number(s.connections);
        rows.append({u"connect"_s, u"s for %1 connects + hello + listen"_s.arg(n), u"connect_s"_s, false,
            s.connections >= 10000 ? 2.0 : -1.0, u"≤ 2 s for 10 000"_s});
        rows.append({u"connect"_s, u"connections lost"_s, u"lost"_s, false, 0, u"0"_s});
        rows.append(
            {u"connect"_s, u"idle-memory: server KB per connection"_s, u"kb_per_conn"_s, false, 25, u"≤ 25 KB"_s});
    }
    if (s.scenarios.contains(u"disconnect"_s)) {
        runAll(u"disconnect"_s, false, true, [&](const Target &t) { return runDisconnect(s, t, false); });
        rows.append({u"disconnect"_s, u"close → observer p50 ms"_s, u"p50_ms"_s, false});
        rows.append({u"disconnect"_s, u"close → observer p99 ms"_s, u"p99_ms"_s, false, 50, u"≤ 50 ms"_s});
    }
    if (s.scenarios.contains(u"mass-disconnect"_s)) {
        runAll(u"mass-disconnect"_s, false, true, [&](const Target &t) { return runDisconnect(s, t, true); });
        rows.append({u"mass-disconnect"_s, u"ms until all %1 ops observed"_s.arg(s.mass * 2), u"all_ms"_s, false, 1000,
            u"≤ 1000 ms"_s});
        rows.append({u"mass-disconnect"_s, u"ops lost"_s, u"lost"_s, false, 0, u"0"_s});
        rows.append({u"mass-disconnect"_s, u"ops doubled"_s, u"doubled"_s, false, 0, u"0"_s});
    }
    if (s.scenarios.contains(u"silent"_s)) {
        const QStringList timers {u"--ping-interval"_s, u"%1ms"_s.arg(s.silentPingMs), u"--dead-after"_s,
            u"%1ms"_s.arg(s.silentDeadMs), u"--grace"_s, u"%1ms"_s.arg(s.silentGraceMs)};
        runAll(
            u"silent"_s, false, false,
            [&](const Target &t) { return runSilent(s, t, s.silentDeadMs, s.silentGraceMs); }, timers);
        rows.append({u"silent"_s, u"fired before deadline (count)"_s, u"early"_s, false, 0, u"0"_s});
        rows.append(
            {u"silent"_s, u"ms after deadline, max"_s, u"after_deadline_max_ms"_s, false, 1000, u"≤ 1000 ms"_s});
        rows.append({u"silent"_s, u"spread ms (max − min)"_s, u"spread_ms"_s, false});
    }

    if (s.scenarios.contains(u"rules"_s) && s.externalUrl.isValid()) {
        std::fprintf(stderr, "lark-bench: rules skipped: it starts Lark with and without --rules itself (no --url)\n");
    } else if (s.scenarios.contains(u"rules"_s)) {
        // What security rules cost: the same signed-in writes and fan-out on Lark without rules and under a
        // presence rules file, each on a fresh server. A write is checked; a delivery checks nothing.
        Settings signedIn = s;
        signedIn.signIn = true;
        const int listeners = s.listeners.value(0, 1000);
        QJsonObject lark;
        double writes[2] = {0, 0}, deliveries[2] = {0, 0};
        // A B B A: on a shared machine the rate drifts between runs, and this order cancels a steady drift.
        for (const int withRules : {0, 1, 1, 0}) {
            const QString variant = withRules ? u"rules"_s : u"open"_s;
            const QStringList args
                = withRules ? QStringList {u"--rules"_s, s.rulesFile, u"--rules-ns"_s, u"bench"_s} : QStringList {};
            for (const bool fanout : {false, true}) {
                std::fprintf(stderr, "lark-bench: rules: %s on lark %s ...\n", fanout ? "fanout" : "writes",
                    withRules ? "under presence rules" : "without rules");
                const std::unique_ptr<Target> t = startTarget(s, Kind::Lark, args);
                QJsonObject r;
                if (!t->error.isEmpty())
                    fail(r, t->error);
                else
                    r = fanout ? runFanout(signedIn, *t, listeners) : runWrites(signedIn, *t);
                stopTarget(*t);
                for (const QJsonValue &e : r.value(u"errors"_s).toArray())
                    failures.append(
                        u"rules/%1 %2: %3"_s.arg(variant, fanout ? u"fanout"_s : u"writes"_s, e.toString()));
                (fanout ? deliveries : writes)[withRules]
                    += r.value(fanout ? u"deliveries_per_s"_s : u"acked_per_s_16"_s).toDouble() / 2;
                const QString key = variant + (fanout ? u"_fanout"_s : u"_writes"_s);
                QJsonArray runs = lark.value(key).toArray();
                runs.append(r);
                lark.insert(key, runs);
            }
        }
        const auto ratio
            = [](double with, double without) { return without > 0 ? QJsonValue(with / without) : QJsonValue(); };
        lark.insert(u"writes_open"_s, writes[0]);
        lark.insert(u"writes_rules"_s, writes[1]);
        lark.insert(u"writes_ratio"_s, ratio(writes[1], writes[0]));
        lark.insert(u"fanout_open"_s, deliveries[0]);
        lark.insert(u"fanout_rules"_s, deliveries[1]);
        lark.insert(u"fanout_ratio"_s, ratio(deliveries[1], deliveries[0]));
        results.append(QJsonObject {{u"scenario"_s, u"rules"_s}, {u"lark"_s, lark}, {u"rules_file"_s, s.rulesFile}});
        const QString n = QString::number(listeners);
        rows.append({u"rules"_s, u"acked sets/s × 16, signed in, no rules (mean of 2)"_s, u"writes_open"_s});
        rows.append({u"rules"_s, u"acked sets/s × 16, signed in, presence rules (2)"_s, u"writes_rules"_s});
        rows.append({u"rules"_s, u"  with rules ÷ without"_s, u"writes_ratio"_s, true, 0.8, u"≥ 0.8"_s});
        rows.append({u"rules"_s, u"deliveries/s, %1 listeners, no rules"_s.arg(n), u"fanout_open"_s});
        rows.append({u"rules"_s, u"deliveries/s, %1 listeners, presence rules"_s.arg(n), u"fanout_rules"_s});
        // Deliveries are never checked, so "unchanged" means within the noise of two runs.
        rows.append({u"rules"_s, u"  with rules ÷ without"_s, u"fanout_ratio"_s, true, 0.9, u"≥ 0.9 (unchanged)"_s});
    }

    if (s.scenarios.contains(u"http"_s)) {
        // Lark's REST and event streams against its own WebSocket figures of this run (the writes and fanout rows).
        const auto larkFigure = [&](const QString &scenario, const QString &key) {
            for (const QJsonValue &e : std::as_const(results)) {
                if (e.toObject().value(u"scenario"_s).toString() == scenario)
                    return e.toObject().value(u"lark"_s).toObject().value(key).toDouble();
            }
            return 0.0;
        };
        const int streams = s.listeners.value(0, 1000);
        const double wsWrites = larkFigure(u"writes"_s, u"acked_per_s_1"_s);
        const double wsFanout = larkFigure(u"fanout-%1"_s.arg(streams), u"deliveries_per_s"_s);
        runAll(u"http"_s, false, false, [&](const Target &t) {
            QJsonObject r;
            for (const QJsonObject &part :
                {runRestWrites(s, t), runSseFanout(s, t, streams), runSseIdle(s, t, s.connections)}) {
                for (auto it = part.begin(); it != part.end(); ++it) {
                    if (it.key() == u"errors"_s) {
                        for (const QJsonValue &e : it.value().toArray())
                            fail(r, e.toString());
                    } else if (it.key() != u"server_cores"_s) {
                        r.insert(it.key(), it.value());
                    }
                }
            }
            if (wsWrites > 0)
                r.insert(u"rest_vs_ws"_s, r.value(u"rest_put_per_s"_s).toDouble() / wsWrites);
            if (wsFanout > 0)
                r.insert(u"sse_vs_ws"_s, r.value(u"sse_deliveries_per_s"_s).toDouble() / wsFanout);
            return r;
        });
        QJsonObject entry = results.last().toObject();
        entry.insert(u"peer"_s, u"n/a: Lark's own REST and streams, against its WebSocket figures of this run"_s);
        results.replace(results.size() - 1, entry);
        const QString c = QString::number(s.writeClients), n = QString::number(streams);
        rows.append({u"http"_s, u"REST PUTs/s, %1 keep-alive connections × 1"_s.arg(c), u"rest_put_per_s"_s});
        rows.append({u"http"_s, u"  ÷ WebSocket acked sets/s, %1 × 1 (writes)"_s.arg(c), u"rest_vs_ws"_s, true, 0.5,
            u"≥ 0.5"_s});
        rows.append({u"http"_s, u"event-stream deliveries/s, %1 streams"_s.arg(n), u"sse_deliveries_per_s"_s});
        rows.append({u"http"_s, u"  ÷ WebSocket deliveries/s, %1 listeners (fanout)"_s.arg(n), u"sse_vs_ws"_s, true,
            0.5, u"≥ 0.5"_s});
        rows.append({u"http"_s, u"  write→stream p95 ms"_s, u"sse_p95_ms"_s, false});
        rows.append({u"http"_s, u"  server CPU µs per stream delivery"_s, u"sse_server_cpu_us_per_delivery"_s, false});
        rows.append({u"http"_s, u"idle: server KB per stream, %1 streams"_s.arg(s.connections), u"kb_per_stream"_s,
            false, 25, u"≤ 25 KB"_s});
    }

    // Cluster mode (issue #17): each scenario starts its own Redis and nodes, so --url does not apply.
    const auto runCluster = [&](const QString &name, const std::function<QJsonObject()> &body) {
        if (s.externalUrl.isValid()) {
            std::fprintf(
                stderr, "lark-bench: %s skipped: it starts Redis and its nodes itself (no --url)\n", qPrintable(name));
            return false;
        }
        QJsonObject r = body();
        r.insert(u"loadavg"_s, loadAverage());
        for (const QJsonValue &e : r.value(u"errors"_s).toArray())
            failures.append(u"%1/lark: %2"_s.arg(name, e.toString()));
        results.append(QJsonObject {{u"scenario"_s, name}, {u"lark"_s, r},
            {u"peer"_s, u"n/a: Lark nodes on one Redis, against the same Function driven directly or one node"_s}});
        return true;
    };
    if (s.scenarios.contains(u"cluster-writes"_s)
        && runCluster(u"cluster-writes"_s, [&] { return runClusterWrites(s); })) {
        const QString c = QString::number(s.writeClients);
        const QString sc = u"cluster-writes"_s;
        for (const QString &k : {u"1"_s, u"16"_s}) {
            rows.append({sc, u"FCALL lark_write/s direct, %1 clients × %2"_s.arg(c, k), u"direct_per_s_"_s + k});
            rows.append({sc, u"acked sets/s through 3 nodes, %1 × %2"_s.arg(c, k), u"nodes_acked_per_s_"_s + k});
            rows.append({sc, u"  3 nodes ÷ direct"_s, u"nodes_vs_direct_"_s + k, true, 0.7, u"≥ 0.7"_s});
        }
        rows.append(
            {sc, u"  Redis µs per FCALL, direct × 16 (before)"_s, u"direct_redis_us_per_fcall_16_before"_s, false});
        rows.append({sc, u"  Redis cores busy, direct × 16 (before)"_s, u"direct_redis_cores_16_before"_s, false});
        rows.append({sc, u"  Redis µs per FCALL, through the nodes"_s, u"nodes_redis_us_per_fcall"_s, false});
        rows.append({sc, u"  Redis cores busy, through the nodes"_s, u"nodes_redis_cores"_s, false});
        rows.append({sc, u"  acked sets per FCALL from the nodes"_s, u"writes_per_fcall"_s});
        rows.append({sc, u"  nodes' CPU µs per acked write (× 16)"_s, u"nodes_server_cpu_us_per_write"_s, false});
        rows.append({sc, u"ack p99 ms through 3 nodes at 50 % of max"_s, u"nodes_p99_ms"_s, false});
        rows.append({sc, u"FCALLs holding Redis > 10 ms (nodes)"_s, u"nodes_fcall_over_10ms"_s, false, 0, u"0"_s});
        rows.append({sc, u"  longest FCALL ms (nodes; 0: < 1 ms)"_s, u"nodes_fcall_max_ms"_s, false});
        // Controls: calls that do almost no work, so that a long one shows the machine stalling Redis.
        rows.append({sc, u"  longest direct FCALL ms (one set each)"_s, u"direct_fcall_max_ms"_s, false});
        rows.append({sc, u"  longest heartbeat ms (nodes)"_s, u"nodes_heartbeat_max_ms"_s, false});
    }
    if (s.scenarios.contains(u"cluster-fanout"_s)) {
        const int n = s.listeners.value(0, 1000);
        const QString sc = u"cluster-fanout-%1"_s.arg(n);
        if (runCluster(sc, [&] { return runClusterFanout(s, n); })) {
            rows.append({sc, u"deliveries/s, %1 listeners, 1 node in memory"_s.arg(n), u"memory_per_s"_s});
            rows.append({sc, u"deliveries/s, 1 node on Redis"_s, u"single_deliveries_per_s"_s});
            rows.append({sc, u"deliveries/s, spread over 3 nodes on Redis"_s, u"cluster_deliveries_per_s"_s});
            rows.append({sc, u"  3 nodes ÷ 1 node on Redis"_s, u"cluster_vs_single"_s, true, 0.5, u"≥ 0.5"_s});
            rows.append({sc, u"  3 nodes ÷ 1 node in memory"_s, u"cluster_vs_memory"_s});
            rows.append({sc, u"  write→listener p95 ms, 3 nodes"_s, u"cluster_p95_ms"_s, false});
            rows.append(
                {sc, u"FCALLs holding Redis > 10 ms (3 nodes)"_s, u"cluster_fcall_over_10ms"_s, false, 0, u"0"_s});
        }
    }
    if (s.scenarios.contains(u"cluster-kill"_s) && runCluster(u"cluster-kill"_s, [&] { return runClusterKill(s); })) {
        const QString sc = u"cluster-kill"_s;
        const int deadline = s.silentDeadMs + s.silentGraceMs + 2000;
        rows.append({sc, u"ms from kill -9 until all %1 ops observed"_s.arg(s.mass * 2), u"all_ms"_s, false,
            double(deadline), u"≤ %1 ms (dead+grace+2 s)"_s.arg(deadline)});
        rows.append({sc, u"  first op observed, ms after the kill"_s, u"first_ms"_s, false});
        rows.append({sc, u"ops lost"_s, u"lost"_s, false, 0, u"0"_s});
        rows.append({sc, u"ops doubled"_s, u"doubled"_s, false, 0, u"0"_s});
        rows.append({sc, u"FCALLs holding Redis > 10 ms"_s, u"fcall_over_10ms"_s, false, 0, u"0"_s});
        rows.append({sc, u"  longest FCALL ms (0: < 1 ms)"_s, u"fcall_max_ms"_s, false});
        rows.append({sc, u"  longest heartbeat ms (a call of no work)"_s, u"heartbeat_max_ms"_s, false});
    }

    // Table: absolute figures, the ratio to the baseline (and to the peer) and the target.
    const QJsonArray table = printTable(rows, results);
    if (!s.peerNote.isEmpty())
        std::printf("peer: %s\n", qPrintable(s.peerNote));
    std::printf("peer: firebase-server runs writes, fanout and connect; it has no onDisconnect, so the "
                "disconnect, mass-disconnect and silent rows show — for it.\n");
    report.insert(u"table"_s, table);
    report.insert(u"results"_s, results);
    report.insert(u"failures"_s, QJsonArray::fromStringList(failures));
    report.insert(u"peer_issues"_s, QJsonArray::fromStringList(peerIssues));
    QJsonObject machine = report.value(u"machine"_s).toObject();
    machine.insert(u"loadavg_end"_s, loadAverage());
    report.insert(u"machine"_s, machine);
    if (!s.jsonFile.isEmpty()) {
        QFile f(s.jsonFile);
        if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(report).toJson()) < 0) {
            std::fprintf(stderr, "lark-bench: cannot write %s\n", qPrintable(s.jsonFile));
            return 1;
        }
    }
    for (const QString &f : std::as_const(peerIssues))
        std::fprintf(stderr, "lark-bench: peer issue (not counted as a failure) %s\n", qPrintable(f));
    for (const QString &f : std::as_const(failures))
        std::fprintf(stderr, "lark-bench: FAILED %s\n", qPrintable(f));
    std::fflush(stdout);
    return failures.isEmpty() ? 0 : 1;
}
