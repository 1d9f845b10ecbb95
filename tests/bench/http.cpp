// SPDX-License-Identifier: MIT
// The http scenario (issue #15, docs/performance.md "REST and event streams"): REST PUTs over keep-alive
// connections, one in flight each as the Admin SDKs send them (print=silent); one WebSocket writer's values fanned
// out to event streams (Accept: text/event-stream) on its path; and idle streams held, for the server's memory per
// stream. main.cpp sets these beside the WebSocket figures of the same run.
#include "scenarios.h"

#include "harness.h"

#include <QUrlQuery>

#include <algorithm>
#include <memory>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

namespace
{

/** Opens n HTTP connections over the fleet (streams of target, or plain ones when it is empty). */
bool openHttp(Fleet &fleet, const Target &t, const QString &target, QJsonObject &r, double *ms = nullptr)
{
    const QList<QJsonObject> answers = fleet.call(
        [&](int i) {
            return QJsonObject {{u"cmd"_s, u"http-open"_s}, {u"url"_s, t.url.toString()}, {u"n"_s, fleet.share(i)},
                {u"stream"_s, target}};
        },
        120000);
    int opened = 0;
    double slowest = 0;
    for (const QJsonObject &a : answers) {
        if (!a.value(u"ok"_s).toBool())
            fail(r, a.value(u"error"_s).toString());
        if (a.value(u"errors"_s).toDouble() > 0)
            fail(r, a.value(u"firstError"_s).toString());
        opened += a.value(u"opened"_s).toInt();
        slowest = std::max(slowest, a.value(u"ms"_s).toDouble());
    }
    int wanted = 0;
    for (int i = 0; i < fleet.size(); ++i)
        wanted += fleet.share(i);
    if (opened < wanted)
        fail(r, u"%1 of %2 HTTP connections opened"_s.arg(opened).arg(wanted));
    if (ms)
        *ms = slowest;
    return opened == wanted;
}

} // namespace

QJsonObject runRestWrites(const Settings &s, const Target &t)
{
    QJsonObject r;
    Fleet fleet(1, s.writeClients); // one epoll process, as for the WebSocket writers
    if (!openHttp(fleet, t, QString(), r))
        return r;
    const QString prefix = u"/bench/rest-"_s + randomTag();
    const QString ns = QUrlQuery(t.url).queryItemValue(u"ns"_s);
    const double serverCpu0 = processCpuSeconds(t.pid), wall0 = double(nowUs());
    const QList<QJsonObject> answers = fleet.call(
        [&](int) {
            return QJsonObject {
                {u"cmd"_s, u"rest-writes"_s}, {u"ms"_s, s.durationMs}, {u"prefix"_s, prefix}, {u"ns"_s, ns}};
        },
        s.durationMs + 60000);
    const double wall = (double(nowUs()) - wall0) / 1e6;
    double inWindow = 0, windowUs = 0, sent = 0, acked = 0;
    for (const QJsonObject &a : answers) {
        if (!a.value(u"ok"_s).toBool())
            fail(r, a.value(u"error"_s).toString());
        if (a.value(u"errors"_s).toDouble() > 0 || a.value(u"lost"_s).toDouble() > 0)
            fail(r,
                u"%1 REST writes failed, %2 connections lost; first error: %3"_s.arg(a.value(u"errors"_s).toDouble())
                    .arg(a.value(u"lost"_s).toDouble())
                    .arg(a.value(u"firstError"_s).toString()));
        inWindow += a.value(u"inWindow"_s).toDouble();
        windowUs = std::max(windowUs, a.value(u"windowUs"_s).toDouble());
        sent += a.value(u"sent"_s).toDouble();
        acked += a.value(u"acked"_s).toDouble();
    }
    if (acked < sent)
        fail(r, u"%1 of %2 REST writes never answered"_s.arg(sent - acked).arg(sent));
    const double perS = windowUs > 0 ? inWindow / (windowUs / 1e6) : 0;
    if (perS <= 0)
        fail(r, u"no REST writes answered"_s);
    r.insert(u"rest_put_per_s"_s, perS);
    r.insert(u"server_cores"_s, (processCpuSeconds(t.pid) - serverCpu0) / wall);
    r.insert(u"clients"_s, s.writeClients);
    return r;
}

