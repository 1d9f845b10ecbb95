// SPDX-License-Identifier: MIT
// The request path without a socket: a Database, a Session and a sink in memory, as any transport would hand them.
#include "testvalues.h"

#include "db/database.h"
#include "server/requesthandler.h"
#include "server/session.h"

#include <QHash>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

namespace
{

class Sink : public ListenerSink
{
public:
    void deliver(const SharedEvent &event) override { events.push_back(event); }
    std::vector<SharedEvent> events;
};

/** The server's side of sessions, in memory; recording can be made to fail or to be losable. */
class Ledger : public SessionLedger
{
public:
    bool recordRegistration(Session *, const OnDisconnectQueue::Registration &, QString *error) override
    {
        ++recorded;
        if (!failWith.isEmpty())
            *error = failWith;
        return failWith.isEmpty();
    }
    [[nodiscard]] bool recordsCanBeLost() const override { return losable; }
    [[nodiscard]] Session *findSession(const QString &id) const override { return sessions.value(id); }
    void sessionUpdated(Session *) override { ++updates; }
    void requestDenied(const Caller &c, const Request &, const Denied &d) override
    {
        deniedRules.append(d.rule);
        deniedTransports.append(c.transport);
    }
    QHash<QString, Session *> sessions;
    QStringList deniedRules;
    QStringList deniedTransports;
    QString failWith;
    bool losable = false;
    int recorded = 0;
    int updates = 0;
};

/** Denies everything below /secret (or below `denied`), reads and writes alike, and records what it was asked. */
class DenySecret : public Authorizer
{
public:
    std::optional<Denied> mayRead(
        const Identity &who, const Database &, const Path &p, const Query &, qint64 now) const override
    {
        askedAs = who.uid;
        askedAt = now;
        return allowed(p);
    }
    std::optional<Denied> mayWrite(const Identity &who, const Database &, const Path &base,
        const std::vector<Write> &writes, qint64 now) const override
    {
        askedAs = who.uid;
        askedAt = now;
        lastWrites.clear();
        for (const Write &w : writes) {
            lastWrites.append(base.child(w.path).toString());
            if (std::optional<Denied> no = allowed(base.child(w.path)))
                return no;
        }
        if (!writes.empty())
            lastValue = writes.front().value.toJson();
        return std::nullopt;
    }
    mutable QString askedAs;
    mutable qint64 askedAt = 0;
    mutable QStringList lastWrites;
    mutable QJsonValue lastValue;
    Path denied = path(u"/secret"_s);

private:
    std::optional<Denied> allowed(const Path &p) const
    {
        if (p.overlaps(denied))
            return Denied {u"no access to "_s + denied.toString(), denied.toString() + u" .write: \"false\""_s};
        return std::nullopt;
    }
};

Request req(Request::Action action, const QString &at, const QString &data = {})
{
    Request r;
    r.action = action;
    r.path = path(at);
    if (!data.isEmpty())
        r.data = json(data);
    return r;
}

Request update(const QString &at, std::vector<std::pair<QString, QString>> children, bool onDisconnect = false)
{
    Request r = req(onDisconnect ? Request::Action::OnDisconnectUpdate : Request::Action::Update, at);
    for (const auto &[rel, value] : children)
        r.children.emplace_back(path(rel), json(value));
    return r;
}

} // namespace

class TestRequestHandler : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void setGetUpdate();
    void listenPushesWithCause();
    void transactionHash();
    void infoIsReadOnly();
    void authorizerGuardsEveryReadAndWrite();
    void onDisconnectOps();
    void onDisconnectCap();
    void onDisconnectRecordFailure();
    void onDisconnectUndo();
    void oneInstantPerRequest();
    void recheckDropsDeniedOps();

private:
    std::unique_ptr<Database> m_db;
    std::unique_ptr<Session> m_session;
    Ledger m_ledger;
    Caller m_caller;
    Sink m_sink;
};

void TestRequestHandler::init()
{
    m_db = std::make_unique<Database>(u"ns"_s);
    m_session = std::make_unique<Session>(u"sid"_s, 7, m_db.get());
    m_ledger = Ledger();
    m_ledger.sessions.insert(m_session->id(), m_session.get());
    m_sink.events.clear();
    m_caller = Caller();
    m_caller.db = m_db.get();
    m_caller.session = m_session.get();
    m_caller.sink = &m_sink;
    m_caller.identity.uid = u"alice"_s;
    m_caller.handle = m_session->handle();
}

