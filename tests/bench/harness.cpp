// SPDX-License-Identifier: MIT
#include "harness.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QRandomGenerator>

#include <algorithm>
#include <cmath>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

bool WorkerProcess::start()
{
    m_proc.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    QObject::connect(&m_proc, &QProcess::readyReadStandardOutput, [this] {
        while (m_proc.canReadLine())
            m_answers.append(QJsonDocument::fromJson(m_proc.readLine()).object());
    });
    m_proc.start(QCoreApplication::applicationFilePath(), {u"--worker"_s});
    return m_proc.waitForStarted(10000);
}

QJsonObject WorkerProcess::wait(int timeoutMs)
{
    if (!waitFor([this] { return !m_answers.isEmpty() || m_proc.state() == QProcess::NotRunning; }, timeoutMs))
        return {{u"ok"_s, false}, {u"error"_s, u"worker timed out"_s}};
    if (m_answers.isEmpty())
        return {{u"ok"_s, false}, {u"error"_s, u"worker exited"_s}};
    return m_answers.takeFirst();
}

void WorkerProcess::stop()
{
    if (m_proc.state() == QProcess::NotRunning)
        return;
    send({{u"cmd"_s, u"quit"_s}});
    if (!m_proc.waitForFinished(10000))
        m_proc.kill();
    m_proc.waitForFinished(2000);
}

void WorkerProcess::kill()
{
    m_proc.kill();
    m_proc.waitForFinished(5000);
}

Fleet::Fleet(int workers, int connections)
    : m_total(connections)
{
    workers = std::max(1, std::min(workers, std::max(1, connections)));
    for (int i = 0; i < workers; ++i) {
        m_workers.push_back(std::make_unique<WorkerProcess>());
        m_workers.back()->start();
    }
}

Fleet::~Fleet()
{
    for (auto &w : m_workers)
        w->stop();
}

int Fleet::first(int i) const
{
    int f = 0;
    for (int j = 0; j < i; ++j)
        f += share(j);
    return f;
}

double Fleet::cpuSeconds() const
{
    double sum = 0;
    for (const auto &w : m_workers)
        sum += processCpuSeconds(w->pid());
    return sum;
}

qint64 Fleet::preemptions() const
{
    qint64 sum = 0;
    for (const auto &w : m_workers)
        sum += bench::preemptions(w->pid());
    return sum;
}

QList<QJsonObject> Fleet::call(const std::function<QJsonObject(int)> &make, int timeoutMs)
{
    for (int i = 0; i < size(); ++i)
        at(i).send(make(i));
    QList<QJsonObject> answers;
    for (int i = 0; i < size(); ++i)
        answers.append(at(i).wait(timeoutMs));
    return answers;
}

int workersFor(const Settings &s, int connections)
{
    if (s.workers > 0)
        return s.workers;
    return std::clamp((connections + 2499) / 2500, 1, 4);
}

QList<QJsonObject> openFleet(Fleet &fleet, const Target &t, const QString &listen, const QString &ops,
    const QString &prefix, QJsonObject &r, bool raw, bool signIn)
{
    return openFleet(fleet, QList<const Target *> {&t}, listen, ops, prefix, r, raw, signIn);
}