QJsonObject runSseFanout(const Settings &s, const Target &t, int streams)
{
    QJsonObject r;
    Fleet fleet(s.workers > 0 ? s.workers : 1, streams);
    const QString path = u"/bench/sse-"_s + randomTag();
    const QString ns = QUrlQuery(t.url).queryItemValue(u"ns"_s);
    double openMs = 0;
    if (!openHttp(fleet, t, path + u".json?ns="_s + ns, r, &openMs))
        return r;
    QString error;
    std::unique_ptr<Client> writer = openClient(t, &error);
    if (!writer) {
        fail(r, error);
        return r;
    }
    const double serverCpu0 = processCpuSeconds(t.pid);
    // A stream sees each set as `put` {"path":"/","data":<stamp>}.
    const FanoutResult f = runStampedFanout(fleet, *writer, path, s, streams, u"streams"_s, r);
    const double wall = double(nowUs() - f.armUs) / 1e6;
    r.insert(u"server_cores"_s, (processCpuSeconds(t.pid) - serverCpu0) / wall);
    const double received = f.received;
    const double seconds = (f.lastUs - double(f.startUs)) / 1e6;
    const double perS = seconds > 0 ? received / seconds : 0;
    if (perS <= 0)
        fail(r, u"no stream deliveries"_s);
    r.insert(u"streams"_s, streams);
    r.insert(u"open_ms"_s, openMs);
    r.insert(u"sse_deliveries_per_s"_s, perS);
    r.insert(u"sse_p95_ms"_s, f.hist.percentileMs(0.95));
    if (received > 0 && r.value(u"server_cores"_s).toDouble() > 0)
        r.insert(u"sse_server_cpu_us_per_delivery"_s, r.value(u"server_cores"_s).toDouble() * wall / received * 1e6);
    return r;
}

QJsonObject runSseIdle(const Settings &s, const Target &t, int streams)
{
    QJsonObject r;
    Fleet fleet(s.workers > 0 ? s.workers : (streams >= 5000 ? 2 : 1), streams);
    const qint64 rssBefore = rssKb(t.pid);
    double openMs = 0;
    const QString ns = QUrlQuery(t.url).queryItemValue(u"ns"_s);
    // Each on a location of its own would be a listen each too; one location is what a page full of streams is.
    if (!openHttp(fleet, t, u"/bench/idle-"_s + randomTag() + u".json?ns="_s + ns, r, &openMs))
        return r;
    waitFor([] { return false; }, s.tiny ? 100 : 1000); // let the server settle (its commits, its buffers)
    const qint64 rssAfter = rssKb(t.pid);
    if (rssBefore > 0 && rssAfter > 0) {
        r.insert(u"rss_before_kb"_s, double(rssBefore));
        r.insert(u"rss_after_kb"_s, double(rssAfter));
        r.insert(u"kb_per_stream"_s, double(rssAfter - rssBefore) / std::max(1, streams));
    }
    r.insert(u"idle_streams"_s, streams);
    r.insert(u"idle_open_ms"_s, openMs);
    // Still all there after the settling time: an idle stream is not timed out as an idle HTTP connection.
    const QList<QJsonObject> answers = fleet.call(
        [](int) {
            return QJsonObject {{u"cmd"_s, u"report"_s}, {u"expect"_s, 0}, {u"timeoutMs"_s, 0}};
        },
        30000);
    int closed = 0;
    for (const QJsonObject &a : answers)
        closed += a.value(u"closed"_s).toInt();
    if (closed)
        fail(r, u"%1 idle streams were closed"_s.arg(closed));
    return r;
}

} // namespace bench
