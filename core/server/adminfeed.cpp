// SPDX-License-Identifier: MIT
#include "adminfeed.h"

#include "connection.h"
#include "db/database.h"
#include "protocol/messages.h"
#include "session.h"
#include "sessionregistry.h"

#include <QMetaMethod>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

AdminFeed::AdminFeed(const SessionRegistry *sessions, int deadAfterMs, std::function<qint64()> monotonicMs)
    : m_sessions(sessions)
    , m_monotonicMs(std::move(monotonicMs))
    , m_deadAfterMs(deadAfterMs)
{
}

Reply AdminFeed::watch(Watcher *w, const Identity &identity, const QJsonObject &store, const QJsonArray &streams)
{
    if (!identity.isAdmin())
        return {status::PermissionDenied, u"lark.watch needs an admin connection (gauth \"owner\")"_s};
    if (!m_watchers.contains(w))
        m_watchers.append(w);
    QJsonArray sessions;
    for (const Session *s : m_sessions->byNumber())
        sessions.append(describeSession(*s));
    return {status::Ok, QJsonObject {{u"sessions"_s, sessions}, {u"store"_s, store}, {u"streams"_s, streams}}};
}

void AdminFeed::removeWatcher(Watcher *w)
{
    m_watchers.removeOne(w);
}

bool AdminFeed::isObserved() const
{
    return !m_watchers.isEmpty() || isSignalConnected(QMetaMethod::fromSignal(&AdminFeed::sessionChanged))
        || isSignalConnected(QMetaMethod::fromSignal(&AdminFeed::sessionRemoved))
        || isSignalConnected(QMetaMethod::fromSignal(&AdminFeed::opsFired));
}

bool AdminFeed::wantsFired() const
{
    return !m_watchers.isEmpty() || isSignalConnected(QMetaMethod::fromSignal(&AdminFeed::opsFired));
}

QJsonObject AdminFeed::describeSession(const Session &s) const
{
    QJsonArray ops;
    for (const OnDisconnectQueue::Op &op : s.queue().ops()) {
        ops.append(QJsonObject {{u"path"_s, op.path.toString()}, {u"kind"_s, OnDisconnectQueue::kindName(op.kind)},
            {u"value"_s, op.value}, {u"registeredAt"_s, double(op.registeredAt)}});
    }
    QJsonObject o {{u"handle"_s, s.handle()}, {u"id"_s, s.shortId()}, {u"state"_s, Session::stateName(s.state())},
        {u"identity"_s, s.identity().describe()}, {u"namespace"_s, s.database()->name()},
        {u"remote"_s, s.remoteAddress}, {u"createdAt"_s, double(s.createdAt)},
        {u"connectedAt"_s, double(s.connectedAt)}, {u"resumes"_s, s.resumeCount}, {u"ops"_s, ops}};
    if (s.state() == Session::State::Suspended) {
        o.insert(u"suspendedAt"_s, double(s.suspendedAt));
        o.insert(u"fireAt"_s, double(s.fireAt));
    }
    if (s.state() == Session::State::Live && s.connection()) {
        o.insert(u"lastActivityMsAgo"_s, double(m_monotonicMs() - s.connection()->lastActivity()));
        o.insert(u"deadAfterMs"_s, m_deadAfterMs);
        o.insert(u"silent"_s, s.connection()->isSilent());
    }
    if (s.endReason() != Session::EndReason::None)
        o.insert(u"endReason"_s, Session::endReasonName(s.endReason()));
    if (!m_node.isEmpty())
        o.insert(u"node"_s, m_node);
    return o;
}

QJsonArray AdminFeed::describeFired(const std::vector<Write> &writes) const
{
    QJsonArray fired;
    if (!wantsFired())
        return fired;
    for (const Write &w : writes)
        fired.append(QJsonObject {{u"path"_s, w.path.toString()}, {u"value"_s, w.value.toJson()}});
    return fired;
}

void AdminFeed::noteSessionChanged(const Session &s)
{
    if (!isObserved())
        return;
    const QJsonObject description = describeSession(s);
    broadcast(protocol::extensionPush(u"lark.session"_s, description));
    Q_EMIT sessionChanged(description);
}

void AdminFeed::noteSessionEnded(const Session &s, const QJsonArray &fired, qint64 firedAt)
{
    if (!isObserved())
        return;
    const QJsonObject description = describeSession(s);
    if (!fired.isEmpty()) {
        Q_EMIT opsFired(description, fired);
        broadcast(protocol::extensionPush(u"lark.fired"_s,
            QJsonObject {{u"session"_s, description}, {u"ops"_s, fired}, {u"firedAt"_s, double(firedAt)}}));
    }
    broadcast(protocol::extensionPush(u"lark.session.ended"_s, description));
    Q_EMIT sessionRemoved(description);
}

void AdminFeed::noteDenied(const QJsonObject &denial)
{
    broadcast(protocol::extensionPush(u"lark.denied"_s, denial));
    Q_EMIT requestDenied(denial);
}

void AdminFeed::noteStream(const QJsonObject &stream, bool ended)
{
    broadcast(protocol::extensionPush(ended ? u"lark.stream.ended"_s : u"lark.stream"_s, stream));
    if (ended)
        Q_EMIT streamEnded(stream);
    else
        Q_EMIT streamOpened(stream);
}

void AdminFeed::noteDropped(const QJsonObject &drop)
{
    broadcast(protocol::extensionPush(u"lark.dropped"_s, drop));
    Q_EMIT opDropped(drop);
}

void AdminFeed::broadcast(const QByteArray &message)
{
    for (Watcher *w : std::as_const(m_watchers))
        w->sendFeed(message);
}

} // namespace lark
