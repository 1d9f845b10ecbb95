// SPDX-License-Identifier: MIT
#pragma once

#include "session.h"

#include <QHash>
#include <QList>
#include <QString>

#include <map>
#include <vector>

namespace lark
{

class Connection;
class Database;

/**
 * The sessions of a server and their lifecycle (docs/semantics.md §2–§4): create, resume with `ls`, take over from
 * a socket not yet known dead, suspend with a grace deadline, and hand out the sessions whose grace ran out. It
 * owns the Session objects and keeps no sockets, timers or clocks of its own: the caller passes the time in, so
 * every step is tested without a network or a wait. Firing (applying the ops, recording the end) is the caller's.
 */
class SessionRegistry
{
public:
    SessionRegistry() = default;
    ~SessionRegistry();
    SessionRegistry(const SessionRegistry &) = delete;
    SessionRegistry &operator=(const SessionRegistry &) = delete;

    /** A new live session of db for c, with a fresh bearer id (128 random bits) and the next public number. */
    Session *open(Connection *c, Database *db, const QString &remoteAddress, qint64 epochMs);
    /** A session stored by an earlier run, back as suspended: it fires at graceDeadline unless resumed. */
    Session *restore(const QString &id, quint64 number, Database *db, qint64 monotonicMs, qint64 epochMs, int graceMs);

    struct Resumed {
        Session *session = nullptr; /**< nullptr: no such session of db (unknown, ended, or another namespace) */
        Connection *takenFrom = nullptr; /**< the live connection it had, which must now be released */
    };
    /** The session with id, live again and attached to c; a suspended one's deadline is cancelled. */
    Resumed resume(const QString &id, Database *db, Connection *c, const QString &remoteAddress, qint64 epochMs);

    /** s lost its connection without a close frame: it fires graceMs from now unless it resumes first. */
    void suspend(Session *s, qint64 monotonicMs, qint64 epochMs, int graceMs);
    /** Suspended sessions whose grace ended by monotonicMs, earliest first; the caller ends (fires) them. */
    std::vector<Session *> takeExpired(qint64 monotonicMs);
    /** Monotonic ms of the next grace deadline, or -1 when no session is suspended. */
    [[nodiscard]] qint64 nextDeadline() const;
    /** After a stall of the server's own loop: every grace deadline moves by lateMs (docs/semantics.md §3). */
    void shiftDeadlines(qint64 lateMs);

    /** Forgets s (after it ended and fired) and deletes it. */
    void remove(Session *s);

    [[nodiscard]] Session *find(const QString &id) const { return m_sessions.value(id); }
    [[nodiscard]] QList<Session *> sessions() const { return m_sessions.values(); }
    /** The sessions in the order they were created (by number), as the dashboard and the admin feed list them. */
    [[nodiscard]] QList<Session *> byNumber() const;
    [[nodiscard]] int size() const { return int(m_sessions.size()); }
    [[nodiscard]] quint64 nextNumber() const { return m_nextNumber; }
    /** After loading stored sessions: numbers continue from there, so handles stay unique across restarts. */
    void setNextNumber(quint64 n) { m_nextNumber = std::max(m_nextNumber, n); }

    /** A bearer secret: 128 random bits, base64url (docs/semantics.md §2). */
    [[nodiscard]] static QString newSessionId();

private:
    void addDeadline(Session *s);

    QHash<QString, Session *> m_sessions; // by id; owned
    std::multimap<qint64, QString> m_deadlines; // monotonic ms → id of a suspended session (stale entries skipped)
    quint64 m_nextNumber = 1;
};

} // namespace lark
