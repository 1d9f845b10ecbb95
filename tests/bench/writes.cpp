// SPDX-License-Identifier: MIT
// The writes scenario: a fleet of writers sets values under a path of its own and counts the acks, closed loop with
// 1 and 16 writes in flight per connection, then open loop at half the best rate for the latency figures.
#include "scenarios.h"

#include "harness.h"

#include <algorithm>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

QJsonObject runWrites(const Settings &s, const Target &t)
{
    return runWrites(s, QList<const Target *> {&t});
}

QJsonObject runWrites(const Settings &s, const QList<const Target *> &targets)
{
    QJsonObject r;
    const bool raw = !s.qtWriters;
    // The epoll writers pay nothing per idle socket and batch their sends: one process leaves the server more CPU.
    // Over several nodes, one process per node (a worker holds connections to one server).
    const int workers = std::max(int(targets.size()),
        s.workers > 0 ? s.workers
            : raw     ? 1
                      : (s.writeClients >= 50 ? 2 : 1));
    Fleet fleet(workers, s.writeClients);
    const auto serverCpu = [&targets] {
        double sum = 0;
        for (const Target *t : targets)
            sum += processCpuSeconds(t->pid);
        return sum;
    };
    const auto serverPreempted = [&targets] {
        qint64 sum = 0;
        for (const Target *t : targets)
            sum += preemptions(t->pid);
        return sum;
    };
    const QString prefix = u"/bench/w-"_s + randomTag();
    r.insert(u"writer_client"_s, raw ? u"epoll"_s : u"qt"_s);
    r.insert(u"load_processes"_s, fleet.size());
    openFleet(fleet, targets, QString(), QString(), prefix, r, raw, s.signIn);
    if (r.contains(u"errors"_s))
        return r;
    double ackedTotal = 0; // over every phase: what a cluster run divides Redis's calls by
    const auto phase = [&](int inflight, double rate, Histogram *hist, Histogram *lag, double *lagMaxUs) {
        const QList<QJsonObject> answers = fleet.call(
            [&](int) {
                return QJsonObject {{u"cmd"_s, u"writes"_s}, {u"inflight"_s, inflight}, {u"ms"_s, s.durationMs},
                    {u"rate"_s, rate / fleet.size()}, {u"prefix"_s, prefix}};
            },
            s.durationMs + 60000);
        double inWindow = 0, windowUs = 0, sent = 0, acked = 0, errors = 0, unmatched = 0, lost = 0;
        QString firstError;
        for (const QJsonObject &a : answers) {
            if (firstError.isEmpty())
                firstError = a.value(u"firstError"_s).toString();
            if (!a.value(u"ok"_s).toBool())
                fail(r, a.value(u"error"_s).toString());
            // Guards the default: a worker that fell back to its Qt clients would measure something else.
            if (a.value(u"ok"_s).toBool() && a.value(u"client"_s).toString() != r.value(u"writer_client"_s).toString())
                fail(r, u"a worker wrote with its %1 clients"_s.arg(a.value(u"client"_s).toString()));
            inWindow += a.value(u"inWindow"_s).toDouble();
            windowUs = std::max(windowUs, a.value(u"windowUs"_s).toDouble());
            sent += a.value(u"sent"_s).toDouble();
            acked += a.value(u"acked"_s).toDouble();
            errors += a.value(u"errors"_s).toDouble();
            unmatched += a.value(u"unmatched"_s).toDouble();
            lost += a.value(u"lost"_s).toDouble();
            if (hist)
                hist->merge(Histogram::fromJson(a.value(u"hist"_s).toArray()));
            if (lag)
                lag->merge(Histogram::fromJson(a.value(u"lag"_s).toArray()));
            if (lagMaxUs)
                *lagMaxUs = std::max(*lagMaxUs, a.value(u"lagMaxUs"_s).toDouble());
        }
        ackedTotal += acked;
        if (errors > 0 || unmatched > 0 || lost > 0)
            fail(r, u"first error: "_s + firstError);
        if (errors > 0)
            fail(r, u"%1 writes refused (%2 in flight)"_s.arg(errors).arg(inflight));
        if (unmatched > 0)
            fail(r, u"%1 replies matched no write in flight (%2 in flight)"_s.arg(unmatched).arg(inflight));
        if (lost > 0)
            fail(r, u"%1 writer connections lost (%2 in flight)"_s.arg(lost).arg(inflight));
        if (acked < sent)
            fail(r, u"%1 of %2 writes never acked (%3 in flight)"_s.arg(sent - acked).arg(sent).arg(inflight));
        const double perS = windowUs > 0 ? inWindow / (windowUs / 1e6) : 0;
        if (perS <= 0)
            fail(r, u"no acked writes (%1 in flight)"_s.arg(inflight));
        return perS;
    };
    const double one = phase(1, 0, nullptr, nullptr, nullptr);
    const double serverCpu0 = serverCpu(), loadCpu0 = fleet.cpuSeconds(), wall0 = double(nowUs());
    const double sixteen = phase(16, 0, nullptr, nullptr, nullptr);
    const double wall = (double(nowUs()) - wall0) / 1e6;
    // Cores busy during the 16-in-flight phase: shows which side of the run was the limit.
    r.insert(u"server_cores"_s, (serverCpu() - serverCpu0) / wall);
    r.insert(u"load_cores"_s, (fleet.cpuSeconds() - loadCpu0) / wall);
    const double half = s.writeRate > 0 ? s.writeRate : std::max(one, sixteen) / 2;
    Histogram hist, lag;
    double lagMaxUs = 0;
    const double serverCpuH = serverCpu(), loadCpuH = fleet.cpuSeconds(), wallH = double(nowUs());
    const qint64 serverPreemptedH = serverPreempted(), loadPreemptedH = fleet.preemptions();
    const double achieved = phase(1, half, &hist, &lag, &lagMaxUs);
    const double wallHalf = (double(nowUs()) - wallH) / 1e6;
    r.insert(u"half_server_cores"_s, (serverCpu() - serverCpuH) / wallHalf);
    r.insert(u"half_load_cores"_s, (fleet.cpuSeconds() - loadCpuH) / wallHalf);
    // With the server and the load each near a core, on 2 cores, a preemption is a likely source of the tail.
    if (targets.front()->pid > 0)
        r.insert(u"half_server_preempted"_s, double(serverPreempted() - serverPreemptedH));
    r.insert(u"half_load_preempted"_s, double(fleet.preemptions() - loadPreemptedH));
    // CPU per write holds up under CPU contention from other processes, where rates and latencies do not.
    if (sixteen > 0 && r.value(u"server_cores"_s).toDouble() > 0)
        r.insert(u"server_cpu_us_per_write"_s, r.value(u"server_cores"_s).toDouble() / sixteen * 1e6);
    r.insert(u"acked_per_s_1"_s, one);
    r.insert(u"acked_per_s_16"_s, sixteen);
    r.insert(u"acked_per_s_max"_s, std::max(one, sixteen));
    r.insert(u"half_rate"_s, half);
    r.insert(u"half_achieved"_s, achieved);
    // epoll writers: from each write's scheduled send time; Qt writers: from when sendTextMessage was called.
    r.insert(u"latency_from"_s, raw ? u"scheduled send time"_s : u"actual send time"_s);
    r.insert(u"p50_ms"_s, hist.percentileMs(0.50));
    r.insert(u"p99_ms"_s, hist.percentileMs(0.99));
    r.insert(u"p999_ms"_s, hist.percentileMs(0.999));
    if (raw) {
        // How late the load process itself sent: part of the latency above, and the load side's share of it.
        r.insert(u"send_lag_p99_ms"_s, lag.percentileMs(0.99));
        r.insert(u"send_lag_max_ms"_s, lagMaxUs / 1000);
    }
    r.insert(u"clients"_s, s.writeClients);
    r.insert(u"acked_total"_s, ackedTotal);
    return r;
}

} // namespace bench
