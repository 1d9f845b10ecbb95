// SPDX-License-Identifier: MIT
#include "connection.h"

#include "db/servervalues.h"
#include "db/validation.h"
#include "logging.h"
#include "protocol/messages.h"
#include "requesthandler.h"
#include "server.h"
#include "session.h"
#include "v5requests.h"
#include "websocket.h"

#include <QDateTime>
#include <QJsonArray>

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{

using namespace status;

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

/** The credential of a v5 auth action: `gauth`, `auth` or `unauth`. */
Authenticator::Credential v5Credential(const QString &action)
{
    if (action == u"gauth"_s)
        return Authenticator::Credential::Admin;
    if (action == u"auth"_s)
        return Authenticator::Credential::Token;
    return Authenticator::Credential::None;
}

} // namespace

Connection::Connection(Server *server, ServerWebSocket *socket, Database *db)
    : QObject(server)
    , m_server(server)
    , m_socket(socket)
    , m_db(db)
    , m_frames(server->config().maxMessageBytes)
{
    socket->setParent(this);
    connect(socket, &ServerWebSocket::textMessageReceived, this, &Connection::onTextFrame);
    connect(socket, &ServerWebSocket::binaryMessageReceived, this, &Connection::onBinaryFrame);
    connect(socket, &ServerWebSocket::activity, this, &Connection::touch);
    connect(socket, &ServerWebSocket::peerClosed, this, &Connection::onPeerClosed);
    connect(socket, &ServerWebSocket::protocolError, this, &Connection::closeWithError);
    connect(socket, &ServerWebSocket::disconnected, this, &Connection::onDisconnected);
    touch();
    m_lastPing = m_lastActivity;
    m_tokenExpiry.setSingleShot(true);
    m_tokenExpiry.setTimerType(Qt::PreciseTimer);
    connect(&m_tokenExpiry, &QTimer::timeout, this, &Connection::onTokenExpiryTimer);
}

Connection::~Connection() = default;

QString Connection::remoteAddress() const
{
    QHostAddress a = m_socket->peerAddress();
    bool ok = false;
    const QHostAddress v4(a.toIPv4Address(&ok));
    if (ok)
        a = v4;
    return u"%1:%2"_s.arg(a.toString()).arg(m_socket->peerPort());
}

QString Connection::describe() const
{
    return u"%1 %2"_s.arg(remoteAddress(), m_session ? m_session->handle() : u"-"_s);
}

void Connection::start(const QString &lastSessionId)
{
    if (!lastSessionId.isEmpty() && m_server->backend().sharesSessions()) {
        m_starting = true;
        m_server->resumeShared(this, m_db, lastSessionId);
        return;
    }
    bool resumed = false;
    Session *s = m_server->attach(this, m_db, lastSessionId, &resumed);
    finishStart(s, resumed);
}

void Connection::finishStart(Session *s, bool resumed)
{
    m_session = s;
    m_resumed = resumed;
    m_starting = false;
    // --auth verify: a resumed session's token may have expired while it was away, so its connection acts as
    // anonymous until it shows a token again (the SDK sends it first thing after the hello).
    m_tokenLapsed = m_resumed && m_server->authenticator().verifiesTokens();
    QString host = QString::fromLatin1(m_socket->host());
    if (host.isEmpty())
        host = u"%1:%2"_s.arg(m_server->config().host.toString()).arg(m_server->port());
    send(protocol::hello(nowMs(), host, m_session->id()));
    for (const QByteArray &message : std::exchange(m_early, {})) {
        if (m_serverClosing || m_lost || m_closeAfterHeld)
            break;
        handleMessage(message);
    }
}

void Connection::touch()
{
    m_lastActivity = m_server->monotonicMs();
}

void Connection::ping()
{
    m_lastPing = m_server->monotonicMs();
    m_socket->ping();
}

