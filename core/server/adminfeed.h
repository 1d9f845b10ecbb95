// SPDX-License-Identifier: MIT
#pragma once

#include "requesthandler.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QObject>

#include <functional>
#include <vector>

namespace lark
{

class Session;
class SessionRegistry;
struct Identity;
struct Write;

/**
 * The admin view of a server's sessions (docs/wire-protocol.md, the lark.* extension): the `lark.watch` subscribers
 * of remote dashboards and the signals of an embedding one. It describes sessions and fired ops, and only when
 * someone consumes them: at a mass disconnect that JSON was a fifth of the server's time with nobody listening
 * (docs/performance.md). The server tells it what happened; it keeps no sockets.
 */
class AdminFeed : public QObject
{
    Q_OBJECT
public:
    /** A subscriber to the feed (a lark.watch connection). */
    class Watcher
    {
    public:
        virtual ~Watcher() = default;
        /** One feed message: a v5 data push of action `lark.session`, `lark.session.ended`, `lark.fired`,
         * `lark.store`, `lark.denied` or `lark.dropped`. */
        virtual void sendFeed(const QByteArray &message) = 0;
    };

    /**
     * sessions: whose sessions a watcher's snapshot lists. deadAfterMs: the heartbeat's setting, shown next to each
     * live session's silence. monotonicMs: the clock of the connections' last activity.
     */
    AdminFeed(const SessionRegistry *sessions, int deadAfterMs, std::function<qint64()> monotonicMs);

    void setDeadAfterMs(int deadAfterMs) { m_deadAfterMs = deadAfterMs; }
    /** In cluster mode, the node every session of this feed is on (its "node"); empty: not a cluster. */
    void setNodeName(const QString &node) { m_node = node; }

    /**
     * `lark.watch`: from now on w hears of every change, if identity is the admin (else permission_denied). The
     * reply's data is the snapshot to start from: every session by number, store (the data file's description) and
     * the open event streams. Watching again is no second subscription.
     */
    Reply watch(Watcher *w, const Identity &identity, const QJsonObject &store, const QJsonArray &streams = {});
    /** w hears nothing more (it is gone). */
    void removeWatcher(Watcher *w);
    [[nodiscard]] int watcherCount() const { return int(m_watchers.size()); }
    /** Whether anyone consumes session descriptions: a watcher, or a connected signal. */
    [[nodiscard]] bool isObserved() const;

    /** The admin view of s: its public handle, a short id prefix (never the bearer id), state, ops and timings. */
    [[nodiscard]] QJsonObject describeSession(const Session &s) const;
    /** The ops of a firing session as writes (path, resolved value); empty when nobody would receive them. */
    [[nodiscard]] QJsonArray describeFired(const std::vector<Write> &writes) const;

    /** s was created, resumed, suspended, went silent or spoke again, or changed its identity or queue. */
    void noteSessionChanged(const Session &s);
    /** s ended (its queue already cleared); fired (describeFired) was applied at firedAt (epoch ms). */
    void noteSessionEnded(const Session &s, const QJsonArray &fired, qint64 firedAt);
    /**
     * The rules refused a request: {handle, identity, transport, action, path, rule, message, at}. Sent as
     * `lark.denied`.
     */
    void noteDenied(const QJsonObject &denial);
    /**
     * A queued op is now denied and was dropped (rules or identity changed): {session, identity, path, kind, rule,
     * reason, at}. Sent as `lark.dropped`, before the session's `lark.session`.
     */
    void noteDropped(const QJsonObject &drop);
    /**
     * A REST event stream opened, or ended (EventStream::describe(), with endReason once ended). Sent as `lark.stream`
     * or `lark.stream.ended`.
     */
    void noteStream(const QJsonObject &stream, bool ended);
    /** Sends message to every watcher. */
    void broadcast(const QByteArray &message);

Q_SIGNALS:
    void sessionChanged(const QJsonObject &session);
    void sessionRemoved(const QJsonObject &session);
    /** A session's ops were applied: its description and the fired ops (paths, resolved values). */
    void opsFired(const QJsonObject &session, const QJsonArray &ops);
    /** noteDenied(): for the dashboard's "why was this denied" view. */
    void requestDenied(const QJsonObject &denial);
    /** noteDropped(): an op that will not fire, and why. */
    void opDropped(const QJsonObject &drop);
    void streamOpened(const QJsonObject &stream);
    void streamEnded(const QJsonObject &stream);

private:
    [[nodiscard]] bool wantsFired() const;

    const SessionRegistry *m_sessions;
    std::function<qint64()> m_monotonicMs;
    int m_deadAfterMs;
    QString m_node;
    QList<Watcher *> m_watchers;
};

} // namespace lark
