// SPDX-License-Identifier: MIT
#pragma once

// lark-bench's scenarios (docs/performance.md). Each runs against one server under test and returns its figures,
// plus "errors" (a list of lines) when the run was not sound: the orchestrator fails the bench on any of them.
// writes.cpp: acknowledged sets, closed and open loop; fanout.cpp: one writer, many listeners of its path;
// connections.cpp: connects and idle memory, clean disconnects (one by one and all at once), silent peers;
// http.cpp: the REST API and event streams; cluster.cpp: several nodes on one Redis (issue #17).

#include "settings.h"
#include "targets.h"

#include <QJsonObject>
#include <QList>

namespace bench
{

QJsonObject runWrites(const Settings &s, const Target &t);
/** The same writers spread over several servers (cluster nodes), one load process per node; CPU summed over them. */
QJsonObject runWrites(const Settings &s, const QList<const Target *> &targets);
QJsonObject runFanout(const Settings &s, const Target &t, int listeners);
/**
 * The listeners spread over several servers, at least one load process per server (workers: how many; 0 by
 * listener count); the writer on the first.
 */
QJsonObject runFanout(const Settings &s, const QList<const Target *> &targets, int listeners, int workers = 0);
/** connect and idle-memory share the connections: N connects + hello + one listen, then RSS while idle. */
QJsonObject runConnect(const Settings &s, const Target &t);
/** disconnect (mass false) and mass-disconnect: the onDisconnect ops of clean closes, seen by an observer. */
QJsonObject runDisconnect(const Settings &s, const Target &t, bool mass);
/** silent: sessions whose process freezes fire when dead-after and grace have passed, not before. */
QJsonObject runSilent(const Settings &s, const Target &t, int deadMs, int graceMs);
// http.cpp: REST PUTs over keep-alive connections, fan-out to event streams, idle streams' memory.
QJsonObject runRestWrites(const Settings &s, const Target &t);
QJsonObject runSseFanout(const Settings &s, const Target &t, int streams);
QJsonObject runSseIdle(const Settings &s, const Target &t, int streams);
// cluster.cpp (issue #17): lark-server nodes on a Redis the scenario starts itself; no baseline, no peer.
/** Acked writes through 3 nodes against the same Redis Function driven directly, on one Redis. */
QJsonObject runClusterWrites(const Settings &s);
/** Fan-out to listeners spread over 3 nodes against the same listeners on one node, each on its own Redis. */
QJsonObject runClusterFanout(const Settings &s, int listeners);
/** A node holding s.mass sessions × 2 ops is killed (SIGKILL); the others fire every op, once. */
QJsonObject runClusterKill(const Settings &s);

} // namespace bench
