// SPDX-License-Identifier: MIT
#pragma once

// lark-bench's scenarios (docs/performance.md). Each runs against one server under test and returns its figures,
// plus "errors" (a list of lines) when the run was not sound: the orchestrator fails the bench on any of them.
// writes.cpp: acknowledged sets, closed and open loop; fanout.cpp: one writer, many listeners of its path;
// connections.cpp: connects and idle memory, clean disconnects (one by one and all at once), silent peers;
// http.cpp: the REST API and event streams.

#include "settings.h"
#include "targets.h"

#include <QJsonObject>

namespace bench
{

QJsonObject runWrites(const Settings &s, const Target &t);
QJsonObject runFanout(const Settings &s, const Target &t, int listeners);
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

} // namespace bench