void Connection::send(const QByteArray &message)
{
    if (m_lost || m_serverClosing)
        return;
    // A reply goes to this connection only: framed here, not through the server's shared push frame. Nearly every
    // reply fits one frame, so the hot path skips splitFrames' list.
    if (message.size() <= protocol::MaxFrameBytes) {
        m_socket->write(protocol::serverTextFrame(message));
    } else {
        for (const QByteArray &frame : protocol::splitFrames(message))
            m_socket->write(protocol::serverTextFrame(frame));
    }
}

void Connection::deliver(const SharedEvent &event)
{
    if (m_lost || m_serverClosing)
        return;
    // Encoded once for all of the event's recipients (PushEncoder); each socket queues the shared frames.
    for (const QByteArray &frame : m_server->pushFrames(event))
        m_socket->write(frame);
}

bool Connection::closeIfTooSlow()
{
    // Judged by the sweep, never right after queueing: the socket must have had its chance to take the backlog.
    QString reason;
    if (m_serverClosing || m_lost || !m_socket->tooSlow(&reason))
        return false;
    // What it has not started to receive is dropped, so the close frame is the next thing it reads.
    m_socket->dropUnsent();
    closeWithError(QWebSocketProtocol::CloseCodePolicyViolated, reason);
    return true;
}

void Connection::closeWithError(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    if (m_serverClosing || m_lost || m_closeAfterHeld)
        return;
    if (!m_held.empty()) {
        // Every request before the bad input is answered first, in order (docs/wire-protocol.md §6), even those whose
        // replies wait for a commit; releaseCommitted() closes after the last of them. Nothing more is read meanwhile.
        m_closeAfterHeld = std::make_pair(code, reason);
        return;
    }
    qCWarning(lcProtocol).noquote() << "closing" << describe() << "with" << int(code) << reason;
    m_serverClosing = true;
    m_socket->close(code, reason);
}

void Connection::abortDead()
{
    qCInfo(lcSession).noquote() << "no life from" << describe() << "within dead-after; dropping the socket";
    m_serverClosing = true;
    m_socket->abort();
}

void Connection::releaseForTakeover(const QString &reason)
{
    m_released = true;
    m_serverClosing = true;
    m_session = nullptr;
    m_socket->close(
        QWebSocketProtocol::CloseCodeNormal, reason.isEmpty() ? u"session resumed on another connection"_s : reason);
}

void Connection::closeForShutdown()
{
    m_released = true;
    m_serverClosing = true;
    m_socket->close(QWebSocketProtocol::CloseCodeGoingAway, u"server shutting down"_s);
}

void Connection::silence()
{
    m_socket->disconnect(this);
    m_lost = true;
}

void Connection::onPeerClosed()
{
    // The client's close frame: a closed tab, fired at once (docs/semantics.md §1). Ours are not the peer's.
    if (!m_serverClosing && !m_closeAfterHeld) // after bad input, the loss stays abnormal (docs/semantics.md §7)
        m_peerClosed = true;
}

void Connection::onDisconnected()
{
    if (m_lost)
        return;
    m_lost = true;
    for (auto it = m_listens.cbegin(); it != m_listens.cend(); ++it)
        m_db->unlisten(this, it->path, it.key().second);
    m_listens.clear();
    m_server->adminFeed()->removeWatcher(this);
    Session *s = m_released ? nullptr : m_session;
    m_session = nullptr;
    m_server->connectionLost(this, s, m_peerClosed);
    deleteLater();
}

void Connection::onBinaryFrame()
{
    closeWithError(QWebSocketProtocol::CloseCodeDatatypeNotSupported, u"binary frames are not supported"_s);
}

