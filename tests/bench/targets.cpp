// SPDX-License-Identifier: MIT
#include "targets.h"

#include "benchclient.h"

#include <QFile>
#include <QProcessEnvironment>
#include <QRegularExpression>

#include <unistd.h>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

namespace
{

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

} // namespace

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

std::unique_ptr<Target> startTarget(const Settings &s, Kind kind, const QStringList &larkArgs)
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

qint64 rssKb(qint64 pid)
{
    return procStatusField(pid, "VmRSS");
}

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

} // namespace bench
