// SPDX-License-Identifier: MIT
// lark-bench: load generator for lark-server (issue #6). Starts the server (or uses --url), a raw Qt WebSocket
// baseline and, where it can run the scenario, the peer firebase-server, then drives each over 127.0.0.1 from
// worker processes (lark-bench re-executed with --worker) and prints a table (and JSON with --json).
// Exits non-zero when any run has errors, lost or doubled ops, or zero throughput.
#include "benchclient.h"
#include "worker.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSysInfo>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

using namespace Qt::Literals::StringLiterals;
using bench::Client;
using bench::Histogram;
using bench::nowUs;
using bench::waitFor;

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

/** A worker process seen from the orchestrator: one JSON command out, one JSON answer back. */
class WorkerProcess
{
public:
    bool start()
    {
        m_proc.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        QObject::connect(&m_proc, &QProcess::readyReadStandardOutput, [this] {
            while (m_proc.canReadLine())
                m_answers.append(QJsonDocument::fromJson(m_proc.readLine()).object());
        });
        m_proc.start(QCoreApplication::applicationFilePath(), {u"--worker"_s});
        return m_proc.waitForStarted(10000);
    }
    void send(const QJsonObject &cmd) { m_proc.write(QJsonDocument(cmd).toJson(QJsonDocument::Compact) + '\n'); }
    QJsonObject wait(int timeoutMs)
    {
        if (!waitFor([this] { return !m_answers.isEmpty() || m_proc.state() == QProcess::NotRunning; }, timeoutMs))
            return {{u"ok"_s, false}, {u"error"_s, u"worker timed out"_s}};
        if (m_answers.isEmpty())
            return {{u"ok"_s, false}, {u"error"_s, u"worker exited"_s}};
        return m_answers.takeFirst();
    }
    [[nodiscard]] qint64 pid() const { return m_proc.processId(); }
    void stop()
    {
        if (m_proc.state() == QProcess::NotRunning)
            return;
        send({{u"cmd"_s, u"quit"_s}});
        if (!m_proc.waitForFinished(10000))
            m_proc.kill();
        m_proc.waitForFinished(2000);
    }
    void kill()
    {
        m_proc.kill();
        m_proc.waitForFinished(5000);
    }

private:
    QProcess m_proc;
    QList<QJsonObject> m_answers;
};

double processCpuSeconds(qint64 pid);
qint64 preemptions(qint64 pid);

/** Several workers sharing N connections. */
class Fleet
{
public:
    Fleet(int workers, int connections)
        : m_total(connections)
    {
        workers = std::max(1, std::min(workers, std::max(1, connections)));
        for (int i = 0; i < workers; ++i) {
            m_workers.push_back(std::make_unique<WorkerProcess>());
            m_workers.back()->start();
        }
    }
    ~Fleet()
    {
        for (auto &w : m_workers)
            w->stop();
    }
    [[nodiscard]] int size() const { return int(m_workers.size()); }
    [[nodiscard]] int share(int i) const { return m_total / size() + (i < m_total % size() ? 1 : 0); }
    [[nodiscard]] int first(int i) const
    {
        int f = 0;
        for (int j = 0; j < i; ++j)
            f += share(j);
        return f;
    }
    WorkerProcess &at(int i) { return *m_workers[size_t(i)]; }
    [[nodiscard]] double cpuSeconds() const
    {
        double sum = 0;
        for (const auto &w : m_workers)
            sum += processCpuSeconds(w->pid());
        return sum;
    }
    [[nodiscard]] qint64 preemptions() const
    {
        qint64 sum = 0;
        for (const auto &w : m_workers)
            sum += ::preemptions(w->pid());
        return sum;
    }
    /** Sends make(i) to every worker at once and collects the answers. */
    QList<QJsonObject> call(const std::function<QJsonObject(int)> &make, int timeoutMs)
    {
        for (int i = 0; i < size(); ++i)
            at(i).send(make(i));
        QList<QJsonObject> answers;
        for (int i = 0; i < size(); ++i)
            answers.append(at(i).wait(timeoutMs));
        return answers;
    }

private:
    int m_total;
    std::vector<std::unique_ptr<WorkerProcess>> m_workers;
};

