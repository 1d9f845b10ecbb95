// SPDX-License-Identifier: MIT
#include "requesthandler.h"

#include "logging.h"
#include "session.h"

#include "db/database.h"
#include "db/servervalues.h"
#include "db/validation.h"

#include <QDateTime>

#include <optional>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{

const AllowAll DefaultAuthorizer;

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

bool isInfo(const Path &path)
{
    return !path.isRoot() && path.front() == u".info"_s;
}

Reply refused(const QString &status, const QString &message)
{
    return {status, message};
}

/** The batch of an update: each child built against the stored tree (ServerValues resolved now). */
bool buildChildren(const Database &db, const Path &path, const std::vector<std::pair<Path, QJsonValue>> &children,
    std::vector<Write> *out, QString *why)
{
    out->reserve(children.size());
    for (const auto &[rel, json] : children) {
        Node node;
        if (!buildWriteValue(json, path.child(rel), db.root(), nowMs(), &node, why))
            return false;
        out->push_back({rel, std::move(node)});
    }
    return true;
}

} // namespace

RequestHandler::RequestHandler(SessionLedger *ledger, const Authorizer *authorizer, Limits limits)
    : m_ledger(ledger)
    , m_authorizer(authorizer ? authorizer : &DefaultAuthorizer)
    , m_limits(limits)
{
}

void RequestHandler::setAuthorizer(const Authorizer *authorizer)
{
    m_authorizer = authorizer ? authorizer : &DefaultAuthorizer;
}

Reply RequestHandler::handle(const Caller &caller, const Request &request) const
{
    Q_ASSERT(caller.db);
    switch (request.action) {
    case Request::Action::Listen:
        return listen(caller, request);
    case Request::Action::Unlisten:
        if (caller.sink)
            caller.db->unlisten(caller.sink, request.path, request.query.identifier());
        return {};
    case Request::Action::Get:
        return get(caller, request);
    case Request::Action::Set:
        return set(caller, request);
    case Request::Action::Update:
        return update(caller, request);
    case Request::Action::OnDisconnectSet:
    case Request::Action::OnDisconnectUpdate:
    case Request::Action::OnDisconnectCancel:
        return onDisconnect(caller, request);
    }
    return refused(status::InvalidRequest, u"unknown request"_s);
}

Reply RequestHandler::listen(const Caller &c, const Request &r) const
{
    if (isInfo(r.path))
        return {status::Ok, QJsonObject()}; // the SDK serves .info itself
    if (!c.sink)
        return refused(status::InvalidRequest, u"this transport cannot listen"_s);
    QString why;
    if (!m_authorizer->mayRead(c.identity, *c.db, r.path, r.query, &why))
        return refused(status::PermissionDenied, why);
    c.db->listen(c.sink, r.path, r.query, r.tag, r.hash);
    return {status::Ok, QJsonObject()};
}

Reply RequestHandler::get(const Caller &c, const Request &r) const
{
    QString why;
    if (!m_authorizer->mayRead(c.identity, *c.db, r.path, r.query, &why))
        return refused(status::PermissionDenied, why);
    if (r.query.loadsAllData())
        return {status::Ok, c.db->valueJson(r.path)};
    return {status::Ok, r.query.resultJson(c.db->root().at(r.path))};
}

Reply RequestHandler::set(const Caller &c, const Request &r) const
{
    if (isInfo(r.path))
        return refused(status::PermissionDenied, u".info is read-only"_s);
    if (r.hasExpectedHash && r.hash != c.db->hashAt(r.path))
        return refused(status::DataStale, u"Transaction hash does not match"_s);
    Node node;
    QString why;
    if (!buildWriteValue(r.data, r.path, c.db->root(), nowMs(), &node, &why))
        return refused(status::InvalidRequest, why);
    std::vector<Write> writes;
    writes.push_back({Path(), std::move(node)});
    if (!m_authorizer->mayWrite(c.identity, *c.db, r.path, writes, &why))
        return refused(status::PermissionDenied, why);
    if (!c.db->write(r.path, std::move(writes), {WriteOrigin::Kind::Client, c.handle}, &why))
        return refused(status::WriteFailed, why);
    return {};
}