void Connection::onTextFrame(const QByteArray &frame)
{
    if (m_serverClosing || m_lost || m_closeAfterHeld)
        return;
    QByteArray message;
    switch (m_frames.feed(frame, &message)) {
    case protocol::FrameAssembler::Result::Pending:
    case protocol::FrameAssembler::Result::KeepAlive:
        return;
    case protocol::FrameAssembler::Result::TooBig:
        closeWithError(QWebSocketProtocol::CloseCodeTooMuchData,
            u"message larger than %1 bytes"_s.arg(m_server->config().maxMessageBytes));
        return;
    case protocol::FrameAssembler::Result::BadCount:
        closeWithError(QWebSocketProtocol::CloseCodeProtocolError, u"frame count out of range"_s);
        return;
    case protocol::FrameAssembler::Result::Message:
        if (m_starting) {
            // Before the hello (a resume the shared backend has not answered yet): kept, within reason.
            constexpr size_t MaxEarly = 1000;
            if (m_early.size() >= MaxEarly) {
                closeWithError(QWebSocketProtocol::CloseCodePolicyViolated,
                    u"more than %1 messages before the hello"_s.arg(MaxEarly));
                return;
            }
            m_early.push_back(message);
            return;
        }
        handleMessage(message);
        return;
    }
}

void Connection::handleMessage(const QByteArray &utf8)
{
    protocol::Envelope envelope;
    QString why;
    switch (protocol::parseEnvelope(utf8, &envelope, &why)) {
    case protocol::EnvelopeError::None:
        break;
    case protocol::EnvelopeError::NotJson:
        closeWithError(QWebSocketProtocol::CloseCodeWrongDatatype, why);
        return;
    case protocol::EnvelopeError::NotEnvelope:
    case protocol::EnvelopeError::NoRequestNumber:
        closeWithError(QWebSocketProtocol::CloseCodeProtocolError, why);
        return;
    }
    if (envelope.kind == protocol::Envelope::Kind::Control) {
        if (envelope.type == u"p"_s)
            send(protocol::pong());
        // Other control messages (n/a of long-poll upgrades) mean nothing to a WebSocket-only server.
        return;
    }
    handleRequest(envelope.r, envelope.action, envelope.body);
}

void Connection::handleRequest(qint64 r, const QString &action, const QJsonValue &bodyValue)
{
    const Backend &backend = m_server->backend();
    const quint64 recordsBefore = backend.recordCount();
    const QJsonObject b = bodyValue.toObject();
    Reply reply {Ok, QString()};
    if (!bodyValue.isObject() && !bodyValue.isUndefined() && !bodyValue.isNull()) {
        reply = {InvalidRequest, u"request body must be an object"_s};
    } else if (const std::optional<Request::Action> data = v5DataAction(action)) {
        reply = handleData(*data, b);
    } else if (action == u"auth"_s || action == u"gauth"_s || action == u"unauth"_s) {
        reply = handleAuth(action, b);
    } else if (action == u"s"_s || action == u"appcheck"_s || action == u"unappeck"_s) {
        reply = {Ok, QString()}; // stats and App Check: nothing to do, but the SDK counts the reply towards health
    } else if (action == u"lark.watch"_s) {
        reply = handleWatch();
    } else {
        reply = {InvalidRequest, u"unknown action \"%1\""_s.arg(action.left(64))};
    }
    if (reply.status != Ok && reply.status != PermissionDenied) // the rules' denials are logged with their rule
        qCInfo(lcProtocol).noquote() << "refused" << action.left(64) << "from" << describe() << ":" << reply.status
                                     << reply.data.toString();
    // Durability (docs/semantics.md §4, §6): a request that recorded something (a write, an o/om/oc, an auth that
    // changed the stored identity) is only in the store's open batch, so its `ok` waits for that batch's commit.
    // Order (docs/wire-protocol.md §6): once a reply waits, every later reply of this connection waits behind it, even
    // one that recorded nothing (a g or q answered after a pending write must not overtake its ok). Pushes are not
    // held: listeners, the writer's own included, may see a write before it is durable, and so before its ok.
    const quint64 batch = backend.recordCount() != recordsBefore ? backend.openBatch() : 0;
    if (batch != 0 || !m_held.empty()) {
        m_held.push_back({batch, r, reply.status, reply.data, std::move(reply.undo)});
        m_server->awaitCommit(this);
        return;
    }
    send(protocol::reply(r, reply.status, reply.data));
}

