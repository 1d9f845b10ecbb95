// SPDX-License-Identifier: MIT
#pragma once

// RawClients' own state, shared by its two halves: rawclients.cpp (connections, the handshake, frames in and out)
// and rawwrites.cpp (the writes scenario's phase).

#include "rawclients.h"

#include <deque>
#include <string>
#include <utility>

namespace bench
{

struct RawClients::Conn {
    enum class State { Idle, Connecting, Handshake, Open, Closed };
    int fd = -1;
    State state = State::Idle;
    bool ready = false; // hello received
    bool settled = false; // ready or lost: no longer counts against the handshake window
    bool writeArmed = false; // EPOLLOUT registered
    std::string in; // bytes of an incomplete frame (or of the handshake response)
    std::string out; // bytes the socket did not take yet
    std::string frag; // a fragmented WebSocket message being joined
    int countPending = 0; // Lark framing: pieces still to come of a counted message
    std::string counted;
    qint64 nextR = 1;
    qint64 outstanding = 0;
    int index = 0; // the client number: a writer writes to <prefix>/<index>
    bool dirty = false; // in m_dirty: has frames queued while corked
    // writes phase
    std::string writeBody; // {"p":"<prefix>/<index>","d":
    std::deque<std::pair<qint64, qint64>> sentAt; // (r, µs the latency counts from), in send order
};

struct RawClients::WritePhase {
    qint64 start = 0, end = 0; // µs
    bool closedLoop = true;
    qint64 sent = 0, acked = 0, inWindow = 0;
    qint64 refused = 0; // acks without "s":"ok"
    qint64 unmatched = 0; // replies whose r was not sent (or was answered already)
    qint64 abandoned = 0; // writes on connections that were lost: never to be acked
    int lost = 0; // connections lost during the phase
    Histogram hist; // ack latency
    Histogram lag; // open loop: how late send() ran after the scheduled time
    qint64 maxLagUs = 0;
};

} // namespace bench
