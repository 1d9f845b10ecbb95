// SPDX-License-Identifier: MIT
#include "database.h"

#include "db/servervalues.h"
#include "protocol/framing.h"
#include "protocol/messages.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QPointer>
#include <QRandomGenerator>
#include <QUrlQuery>
#include <QWebSocket>

Q_LOGGING_CATEGORY(lcClient, "lark.client", QtWarningMsg)

using namespace Qt::Literals::StringLiterals;

namespace lark::client
{

namespace
{

const QString Ok = u"ok"_s;

bool isInfoPath(const Path &p)
{
    return !p.isRoot() && p.front() == u".info"_s;
}

/** An "auth" credential is a JWT whose payload has iat (the SDK's rule); anything else goes as "gauth". */
bool looksLikeFirebaseJwt(const QString &token)
{
    const auto parts = QStringView(token).split(u'.');
    if (parts.size() != 3)
        return false;
    const auto payload = QByteArray::fromBase64Encoding(parts[1].toLatin1(), QByteArray::Base64UrlEncoding);
    return payload && QJsonDocument::fromJson(*payload).object().contains(u"iat"_s);
}

std::shared_ptr<const Node> nodeFromSelection(const lark::Query &query, const Node *data)
{
    Node result;
    for (const auto &[key, child] : query.select(data))
        result.set(Path({*key}), child->clone());
    return std::make_shared<const Node>(std::move(result));
}

QStringList orderedKeys(const lark::Query &query, const Node *node)
{
    QStringList keys;
    for (const auto &[key, child] : query.select(node))
        keys.append(*key);
    return keys;
}

} // namespace

Database::Database(const QUrl &url, const QString &ns, const DatabaseOptions &options, QObject *parent)
    : QObject(parent)
    , m_url(url)
    , m_ns(ns)
    , m_options(options)
    , m_delayMs(options.minReconnectDelayMs)
{
    if (m_url.scheme() == u"http"_s)
        m_url.setScheme(u"ws"_s);
    else if (m_url.scheme() == u"https"_s)
        m_url.setScheme(u"wss"_s);
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &Database::connectNow);
    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        qCDebug(lcClient) << "no hello within" << m_options.connectTimeoutMs << "ms; retrying";
        onSocketClosed();
    });
    if (options.connectImmediately)
        QTimer::singleShot(0, this, &Database::goOnline);
}

Database::~Database()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->close();
    }
}

Reference Database::ref(const QString &path)
{
    Path p;
    QString error;
    if (!Path::parse(path, &p, &error))
        qCWarning(lcClient) << "invalid path" << path << error;
    return Reference(this, p);
}

qint64 Database::serverTimeMs() const
{
    return QDateTime::currentMSecsSinceEpoch() + m_serverTimeOffset;
}