void TestRequestHandler::setGetUpdate()
{
    const RequestHandler h(&m_ledger, nullptr, {});
    QVERIFY(h.handle(m_caller, req(Request::Action::Set, u"/a"_s, uR"({"b":1,"t":{".sv":"timestamp"}})"_s)).isOk());
    const Reply got = h.handle(m_caller, req(Request::Action::Get, u"/a/b"_s));
    QCOMPARE(got.status, status::Ok);
    QCOMPARE(got.data, json(u"1"_s));
    QVERIFY(m_db->valueJson(path(u"/a/t"_s)).isDouble()); // the ServerValue was resolved
    QVERIFY(h.handle(m_caller, update(u"/a"_s, {{u"c/d"_s, u"2"_s}, {u"b"_s, u"null"_s}})).isOk());
    QCOMPARE(m_db->valueJson(path(u"/a/c"_s)), json(uR"({"d":2})"_s));
    QCOMPARE(m_db->valueJson(path(u"/a/b"_s)), QJsonValue(QJsonValue::Null));
    // A value the tree cannot hold is refused with the reason, and nothing changes.
    const Reply bad = h.handle(m_caller, req(Request::Action::Set, u"/a"_s, uR"({"x.y":1})"_s));
    QCOMPARE(bad.status, status::InvalidRequest);
    QVERIFY(!bad.data.toString().isEmpty());
    QVERIFY(m_db->valueJson(path(u"/a/c/d"_s)).isDouble());
}

void TestRequestHandler::listenPushesWithCause()
{
    const RequestHandler h(&m_ledger, nullptr, {});
    QVERIFY(h.handle(m_caller, req(Request::Action::Listen, u"/room"_s)).isOk());
    QVERIFY(h.handle(m_caller, req(Request::Action::Set, u"/room/x"_s, u"5"_s)).isOk());
    QCOMPARE(m_sink.events.size(), 1u);
    QCOMPARE(m_sink.events[0]->path, path(u"/room/x"_s));
    QCOMPARE(m_sink.events[0]->cause->kind, WriteOrigin::Kind::Client);
    QCOMPARE(m_sink.events[0]->cause->session, m_session->handle());
    QVERIFY(h.handle(m_caller, req(Request::Action::Unlisten, u"/room"_s)).isOk());
    QVERIFY(h.handle(m_caller, req(Request::Action::Set, u"/room/x"_s, u"6"_s)).isOk());
    QCOMPARE(m_sink.events.size(), 1u);
    // A transport without listens is told so rather than silently ignored.
    Caller oneOff = m_caller;
    oneOff.sink = nullptr;
    QCOMPARE(h.handle(oneOff, req(Request::Action::Listen, u"/room"_s)).status, status::InvalidRequest);
}

void TestRequestHandler::transactionHash()
{
    const RequestHandler h(&m_ledger, nullptr, {});
    QVERIFY(h.handle(m_caller, req(Request::Action::Set, u"/n"_s, u"1"_s)).isOk());
    Request t = req(Request::Action::Set, u"/n"_s, u"2"_s);
    t.hasExpectedHash = true;
    t.hash = "not the hash";
    QCOMPARE(h.handle(m_caller, t).status, status::DataStale);
    QCOMPARE(m_db->valueJson(path(u"/n"_s)), json(u"1"_s));
    t.hash = m_db->hashAt(path(u"/n"_s));
    QVERIFY(h.handle(m_caller, t).isOk());
    QCOMPARE(m_db->valueJson(path(u"/n"_s)), json(u"2"_s));
}

void TestRequestHandler::infoIsReadOnly()
{
    const RequestHandler h(&m_ledger, nullptr, {});
    QCOMPARE(h.handle(m_caller, req(Request::Action::Set, u"/.info/x"_s, u"1"_s)).status, status::PermissionDenied);
    QCOMPARE(h.handle(m_caller, update(u"/.info"_s, {{u"x"_s, u"1"_s}})).status, status::PermissionDenied);
    QCOMPARE(h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/.info/x"_s, u"1"_s)).status,
        status::PermissionDenied);
    QVERIFY(h.handle(m_caller, req(Request::Action::Listen, u"/.info/connected"_s)).isOk());
    QVERIFY(m_sink.events.empty()); // the SDK serves .info itself
}