enum class Kind { Lark, Baseline, Peer };

QString kindName(Kind k)
{
    switch (k) {
    case Kind::Lark:
        return u"lark"_s;
    case Kind::Baseline:
        return u"baseline"_s;
    case Kind::Peer:
        return u"peer"_s;
    }
    return {};
}

struct Settings {
    QString serverPath;
    QString baselinePath;
    QString peerDir;
    QUrl externalUrl; // --url: the Lark server to use instead of starting one
    qint64 externalPid = 0;
    bool baseline = true;
    bool peer = true;
    bool tiny = false;
    bool qtListeners = false; // fan-out listeners on QWebSocket instead of the epoll client
    bool qtWriters = false; // writes scenario: writers on QWebSocket instead of the epoll client
    double writeRate = 0; // writes scenario: the open-loop phase's rate; 0: half the best closed-loop rate
    int workers = 0; // 0: by connection count
    int durationMs = 3000;
    int writeClients = 100;
    QList<int> listeners {1000, 10000};
    int connections = 10000;
    int sessions = 1000; // disconnect
    int mass = 5000;
    int silent = 1000;
    int silentPingMs = 500, silentDeadMs = 2000, silentGraceMs = 2000;
};

/** A server under test, as a child process (or the external server of --url). */
struct Target {
    Kind kind = Kind::Lark;
    std::unique_ptr<QProcess> proc;
    QUrl url; // with /.ws?v=5&ns=bench
    qint64 pid = 0;
    QString error;
    [[nodiscard]] bool echo() const { return kind == Kind::Baseline; }
};

std::unique_ptr<Target> startTarget(const Settings &s, Kind kind, const QStringList &larkArgs = {})
{
    auto t = std::make_unique<Target>();
    t->kind = kind;
    if (kind == Kind::Lark && s.externalUrl.isValid()) {
        t->url = s.externalUrl;
        t->pid = s.externalPid;
        return t;
    }
    t->proc = std::make_unique<QProcess>();
    QProcess &p = *t->proc;
    p.setProcessChannelMode(QProcess::SeparateChannels);
    p.setStandardErrorFile(QProcess::nullDevice());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    // Per-session info lines would make the server's stderr part of every figure.
    env.insert(u"QT_LOGGING_RULES"_s, u"lark.*.info=false"_s);
    env.remove(u"HTTP_PROXY"_s);
    env.remove(u"http_proxy"_s);
    p.setProcessEnvironment(env);
    if (kind == Kind::Lark)
        p.start(s.serverPath, QStringList {u"--port"_s, u"0"_s, u"--ns"_s, u"bench"_s} + larkArgs);
    else if (kind == Kind::Baseline)
        p.start(s.baselinePath, {u"--port"_s, u"0"_s});
    else
        p.start(u"node"_s, {s.peerDir + u"/server.js"_s, u"0"_s});
    QByteArray out;
    static const QRegularExpression re(u"listening on (ws://[0-9.:]+)"_s);
    QRegularExpressionMatch m;
    waitFor(
        [&] {
            out += p.readAllStandardOutput();
            m = re.match(QString::fromUtf8(out));
            return m.hasMatch() || p.state() == QProcess::NotRunning;
        },
        30000);
    if (!m.hasMatch()) {
        t->error = u"%1 did not start: %2"_s.arg(kindName(kind), QString::fromUtf8(out.left(300)));
        p.kill();
        return t;
    }
    t->url = QUrl(m.captured(1) + u"/.ws?v=5&ns=bench"_s);
    t->pid = p.processId();
    return t;
}

void stopTarget(Target &t)
{
    if (!t.proc || t.proc->state() == QProcess::NotRunning)
        return;
    t.proc->terminate();
    if (!t.proc->waitForFinished(10000))
        t.proc->kill();
    t.proc->waitForFinished(2000);
}

/** A number field of /proc/<pid>/status (its first word after the colon), 0 when unknown. */
qint64 procStatusField(qint64 pid, const QByteArray &field)
{
    if (pid <= 0)
        return 0;
    QFile f(u"/proc/%1/status"_s.arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    const QByteArray prefix = field + ':';
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith(prefix))
            return line.mid(prefix.size()).trimmed().split(' ').value(0).toLongLong();
    }
    return 0;
}

