// SPDX-License-Identifier: MIT
#include "heartbeat.h"

namespace lark
{

Heartbeat::Heartbeat(int pingIntervalMs, int deadAfterMs)
    : m_pingIntervalMs(pingIntervalMs)
    , m_deadAfterMs(deadAfterMs)
{
}

void Heartbeat::setTimers(int pingIntervalMs, int deadAfterMs)
{
    m_pingIntervalMs = pingIntervalMs;
    m_deadAfterMs = deadAfterMs;
}

Heartbeat::Verdict Heartbeat::judge(const Peer &peer, qint64 now, const std::function<bool()> &lifeWaiting) const
{
    Verdict v;
    qint64 lastActivity = peer.lastActivity;
    if (now - lastActivity >= m_deadAfterMs && lifeWaiting()) {
        v.touch = true;
        lastActivity = now;
    }
    if (now - lastActivity >= m_deadAfterMs) {
        v.dead = true;
        return v;
    }
    v.ping = now - peer.lastPing >= m_pingIntervalMs;
    // A healthy peer answers every ping within a round trip; the 100 ms spare keeps short test timers from flapping.
    v.silent = now - lastActivity > qint64(m_pingIntervalMs) * 3 / 2 + 100;
    return v;
}

qint64 Heartbeat::loopStall(qint64 now, qint64 expectedGapMs)
{
    const qint64 late = m_lastTick > 0 ? now - m_lastTick - expectedGapMs : 0;
    m_lastTick = now;
    return late > m_pingIntervalMs ? late : 0;
}

} // namespace lark