QList<QJsonObject> openFleet(Fleet &fleet, const QList<const Target *> &targets, const QString &listen,
    const QString &ops, const QString &prefix, QJsonObject &r, bool raw, bool signIn)
{
    const QList<QJsonObject> answers = fleet.call(
        [&](int i) {
            const Target &t = *targets.at(i % targets.size());
            return QJsonObject {{u"cmd"_s, u"open"_s}, {u"url"_s, t.url.toString()}, {u"n"_s, fleet.share(i)},
                {u"first"_s, fleet.first(i)}, {u"echo"_s, t.echo()}, {u"listen"_s, listen}, {u"ops"_s, ops},
                {u"prefix"_s, prefix}, {u"raw"_s, raw}, {u"signIn"_s, signIn}};
        },
        120000);
    int failed = 0, errors = 0, unanswered = 0;
    for (const QJsonObject &a : answers) {
        if (!a.value(u"ok"_s).toBool())
            fail(r, a.value(u"error"_s).toString());
        failed += a.value(u"failed"_s).toInt();
        errors += a.value(u"errors"_s).toInt();
        unanswered += a.value(u"unanswered"_s).toInt();
        if (!a.value(u"firstError"_s).toString().isEmpty())
            fail(r, u"error reply: "_s + a.value(u"firstError"_s).toString());
    }
    if (failed)
        fail(r, u"%1 connections failed to open"_s.arg(failed));
    if (errors)
        fail(r, u"%1 setup requests refused"_s.arg(errors));
    if (unanswered)
        fail(r, u"%1 setup requests unanswered"_s.arg(unanswered));
    return answers;
}

std::unique_ptr<Client> openClient(const Target &t, QString *error)
{
    auto c = std::make_unique<Client>(-1, t.echo());
    c->open(t.url);
    if (!waitFor([&] { return c->ready || c->closed; }, 10000) || !c->ready) {
        *error = u"could not open a client connection to %1"_s.arg(t.url.toString());
        return nullptr;
    }
    return c;
}

bool callOk(Client &c, const char *action, const QByteArray &body, int timeoutMs)
{
    bool done = false, ok = false;
    const auto previous = c.onReply;
    c.onReply = [&](Client *, qint64, bool replyOk) {
        done = true;
        ok = replyOk;
    };
    c.request(action, body);
    waitFor([&] { return done; }, timeoutMs);
    c.onReply = previous;
    return ok;
}

void Observer::flatten(const QString &path, const QJsonValue &v, qint64 t)
{
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            flatten(path + u'/' + it.key(), it.value(), t);
        return;
    }
    if (v.isNull() || !path.startsWith(prefix + u'/'))
        return;
    const QString key = path.mid(prefix.size() + 1);
    if (++seen[key] == 1)
        firstSeen.insert(key, t);
}

void Observer::onPush(const QString &message)
{
    if (!armed)
        return;
    const qint64 t = nowUs();
    const QJsonObject d = QJsonDocument::fromJson(message.toUtf8()).object().value(u"d"_s).toObject();
    const QJsonObject b = d.value(u"b"_s).toObject();
    QString p = b.value(u"p"_s).toString();
    if (!p.startsWith(u'/'))
        p.prepend(u'/'); // firebase-server sends paths without the leading slash
    if (p.endsWith(u'/'))
        p.chop(1);
    if (d.value(u"a"_s) == u"m"_s) {
        const QJsonObject m = b.value(u"d"_s).toObject();
        for (auto it = m.begin(); it != m.end(); ++it)
            flatten(p + u'/' + it.key(), it.value(), t);
    } else {
        flatten(p, b.value(u"d"_s), t);
    }
}

int Observer::doubled() const
{
    int n = 0;
    for (const int count : seen)
        n += count > 1 ? 1 : 0;
    return n;
}

std::unique_ptr<Client> openObserver(const Target &t, const QString &prefix, Observer &obs, QJsonObject &r)
{
    QString error;
    std::unique_ptr<Client> observer = openClient(t, &error);
    if (!observer) {
        fail(r, error);
        return nullptr;
    }
    obs.prefix = prefix;
    observer->onPush = [&obs](Client *, const QString &m) { obs.onPush(m); };
    if (!callOk(*observer, "q", "{\"p\":\"" + prefix.toUtf8() + "\",\"h\":\"\"}"))
        fail(r, u"observer listen refused"_s);
    obs.armed = true;
    return observer;
}