/** Server RSS in KiB, 0 when unknown. */
qint64 rssKb(qint64 pid)
{
    return procStatusField(pid, "VmRSS");
}

/** CPU seconds (user + system) a process has used so far; 0 when unknown. */
double processCpuSeconds(qint64 pid)
{
    if (pid <= 0)
        return 0;
    QFile f(u"/proc/%1/stat"_s.arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    const QByteArray stat = f.readAll();
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 13)
        return 0;
    return double(fields.at(11).toLongLong() + fields.at(12).toLongLong()) / double(sysconf(_SC_CLK_TCK));
}

/**
 * How often the process's main thread was preempted so far (nonvoluntary_ctxt_switches): each time, it was
 * runnable and another task got its CPU. 0 when unknown.
 */
qint64 preemptions(qint64 pid)
{
    return procStatusField(pid, "nonvoluntary_ctxt_switches");
}

QString loadAverage()
{
    QFile f(u"/proc/loadavg"_s);
    return f.open(QIODevice::ReadOnly) ? QString::fromLatin1(f.readAll().trimmed()) : QString();
}

QString cpuModel()
{
    QFile f(u"/proc/cpuinfo"_s);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith("model name"))
            return QString::fromLatin1(line.mid(line.indexOf(':') + 1).trimmed());
    }
    return {};
}

/** A single client in the orchestrator (fan-out writer, observers). */
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

bool callOk(Client &c, const char *action, const QByteArray &body, int timeoutMs = 10000)
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

/**
 * Observes pushes under a prefix: flattens each push ("d" or "m") into leaves and records, per leaf path
 * relative to the prefix, when it was first seen and how many times.
 */
struct Observer {
    QString prefix;
    QHash<QString, qint64> firstSeen;
    QHash<QString, int> seen;
    qint64 armUs = 0;
    bool armed = false;

    void flatten(const QString &path, const QJsonValue &v, qint64 t)
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
    void onPush(const QString &message)
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
    [[nodiscard]] int doubled() const
    {
        int n = 0;
        for (const int count : seen)
            n += count > 1 ? 1 : 0;
        return n;
    }
};

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

int workersFor(const Settings &s, int connections)
{
    if (s.workers > 0)
        return s.workers;
    return std::clamp((connections + 2499) / 2500, 1, 4);
}

/** Appends an error line to r["errors"]. */
void fail(QJsonObject &r, const QString &what)
{
    QJsonArray e = r.value(u"errors"_s).toArray();
    e.append(what);
    r.insert(u"errors"_s, e);
}

/** A client listening on prefix whose pushes feed obs; null, with the error in r, if it cannot connect. */
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