void Database::setState(ConnectionState s)
{
    if (m_state == s)
        return;
    const bool wasConnected = m_state == ConnectionState::Connected;
    m_state = s;
    Q_EMIT stateChanged();
    if (wasConnected != (s == ConnectionState::Connected)) {
        refreshInfo();
        Q_EMIT connectedChanged(s == ConnectionState::Connected);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Connection

void Database::goOnline()
{
    m_wantOnline = true;
    m_delayMs = m_options.minReconnectDelayMs;
    if (!m_socket && m_state != ConnectionState::Connected) {
        m_reconnectTimer.stop();
        connectNow();
    }
}

void Database::goOffline()
{
    m_wantOnline = false;
    m_reconnectTimer.stop();
    if (m_socket) {
        m_socket->close(QWebSocketProtocol::CloseCodeNormal); // a clean close: the server fires our ops now
        onSocketClosed();
    }
    setState(ConnectionState::Offline);
}

void Database::setAuthToken(const QString &token)
{
    m_options.authToken = token;
    if (isConnected())
        sendAuth();
}

void Database::connectNow()
{
    if (m_socket || !m_wantOnline)
        return;
    QUrl url = m_url;
    url.setPath(u"/.ws"_s);
    QUrlQuery query;
    query.addQueryItem(u"v"_s, u"5"_s);
    if (!m_lastSessionId.isEmpty())
        query.addQueryItem(u"ls"_s, m_lastSessionId);
    query.addQueryItem(u"ns"_s, m_ns);
    url.setQuery(query);
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    m_socket->setMaxAllowedIncomingMessageSize(256 * 1024 * 1024);
    connect(m_socket, &QWebSocket::textMessageReceived, this, &Database::onFrame);
    connect(m_socket, &QWebSocket::disconnected, this, &Database::onSocketClosed);
    connect(m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
        [this](QAbstractSocket::SocketError) {
            // A refused connection never reaches "connected", so no disconnected() follows.
            if (m_socket && m_socket->state() != QAbstractSocket::ConnectedState)
                onSocketClosed();
        });
    m_attemptClock.restart();
    m_pendingFrames = 0;
    m_frameBuffer.clear();
    setState(ConnectionState::Connecting);
    m_connectTimer.start(m_options.connectTimeoutMs);
    m_socket->open(url);
}

void Database::onSocketClosed()
{
    if (!m_socket)
        return;
    QWebSocket *socket = m_socket;
    m_socket = nullptr;
    m_connectTimer.stop();
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
    const bool lived = m_connectedClock.isValid() && m_connectedClock.elapsed() > m_options.resetBackoffAfterMs;
    m_connectedClock.invalidate();
    m_outstanding.clear();
    for (auto &[key, view] : m_views)
        view.sent = false;
    for (PendingRequest &r : m_requests)
        r.r = 0;
    // Transaction writes in flight are lost with the connection: abort them, as the JS SDK does.
    QList<quint64> aborted;
    for (auto it = m_writes.begin(); it != m_writes.end();) {
        if (it->transaction && it->r) {
            aborted.append(it->transaction);
            it = m_writes.erase(it);
        } else {
            it->r = 0;
            ++it;
        }
    }
    for (quint64 t : aborted)
        finishTransaction(
            t, {u"disconnect"_s, u"the connection was lost while the transaction was in flight"_s}, false);
    if (!aborted.isEmpty())
        refreshViews(Path());
    if (m_wantOnline) {
        if (lived)
            m_delayMs = m_options.minReconnectDelayMs;
        scheduleReconnect();
    } else {
        setState(ConnectionState::Offline);
    }
}

void Database::scheduleReconnect()
{
    // The JS SDK's backoff: a random share of what is left of the current delay, then grow the delay.
    const double left = std::max(0.0, m_delayMs - double(m_attemptClock.isValid() ? m_attemptClock.elapsed() : 0));
    const int wait = int(QRandomGenerator::global()->generateDouble() * left);
    m_delayMs = std::min(double(m_options.maxReconnectDelayMs), m_delayMs * m_options.reconnectMultiplier);
    ++m_attempt;
    m_nextReconnectAt = QDateTime::currentMSecsSinceEpoch() + wait;
    m_reconnectTimer.start(wait);
    setState(ConnectionState::WaitingToReconnect);
    qCDebug(lcClient) << "reconnect attempt" << m_attempt << "in" << wait << "ms";
}

void Database::onFrame(const QString &frame)
{
    // Frame counts as the SDK reads them: only when not already joining a message.
    QString message;
    if (m_pendingFrames == 0) {
        if (!frame.isEmpty() && frame.size() <= 6
            && std::all_of(frame.begin(), frame.end(), [](QChar c) { return c.isDigit(); })) {
            m_pendingFrames = frame.toInt();
            m_frameBuffer.clear();
            return;
        }
        message = frame;
    } else {
        m_frameBuffer += frame;
        if (--m_pendingFrames > 0)
            return;
        message = std::move(m_frameBuffer);
        m_frameBuffer.clear();
    }
    const QJsonDocument doc = QJsonDocument::fromJson(message.toUtf8());
    if (!doc.isObject()) {
        qCWarning(lcClient) << "ignoring a message that is not JSON:" << message.left(100);
        return;
    }
    onMessage(doc.object());
}

void Database::onMessage(const QJsonObject &message)
{
    const QJsonObject d = message.value(u"d"_s).toObject();
    if (message.value(u"t"_s) == u"c"_s) {
        const QString t = d.value(u"t"_s).toString();
        if (t == u"h"_s) {
            onHello(d.value(u"d"_s).toObject());
        } else if (t == u"s"_s) {
            // The server told this client to stop: like the SDK, no reconnect until goOnline().
            qCWarning(lcClient) << "server shutdown message:" << d.value(u"d"_s).toString();
            goOffline();
        } else if (t == u"e"_s) {
            qCWarning(lcClient) << "server error:" << d.value(u"d"_s).toString();
        }
        return;
    }
    if (d.contains(u"r"_s)) {
        qint64 r = 0; // a reply to no request of ours (a server's bug) is dropped, not cast out of range
        (void)protocol::toInt64(d.value(u"r"_s), &r);
        const auto reply = m_outstanding.take(r);
        const QJsonObject b = d.value(u"b"_s).toObject();
        if (reply)
            reply(b.value(u"s"_s).toString(), b.value(u"d"_s));
        return;
    }
    const QString action = d.value(u"a"_s).toString();
    const QJsonObject body = d.value(u"b"_s).toObject();
    if (action == u"d"_s || action == u"m"_s) {
        onPush(action, body);
    } else if (action == u"c"_s) {
        Path p;
        QString error;
        if (!Path::parse(body.value(u"p"_s).toString(), &p, &error))
            return;
        for (auto &[key, view] : m_views) {
            if (view.path != p)
                continue;
            const Error e {u"permission_denied"_s, u"Client doesn't have permission to access the desired data."_s};
            for (Listener &l : view.listeners) {
                if (l.cancelled)
                    l.cancelled(e);
            }
        }
    } else if (action.startsWith(u"lark."_s)) {
        Q_EMIT extensionPush(action, d.value(u"b"_s));
    }
}

void Database::onHello(const QJsonObject &hello)
{
    const QString s = hello.value(u"s"_s).toString();
    m_resumed = !m_lastSessionId.isEmpty() && s == m_lastSessionId;
    m_sessionId = s;
    if (!s.isEmpty())
        m_lastSessionId = s;
    qint64 serverNow = QDateTime::currentMSecsSinceEpoch(); // without a usable server time: no offset
    (void)protocol::toInt64(hello.value(u"ts"_s), &serverNow);
    const qint64 offset = serverNow - QDateTime::currentMSecsSinceEpoch();
    if (offset != m_serverTimeOffset) {
        m_serverTimeOffset = offset;
        Q_EMIT serverTimeOffsetChanged(offset);
    }
    m_connectTimer.stop();
    m_attempt = 0;
    m_nextReconnectAt = 0;
    m_connectedClock.start();
    // Re-send state in the SDK's order (auth, listens, writes, then onDisconnect and other requests) before
    // anyone hears "connected": code reacting to it must find the connection authenticated.
    m_state = ConnectionState::Connected;
    if (!m_statsSent) {
        m_statsSent = true;
        send(u"s"_s, {{u"c"_s, QJsonObject {{u"sdk.cpp.lark"_s, 1}}}}, nullptr);
    }
    sendAuth();
    QStringList keys;
    for (const auto &[key, view] : m_views)
        keys.append(key);
    for (const QString &key : std::as_const(keys))
        sendListen(key);
    for (PendingWrite &w : m_writes)
        sendWrite(w);
    for (PendingRequest &r : m_requests)
        sendRequest(r);
    Q_EMIT sessionIdChanged();
    Q_EMIT stateChanged();
    refreshInfo();
    Q_EMIT connectedChanged(true);
}

qint64 Database::send(
    const QString &action, const QJsonObject &body, std::function<void(const QString &, const QJsonValue &)> reply)
{
    const qint64 r = m_nextR++;
    const QJsonObject msg {
        {u"t"_s, u"d"_s}, {u"d"_s, QJsonObject {{u"r"_s, double(r)}, {u"a"_s, action}, {u"b"_s, body}}}};
    for (const QByteArray &frame : protocol::splitFrames(QJsonDocument(msg).toJson(QJsonDocument::Compact)))
        m_socket->sendTextMessage(QString::fromUtf8(frame));
    if (reply)
        m_outstanding.insert(r, std::move(reply));
    return r;
}

void Database::sendAuth()
{
    const QString token = m_options.authToken;
    if (token.isEmpty() || !isConnected())
        return;
    const QString action = looksLikeFirebaseJwt(token) ? u"auth"_s : u"gauth"_s;
    send(action, {{u"cred"_s, token}}, [this](const QString &status, const QJsonValue &d) {
        if (status != Ok)
            Q_EMIT authFailed({status, d.toString()});
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Listens and events

QString Database::viewKey(const Path &path, const QJsonObject &q)
{
    return path.toString() + u'|' + QString::fromUtf8(QJsonDocument(q).toJson(QJsonDocument::Compact));
}

quint64 Database::addListener(const Query &q, Event event, EventCallback cb, CancelCallback cancelled)
{
    const quint64 id = m_nextId++;
    lark::Query order;
    QString error;
    if (!lark::Query::fromWire(q.wireQuery(), &order, &error)) {
        QTimer::singleShot(0, this, [cancelled, error] {
            if (cancelled)
                cancelled({u"invalid_request"_s, error});
        });
        return id;
    }
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
    view.listeners.push_back({id, event, std::move(cb), std::move(cancelled), false});
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

void Database::off(quint64 listenerId)
{
    const QString key = m_listenerViews.take(listenerId);
    m_listenerOrders.remove(listenerId);
    const auto it = m_views.find(key);
    if (it == m_views.end())
        return;
    auto &listeners = it->second.listeners;
    listeners.erase(
        std::remove_if(listeners.begin(), listeners.end(), [&](const Listener &l) { return l.id == listenerId; }),
        listeners.end());
    dropView(key);
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
        if (status != Ok) {
            const Error e {status, d.toString()};
            const std::vector<Listener> listeners = it->second.listeners;
            m_views.erase(it);
            for (const Listener &l : listeners) {
                m_listenerViews.remove(l.id);
                if (l.cancelled)
                    l.cancelled(e);
            }
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

// ---------------------------------------------------------------------------------------------------------------
// Writes, onDisconnect, gets, transactions

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

void Database::write(const QString &action, const Path &path, const QJsonObject &body, Completion done)
{
    auto fail = [this, done](const QString &why) {
        QTimer::singleShot(0, this, [done, why] {
            if (done)
                done({u"invalid_request"_s, why});
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
    const Error error = status == Ok ? Error {} : Error {status, data.toString()};
    if (transaction) {
        const auto t = m_transactions.find(transaction);
        if (t == m_transactions.end())
            return;
        if (status == u"datastale"_s) {
            t->second.writeId = 0;
            if (++t->second.retries >= 25) // the JS SDK's limit
                finishTransaction(transaction, {u"maxretry"_s, u"the transaction was retried too often"_s}, false);
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

void Database::startTransaction(const Path &path, TransactionUpdate update, TransactionDone done)
{
    Transaction t;
    t.id = m_nextId++;
    t.path = path;
    t.update = std::move(update);
    t.done = std::move(done);
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
        finishTransaction(t.id, {u"invalid_request"_s, error}, false);
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

void Database::onDisconnectRequest(const QString &action, const Path &path, const QJsonObject &body, Completion done)
{
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
                done({u"invalid_request"_s, error});
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
            done(status == Ok ? Error {} : Error {status, d.toString()});
    };
    if (isConnected())
        sendRequest(*stored);
}

void Database::sendRequest(PendingRequest &request)
{
    request.r = send(request.action, request.body, request.reply);
}

void Database::get(const Query &q, GetCallback cb)
{
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
        if (status != Ok) {
            cb({status, d.toString()}, DataSnapshot());
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
    const QString &action, const QJsonObject &body, std::function<void(const Error &, const QJsonValue &)> callback)
{
    PendingRequest request;
    request.action = action;
    request.body = body;
    m_requests.push_back(std::move(request));
    PendingRequest *stored = &m_requests.back();
    stored->reply = [this, stored, callback](const QString &status, const QJsonValue &d) {
        m_requests.remove_if([stored](const PendingRequest &r) { return &r == stored; });
        if (callback)
            callback(status == Ok ? Error {} : Error {status, d.toString()}, d);
    };
    if (isConnected())
        sendRequest(*stored);
}

} // namespace lark::client
