// SPDX-License-Identifier: MIT
// The scenarios of connections and sessions: connect (with idle memory), disconnect and mass-disconnect (the
// onDisconnect ops of clean closes), and silent (sessions whose process freezes, fired when their deadline is due).
#include "scenarios.h"

#include "harness.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <csignal>
#include <memory>
#include <vector>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

QJsonObject runConnect(const Settings &s, const Target &t)
{
    QJsonObject r;
    Fleet fleet(workersFor(s, s.connections), s.connections);
    waitFor([] { return false; }, 300); // let the fresh server settle before its RSS is taken
    const qint64 rssBefore = rssKb(t.pid);
    const QString path = u"/bench/conn-"_s + randomTag();
    const QList<QJsonObject> answers = openFleet(fleet, t, path, QString(), QString(), r);
    double t0 = 1e300, tDone = 0;
    int opened = 0;
    for (const QJsonObject &a : answers) {
        t0 = std::min(t0, a.value(u"t0"_s).toDouble());
        tDone = std::max(tDone, a.value(u"tListen"_s).toDouble());
        opened += a.value(u"opened"_s).toInt();
    }
    r.insert(u"connections"_s, s.connections);
    r.insert(u"opened"_s, opened);
    r.insert(u"lost"_s, s.connections - opened);
    r.insert(u"connect_s"_s, (tDone - t0) / 1e6);
    waitFor([] { return false; }, 1000); // idle: no traffic but the heartbeat
    const qint64 rssAfter = rssKb(t.pid);
    if (rssBefore > 0 && rssAfter > 0) {
        r.insert(u"rss_before_kb"_s, double(rssBefore));
        r.insert(u"rss_after_kb"_s, double(rssAfter));
        r.insert(u"kb_per_conn"_s, double(rssAfter - rssBefore) / std::max(1, opened));
    }
    return r;
}

QJsonObject runDisconnect(const Settings &s, const Target &t, bool mass)
{
    QJsonObject r;
    const int n = mass ? s.mass : s.sessions;
    const QString prefix = (mass ? u"/bench/mass-"_s : u"/bench/disc-"_s) + randomTag();
    Observer obs;
    const std::unique_ptr<Client> observer = openObserver(t, prefix, obs, r);
    if (!observer)
        return r;
    Fleet fleet(mass ? workersFor(s, n) : 1, n);
    openFleet(fleet, t, QString(), mass ? u"mass"_s : u"disc"_s, prefix, r);
    if (r.contains(u"errors"_s))
        return r;
    const int expected = mass ? 2 * n : n;
    // Clean closes: all at once for mass-disconnect, one every 2 ms otherwise so each latency stands alone.
    const QList<QJsonObject> answers = fleet.call(
        [&](int) {
            return QJsonObject {{u"cmd"_s, u"close"_s}, {u"paceUs"_s, mass ? 0 : (s.tiny ? 5000 : 2000)}};
        },
        120000);
    waitFor([&] { return obs.firstSeen.size() >= expected; }, 10000);
    waitFor([] { return false; }, 200); // doubled firings would show up now
    QHash<int, double> closedAt;
    double firstClose = 1e300;
    for (const QJsonObject &a : answers) {
        const int first = a.value(u"first"_s).toInt();
        const QJsonArray times = a.value(u"closeUs"_s).toArray();
        for (int i = 0; i < times.size(); ++i) {
            closedAt.insert(first + i, times.at(i).toDouble());
            firstClose = std::min(firstClose, times.at(i).toDouble());
        }
    }
    std::vector<double> latencies;
    double lastSeen = 0;
    for (auto it = obs.firstSeen.constBegin(); it != obs.firstSeen.constEnd(); ++it) {
        const int i = it.key().section(u'/', 0, 0).toInt();
        lastSeen = std::max(lastSeen, double(it.value()));
        if (closedAt.contains(i))
            latencies.push_back((double(it.value()) - closedAt.value(i)) / 1000.0);
    }
    const int lost = expected - int(obs.firstSeen.size());
    const int doubled = obs.doubled();
    if (lost > 0)
        fail(r, u"%1 of %2 onDisconnect ops never observed"_s.arg(lost).arg(expected));
    if (doubled > 0)
        fail(r, u"%1 onDisconnect ops observed more than once"_s.arg(doubled));
    if (mass && t.kind == Kind::Lark) {
        // The stored data must agree with what was observed.
        const int stored = storedLeaves(*observer, prefix);
        r.insert(u"stored"_s, stored);
        if (stored != expected)
            fail(r, u"%1 ops stored, expected %2"_s.arg(stored).arg(expected));
    }
    r.insert(u"sessions"_s, n);
    r.insert(u"ops"_s, expected);
    r.insert(u"observed"_s, int(obs.firstSeen.size()));
    r.insert(u"lost"_s, lost);
    r.insert(u"doubled"_s, doubled);
    r.insert(u"p50_ms"_s, percentile(latencies, 0.50));
    r.insert(u"p99_ms"_s, percentile(latencies, 0.99));
    r.insert(u"max_ms"_s, percentile(latencies, 1.0));
    if (mass)
        r.insert(u"all_ms"_s, lastSeen > 0 ? (lastSeen - firstClose) / 1000.0 : 0);
    return r;
}

