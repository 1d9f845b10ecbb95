// SPDX-License-Identifier: MIT
// Database: what changes data or asks for it (writes, transactions, onDisconnect ops, gets, extension requests),
// kept in order and re-sent after a reconnect. See databaseviews.cpp for the cache they change.
#include "database_p.h"

#include "db/servervalues.h"

using namespace Qt::Literals::StringLiterals;

namespace lark::client
{

using detail::isInfoPath;
using detail::orderedKeys;

void Database::pumpTransactions()
{
    // One transaction per location at a time, oldest first, as the JS SDK queues them: the next one must see
    // the value the previous one committed, or both would send the same server hash and one would always be stale.
    QList<quint64> ready;
    std::vector<Path> busy;
    for (const auto &[id, t] : m_transactions) {
        const bool blocked
            = std::any_of(busy.begin(), busy.end(), [&path = t.path](const Path &p) { return p.overlaps(path); });
        busy.push_back(t.path);
        if (blocked || t.writeId != 0)
            continue;
        const auto v = m_views.find(t.viewKey);
        if (v != m_views.end() && v->second.complete)
            ready.append(id);
    }
    for (quint64 id : std::as_const(ready)) {
        const auto it = m_transactions.find(id);
        if (it != m_transactions.end() && it->second.writeId == 0)
            runTransaction(it->second);
    }
}

bool Database::resolveLocal(const QJsonValue &json, const Path &at, Node *out, QString *error) const
{
    QJsonValue resolved = json;
    if (containsServerValues(json)) {
        const Node current = localValue(at);
        if (!resolveServerValues(json, &current, serverTimeMs(), &resolved, error))
            return false;
    }
    return Node::fromJsonAt(resolved, at, out, error);
}

void Database::write(
    const QString &action, const Path &path, const QJsonObject &body, const QObject *context, Completion done)
{
    done = detail::guarded(context, std::move(done));
    auto fail = [this, done](const QString &why) {
        QTimer::singleShot(0, this, [done, why] {
            if (done)
                done({Error::Code::InvalidRequest, why});
        });
    };
    if (isInfoPath(path))
        return fail(u".info is read-only"_s);
    PendingWrite w;
    w.id = m_nextId++;
    w.action = action;
    w.path = path;
    w.body = body;
    w.done = std::move(done);
    QString error;
    if (action == u"p"_s) {
        Node n;
        if (!resolveLocal(body.value(u"d"_s), path, &n, &error))
            return fail(error);
        w.local.emplace_back(Path(), std::move(n));
    } else {
        const QJsonObject children = body.value(u"d"_s).toObject();
        for (auto it = children.constBegin(); it != children.constEnd(); ++it) {
            Path rel;
            Node n;
            if (!Path::parseRelative(path, it.key(), &rel, &error)
                || !resolveLocal(it.value(), path.child(rel), &n, &error))
                return fail(error);
            for (const auto &[other, node] : w.local) {
                if (other.overlaps(rel))
                    return fail(u"update paths overlap: "_s + it.key());
            }
            w.local.emplace_back(rel, std::move(n));
        }
        if (w.local.empty()) {
            QTimer::singleShot(0, this, [done = w.done] {
                if (done)
                    done({});
            });
            return;
        }
    }
    m_writes.push_back(std::move(w));
    refreshViews(path);
    if (isConnected())
        sendWrite(m_writes.back());
}

void Database::sendWrite(PendingWrite &w)
{
    QJsonObject body = w.body;
    if (w.transaction) {
        const Node *server = m_server.at(w.path);
        body.insert(u"h"_s, QString::fromLatin1(server ? server->hash() : QByteArray()));
    }
    const quint64 id = w.id;
    w.r = send(w.action, body, [this, id](const QString &status, const QJsonValue &d) { ackWrite(id, status, d); });
}

void Database::ackWrite(quint64 id, const QString &status, const QJsonValue &data)
{
    const auto it = std::find_if(m_writes.begin(), m_writes.end(), [id](const PendingWrite &w) { return w.id == id; });
    if (it == m_writes.end())
        return;
    const Path path = it->path;
    const Completion done = it->done;
    const quint64 transaction = it->transaction;
    m_writes.erase(it);
    // The server pushed the written value to our listens before this ack; a refused write is rolled back here.
    refreshViews(path);
    const Error error = Error::fromStatus(status, data.toString());
    if (transaction) {
        const auto t = m_transactions.find(transaction);
        if (t == m_transactions.end())
            return;
        if (error.code() == Error::Code::DataStale) {
            t->second.writeId = 0;
            if (++t->second.retries >= 25) // the JS SDK's limit
                finishTransaction(
                    transaction, {Error::Code::MaxRetries, u"the transaction was retried too often"_s}, false);
            else
                runTransaction(t->second);
            return;
        }
        finishTransaction(transaction, error, error.isOk());
        return;
    }
    if (done)
        done(error);
}

void Database::startTransaction(
    const Path &path, const QObject *context, TransactionUpdate update, TransactionDone done)
{
    if (!context) {
        qCWarning(lcClient) << "a transaction without a context object never runs";
        return;
    }
    Transaction t;
    t.id = m_nextId++;
    t.path = path;
    t.context = context;
    t.update = std::move(update);
    t.done = detail::guarded(context, std::move(done));
    // A transaction needs the current value: it keeps a listen on its location, like the JS SDK.
    t.viewKey = viewKey(path, {});
    auto [it, created] = m_views.try_emplace(t.viewKey);
    if (created)
        it->second.path = path;
    ++it->second.internalUsers;
    const quint64 id = t.id;
    m_transactions.emplace(id, std::move(t));
    if (created && isConnected())
        sendListen(it->first);
    if (it->second.complete)
        QTimer::singleShot(0, this, &Database::pumpTransactions);
}

void Database::runTransaction(Transaction &t)
{
    if (!t.context) { // whoever wanted it is gone: nothing more is written for them
        finishTransaction(t.id, {}, false);
        return;
    }
    const Node current = localValue(t.path);
    const std::optional<QJsonValue> next = t.update(plainJson(current));
    if (!next) {
        finishTransaction(t.id, {}, false);
        return;
    }
    PendingWrite w;
    w.id = m_nextId++;
    w.action = u"p"_s;
    w.path = t.path;
    w.body = {{u"p"_s, t.path.toString()}, {u"d"_s, *next}};
    w.transaction = t.id;
    Node n;
    QString error;
    if (!resolveLocal(*next, t.path, &n, &error)) {
        finishTransaction(t.id, {Error::Code::InvalidRequest, error}, false);
        return;
    }
    w.local.emplace_back(Path(), std::move(n));
    t.writeId = w.id;
    m_writes.push_back(std::move(w));
    refreshViews(t.path);
    if (isConnected())
        sendWrite(m_writes.back());
}

void Database::finishTransaction(quint64 id, const Error &error, bool committed)
{
    const auto it = m_transactions.find(id);
    if (it == m_transactions.end())
        return;
    Transaction t = std::move(it->second);
    m_transactions.erase(it);
    const auto v = m_views.find(t.viewKey);
    if (v != m_views.end()) {
        --v->second.internalUsers;
        dropView(t.viewKey);
    }
    if (t.done)
        t.done(error, committed, DataSnapshot(t.path, std::make_shared<const Node>(localValue(t.path))));
    pumpTransactions();
}

void Database::onDisconnectRequest(
    const QString &action, const Path &path, const QJsonObject &body, const QObject *context, Completion done)
{
    done = detail::guarded(context, std::move(done));
    QString error;
    bool valid = !isInfoPath(path);
    if (!valid)
        error = u".info is read-only"_s;
    Node check;
    if (valid && action == u"o"_s)
        valid = resolveLocal(body.value(u"d"_s), path, &check, &error);
    if (!valid) {
        QTimer::singleShot(0, this, [done, error] {
            if (done)
                done({Error::Code::InvalidRequest, error});
        });
        return;
    }
    PendingRequest request;
    request.action = action;
    request.body = body;
    m_requests.push_back(std::move(request));
    PendingRequest *stored = &m_requests.back();
    stored->reply = [this, stored, done](const QString &status, const QJsonValue &d) {
        m_requests.remove_if([stored](const PendingRequest &r) { return &r == stored; });
        if (done)
            done(Error::fromStatus(status, d.toString()));
    };
    if (isConnected())
        sendRequest(*stored);
}

void Database::sendRequest(PendingRequest &request)
{
    request.r = send(request.action, request.body, request.reply);
}

void Database::get(const Query &q, const QObject *context, GetCallback cb)
{
    cb = detail::guarded(context, std::move(cb));
    if (!cb)
        return; // nobody to answer
    const Path path = q.path();
    if (isInfoPath(path)) {
        View info;
        info.path = path;
        const DataSnapshot snap(path, localNode(info));
        QTimer::singleShot(0, this, [cb, snap] { cb({}, snap); });
        return;
    }
    lark::Query order;
    QString error;
    (void)lark::Query::fromWire(q.wireQuery(), &order, &error);
    if (!isConnected()) {
        // Offline: answer from a complete cache if there is one, else wait for the connection.
        const auto it = m_views.find(viewKey(path, order.loadsAllData() ? QJsonObject() : q.wireQuery()));
        if (it != m_views.end() && it->second.complete) {
            const auto node = localNode(it->second);
            const DataSnapshot snap(path, node, orderedKeys(order, node.get()));
            QTimer::singleShot(0, this, [cb, snap] { cb({}, snap); });
            return;
        }
    }
    PendingRequest request;
    request.action = u"g"_s;
    request.body = {{u"p"_s, path.toString()}, {u"q"_s, q.wireQuery()}};
    m_requests.push_back(std::move(request));
    PendingRequest *stored = &m_requests.back();
    stored->reply = [this, stored, cb, path, order](const QString &status, const QJsonValue &d) {
        m_requests.remove_if([stored](const PendingRequest &r) { return &r == stored; });
        const Error e = Error::fromStatus(status, d.toString());
        if (!e.isOk()) {
            cb(e, DataSnapshot());
            return;
        }
        Node n;
        QString error;
        (void)Node::fromJson(d, &n, &error, 2 * Path::MaxDepth);
        auto node = std::make_shared<const Node>(std::move(n));
        cb({}, DataSnapshot(path, node, orderedKeys(order, node.get())));
    };
    if (isConnected())
        sendRequest(*stored);
}

void Database::sendExtension(
    const QString &action, const QJsonObject &body, const QObject *context, ExtensionReply reply)
{
    const ExtensionReply callback = detail::guarded(context, std::move(reply));
    PendingRequest request;
    request.action = action;
    request.body = body;
    m_requests.push_back(std::move(request));
    PendingRequest *stored = &m_requests.back();
    stored->reply = [this, stored, callback](const QString &status, const QJsonValue &d) {
        m_requests.remove_if([stored](const PendingRequest &r) { return &r == stored; });
        if (callback)
            callback(Error::fromStatus(status, d.toString()), d);
    };
    if (isConnected())
        sendRequest(*stored);
}

} // namespace lark::client