bool Connection::releaseCommitted(quint64 batch, bool ok, const QString &error)
{
    std::vector<std::function<void()>> undos;
    // Batches commit in order, so every reply up to the first one waiting for a later batch can go.
    while (!m_held.empty() && m_held.front().batch <= batch) {
        HeldReply &h = m_held.front();
        if (!ok && h.batch != 0 && h.status == Ok) {
            // The write was applied and pushed when it was recorded and cannot be taken back from memory; the client
            // hears that it is not durable. Queued ops and identities can be put back, so they are.
            if (error == Backend::DataStaleError) {
                h.status = DataStale;
                h.data = u"Transaction hash does not match"_s;
            } else {
                qCWarning(lcProtocol).noquote()
                    << "request" << h.r << "of" << describe() << "lost its commit: answered" << WriteFailed;
                h.status = WriteFailed;
                h.data = error;
            }
            if (h.undo)
                undos.push_back(std::move(h.undo));
        }
        send(protocol::reply(h.r, h.status, h.data));
        m_held.pop_front();
    }
    // Newest first: each undo restores the state from before its own request.
    for (auto it = undos.rbegin(); it != undos.rend(); ++it)
        (*it)();
    if (m_held.empty() && m_closeAfterHeld) {
        const auto [code, reason] = *std::exchange(m_closeAfterHeld, std::nullopt);
        closeWithError(code, reason);
    }
    return !m_held.empty();
}

Reply Connection::handleData(Request::Action action, const QJsonObject &b)
{
    using Action = Request::Action;
    Request request;
    Reply refusal;
    if (!decodeV5Request(action, b, &request, &refusal))
        return refusal;
    // Each listen holds memory and fan-out work on the server: a transport's resource, capped here. A listen again
    // (the SDK re-sends its listens after every hello) replaces the one it had, so it is not a new one. A listen of
    // .info holds nothing here (the SDK serves .info itself), so it does not count.
    const bool counted = (action == Action::Listen || action == Action::Unlisten)
        && !(!request.path.isRoot() && request.path.front() == u".info"_s);
    QPair<QString, QString> key;
    if (counted) {
        key = {request.path.toString(), request.query.identifier()};
        const int cap = m_server->config().maxListensPerConnection;
        if (action == Action::Listen && m_listens.size() >= cap && !m_listens.contains(key))
            return {TooManyListens, u"a connection may hold at most %1 listens (lark-server --max-listens)"_s.arg(cap)};
    }
    Caller caller;
    caller.db = m_db;
    caller.session = m_session;
    caller.sink = this;
    caller.transport = u"websocket"_s;
    if (m_session) {
        caller.identity = identity();
        caller.handle = m_session->handle();
    }
    Reply reply = m_server->requests().handle(caller, request);
    if (counted && action == Action::Listen && reply.isOk()) {
        const QJsonObject q = request.tag > 0 ? b.value(u"q"_s).toObject() : QJsonObject();
        m_listens.insert(key, {request.path, request.query, q});
    } else if (counted && action == Action::Unlisten)
        m_listens.remove(key);
    return reply;
}

void Connection::recheckListens(qint64 now)
{
    if (m_lost || m_serverClosing)
        return;
    const Identity who = identity();
    for (auto it = m_listens.begin(); it != m_listens.end();) {
        const std::optional<Denied> no = m_server->requests().recheckListen(who, *m_db, it->path, it->query, now);
        if (!no) {
            ++it;
            continue;
        }
        qCInfo(lcRules).noquote() << u"revoked the listen of %1 (%2) at %3 in %4 by %5"_s.arg(
            describe(), who.describe(), it->path.toString(), m_db->name(), no->rule);
        m_db->unlisten(this, it->path, it.key().second);
        send(protocol::listenRevoked(it->path.toString(), it->wireQuery));
        it = m_listens.erase(it);
    }
}

