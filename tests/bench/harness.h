// SPDX-License-Identifier: MIT
#pragma once

// What lark-bench's scenarios run with, on the orchestrator's side: the worker processes that hold the load
// connections (WorkerProcess, Fleet, openFleet), the few clients the orchestrator opens itself (openClient,
// Observer), and the small helpers every scenario uses for its figures and errors.

#include "benchclient.h"
#include "targets.h"

#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QString>

#include <functional>
#include <memory>
#include <vector>

namespace bench
{

/** A worker process seen from the orchestrator: one JSON command out, one JSON answer back. */
class WorkerProcess
{
public:
    bool start();
    void send(const QJsonObject &cmd) { m_proc.write(QJsonDocument(cmd).toJson(QJsonDocument::Compact) + '\n'); }
    QJsonObject wait(int timeoutMs);
    [[nodiscard]] qint64 pid() const { return m_proc.processId(); }
    void stop();
    void kill();

private:
    QProcess m_proc;
    QList<QJsonObject> m_answers;
};

/** Several workers sharing N connections. */
class Fleet
{
public:
    Fleet(int workers, int connections);
    ~Fleet();
    [[nodiscard]] int size() const { return int(m_workers.size()); }
    [[nodiscard]] int share(int i) const { return m_total / size() + (i < m_total % size() ? 1 : 0); }
    [[nodiscard]] int first(int i) const;
    WorkerProcess &at(int i) { return *m_workers[size_t(i)]; }
    [[nodiscard]] double cpuSeconds() const;
    [[nodiscard]] qint64 preemptions() const;
    /** Sends make(i) to every worker at once and collects the answers. */
    QList<QJsonObject> call(const std::function<QJsonObject(int)> &make, int timeoutMs);

private:
    int m_total;
    std::vector<std::unique_ptr<WorkerProcess>> m_workers;
};

/** How many worker processes hold connections: --workers, or one per 2 500 (at most 4). */
int workersFor(const Settings &s, int connections);

/**
 * Opens n connections over a fleet; adds errors for failures. Returns the answers. signIn: each connection signs
 * in as its index first (the rules scenario).
 */
QList<QJsonObject> openFleet(Fleet &fleet, const Target &t, const QString &listen, const QString &ops,
    const QString &prefix, QJsonObject &r, bool raw = false, bool signIn = false);
/** The same over several servers (cluster nodes): worker i connects to targets[i % targets.size()]. */
QList<QJsonObject> openFleet(Fleet &fleet, const QList<const Target *> &targets, const QString &listen,
    const QString &ops, const QString &prefix, QJsonObject &r, bool raw = false, bool signIn = false);

/** A single client in the orchestrator (fan-out writer, observers). */
std::unique_ptr<Client> openClient(const Target &t, QString *error);
bool callOk(Client &c, const char *action, const QByteArray &body, int timeoutMs = 10000);

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

    void flatten(const QString &path, const QJsonValue &v, qint64 t);
    void onPush(const QString &message);
    [[nodiscard]] int doubled() const;
};

/** A client listening on prefix whose pushes feed obs; null, with the error in r, if it cannot connect. */
std::unique_ptr<Client> openObserver(const Target &t, const QString &prefix, Observer &obs, QJsonObject &r);

/** How many leaves the server holds under prefix (a get on c, which stops feeding its observer); -1: no answer. */
int storedLeaves(Client &c, const QString &prefix);

/** What the listeners of a fleet saw of one writer's stamped sets (runStampedFanout()). */
struct FanoutResult {
    qint64 armUs = 0; /**< when the fleet started counting */
    qint64 startUs = 0; /**< when the first set went out */
    qint64 sent = 0;
    double received = 0;
    double lastUs = 0; /**< when the last delivery arrived */
    Histogram hist; /**< set → delivery latency */
};

/**
 * The fan-out round of the fanout and http scenarios: arms the fleet, then writer sets path in a closed loop with 4
 * sets in flight for s.durationMs, each value a new microsecond stamp (its send time; never one twice, since a set
 * that leaves a value as it was may rightly reach no listener), and collects what the fleet's `listeners` received.
 * Refused writes, closed listeners and lost or doubled deliveries go to r's errors, naming them `what`.
 */
FanoutResult runStampedFanout(Fleet &fleet, Client &writer, const QString &path, const Settings &s, int listeners,
    const QString &what, QJsonObject &r);

/** Appends an error line to r["errors"]. */
void fail(QJsonObject &r, const QString &what);
double percentile(std::vector<double> v, double p);
/** A short random name, so that each run writes under paths of its own. */
QString randomTag();

} // namespace bench