int storedLeaves(Client &c, const QString &prefix)
{
    c.onPush = nullptr;
    QString reply;
    c.onReplyText = [&](Client *, const QString &m) { reply = m; };
    c.request("g", "{\"p\":\"" + prefix.toUtf8() + "\",\"q\":{}}");
    const bool answered = waitFor([&] { return !reply.isEmpty(); }, 30000);
    c.onReplyText = nullptr;
    if (!answered)
        return -1;
    const QJsonObject d = QJsonDocument::fromJson(reply.toUtf8()).object().value(u"d"_s).toObject();
    Observer count;
    count.prefix = prefix;
    count.armed = true;
    count.flatten(prefix, d.value(u"b"_s).toObject().value(u"d"_s), 0);
    return int(count.seen.size());
}

void fail(QJsonObject &r, const QString &what)
{
    QJsonArray e = r.value(u"errors"_s).toArray();
    e.append(what);
    r.insert(u"errors"_s, e);
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const auto rank = size_t(std::max(1.0, std::ceil(p * double(v.size()))));
    return v[std::min(v.size(), rank) - 1];
}

QString randomTag()
{
    return QString::number(QRandomGenerator::global()->generate() % 1000000, 36);
}

FanoutResult runStampedFanout(Fleet &fleet, Client &writer, const QString &path, const Settings &s, int listeners,
    const QString &what, QJsonObject &r)
{
    FanoutResult f;
    f.armUs = nowUs();
    fleet.call([&](int) { return QJsonObject {{u"cmd"_s, u"arm"_s}, {u"fromUs"_s, double(f.armUs)}}; }, 10000);
    // One closed-loop writer with a few writes in flight: the server's fan-out, not the writer, sets the pace.
    constexpr int inflight = 4;
    const QByteArray body = "{\"p\":\"" + path.toUtf8() + "\",\"d\":";
    qint64 acked = 0, lastStamp = 0;
    const auto stamp = [&] { return lastStamp = std::max(nowUs(), lastStamp + 1); };
    f.startUs = nowUs();
    const qint64 end = f.startUs + qint64(s.durationMs) * 1000;
    writer.onReply = [&](Client *c, qint64, bool) {
        ++acked;
        if (nowUs() < end) {
            c->request("p", body + QByteArray::number(stamp()) + "}");
            ++f.sent;
        }
    };
    for (int i = 0; i < inflight; ++i) {
        writer.request("p", body + QByteArray::number(stamp()) + "}");
        ++f.sent;
    }
    waitFor([&] { return nowUs() >= end && acked >= f.sent; }, s.durationMs + (s.tiny ? 3000 : 15000));
    writer.onReply = nullptr;
    if (writer.errors)
        fail(r, u"%1 writes refused: %2"_s.arg(writer.errors).arg(writer.firstError));
    if (acked < f.sent)
        fail(r, u"%1 writes never acked"_s.arg(f.sent - acked));
    const QList<QJsonObject> answers = fleet.call(
        [&](int i) {
            return QJsonObject {{u"cmd"_s, u"report"_s}, {u"expect"_s, double(f.sent) * fleet.share(i)},
                {u"timeoutMs"_s, s.tiny ? 5000 : 30000}};
        },
        90000);
    int closed = 0;
    for (const QJsonObject &a : answers) {
        f.received += a.value(u"received"_s).toDouble();
        f.lastUs = std::max(f.lastUs, a.value(u"lastUs"_s).toDouble());
        closed += a.value(u"closed"_s).toInt();
        f.hist.merge(Histogram::fromJson(a.value(u"hist"_s).toArray()));
    }
    const double expected = double(f.sent) * listeners;
    if (closed)
        fail(r, u"%1 %2 were disconnected"_s.arg(closed).arg(what));
    if (f.received < expected)
        fail(r, u"%1 of %2 deliveries to %3 lost"_s.arg(expected - f.received).arg(expected).arg(what));
    if (f.received > expected)
        fail(r, u"%1 deliveries to %2 more than written (doubled)"_s.arg(f.received - expected).arg(what));
    return f;
}

} // namespace bench
