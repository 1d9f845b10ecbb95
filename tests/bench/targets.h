// SPDX-License-Identifier: MIT
#pragma once

// The servers under test (lark-server, the raw Qt WebSocket baseline and the firebase-server peer), each a child
// process started fresh for a scenario, and what /proc tells about a process: memory, CPU time and preemptions.

#include "settings.h"

#include <QProcess>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <memory>

namespace bench
{

enum class Kind { Lark, Baseline, Peer };

QString kindName(Kind k);

/** A server under test, as a child process (or the external server of --url). */
struct Target {
    Kind kind = Kind::Lark;
    std::unique_ptr<QProcess> proc;
    QUrl url; // with /.ws?v=5&ns=bench
    qint64 pid = 0;
    QString error;
    [[nodiscard]] bool echo() const { return kind == Kind::Baseline; }
};

std::unique_ptr<Target> startTarget(const Settings &s, Kind kind, const QStringList &larkArgs = {});
void stopTarget(Target &t);

/** Server RSS in KiB, 0 when unknown. */
qint64 rssKb(qint64 pid);
/** CPU seconds (user + system) a process has used so far; 0 when unknown. */
double processCpuSeconds(qint64 pid);
/**
 * How often the process's main thread was preempted so far (nonvoluntary_ctxt_switches): each time, it was
 * runnable and another task got its CPU. 0 when unknown.
 */
qint64 preemptions(qint64 pid);
QString loadAverage();
QString cpuModel();

} // namespace bench
