// SPDX-License-Identifier: MIT
// Database: listens, the local cache (the server's data with this client's pending writes on top) and the events
// its views raise. See database.cpp for the connection, databasewrites.cpp for what changes the cache.
#include "database_p.h"

#include "protocol/messages.h"

#include <QJsonDocument>

using namespace Qt::Literals::StringLiterals;

namespace lark::client
{

using detail::isInfoPath;
using detail::nodeFromSelection;
using detail::orderedKeys;

std::shared_ptr<const Node> detail::nodeFromSelection(const lark::Query &query, const Node *data)
{
    Node result;
    for (const auto &[key, child] : query.select(data))
        result.set(Path({*key}), child->clone());
    return std::make_shared<const Node>(std::move(result));
}

QStringList detail::orderedKeys(const lark::Query &query, const Node *node)
{
    QStringList keys;
    for (const auto &[key, child] : query.select(node))
        keys.append(*key);
    return keys;
}

QString Database::viewKey(const Path &path, const QJsonObject &q)
{
    return path.toString() + u'|' + QString::fromUtf8(QJsonDocument(q).toJson(QJsonDocument::Compact));
}

quint64 Database::addListener(
    const Query &q, Event event, const QObject *context, EventCallback cb, CancelCallback cancelled)
{
    cb = detail::guarded(context, std::move(cb));
    cancelled = detail::guarded(context, std::move(cancelled));
    if (!cb)
        return 0; // a null context (warned about): a listener that could never be called back
    lark::Query order;
    QString error;
    if (!lark::Query::fromWire(q.wireQuery(), &order, &error)) {
        QTimer::singleShot(0, this, [cancelled, error] {
            if (cancelled)
                cancelled({Error::Code::InvalidRequest, error});
        });
        return 0;
    }
    const quint64 id = m_nextId++;
    // Queries that load all data share one default listen; only windows are listened to separately.
    const QJsonObject wire = order.loadsAllData() ? QJsonObject() : q.wireQuery();
    const QString key = viewKey(q.path(), wire);
    auto [it, created] = m_views.try_emplace(key);
    View &view = it->second;
    if (created) {
        view.path = q.path();
        view.wire = wire;
        QString ignored;
        (void)lark::Query::fromWire(wire, &view.query, &ignored);
        view.tag = wire.isEmpty() ? 0 : nextTag();
        view.complete = isInfoPath(view.path);
    }
    QMetaObject::Connection contextGone;
    if (context != this) // a listener guarded by the database itself goes with it
        contextGone = connect(context, &QObject::destroyed, this, [this, id] { removeListener(id); });
    view.listeners.push_back({id, event, std::move(cb), std::move(cancelled), contextGone, false});
    m_listenerViews.insert(id, key);
    // Each listener keeps its own ordering (orderByChild without bounds shares the default listen).
    m_listenerOrders.insert(id, order);
    if (created && !isInfoPath(view.path) && isConnected())
        sendListen(key);
    if (view.complete || (!view.tag && coveredByPendingWrite(view.path))) {
        // Initial events come asynchronously, as in the JS SDK, so the caller's code after on() runs first.
        QTimer::singleShot(0, this, [this, key] {
            const auto it = m_views.find(key);
            if (it != m_views.end())
                refreshView(it->second);
        });
    }
    return id;
}

void Database::removeListener(quint64 listenerId)
{
    const QString key = m_listenerViews.value(listenerId);
    const auto it = m_views.find(key);
    if (it == m_views.end())
        return;
    auto &listeners = it->second.listeners;
    const auto l = std::find_if(
        listeners.begin(), listeners.end(), [listenerId](const Listener &l) { return l.id == listenerId; });
    if (l != listeners.end()) {
        forgetListener(*l);
        listeners.erase(l);
    }
    dropView(key);
}

void Database::forgetListener(const Listener &listener)
{
    m_listenerViews.remove(listener.id);
    m_listenerOrders.remove(listener.id);
    disconnect(listener.contextGone);
}

void Database::cancelView(const QString &key, const Error &error)
{
    const auto it = m_views.find(key);
    if (it == m_views.end())
        return;
    const std::vector<Listener> listeners = std::move(it->second.listeners);
    m_views.erase(it);
    QList<quint64> transactions;
    for (const auto &[id, t] : m_transactions) {
        if (t.viewKey == key)
            transactions.append(id);
    }
    for (const Listener &l : listeners)
        forgetListener(l);
    // Callbacks last, as they may add or remove listeners and views.
    for (const Listener &l : listeners) {
        if (l.cancelled)
            l.cancelled(error);
    }
    for (quint64 id : std::as_const(transactions))
        finishTransaction(id, error, false);
}

void Database::dropView(const QString &key)
{
    const auto it = m_views.find(key);
    if (it == m_views.end() || !it->second.listeners.empty() || it->second.internalUsers > 0)
        return;
    View &view = it->second;
    if (view.sent && isConnected()) {
        QJsonObject body {{u"p"_s, view.path.toString()}};
        if (view.tag) {
            body.insert(u"q"_s, view.wire);
            body.insert(u"t"_s, double(view.tag));
        }
        send(u"n"_s, body, nullptr);
    }
    m_views.erase(it);
}

void Database::sendListen(const QString &key)
{
    const auto it = m_views.find(key);
    if (it == m_views.end() || isInfoPath(it->second.path) || !isConnected())
        return;
    View &view = it->second;
    QJsonObject body {{u"p"_s, view.path.toString()}};
    // With a hash of what we hold, the server skips the data when it has not changed (docs/wire-protocol.md §9).
    QByteArray hash;
    if (view.complete)
        hash = view.tag              ? view.query.resultHash(&view.queryData)
            : m_server.at(view.path) ? m_server.at(view.path)->hash()
                                     : QByteArray();
    body.insert(u"h"_s, QString::fromLatin1(hash));
    if (view.tag) {
        body.insert(u"q"_s, view.wire);
        body.insert(u"t"_s, double(view.tag));
    }
    view.sent = true;
    send(u"q"_s, body, [this, key](const QString &status, const QJsonValue &d) {
        const auto it = m_views.find(key);
        if (it == m_views.end())
            return;
        const Error e = Error::fromStatus(status, d.toString());
        if (!e.isOk()) {
            cancelView(key, e);
            return;
        }
        it->second.complete = true;
        refreshView(it->second);
    });
}

void Database::onPush(const QString &action, const QJsonObject &body)
{
    Path path;
    QString error;
    if (!Path::parse(body.value(u"p"_s).toString(), &path, &error)) {
        qCWarning(lcClient) << "push with an invalid path:" << error;
        return;
    }
    auto apply = [&](Node &tree, const Path &at) {
        if (action == u"d"_s) {
            Node n;
            if (Node::fromJson(body.value(u"d"_s), &n, &error, 2 * Path::MaxDepth))
                tree.set(at, std::move(n));
            return;
        }
        const QJsonObject children = body.value(u"d"_s).toObject();
        for (auto it = children.constBegin(); it != children.constEnd(); ++it) {
            Path rel;
            Node n;
            if (Path::parseRelative(at, it.key(), &rel, &error)
                && Node::fromJson(it.value(), &n, &error, 2 * Path::MaxDepth))
                tree.set(at.child(rel), std::move(n));
        }
    };
    qint64 tag = 0;
    (void)protocol::toInt64(body.value(u"t"_s), &tag);
    if (tag > 0) {
        for (auto &[key, view] : m_views) {
            if (view.tag == tag && view.path.contains(path)) {
                apply(view.queryData, path.relativeTo(view.path));
                refreshView(view);
                return;
            }
        }
        return; // a window we no longer listen to
    }
    apply(m_server, path);
    refreshViews(path);
}

Node Database::withPendingWrites(Node base, const Path &at) const
{
    for (const PendingWrite &w : m_writes) {
        for (const auto &[rel, node] : w.local) {
            const Path abs = w.path.child(rel);
            if (abs.contains(at))
                base = node.valueAt(at.relativeTo(abs));
            else if (at.contains(abs))
                base.set(abs.relativeTo(at), node.clone());
        }
    }
    return base;
}

Node Database::localValue(const Path &at) const
{
    const Node *server = m_server.at(at);
    return withPendingWrites(server ? server->clone() : Node(), at);
}

std::shared_ptr<const Node> Database::localNode(const View &view) const
{
    if (isInfoPath(view.path)) {
        Node info;
        info.set(Path({u"connected"_s}), Node::fromBool(isConnected()));
        info.set(Path({u"serverTimeOffset"_s}), Node::fromNumber(double(m_serverTimeOffset)));
        return std::make_shared<const Node>(info.valueAt(view.path.mid(1)));
    }
    if (!view.tag)
        return std::make_shared<const Node>(localValue(view.path));
    // A window: the server's window with our pending writes on top, filtered again.
    Node base = withPendingWrites(view.queryData.clone(), view.path);
    return nodeFromSelection(view.query, &base);
}

void Database::refreshInfo()
{
    for (auto &[key, view] : m_views) {
        if (isInfoPath(view.path))
            refreshView(view);
    }
}

void Database::refreshViews(const Path &changed)
{
    QStringList keys;
    for (const auto &[key, view] : m_views) {
        if (!isInfoPath(view.path) && view.path.overlaps(changed))
            keys.append(key);
    }
    for (const QString &key : std::as_const(keys)) {
        const auto it = m_views.find(key);
        if (it != m_views.end())
            refreshView(it->second);
    }
}

bool Database::coveredByPendingWrite(const Path &path) const
{
    return std::any_of(m_writes.begin(), m_writes.end(), [&](const PendingWrite &w) {
        return std::any_of(w.local.begin(), w.local.end(),
            [&](const auto &entry) { return w.path.child(entry.first).contains(path); });
    });
}

void Database::refreshView(View &view)
{
    // Before the server answered, a location that a pending write replaces entirely is still known (offline
    // writes raise events at once, as in the JS SDK).
    if (!view.complete && (view.tag || !coveredByPendingWrite(view.path)))
        return;
    const QString key = viewKey(view.path, view.wire);
    std::shared_ptr<const Node> now = localNode(view);
    std::shared_ptr<const Node> before = view.last;
    const bool changed = !before || before->hash() != now->hash() || before->isNull() != now->isNull();
    view.last = now;

    // Work out every callback first: callbacks may add or remove listeners, or write.
    struct Call {
        quint64 listener;
        DataSnapshot snapshot;
        QString previous;
    };
    std::vector<Call> calls;
    for (Listener &l : view.listeners) {
        const lark::Query &order = m_listenerOrders[l.id];
        auto snapshotOf = [&](const std::shared_ptr<const Node> &node) {
            return DataSnapshot(view.path, node, orderedKeys(order, node.get()));
        };
        if (!l.primed) {
            l.primed = true;
            if (l.event == Event::Value) {
                calls.push_back({l.id, snapshotOf(now), {}});
            } else if (l.event == Event::ChildAdded) {
                QString previous;
                for (const QString &k : orderedKeys(order, now.get())) {
                    calls.push_back({l.id, DataSnapshot(view.path, now).child(k), previous});
                    previous = k;
                }
            }
            continue;
        }
        if (!changed)
            continue;
        if (l.event == Event::Value) {
            calls.push_back({l.id, snapshotOf(now), {}});
            continue;
        }
        const QStringList oldKeys = orderedKeys(order, before.get());
        const QStringList newKeys = orderedKeys(order, now.get());
        auto previousIn = [](const QStringList &keys, const QString &k) {
            const qsizetype i = keys.indexOf(k);
            return i > 0 ? keys.at(i - 1) : QString();
        };
        const DataSnapshot oldSnap(view.path, before), newSnap(view.path, now);
        switch (l.event) {
        case Event::ChildRemoved:
            for (const QString &k : oldKeys) {
                if (!newKeys.contains(k))
                    calls.push_back({l.id, oldSnap.child(k), previousIn(oldKeys, k)});
            }
            break;
        case Event::ChildAdded:
            for (const QString &k : newKeys) {
                if (!oldKeys.contains(k))
                    calls.push_back({l.id, newSnap.child(k), previousIn(newKeys, k)});
            }
            break;
        case Event::ChildChanged:
        case Event::ChildMoved:
            for (const QString &k : newKeys) {
                if (!oldKeys.contains(k))
                    continue;
                const bool valueChanged = before->child(k)->hash() != now->child(k)->hash();
                if (l.event == Event::ChildChanged && valueChanged)
                    calls.push_back({l.id, newSnap.child(k), previousIn(newKeys, k)});
                if (l.event == Event::ChildMoved && valueChanged) {
                    // Moved: its neighbour before it changed among the children present both times.
                    QStringList oldCommon = oldKeys, newCommon = newKeys;
                    oldCommon.removeIf([&](const QString &x) { return !newKeys.contains(x); });
                    newCommon.removeIf([&](const QString &x) { return !oldKeys.contains(x); });
                    if (previousIn(oldCommon, k) != previousIn(newCommon, k))
                        calls.push_back({l.id, newSnap.child(k), previousIn(newKeys, k)});
                }
            }
            break;
        case Event::Value:
            break;
        }
    }
    for (const Call &c : calls) {
        const auto vit = m_views.find(key);
        if (vit == m_views.end())
            return;
        for (const Listener &l : vit->second.listeners) {
            if (l.id == c.listener) {
                const EventCallback cb = l.callback; // the callback may remove its own listener
                cb(c.snapshot, c.previous);
                break;
            }
        }
    }
    // Transactions waiting for this location's data can run now.
    pumpTransactions();
}

} // namespace lark::client
