// SPDX-License-Identifier: MIT
#include "requesthandler.h"

#include "logging.h"
#include "session.h"

#include "db/database.h"
#include "db/servervalues.h"
#include "db/validation.h"

#include <QDateTime>

#include <algorithm>
#include <optional>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{

const AllowAll DefaultAuthorizer;

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
    qint64 now, std::vector<Write> *out, QString *why)
{
    out->reserve(children.size());
    for (const auto &[rel, json] : children) {
        Node node;
        if (!buildWriteValue(json, path.child(rel), db.root(), now, &node, why))
            return false;
        out->push_back({rel, std::move(node), containsServerValues(json) ? json : QJsonValue(QJsonValue::Undefined)});
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
    // One instant per request: rules see as `now` the time its ServerValues resolve to (docs/semantics.md §4).
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    switch (request.action) {
    case Request::Action::Listen:
        return listen(caller, request, now);
    case Request::Action::Unlisten:
        if (caller.sink)
            caller.db->unlisten(caller.sink, request.path, request.query.identifier());
        return {};
    case Request::Action::Get:
        return get(caller, request, now);
    case Request::Action::Set:
        return set(caller, request, now);
    case Request::Action::Update:
        return update(caller, request, now);
    case Request::Action::OnDisconnectSet:
    case Request::Action::OnDisconnectUpdate:
    case Request::Action::OnDisconnectCancel:
        return onDisconnect(caller, request, now);
    }
    return refused(status::InvalidRequest, u"unknown request"_s);
}

Reply RequestHandler::denied(const Caller &c, const Request &r, const Denied &why) const
{
    m_ledger->requestDenied(c, r, why);
    // The client hears only the status and Firebase's fixed text (docs/semantics.md §4); the rule goes to the log.
    return refused(status::PermissionDenied, u"Permission denied"_s);
}

Reply RequestHandler::listen(const Caller &c, const Request &r, qint64 now) const
{
    if (isInfo(r.path))
        return {status::Ok, QJsonObject()}; // the SDK serves .info itself
    if (!c.sink)
        return refused(status::InvalidRequest, u"this transport cannot listen"_s);
    if (const std::optional<Denied> no = m_authorizer->mayRead(c.identity, *c.db, r.path, r.query, now))
        return denied(c, r, *no); // before listen(): no data push may go out first
    c.db->listen(c.sink, r.path, r.query, r.tag, r.hash);
    return {status::Ok, QJsonObject()};
}

Reply RequestHandler::get(const Caller &c, const Request &r, qint64 now) const
{
    if (const std::optional<Denied> no = m_authorizer->mayRead(c.identity, *c.db, r.path, r.query, now))
        return denied(c, r, *no);
    if (r.query.loadsAllData())
        return {status::Ok, c.db->valueJson(r.path)};
    return {status::Ok, r.query.resultJson(c.db->root().at(r.path))};
}

Reply RequestHandler::set(const Caller &c, const Request &r, qint64 now) const
{
    if (isInfo(r.path))
        return refused(status::PermissionDenied, u".info is read-only"_s);
    Node node;
    QString why;
    if (!buildWriteValue(r.data, r.path, c.db->root(), now, &node, &why))
        return refused(status::InvalidRequest, why);
    std::vector<Write> writes;
    writes.push_back(
        {Path(), std::move(node), containsServerValues(r.data) ? r.data : QJsonValue(QJsonValue::Undefined)});
    if (const std::optional<Denied> no = m_authorizer->mayWrite(c.identity, *c.db, r.path, writes, now))
        return denied(c, r, *no);
    // After the rules: a denied transaction is refused at once, not retried on datastale until the SDK gives up.
    if (r.hasExpectedHash && r.hash != c.db->hashAt(r.path))
        return refused(status::DataStale, u"Transaction hash does not match"_s);
    if (!c.db->write(r.path, std::move(writes), {WriteOrigin::Kind::Client, c.handle, r.hasExpectedHash}, &why))
        return refused(status::WriteFailed, why);
    return {};
}

Reply RequestHandler::update(const Caller &c, const Request &r, qint64 now) const
{
    std::vector<Write> writes;
    QString why;
    if (isInfo(r.path))
        return refused(status::PermissionDenied, u".info is read-only"_s);
    if (!buildChildren(*c.db, r.path, r.children, now, &writes, &why))
        return refused(status::InvalidRequest, why);
    if (writes.empty())
        return {};
    // One check of the whole batch against one would-be tree: all of it is allowed, or none (docs/semantics.md §4).
    if (const std::optional<Denied> no = m_authorizer->mayWrite(c.identity, *c.db, r.path, writes, now))
        return denied(c, r, *no);
    if (!c.db->write(r.path, std::move(writes), {WriteOrigin::Kind::Client, c.handle}, &why))
        return refused(status::WriteFailed, why);
    return {};
}

Reply RequestHandler::onDisconnect(const Caller &c, const Request &r, qint64 now) const
{
    using Registration = OnDisconnectQueue::Registration;
    if (isInfo(r.path))
        return refused(status::PermissionDenied, u".info is read-only"_s);
    if (!c.session)
        return refused(status::Unavailable, u"no session"_s);
    Registration reg {Registration::Action::Cancel, r.path, {}, {}, now};
    QString why;
    if (r.action != Request::Action::OnDisconnectCancel) {
        // Validated and authorized now, against the session's identity (docs/semantics.md §4, Rules),
        // so a bad op is refused at registration, not lost at fire time.
        std::vector<Write> check;
        if (r.action == Request::Action::OnDisconnectSet) {
            Node node;
            if (!buildWriteValue(r.data, r.path, c.db->root(), now, &node, &why))
                return refused(status::InvalidRequest, why);
            check.push_back({Path(), std::move(node)});
            reg.action = Registration::Action::Set;
            reg.value = r.data;
        } else {
            if (!buildChildren(*c.db, r.path, r.children, now, &check, &why))
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
        // The caller's identity is the session's, which the op keeps, except while an expired token is not replaced
        // yet: then the stricter anonymous one, so a lapsed token cannot queue what it could not write.
        if (const std::optional<Denied> no = m_authorizer->mayWrite(c.identity, *c.db, r.path, check, now))
            return denied(c, r, *no);
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

std::optional<Denied> RequestHandler::recheckListen(
    const Identity &who, const Database &db, const Path &path, const Query &query, qint64 now) const
{
    if (isInfo(path))
        return std::nullopt;
    return m_authorizer->mayRead(who, db, path, query, now);
}

std::vector<RequestHandler::DroppedOp> RequestHandler::recheckQueuedOps(Session *s, qint64 now) const
{
    using Op = OnDisconnectQueue::Op;
    using Kind = OnDisconnectQueue::Kind;
    const Database &db = *s->database();
    const std::vector<Op> ops = s->queue().ops();
    std::vector<DroppedOp> dropped;
    // The queue keeps an `om` as one op per key, each with the registration's time: a run of such ops is checked
    // again as the one batch it was registered as (so a .validate sees its siblings), anything else as a set.
    for (size_t i = 0; i < ops.size();) {
        size_t end = i + 1;
        if (ops[i].kind != Kind::Set) {
            while (end < ops.size() && ops[end].kind != Kind::Set && ops[end].registeredAt == ops[i].registeredAt)
                ++end;
            if (std::none_of(ops.begin() + qsizetype(i), ops.begin() + qsizetype(end),
                    [](const Op &op) { return op.kind == Kind::Update; }))
                end = i + 1; // removes only: each was an `o` of null
        }
        Path base = end - i > 1 ? ops[i].path.parent() : ops[i].path;
        for (size_t k = i + 1; k < end; ++k) {
            while (!base.isRoot() && (!base.contains(ops[k].path) || base == ops[k].path))
                base = base.parent();
        }
        std::vector<Write> writes;
        bool resolvable = true;
        for (size_t k = i; k < end; ++k) {
            Node node;
            QString why;
            // A value that no longer resolves is the fire time's business (skipped there), not the rules'.
            resolvable = resolvable && buildWriteValue(ops[k].value, ops[k].path, db.root(), now, &node, &why);
            writes.push_back({ops[k].path.relativeTo(base), std::move(node)});
        }
        if (resolvable) {
            if (const std::optional<Denied> no = m_authorizer->mayWrite(s->identity(), db, base, writes, now)) {
                for (size_t k = i; k < end; ++k)
                    dropped.push_back({ops[k], *no});
            }
        }
        i = end;
    }
    for (const DroppedOp &d : dropped) {
        // Queued paths never overlap, so the cancel of an op's own path takes exactly that op; it is recorded (and
        // replayed from the data file) like a client's `oc`.
        const OnDisconnectQueue::Registration cancel {
            OnDisconnectQueue::Registration::Action::Cancel, d.op.path, {}, {}, now};
        s->queue().apply(cancel);
        QString why;
        if (!m_ledger->recordRegistration(s, cancel, &why))
            qCWarning(lcSession).noquote() << s->handle() << "dropped an op at" << d.op.path.toString()
                                           << "that the data file could not forget:" << why;
    }
    return dropped;
}

} // namespace lark