Reply Connection::handleAuth(const QString &action, const QJsonObject &b)
{
    if (!m_session)
        return {Unavailable, u"no session"_s};
    Authenticator::Result auth = m_server->authenticator().authenticate(
        v5Credential(action), b.value(u"cred"_s).toString(), m_socket->admission());
    if (!auth.isOk())
        return {auth.status, auth.message};
    const Identity identity = std::move(auth.identity);
    const bool firstOnResumed = m_resumed && !m_session->authSeenOnConnection;
    if (firstOnResumed && identity != m_session->identity()) {
        qCInfo(lcSession).noquote() << m_session->handle() << "resumed as" << identity.describe() << "instead of"
                                    << m_session->identity().describe() << "- ending it and starting afresh";
        m_session = m_server->restartSession(this, m_session);
        m_resumed = false;
    }
    m_session->authSeenOnConnection = true;
    std::function<void()> undo;
    const bool changed = identity != m_session->identity();
    if (changed) {
        const Identity previous = m_session->identity();
        m_session->setIdentity(identity);
        QString why;
        if (!m_server->persistSession(m_session, &why)) {
            m_session->setIdentity(previous);
            return {WriteFailed, why};
        }
        if (m_server->backend().isPersistent()) {
            undo = [server = m_server, id = m_session->id(), previous] {
                if (Session *s = server->findSession(id)) {
                    s->setIdentity(previous);
                    server->noteSessionChanged(s);
                }
            };
        }
        qCInfo(lcSession).noquote() << m_session->handle() << "is now" << identity.describe();
    }
    m_session->setIdentity(identity);
    m_server->noteSessionChanged(m_session);
    watchTokenExpiry(auth.expiresAtMs);
    // What this connection may read, and what its session's ops may write, follow the identity (docs/semantics.md §4).
    // Claims count too (rules read auth.token), so the listens are checked after every auth.
    recheckListens(nowMs());
    if (changed)
        m_server->recheckQueuedOps(m_session);
    if (action == u"unauth"_s)
        return {Ok, u"unauthenticated"_s, undo};
    const QJsonValue exp = identity.claims.value(u"exp"_s);
    return {Ok, QJsonObject {{u"auth"_s, identity.toAuthJson()}, {u"expires"_s, exp.isDouble() ? exp : QJsonValue()}},
        undo};
}

Reply Connection::handleWatch()
{
    return m_server->adminFeed()->watch(this, identity(), m_server->describeStore(), m_server->describeStreams());
}

Identity Connection::identity() const
{
    return m_session && !m_tokenLapsed ? m_session->identity() : Identity();
}

void Connection::watchTokenExpiry(qint64 expiresAtMs)
{
    m_tokenLapsed = false;
    m_tokenExpiresAtMs = expiresAtMs;
    if (expiresAtMs <= 0) {
        m_tokenExpiry.stop();
        return;
    }
    // QTimer takes an int of ms (about 24 days): a later expiry is re-armed when this one fires.
    m_tokenExpiry.start(int(std::clamp<qint64>(expiresAtMs - nowMs(), 0, std::numeric_limits<int>::max())));
}

void Connection::onTokenExpiryTimer()
{
    if (m_lost || m_serverClosing || m_tokenExpiresAtMs <= 0)
        return;
    if (nowMs() < m_tokenExpiresAtMs) {
        watchTokenExpiry(m_tokenExpiresAtMs);
        return;
    }
    m_tokenExpiresAtMs = 0;
    m_tokenLapsed = true;
    qCInfo(lcSession).noquote() << describe() << "token expired; acting as anonymous until it authenticates again";
    // The connection acts as anonymous now, so its listens are checked again; the session (and its ops) keep the
    // identity they were authorised with (docs/semantics.md §4).
    recheckListens(nowMs());
    // expired_token rather than invalid_token: the SDK (PersistentConnection.onAuthRevoked_) drops the token, closes,
    // reconnects and fetches a fresh one for either, but counts invalid_token towards a threshold (3) after which it
    // backs off to its longest reconnect delay and reports the token as invalid. An expired token is not invalid.
    send(protocol::authRevoked(ExpiredToken, u"the auth token expired"_s));
}

} // namespace lark
