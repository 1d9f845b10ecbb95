// SPDX-License-Identifier: MIT
// Database: construction, the connection and its reconnects, the wire (framing, replies, pushes) and auth. The
// local cache, views and events are in databaseviews.cpp; writes, gets, onDisconnect and transactions in
// databasewrites.cpp.
#include "database_p.h"

#include "protocol/framing.h"
#include "protocol/messages.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QUrlQuery>
#include <QWebSocket>

Q_LOGGING_CATEGORY(lcClient, "lark.client", QtWarningMsg)

using namespace Qt::Literals::StringLiterals;

namespace lark::client
{

using detail::isInfoPath;

namespace
{

/** An "auth" credential is a JWT whose payload has iat (the SDK's rule); anything else goes as "gauth". */
bool looksLikeFirebaseJwt(const QString &token)
{
    const auto parts = QStringView(token).split(u'.');
    if (parts.size() != 3)
        return false;
    const auto payload = QByteArray::fromBase64Encoding(parts[1].toLatin1(), QByteArray::Base64UrlEncoding);
    return payload && QJsonDocument::fromJson(*payload).object().contains(u"iat"_s);
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
        m_lastError = u"no answer within %1 s"_s.arg(m_options.connectTimeoutMs / 1000.0);
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
    if (socket->error() != QAbstractSocket::UnknownSocketError)
        m_lastError = socket->errorString();
    else if (!socket->closeReason().isEmpty())
        m_lastError = u"closed by the server: %1"_s.arg(socket->closeReason());
    else if (m_lastError.isEmpty() || isConnected())
        m_lastError = u"the connection closed"_s;
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
            t, {Error::Code::Disconnected, u"the connection was lost while the transaction was in flight"_s}, false);
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
        // The server dropped these listens itself (a rules change, on Firebase): their listeners go, as in the JS SDK.
        QStringList revoked;
        for (const auto &[key, view] : m_views) {
            if (view.path == p && !isInfoPath(view.path))
                revoked.append(key);
        }
        const Error e(Error::Code::PermissionDenied, u"Client doesn't have permission to access the desired data."_s);
        for (const QString &key : std::as_const(revoked))
            cancelView(key, e);
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
    m_lastError.clear();
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
        const Error e = Error::fromStatus(status, d.toString());
        if (!e.isOk())
            Q_EMIT authFailed(e);
    });
}

} // namespace lark::client
