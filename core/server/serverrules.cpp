// SPDX-License-Identifier: MIT
// The Server's side of security rules enforcement (docs/semantics.md §4): denials reported to the
// log and the admin feed, and the re-checks when a namespace's rules change. Kept apart from server.cpp, which runs
// the sessions' lifecycle.
#include "server.h"

#include "connection.h"
#include "logging.h"

#include "db/database.h"

#include <QDateTime>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{

QString actionName(const Request &r)
{
    switch (r.action) {
    case Request::Action::Listen:
        return u"listen"_s;
    case Request::Action::Unlisten:
        return u"unlisten"_s;
    case Request::Action::Get:
        return u"get"_s;
    case Request::Action::Set:
        return r.hasExpectedHash ? u"transaction"_s : u"set"_s;
    case Request::Action::Update:
        return u"update"_s;
    case Request::Action::OnDisconnectSet:
        return u"onDisconnect.set"_s;
    case Request::Action::OnDisconnectUpdate:
        return u"onDisconnect.update"_s;
    case Request::Action::OnDisconnectCancel:
        return u"onDisconnect.cancel"_s;
    }
    return {};
}

} // namespace

void Server::requestDenied(const Caller &caller, const Request &request, const Denied &denied)
{
    const QString who = caller.handle.isEmpty() ? caller.identity.describe()
                                                : u"%1 (%2)"_s.arg(caller.handle, caller.identity.describe());
    const QString action = actionName(request);
    qCInfo(lcProtocol).noquote() << u"denied %1 %2 %3 in %4 over %5 by %6: %7"_s.arg(
        who, action, request.path.toString(), caller.db->name(), caller.transport, denied.rule, denied.message);
    m_feed.noteDenied(QJsonObject {{u"handle"_s, caller.handle}, {u"identity"_s, caller.identity.describe()},
        {u"transport"_s, caller.transport}, {u"namespace"_s, caller.db->name()}, {u"action"_s, action},
        {u"path"_s, request.path.toString()}, {u"rule"_s, denied.rule}, {u"message"_s, denied.message},
        {u"at"_s, double(QDateTime::currentMSecsSinceEpoch())}});
}

void Server::recheckQueuedOps(Session *s)
{
    if (s->queue().isEmpty())
        return;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const std::vector<RequestHandler::DroppedOp> dropped = m_requests.recheckQueuedOps(s, now);
    if (dropped.empty())
        return;
    for (const RequestHandler::DroppedOp &d : dropped) {
        // Never silent (docs/semantics.md §4): this op will not fire, and whoever watches the sessions hears why.
        qCWarning(lcRules).noquote() << u"%1 (%2): dropped its onDisconnect %3 at %4, now denied by %5"_s.arg(
            s->handle(), s->identity().describe(), OnDisconnectQueue::kindName(d.op.kind), d.op.path.toString(),
            d.denied.rule);
        m_feed.noteDropped(QJsonObject {{u"session"_s, s->handle()}, {u"identity"_s, s->identity().describe()},
            {u"namespace"_s, s->database()->name()}, {u"path"_s, d.op.path.toString()},
            {u"kind"_s, OnDisconnectQueue::kindName(d.op.kind)}, {u"rule"_s, d.denied.rule},
            {u"reason"_s, d.denied.message}, {u"at"_s, double(now)}});
    }
    noteSessionChanged(s);
}

void Server::onRulesChanged(const QString &ns)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    // Copies: a revocation sends, and a send never drops a connection synchronously, but stay safe.
    const QList<Connection *> connections = m_connections;
    for (Connection *c : connections) {
        if (c->database()->name() == ns)
            c->recheckListens(now);
    }
    const QList<EventStream *> streams = m_streams;
    for (EventStream *s : streams) {
        if (s->database()->name() != ns)
            continue;
        const EventStream::Spec &spec = s->spec();
        if (const auto no = m_requests.recheckListen(spec.identity, *spec.db, spec.path, spec.query, now)) {
            qCInfo(lcRules).noquote() << u"revoked stream %1 (%2) at %3 in %4 by %5"_s.arg(
                s->handle(), spec.identity.describe(), spec.path.toString(), ns, no->rule);
            s->cancel(u"Permission denied."_s); // the REST reference's words
        }
    }
    for (Session *s : m_registry.byNumber()) {
        if (s->database()->name() == ns)
            recheckQueuedOps(s);
    }
}

} // namespace lark