/** Opens n connections over a fleet; adds errors for failures. Returns the answers. */
QList<QJsonObject> openFleet(Fleet &fleet, const Target &t, const QString &listen, const QString &ops,
    const QString &prefix, QJsonObject &r, bool raw = false)
{
    const QList<QJsonObject> answers = fleet.call(
        [&](int i) {
            return QJsonObject {{u"cmd"_s, u"open"_s}, {u"url"_s, t.url.toString()}, {u"n"_s, fleet.share(i)},
                {u"first"_s, fleet.first(i)}, {u"echo"_s, t.echo()}, {u"listen"_s, listen}, {u"ops"_s, ops},
                {u"prefix"_s, prefix}, {u"raw"_s, raw}};
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

// ---- scenarios: each runs against one target and returns its figures plus "errors" ----

QJsonObject runWrites(const Settings &s, const Target &t)
{
    QJsonObject r;
    const bool raw = !s.qtWriters;
    // The epoll writers pay nothing per idle socket and batch their sends: one process leaves the server more CPU.
    const int workers = s.workers > 0 ? s.workers : raw ? 1 : (s.writeClients >= 50 ? 2 : 1);
    Fleet fleet(workers, s.writeClients);
    const QString prefix = u"/bench/w-"_s + randomTag();
    r.insert(u"writer_client"_s, raw ? u"epoll"_s : u"qt"_s);
    r.insert(u"load_processes"_s, fleet.size());
    openFleet(fleet, t, QString(), QString(), prefix, r, raw);
    if (r.contains(u"errors"_s))
        return r;
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
    const double serverCpu0 = processCpuSeconds(t.pid), loadCpu0 = fleet.cpuSeconds(), wall0 = double(nowUs());
    const double sixteen = phase(16, 0, nullptr, nullptr, nullptr);
    const double wall = (double(nowUs()) - wall0) / 1e6;
    // Cores busy during the 16-in-flight phase: shows which side of the run was the limit.
    r.insert(u"server_cores"_s, (processCpuSeconds(t.pid) - serverCpu0) / wall);
    r.insert(u"load_cores"_s, (fleet.cpuSeconds() - loadCpu0) / wall);
    const double half = s.writeRate > 0 ? s.writeRate : std::max(one, sixteen) / 2;
    Histogram hist, lag;
    double lagMaxUs = 0;
    const double serverCpuH = processCpuSeconds(t.pid), loadCpuH = fleet.cpuSeconds(), wallH = double(nowUs());
    const qint64 serverPreemptedH = preemptions(t.pid), loadPreemptedH = fleet.preemptions();
    const double achieved = phase(1, half, &hist, &lag, &lagMaxUs);
    const double wallHalf = (double(nowUs()) - wallH) / 1e6;
    r.insert(u"half_server_cores"_s, (processCpuSeconds(t.pid) - serverCpuH) / wallHalf);
    r.insert(u"half_load_cores"_s, (fleet.cpuSeconds() - loadCpuH) / wallHalf);
    // With the server and the load each near a core, on 2 cores, a preemption is a likely source of the tail.
    if (t.pid > 0)
        r.insert(u"half_server_preempted"_s, double(preemptions(t.pid) - serverPreemptedH));
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
    return r;
}

QJsonObject runFanout(const Settings &s, const Target &t, int listeners)
{
    QJsonObject r;
    const bool raw = !s.qtListeners;
    // An epoll worker does not pay per fd per loop iteration: fewer processes leave more CPU to the server.
    const int workers = s.workers > 0 ? s.workers : raw ? (listeners >= 5000 ? 2 : 1) : workersFor(s, listeners);
    Fleet fleet(workers, listeners);
    const QString path = u"/bench/fan-"_s + randomTag();
    r.insert(u"listener_client"_s, raw ? u"epoll"_s : u"qt"_s);
    r.insert(u"load_processes"_s, fleet.size());
    openFleet(fleet, t, path, QString(), QString(), r, raw);
    if (r.contains(u"errors"_s))
        return r;
    QString error;
    std::unique_ptr<Client> writer = openClient(t, &error);
    if (!writer) {
        fail(r, error);
        return r;
    }
    const double serverCpu0 = processCpuSeconds(t.pid), loadCpu0 = fleet.cpuSeconds();
    const qint64 armUs = nowUs();
    fleet.call([&](int) { return QJsonObject {{u"cmd"_s, u"arm"_s}, {u"fromUs"_s, double(armUs)}}; }, 10000);
    // One closed-loop writer with a few writes in flight: the server's fan-out, not the writer, sets the pace.
    constexpr int inflight = 4;
    const QByteArray body = "{\"p\":\"" + path.toUtf8() + "\",\"d\":";
    qint64 sent = 0, acked = 0;
    const qint64 start = nowUs();
    const qint64 end = start + qint64(s.durationMs) * 1000;
    writer->onReply = [&](Client *c, qint64, bool) {
        ++acked;
        if (nowUs() < end) {
            c->request("p", body + QByteArray::number(nowUs()) + "}");
            ++sent;
        }
    };
    for (int i = 0; i < inflight; ++i) {
        writer->request("p", body + QByteArray::number(nowUs()) + "}");
        ++sent;
    }
    waitFor([&] { return nowUs() >= end && acked >= sent; }, s.durationMs + (s.tiny ? 3000 : 15000));
    if (writer->errors)
        fail(r, u"%1 writes refused: %2"_s.arg(writer->errors).arg(writer->firstError));
    if (acked < sent)
        fail(r, u"%1 writes never acked"_s.arg(sent - acked));
    const QList<QJsonObject> answers = fleet.call(
        [&](int i) {
            return QJsonObject {{u"cmd"_s, u"report"_s}, {u"expect"_s, double(sent) * fleet.share(i)},
                {u"timeoutMs"_s, s.tiny ? 5000 : 30000}};
        },
        90000);
    const double wall = double(nowUs() - armUs) / 1e6;
    r.insert(u"server_cores"_s, (processCpuSeconds(t.pid) - serverCpu0) / wall);
    r.insert(u"load_cores"_s, (fleet.cpuSeconds() - loadCpu0) / wall);
    Histogram hist;
    double received = 0, lastUs = 0;
    int closed = 0;
    for (const QJsonObject &a : answers) {
        received += a.value(u"received"_s).toDouble();
        lastUs = std::max(lastUs, a.value(u"lastUs"_s).toDouble());
        closed += a.value(u"closed"_s).toInt();
        hist.merge(Histogram::fromJson(a.value(u"hist"_s).toArray()));
    }
    const double expected = double(sent) * listeners;
    if (closed)
        fail(r, u"%1 listeners were disconnected"_s.arg(closed));
    if (received < expected)
        fail(r, u"%1 of %2 deliveries lost"_s.arg(expected - received).arg(expected));
    if (received > expected)
        fail(r, u"%1 deliveries more than written (doubled)"_s.arg(received - expected));
    const double seconds = (lastUs - double(start)) / 1e6;
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

/** connect and idle-memory share the connections: N connects + hello + one listen, then RSS while idle. */
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
        observer->onPush = nullptr;
        QString reply;
        observer->onReplyText = [&](Client *, const QString &m) { reply = m; };
        observer->request("g", "{\"p\":\"" + prefix.toUtf8() + "\",\"q\":{}}");
        waitFor([&] { return !reply.isEmpty(); }, 30000);
        const QJsonObject d = QJsonDocument::fromJson(reply.toUtf8()).object().value(u"d"_s).toObject();
        Observer count;
        count.prefix = prefix;
        count.armed = true;
        count.flatten(prefix, d.value(u"b"_s).toObject().value(u"d"_s), 0);
        const int stored = int(count.seen.size());
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

// ---- the table ----

struct Row {
    Row(QString scenario, QString metric, QString key, bool higherBetter = true, double target = -1,
        QString targetText = {})
        : scenario(std::move(scenario))
        , metric(std::move(metric))
        , key(std::move(key))
        , higherBetter(higherBetter)
        , target(target)
        , targetText(std::move(targetText))
    {
    }
    QString scenario, metric, key;
    bool higherBetter;
    double target; // < 0: no target
    QString targetText;
};

QString fmt(const QJsonValue &v)
{
    if (v.isUndefined() || v.isNull())
        return u"—"_s;
    const double d = v.toDouble();
    if (std::abs(d) >= 1000)
        return QString::number(qint64(std::llround(d)));
    if (std::abs(d) >= 10)
        return QString::number(d, 'f', 1);
    return QString::number(d, 'f', 2);
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

    QCommandLineParser parser;
    parser.setApplicationDescription(u"Load generator for lark-server, with a raw Qt WebSocket baseline and the "
                                     "firebase-server peer."_s);
    parser.addHelpOption();
    const QCommandLineOption scenariosOpt(u"scenarios"_s,
        u"Comma-separated: writes,fanout,connect,disconnect,mass-disconnect,silent (connect includes "
        "idle-memory). Default: all."_s,
        u"list"_s);
    const QCommandLineOption tinyOpt(u"tiny"_s, u"Every scenario at a tiny size (the bench_smoke test)."_s);
    const QCommandLineOption qtListenersOpt(
        u"qt-listeners"_s, u"fanout: listeners on QWebSocket (the old load client) instead of raw epoll sockets."_s);
    const QCommandLineOption qtWritersOpt(
        u"qt-writers"_s, u"writes: writers on QWebSocket (the old load client) instead of raw epoll sockets."_s);
    const QCommandLineOption writeRateOpt(u"write-rate"_s,
        u"writes: run the open-loop (latency) phase at this many writes/s instead of half the best rate."_s, u"n"_s);
    const QCommandLineOption urlOpt(
        u"url"_s, u"Use this running Lark server (ws://host:port) instead of starting one."_s, u"url"_s);
    const QCommandLineOption pidOpt(u"server-pid"_s, u"With --url: its pid, for the RSS and CPU figures."_s, u"pid"_s);
    const QCommandLineOption serverOpt(
        u"server"_s, u"lark-server binary."_s, u"path"_s, QStringLiteral(LARK_SERVER_PATH));
    const QCommandLineOption baselineOpt(
        u"baseline"_s, u"lark-bench-baseline binary."_s, u"path"_s, QStringLiteral(LARK_BASELINE_PATH));
    const QCommandLineOption peerOpt(u"peer-dir"_s, u"Directory with the peer's server.js and node_modules."_s,
        u"dir"_s, QStringLiteral(LARK_PEER_DIR));
    const QCommandLineOption noPeerOpt(u"no-peer"_s, u"Skip firebase-server."_s);
    const QCommandLineOption noBaselineOpt(u"no-baseline"_s, u"Skip the baseline."_s);
    const QCommandLineOption jsonOpt(u"json"_s, u"Write the results as JSON to this file."_s, u"file"_s);
    const QCommandLineOption workersOpt(u"workers"_s, u"Load processes (default: by connection count)."_s, u"n"_s);
    const QCommandLineOption durationOpt(u"duration"_s, u"Length of each throughput phase in ms."_s, u"ms"_s);
    const QCommandLineOption listenersOpt(
        u"listeners"_s, u"Fan-out listener counts (default 1000,10000)."_s, u"list"_s);
    const QCommandLineOption connectionsOpt(u"connections"_s, u"Connections for connect/idle-memory."_s, u"n"_s);
    const QCommandLineOption sessionsOpt(u"sessions"_s, u"Sessions for disconnect."_s, u"n"_s);
    const QCommandLineOption massOpt(u"mass"_s, u"Sessions for mass-disconnect."_s, u"n"_s);
    const QCommandLineOption silentOpt(u"silent"_s, u"Sessions for silent."_s, u"n"_s);
    const QCommandLineOption deadOpt(u"dead-after"_s,
        u"silent: the server's dead-after in ms (set on the started server; with --url, what it uses)."_s, u"ms"_s);
    const QCommandLineOption graceOpt(u"grace"_s, u"silent: the server's grace in ms (as --dead-after)."_s, u"ms"_s);
    parser.addOptions({scenariosOpt, tinyOpt, qtListenersOpt, qtWritersOpt, writeRateOpt, urlOpt, pidOpt, serverOpt,
        baselineOpt, peerOpt, noPeerOpt, noBaselineOpt, jsonOpt, workersOpt, durationOpt, listenersOpt, connectionsOpt,
        sessionsOpt, massOpt, silentOpt, deadOpt, graceOpt});
    parser.process(app);

    Settings s;
    s.serverPath = parser.value(serverOpt);
    s.baselinePath = parser.value(baselineOpt);
    s.peerDir = parser.value(peerOpt);
    s.baseline = !parser.isSet(noBaselineOpt);
    s.tiny = parser.isSet(tinyOpt);
    s.qtListeners = parser.isSet(qtListenersOpt);
    s.qtWriters = parser.isSet(qtWritersOpt);
    s.writeRate = parser.value(writeRateOpt).toDouble();
    if (s.tiny) {
        s.durationMs = 300;
        s.writeClients = 20;
        s.listeners = {20};
        s.connections = 20;
        s.sessions = 20;
        s.mass = 20;
        s.silent = 10;
        s.silentPingMs = 100;
        s.silentDeadMs = 500;
        s.silentGraceMs = 300;
    }
    if (parser.isSet(urlOpt)) {
        QString u = parser.value(urlOpt);
        if (!u.contains(u"/.ws"_s))
            u += u"/.ws?v=5&ns=bench"_s;
        s.externalUrl = QUrl(u);
        s.externalPid = parser.value(pidOpt).toLongLong();
        // An external server keeps its own timers: unless told, assume the defaults.
        s.silentDeadMs = 15000;
        s.silentGraceMs = 10000;
    }
    if (parser.isSet(workersOpt))
        s.workers = parser.value(workersOpt).toInt();
    if (parser.isSet(durationOpt))
        s.durationMs = parser.value(durationOpt).toInt();
    if (parser.isSet(listenersOpt)) {
        s.listeners.clear();
        for (const QString &n : parser.value(listenersOpt).split(u','))
            s.listeners.append(n.toInt());
    }
    if (parser.isSet(connectionsOpt))
        s.connections = parser.value(connectionsOpt).toInt();
    if (parser.isSet(sessionsOpt))
        s.sessions = parser.value(sessionsOpt).toInt();
    if (parser.isSet(massOpt))
        s.mass = parser.value(massOpt).toInt();
    if (parser.isSet(silentOpt))
        s.silent = parser.value(silentOpt).toInt();
    if (parser.isSet(deadOpt))
        s.silentDeadMs = parser.value(deadOpt).toInt();
    if (parser.isSet(graceOpt))
        s.silentGraceMs = parser.value(graceOpt).toInt();

    QString peerNote;
    if (parser.isSet(noPeerOpt)) {
        s.peer = false;
        peerNote = u"skipped (--no-peer)"_s;
    } else if (!QFileInfo::exists(s.peerDir + u"/node_modules/firebase-server/package.json"_s)) {
        s.peer = false;
        peerNote = u"not installed: run npm ci in %1"_s.arg(s.peerDir);
    } else if (QProcess node; node.start(u"node"_s, {u"--version"_s}),
               !node.waitForFinished(10000) || node.exitStatus() != QProcess::NormalExit || node.exitCode() != 0) {
        s.peer = false;
        peerNote = u"node not found"_s;
    }

    const QStringList all {u"writes"_s, u"fanout"_s, u"connect"_s, u"disconnect"_s, u"mass-disconnect"_s, u"silent"_s};
    const QStringList scenarios = parser.isSet(scenariosOpt) ? parser.value(scenariosOpt).split(u',') : all;
    for (const QString &sc : scenarios) {
        if (!all.contains(sc)) {
            std::fprintf(stderr, "lark-bench: unknown scenario %s\n", qPrintable(sc));
            return 2;
        }
    }

    QJsonObject report;
    report.insert(u"machine"_s,
        QJsonObject {{u"nproc"_s, int(std::thread::hardware_concurrency())}, {u"cpu"_s, cpuModel()},
            {u"kernel"_s, QSysInfo::kernelVersion()}, {u"loadavg_start"_s, loadAverage()}});
    report.insert(u"command"_s, app.arguments().join(u' '));
    report.insert(u"size"_s, s.tiny ? u"tiny"_s : u"full"_s);
    if (!peerNote.isEmpty())
        report.insert(u"peer_note"_s, peerNote);
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
            entry.insert(u"peer"_s, peerNote);
        results.append(entry);
        return entry;
    };

    const QString clientsText = QString::number(s.writeClients);
    if (scenarios.contains(u"writes"_s)) {
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
    if (scenarios.contains(u"fanout"_s)) {
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
    if (scenarios.contains(u"connect"_s)) {
        runAll(u"connect"_s, true, true, [&](const Target &t) { return runConnect(s, t); });
        const QString n = QString::number(s.connections);
        rows.append({u"connect"_s, u"s for %1 connects + hello + listen"_s.arg(n), u"connect_s"_s, false,
            s.connections >= 10000 ? 2.0 : -1.0, u"≤ 2 s for 10 000"_s});
        rows.append({u"connect"_s, u"connections lost"_s, u"lost"_s, false, 0, u"0"_s});
        rows.append(
            {u"connect"_s, u"idle-memory: server KB per connection"_s, u"kb_per_conn"_s, false, 25, u"≤ 25 KB"_s});
    }
    if (scenarios.contains(u"disconnect"_s)) {
        runAll(u"disconnect"_s, false, true, [&](const Target &t) { return runDisconnect(s, t, false); });
        rows.append({u"disconnect"_s, u"close → observer p50 ms"_s, u"p50_ms"_s, false});
        rows.append({u"disconnect"_s, u"close → observer p99 ms"_s, u"p99_ms"_s, false, 50, u"≤ 50 ms"_s});
    }
    if (scenarios.contains(u"mass-disconnect"_s)) {
        runAll(u"mass-disconnect"_s, false, true, [&](const Target &t) { return runDisconnect(s, t, true); });
        rows.append({u"mass-disconnect"_s, u"ms until all %1 ops observed"_s.arg(s.mass * 2), u"all_ms"_s, false, 1000,
            u"≤ 1000 ms"_s});
        rows.append({u"mass-disconnect"_s, u"ops lost"_s, u"lost"_s, false, 0, u"0"_s});
        rows.append({u"mass-disconnect"_s, u"ops doubled"_s, u"doubled"_s, false, 0, u"0"_s});
    }
    if (scenarios.contains(u"silent"_s)) {
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

    // Table: absolute figures, the ratio to the baseline (and to the peer) and the target.
    QJsonArray table;
    std::printf("\n%-18s %-44s %12s %12s %8s %12s %8s %-18s %s\n", "scenario", "metric", "lark", "baseline", "×base",
        "peer", "×peer", "target", "met");
    for (const Row &row : std::as_const(rows)) {
        QJsonObject entry;
        for (const QJsonValue &v : std::as_const(results)) {
            if (v.toObject().value(u"scenario"_s) == row.scenario)
                entry = v.toObject();
        }
        const QJsonValue lark = entry.value(u"lark"_s).toObject().value(row.key);
        const QJsonValue base = entry.value(u"baseline"_s).toObject().value(row.key);
        const QJsonValue peer = entry.value(u"peer"_s).toObject().value(row.key);
        const auto ratio = [&](const QJsonValue &other) -> QJsonValue {
            if (!lark.isDouble() || !other.isDouble() || other.toDouble() == 0)
                return QJsonValue();
            return lark.toDouble() / other.toDouble();
        };
        QJsonValue met;
        if (row.target >= 0 && lark.isDouble())
            met = row.higherBetter ? lark.toDouble() >= row.target : lark.toDouble() <= row.target;
        const QString metText = met.isBool() ? (met.toBool() ? u"yes"_s : u"NO"_s) : u"—"_s;
        std::printf("%-18s %-44s %12s %12s %8s %12s %8s %-18s %s\n", qPrintable(row.scenario), qPrintable(row.metric),
            qPrintable(fmt(lark)), qPrintable(fmt(base)), qPrintable(fmt(ratio(base))), qPrintable(fmt(peer)),
            qPrintable(fmt(ratio(peer))), qPrintable(row.targetText), qPrintable(metText));
        table.append(QJsonObject {{u"scenario"_s, row.scenario}, {u"metric"_s, row.metric}, {u"key"_s, row.key},
            {u"lark"_s, lark}, {u"baseline"_s, base}, {u"ratio_baseline"_s, ratio(base)}, {u"peer"_s, peer},
            {u"ratio_peer"_s, ratio(peer)}, {u"target"_s, row.targetText}, {u"met"_s, met}});
    }
    if (!peerNote.isEmpty())
        std::printf("peer: %s\n", qPrintable(peerNote));
    std::printf("peer: firebase-server runs writes, fanout and connect; it has no onDisconnect, so the "
                "disconnect, mass-disconnect and silent rows show — for it.\n");
    report.insert(u"table"_s, table);
    report.insert(u"results"_s, results);
    report.insert(u"failures"_s, QJsonArray::fromStringList(failures));
    report.insert(u"peer_issues"_s, QJsonArray::fromStringList(peerIssues));
    QJsonObject machine = report.value(u"machine"_s).toObject();
    machine.insert(u"loadavg_end"_s, loadAverage());
    report.insert(u"machine"_s, machine);
    if (parser.isSet(jsonOpt)) {
        QFile f(parser.value(jsonOpt));
        if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(report).toJson()) < 0) {
            std::fprintf(stderr, "lark-bench: cannot write %s\n", qPrintable(parser.value(jsonOpt)));
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