void TestRequestHandler::authorizerGuardsEveryReadAndWrite()
{
    DenySecret rules;
    RequestHandler h(&m_ledger, &rules, {});
    QVERIFY(h.handle(m_caller, req(Request::Action::Set, u"/open"_s, u"1"_s)).isOk());
    QCOMPARE(rules.askedAs, u"alice"_s); // asked with the caller's identity
    std::vector<Write> secret;
    secret.push_back({path(u"/secret"_s), node(u"42"_s)});
    QVERIFY(m_db->write(Path(), std::move(secret), {}));

    m_caller.transport = u"websocket"_s;
    const auto denied = [&](const Request &r) {
        const int before = int(m_ledger.deniedRules.size());
        const Reply reply = h.handle(m_caller, r);
        // Firebase's fixed text to the client; the rule only to the ledger (the log and the admin feed).
        return reply.status == status::PermissionDenied && reply.data.toString() == u"Permission denied"_s
            && m_ledger.deniedRules.size() == before + 1
            && m_ledger.deniedRules.last() == u"/secret .write: \"false\""_s
            && m_ledger.deniedTransports.last() == u"websocket"_s;
    };
    QVERIFY(denied(req(Request::Action::Get, u"/secret"_s)));
    QVERIFY(denied(req(Request::Action::Listen, u"/secret"_s)));
    QVERIFY(m_sink.events.empty());
    QVERIFY(denied(req(Request::Action::Set, u"/secret"_s, u"0"_s)));
    Request transaction = req(Request::Action::Set, u"/secret"_s, u"1"_s);
    transaction.hasExpectedHash = true;
    transaction.hash = m_db->hashAt(path(u"/secret"_s));
    QVERIFY(denied(transaction));
    QVERIFY(denied(req(Request::Action::Set, u"/"_s, u"{}"_s))); // a write above the location covers it too
    QVERIFY(denied(update(u"/"_s, {{u"open"_s, u"2"_s}, {u"secret/x"_s, u"0"_s}})));
    QVERIFY(denied(req(Request::Action::OnDisconnectSet, u"/secret"_s, u"0"_s)));
    QVERIFY(denied(update(u"/"_s, {{u"secret"_s, u"0"_s}}, true)));
    QCOMPARE(m_db->valueJson(path(u"/secret"_s)), json(u"42"_s));
    QCOMPARE(m_db->valueJson(path(u"/open"_s)), json(u"1"_s)); // the denied update changed none of its children
    QVERIFY(m_session->queue().ops().empty());
    // Withdrawing ops needs no permission: it can only remove what was allowed.
    QVERIFY(h.handle(m_caller, req(Request::Action::OnDisconnectCancel, u"/secret"_s)).isOk());

    h.setAuthorizer(nullptr); // back to allow-all
    QVERIFY(h.handle(m_caller, req(Request::Action::Get, u"/secret"_s)).isOk());
}

