// SPDX-License-Identifier: MIT
#pragma once

#include <QtGlobal>

#include <functional>

namespace lark
{

/**
 * Dead-peer detection (docs/semantics.md §3) as pure decisions: when to ping, when a peer counts as silent, when it
 * is dead, and when the server's own loop stalled so that no client may be blamed for it. Times are monotonic ms
 * passed in by the caller, so the rules are tested without sockets or waiting; the server's sweep applies them.
 */
class Heartbeat
{
public:
    Heartbeat(int pingIntervalMs, int deadAfterMs);
    void setTimers(int pingIntervalMs, int deadAfterMs);
    [[nodiscard]] int pingIntervalMs() const { return m_pingIntervalMs; }
    [[nodiscard]] int deadAfterMs() const { return m_deadAfterMs; }

    struct Peer {
        qint64 lastActivity = 0; /**< the last frame or byte from it */
        qint64 lastPing = 0; /**< the last ping sent to it */
    };
    struct Verdict {
        bool touch = false; /**< life is waiting unread (or held back by backpressure): count it as life now */
        bool dead = false; /**< no life within dead-after: drop the socket */
        bool ping = false; /**< a ping interval since the last ping */
        bool silent = false; /**< no word for a ping interval and a half: the first sign of a dead link */
    };
    /**
     * What to do with a peer at now. lifeWaiting tells whether input waits that the server has not read; it is asked
     * only when the peer would otherwise be dead, as it may cost a system call.
     */
    [[nodiscard]] Verdict judge(const Peer &peer, qint64 now, const std::function<bool()> &lifeWaiting) const;

    /**
     * Called on every tick of the loop's periodic work (due every expectedGapMs): by how much the loop ran later than
     * that, when it is more than a ping interval, else 0. Peers cannot have been heard while the loop stood still.
     */
    [[nodiscard]] qint64 loopStall(qint64 now, qint64 expectedGapMs);

private:
    int m_pingIntervalMs;
    int m_deadAfterMs;
    qint64 m_lastTick = 0;
};

} // namespace lark
