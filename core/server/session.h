// SPDX-License-Identifier: MIT
#pragma once

#include "identity.h"
#include "ondisconnectqueue.h"

#include <QString>

namespace lark
{

class Connection;
class Database;

/**
 * The server-side identity of one client instance (docs/semantics.md §2): its bearer id, auth identity and queued
 * onDisconnect ops. It outlives its connection while suspended, so a client that resumes with `ls` keeps its ops.
 */
class Session
{
public:
    enum class State { Live, Suspended, Ended };
    enum class EndReason { None, CleanClose, Timeout, Takeover, IdentityChanged, ServerShutdown };

    Session(QString id, quint64 number, Database *db);

    /** The bearer secret sent as `s` in the hello. Never log it or show it to non-admins in full. */
    [[nodiscard]] const QString &id() const { return m_id; }
    /** "S12": a public handle for logs and the dashboard. */
    [[nodiscard]] QString handle() const;
    /** The first characters of the id, for admins. */
    [[nodiscard]] QString shortId() const { return m_id.left(6); }
    [[nodiscard]] quint64 number() const { return m_number; }
    [[nodiscard]] Database *database() const { return m_db; }

    [[nodiscard]] State state() const { return m_state; }
    void setState(State s) { m_state = s; }
    [[nodiscard]] EndReason endReason() const { return m_endReason; }
    void setEndReason(EndReason r) { m_endReason = r; }

    [[nodiscard]] const Identity &identity() const { return m_identity; }
    void setIdentity(const Identity &i) { m_identity = i; }
    /** Whether an auth arrived since the last (re)attach; the first auth on a resumed connection may switch identity.
     */
    bool authSeenOnConnection = false;

    [[nodiscard]] Connection *connection() const { return m_connection; }
    void setConnection(Connection *c) { m_connection = c; }

    OnDisconnectQueue &queue() { return m_queue; }
    [[nodiscard]] const OnDisconnectQueue &queue() const { return m_queue; }

    QString remoteAddress;
    qint64 createdAt = 0; /**< epoch ms */
    qint64 connectedAt = 0; /**< epoch ms of the last attach */
    qint64 suspendedAt = 0; /**< epoch ms, while suspended */
    qint64 fireAt = 0; /**< epoch ms when the grace ends, while suspended */
    qint64 graceDeadline = 0; /**< monotonic ms, while suspended */
    int resumeCount = 0;

    [[nodiscard]] static QString stateName(State s);
    [[nodiscard]] static QString endReasonName(EndReason r);

private:
    QString m_id;
    quint64 m_number;
    Database *m_db;
    State m_state = State::Live;
    EndReason m_endReason = EndReason::None;
    Identity m_identity;
    Connection *m_connection = nullptr;
    OnDisconnectQueue m_queue;
};

} // namespace lark