void TestRequestHandler::onDisconnectOps()
{
    const RequestHandler h(&m_ledger, nullptr, {});
    QVERIFY(h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/p/a"_s, u"true"_s)).isOk());
    QVERIFY(h.handle(m_caller, update(u"/p"_s, {{u"b"_s, uR"({".sv":"timestamp"})"_s}}, true)).isOk());
    QCOMPARE(m_session->queue().ops().size(), 2u);
    QCOMPARE(m_ledger.recorded, 2);
    QCOMPARE(m_ledger.updates, 2);
    QVERIFY(m_db->valueJson(path(u"/p"_s)).isNull()); // held, not applied
    QVERIFY(h.handle(m_caller, req(Request::Action::OnDisconnectCancel, u"/p"_s)).isOk());
    QVERIFY(m_session->queue().ops().empty());
    // A bad value is refused at registration rather than lost when it fires.
    QCOMPARE(h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/p"_s, uR"({"a/b":1})"_s)).status,
        status::InvalidRequest);
    // One-off callers (no session) have nothing to queue ops on.
    Caller oneOff = m_caller;
    oneOff.session = nullptr;
    QCOMPARE(h.handle(oneOff, req(Request::Action::OnDisconnectSet, u"/p"_s, u"1"_s)).status, status::Unavailable);
}

void TestRequestHandler::onDisconnectCap()
{
    const RequestHandler h(&m_ledger, nullptr, {2});
    QVERIFY(h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/a"_s, u"1"_s)).isOk());
    QVERIFY(h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/b"_s, u"1"_s)).isOk());
    const Reply over = h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/c"_s, u"1"_s));
    QCOMPARE(over.status, status::TooManyOps);
    QVERIFY(over.data.toString().contains(u"--max-ops-per-session"_s));
    QCOMPARE(m_session->queue().ops().size(), 2u);
    // Replacing an op it holds does not grow the queue, so it is not refused.
    QVERIFY(h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/b"_s, u"2"_s)).isOk());
}

void TestRequestHandler::onDisconnectRecordFailure()
{
    const RequestHandler h(&m_ledger, nullptr, {});
    QVERIFY(h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/a"_s, u"1"_s)).isOk());
    m_ledger.failWith = u"disk full"_s;
    m_ledger.losable = true;
    const Reply failed = h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/b"_s, u"1"_s));
    QCOMPARE(failed.status, status::WriteFailed);
    QCOMPARE(failed.data.toString(), u"disk full"_s);
    // An op that was not kept is not queued either: its client was told it failed.
    QCOMPARE(m_session->queue().ops().size(), 1u);
    QCOMPARE(m_session->queue().ops().front().path, path(u"/a"_s));
}

void TestRequestHandler::onDisconnectUndo()
{
    const RequestHandler h(&m_ledger, nullptr, {});
    // Memory only: nothing recorded can be lost later, so there is nothing to undo.
    QVERIFY(!h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/a"_s, u"1"_s)).undo);
    m_ledger.losable = true;
    const Reply reply = h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/b"_s, u"1"_s));
    QVERIFY(reply.isOk());
    QVERIFY(reply.undo);
    QCOMPARE(m_session->queue().ops().size(), 2u);
    // The commit holding it was lost: the queue goes back to what it was before this request.
    reply.undo();
    QCOMPARE(m_session->queue().ops().size(), 1u);
    QCOMPARE(m_session->queue().ops().front().path, path(u"/a"_s));
}

void TestRequestHandler::oneInstantPerRequest()
{
    DenySecret rules;
    const RequestHandler h(&m_ledger, &rules, {});
    // The rules' `now` is the instant the request's ServerValues resolved to, so `newData.val() === now` can hold.
    QVERIFY(h.handle(m_caller, req(Request::Action::Set, u"/t"_s, uR"({".sv":"timestamp"})"_s)).isOk());
    QCOMPARE(qint64(rules.lastValue.toDouble()), rules.askedAt);
    QCOMPARE(qint64(m_db->valueJson(path(u"/t"_s)).toDouble()), rules.askedAt);
    QVERIFY(h.handle(m_caller, update(u"/u"_s, {{u"a"_s, uR"({".sv":"timestamp"})"_s}})).isOk());
    QCOMPARE(qint64(rules.lastValue.toDouble()), rules.askedAt);
}

void TestRequestHandler::recheckDropsDeniedOps()
{
    DenySecret rules;
    rules.denied = path(u"/nowhere"_s);
    const RequestHandler h(&m_ledger, &rules, {});
    QVERIFY(h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/status/alice"_s, u"\"offline\""_s)).isOk());
    QVERIFY(h.handle(m_caller, update(u"/room"_s, {{u"a"_s, u"1"_s}, {u"b/c"_s, u"2"_s}}, true)).isOk());
    QVERIFY(h.handle(m_caller, req(Request::Action::OnDisconnectSet, u"/keep"_s, u"1"_s)).isOk());
    QCOMPARE(m_session->queue().ops().size(), 4u);
    QVERIFY(h.recheckQueuedOps(m_session.get(), 1000).empty()); // nothing denied: nothing dropped
    QCOMPARE(m_session->queue().ops().size(), 4u);

    // The update's two ops are checked again as the one batch they were registered as: both go when one is denied.
    rules.denied = path(u"/room/b"_s);
    m_session->setIdentity(m_caller.identity);
    const int recorded = m_ledger.recorded;
    const std::vector<RequestHandler::DroppedOp> dropped = h.recheckQueuedOps(m_session.get(), 1234);
    QCOMPARE(rules.askedAt, 1234);
    QCOMPARE(rules.askedAs, u"alice"_s); // the session's identity
    QCOMPARE(dropped.size(), 2u);
    QCOMPARE(dropped[0].op.path, path(u"/room/a"_s));
    QCOMPARE(dropped[1].op.path, path(u"/room/b/c"_s));
    QCOMPARE(dropped[0].denied.message, u"no access to /room/b"_s);
    QCOMPARE(m_ledger.recorded, recorded + 2); // each drop recorded like an `oc`
    QCOMPARE(m_session->queue().ops().size(), 2u);
    QCOMPARE(m_session->queue().ops()[0].path, path(u"/status/alice"_s));
    QCOMPARE(m_session->queue().ops()[1].path, path(u"/keep"_s));

    // A set is checked alone, at its path.
    rules.denied = path(u"/status"_s);
    QCOMPARE(h.recheckQueuedOps(m_session.get(), 1300).size(), 1u);
    QCOMPARE(rules.lastWrites, QStringList {u"/keep"_s});
    QCOMPARE(m_session->queue().ops().size(), 1u);
    QCOMPARE(m_session->queue().ops()[0].path, path(u"/keep"_s));
}

QTEST_GUILESS_MAIN(TestRequestHandler)
#include "tst_requesthandler.moc"
