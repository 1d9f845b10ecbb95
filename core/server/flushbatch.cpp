// SPDX-License-Identifier: MIT
#include "flushbatch.h"

#include <algorithm>
#include <utility>

namespace lark
{

FlushBatch::~FlushBatch()
{
    // What they queued still goes (a server being deleted sends its close frames), and later writes flush alone.
    for (ServerWebSocket *socket : std::exchange(m_sockets, {})) {
        if (socket) {
            socket->setFlushScheduler(nullptr);
            socket->flush();
        }
    }
}

void FlushBatch::scheduleFlush(ServerWebSocket *socket)
{
    m_sockets.push_back(socket);
    if (m_sockets.size() == 1)
        QMetaObject::invokeMethod(this, &FlushBatch::flushAll, Qt::QueuedConnection);
}

void FlushBatch::cancelFlush(ServerWebSocket *socket)
{
    // Linear, but rare: only a socket destroyed in the round it queued something.
    std::replace(m_sockets.begin(), m_sockets.end(), socket, static_cast<ServerWebSocket *>(nullptr));
}

void FlushBatch::flushAll()
{
    // By index and cleared at the end: nothing scheduled while flushing is lost, and a cancel nulls in place.
    for (size_t i = 0; i < m_sockets.size(); ++i) {
        if (ServerWebSocket *socket = m_sockets[i])
            socket->flush();
    }
    m_sockets.clear();
}

} // namespace lark
