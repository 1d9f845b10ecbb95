// SPDX-License-Identifier: MIT
#pragma once

#include "websocket.h"

#include <QObject>

#include <vector>

namespace lark
{

/**
 * The sockets that queued frames during this round of the event loop, flushed together once the round's events
 * are handled (requests are read and answered there), so everything a round sends to one client leaves in one
 * send(). The first socket scheduled posts one flushAll() to the loop.
 */
class FlushBatch : public QObject, public ServerWebSocket::FlushScheduler
{
public:
    explicit FlushBatch(QObject *parent = nullptr)
        : QObject(parent)
    {
    }
    /**
     * Flushes the sockets still scheduled, which then flush themselves. Sockets that were not scheduled keep a
     * pointer to this batch: their owner detaches them first (the server does, in its destructor).
     */
    ~FlushBatch() override;

    void scheduleFlush(ServerWebSocket *socket) override;
    void cancelFlush(ServerWebSocket *socket) override;
    /** Flushes what is scheduled now (at shutdown too, so close frames leave before the server is deleted). */
    void flushAll();
    [[nodiscard]] size_t scheduled() const { return m_sockets.size(); }

private:
    std::vector<ServerWebSocket *> m_sockets; // entries of destroyed sockets are nulled, not erased
};

} // namespace lark