Reply RequestHandler::update(const Caller &c, const Request &r) const
{
    std::vector<Write> writes;
    QString why;
    if (isInfo(r.path))
        return refused(status::PermissionDenied, u".info is read-only"_s);
    if (!buildChildren(*c.db, r.path, r.children, &writes, &why))
        return refused(status::InvalidRequest, why);
    if (writes.empty())
        return {};
    if (!m_authorizer->mayWrite(c.identity, *c.db, r.path, writes, &why))
        return refused(status::PermissionDenied, why);
    if (!c.db->write(r.path, std::move(writes), {WriteOrigin::Kind::Client, c.handle}, &why))
        return refused(status::WriteFailed, why);
    return {};
}

Reply RequestHandler::onDisconnect(const Caller &c, const Request &r) const
{
    using Registration = OnDisconnectQueue::Registration;
    if (isInfo(r.path))
        return refused(status::PermissionDenied, u".info is read-only"_s);
    if (!c.session)
        return refused(status::Unavailable, u"no session"_s);
    Registration reg {Registration::Action::Cancel, r.path, {}, {}, nowMs()};
    QString why;
    if (r.action != Request::Action::OnDisconnectCancel) {
        // Validated and authorized now, against the session's identity (docs/semantics.md §4, Rules),
        // so a bad op is refused at registration, not lost at fire time.
        std::vector<Write> check;
        if (r.action == Request::Action::OnDisconnectSet) {
            Node node;
            if (!buildWriteValue(r.data, r.path, c.db->root(), nowMs(), &node, &why))
                return refused(status::InvalidRequest, why);
            check.push_back({Path(), std::move(node)});
            reg.action = Registration::Action::Set;
            reg.value = r.data;
        } else {
            if (!buildChildren(*c.db, r.path, r.children, &check, &why))
                return refused(status::InvalidRequest, why);
            reg.action = Registration::Action::Update;
            reg.children = r.children;
            // Raw update values may hold arrays; queue them in export form like the SDK's own model.
            for (auto &[rel, json] : reg.children) {
                if (json.isArray() || json.isObject()) {
                    Node n;
                    if (!containsServerValues(json) && Node::fromJson(json, &n, &why))
                        json = n.toJson();
                }
            }
        }
        if (!m_authorizer->mayWrite(c.identity, *c.db, r.path, check, &why))
            return refused(status::PermissionDenied, why);
    }
    OnDisconnectQueue &queue = c.session->queue();
    // The cap bounds a session's memory and its snapshot in the data file. A cancel only ever helps, and a session
    // already over a lowered cap may still replace what it holds.
    const int cap = m_limits.maxOpsPerSession;
    if (reg.action != Registration::Action::Cancel) {
        const size_t after = queue.sizeAfter(reg);
        if (after > size_t(cap) && after > queue.ops().size())
            return refused(status::TooManyOps,
                u"a session may hold at most %1 onDisconnect ops (lark-server --max-ops-per-session)"_s.arg(cap));
    }
    // Only a data file can fail to keep the op; the copy to take it back is made only then.
    std::optional<OnDisconnectQueue> before;
    if (m_ledger->recordsCanBeLost())
        before = queue;
    queue.apply(reg);
    Reply reply;
    if (!m_ledger->recordRegistration(c.session, reg, &why)) {
        if (before)
            queue = *before; // an `ok` means the op is durable (docs/semantics.md §4)
        return refused(status::WriteFailed, why);
    }
    if (before) {
        // If the batch holding this op is lost, the client is told write_failed: then the op must not stay queued.
        reply.undo = [ledger = m_ledger, id = c.session->id(), before = *std::move(before)] {
            if (Session *s = ledger->findSession(id)) {
                s->queue() = before;
                ledger->sessionUpdated(s);
            }
        };
    }
    qCDebug(lcSession).noquote() << c.session->handle() << "registered an op at" << r.path.toString()
                                 << "queued ops:" << queue.ops().size();
    m_ledger->sessionUpdated(c.session);
    return reply;
}

} // namespace lark
