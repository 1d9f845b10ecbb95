// SPDX-License-Identifier: MIT
// The fanout scenario: listeners of one path in a fleet, one closed-loop writer in the orchestrator stamping each
// value with its send time; deliveries per second and the write-to-listener latency.
#include "scenarios.h"

#include "harness.h"

#include <algorithm>
#include <memory>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

QJsonObject runFanout(const Settings &s, const Target &t, int listeners)
{
    return runFanout(s, QList<const Target *> {&t}, listeners);
}

QJsonObject runFanout(const Settings &s, const QList<const Target *> &targets, int listeners, int workers)
{
    QJsonObject r;
    const bool raw = !s.qtListeners;
    // An epoll worker does not pay per fd per loop iteration: fewer processes leave more CPU to the server.
    if (workers <= 0)
        workers = s.workers > 0 ? s.workers : raw ? (listeners >= 5000 ? 2 : 1) : workersFor(s, listeners);
    workers = std::max(workers, int(targets.size())); // a worker holds connections to one server
    Fleet fleet(workers, listeners);
    const Target &t = *targets.front(); // the writer's
    const auto serverCpu = [&targets] {
        double sum = 0;
        for (const Target *n : targets)
            sum += processCpuSeconds(n->pid);
        return sum;
    };
    // Signed in, the writer is "writer" and writes under its own key, as presence rules allow.
    const QString path = u"/bench/fan-"_s + randomTag() + (s.signIn ? u"/writer"_s : QString());
    r.insert(u"listener_client"_s, raw ? u"epoll"_s : u"qt"_s);
    r.insert(u"load_processes"_s, fleet.size());
    openFleet(fleet, targets, path, QString(), QString(), r, raw);
    if (r.contains(u"errors"_s))
        return r;
    QString error;
    std::unique_ptr<Client> writer = openClient(t, &error);
    if (!writer) {
        fail(r, error);
        return r;
    }
    if (s.signIn && !callOk(*writer, "auth", signInBody("writer"), 10000)) {
        fail(r, u"the fan-out writer could not sign in: %1"_s.arg(writer->firstError));
        return r;
    }
    const double serverCpu0 = serverCpu(), loadCpu0 = fleet.cpuSeconds();
    const FanoutResult f = runStampedFanout(fleet, *writer, path, s, listeners, u"listeners"_s, r);
    const double wall = double(nowUs() - f.armUs) / 1e6;
    r.insert(u"server_cores"_s, (serverCpu() - serverCpu0) / wall);
    r.insert(u"load_cores"_s, (fleet.cpuSeconds() - loadCpu0) / wall);
    const double received = f.received, sent = double(f.sent);
    const Histogram &hist = f.hist;
    const double seconds = (f.lastUs - double(f.startUs)) / 1e6;
    const double perS = seconds > 0 ? received / seconds : 0;
    if (perS <= 0)
        fail(r, u"no deliveries"_s);
    r.insert(u"listeners"_s, listeners);
    r.insert(u"writes"_s, double(sent));
    r.insert(u"writes_per_s"_s, double(sent) / seconds);
    r.insert(u"deliveries"_s, received);
    r.insert(u"deliveries_per_s"_s, perS);
    if (received > 0 && r.value(u"server_cores"_s).toDouble() > 0)
        r.insert(u"server_cpu_us_per_delivery"_s, r.value(u"server_cores"_s).toDouble() * wall / received * 1e6);
    r.insert(u"p50_ms"_s, hist.percentileMs(0.50));
    r.insert(u"p95_ms"_s, hist.percentileMs(0.95));
    return r;
}

} // namespace bench