QJsonObject runSilent(const Settings &s, const Target &t, int deadMs, int graceMs)
{
    QJsonObject r;
    const QString prefix = u"/bench/silent-"_s + randomTag();
    Observer obs;
    const std::unique_ptr<Client> observer = openObserver(t, prefix, obs, r);
    if (!observer)
        return r;
    Fleet fleet(1, s.silent);
    openFleet(fleet, t, QString(), u"silent"_s, prefix, r);
    if (r.contains(u"errors"_s))
        return r;
    // Every session shows life (a request) and then its process freezes: the kernel still ACKs, but no frame
    // and no pong comes back, which is what a server sees from a blackholed peer.
    fleet.at(0).send({{u"cmd"_s, u"ping"_s}});
    const QJsonObject a = fleet.at(0).wait(30000);
    ::kill(pid_t(fleet.at(0).pid()), SIGSTOP);
    const double stopUs = double(nowUs());
    const double reqUs = a.value(u"reqUs"_s).toDouble();
    if (!a.value(u"answered"_s).toBool())
        fail(r, u"not every session answered before the blackhole"_s);
    waitFor([&] { return obs.firstSeen.size() >= s.silent; }, deadMs + graceMs + 15000);
    waitFor([] { return false; }, 200);
    fleet.at(0).kill();
    // The server saw the last life between reqUs and stopUs: the deadline lies in that window + dead + grace.
    const double earliest = reqUs + (deadMs + graceMs) * 1000.0;
    const double latest = stopUs + (deadMs + graceMs) * 1000.0;
    std::vector<double> afterDeadline;
    int early = 0, late = 0;
    for (const qint64 seen : std::as_const(obs.firstSeen)) {
        if (double(seen) < earliest)
            ++early;
        if (double(seen) > latest + 1e6)
            ++late;
        afterDeadline.push_back((double(seen) - latest) / 1000.0);
    }
    const int lost = s.silent - int(obs.firstSeen.size());
    if (lost > 0)
        fail(r, u"%1 of %2 silent sessions never fired"_s.arg(lost).arg(s.silent));
    if (obs.doubled() > 0)
        fail(r, u"%1 silent sessions fired more than once"_s.arg(obs.doubled()));
    if (early > 0)
        fail(r, u"%1 sessions fired before their deadline"_s.arg(early));
    r.insert(u"sessions"_s, s.silent);
    r.insert(u"dead_after_ms"_s, deadMs);
    r.insert(u"grace_ms"_s, graceMs);
    r.insert(u"deadline_uncertainty_ms"_s, (stopUs - reqUs) / 1000.0);
    r.insert(u"lost"_s, lost);
    r.insert(u"early"_s, early);
    r.insert(u"late_over_1s"_s, late);
    r.insert(u"after_deadline_min_ms"_s, percentile(afterDeadline, 0));
    r.insert(u"after_deadline_p50_ms"_s, percentile(afterDeadline, 0.5));
    r.insert(u"after_deadline_max_ms"_s, percentile(afterDeadline, 1.0));
    r.insert(u"spread_ms"_s, percentile(afterDeadline, 1.0) - percentile(afterDeadline, 0));
    return r;
}

} // namespace bench
