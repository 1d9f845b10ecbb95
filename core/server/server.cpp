// SPDX-License-Identifier: MIT
#include "server.h"

#include "connection.h"
#include "db/database.h"
#include "listener.h"
#include "logging.h"
#include "pageroutes.h"
#include "protocol/messages.h"
#include "redisbackend.h"
#include "restroutes.h"
#include "rulesroutes.h"
#include "sqlitebackend.h"
#include "websocket.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QHostInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMetaMethod>
#include <QPointer>
#include <QUrlQuery>

Q_LOGGING_CATEGORY(lcServer, "lark.server", QtInfoMsg)
Q_LOGGING_CATEGORY(lcSession, "lark.session", QtInfoMsg)
Q_LOGGING_CATEGORY(lcProtocol, "lark.protocol", QtInfoMsg)

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{

// While the cluster's storage cannot take a session (docs/cluster.md): the SDK backs off and retries.
const auto TryAgainLater = QWebSocketProtocol::CloseCode(1013);
const QString StorageUnavailable = QStringLiteral("storage unavailable, try again later");

qint64 epochMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

} // namespace

Server::Server(const ServerConfig &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_heartbeat(config.pingIntervalMs, config.deadAfterMs)
    , m_namespaces(config.defaultNamespace, config.maxNamespaces, this)
    , m_feed(&m_registry, config.deadAfterMs, [this] { return monotonicMs(); })
    , m_requests(this, &m_rules, {config.maxOpsPerSession})
{
    m_registry.setNextNumber(config.firstSessionNumber);
    connect(&m_rules, &SecurityRules::rulesChanged, this, &Server::onRulesChanged);
    addRulesRoutes(m_http, m_rules, m_authenticator, m_namespaces);
    addRestRoutes(m_http, *this);
    addPageRoutes(m_http, m_config.defaultNamespace);
    m_clock.start();
    m_sweepTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_sweepTimer, &QTimer::timeout, this, &Server::sweep);
    m_graceTimer.setSingleShot(true);
    m_graceTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_graceTimer, &QTimer::timeout, this, &Server::onGraceTimer);
    // One timer for every stream: 10,000 idle streams are not 10,000 timers.
    m_keepAliveTimer.setInterval(std::max(1, m_config.streamKeepAliveMs));
    connect(&m_keepAliveTimer, &QTimer::timeout, this, [this] {
        for (EventStream *s : std::as_const(m_streams))
            s->keepAlive();
    });
    useBackend(std::make_unique<MemoryBackend>());
    qRegisterMetaType<lark::Path>();
    qRegisterMetaType<lark::WriteOrigin>();
}

Server::~Server()
{
    shutdown();
    // The backend outlives this body (it is a member): it must not call back into a half-destroyed server.
    m_backend->disconnect(this);
    for (Connection *c : std::as_const(m_connections))
        c->silence();
    qDeleteAll(m_connections);
    // Before the databases they listen to.
    for (EventStream *s : std::exchange(m_streams, {})) {
        s->disconnect(this);
        if (s->socket())
            s->socket()->setFlushScheduler(nullptr);
        delete s;
    }
    // Sockets still handshaking are children, deleted after the members: they must not reach the flush batch.
    for (ServerWebSocket *socket : findChildren<ServerWebSocket *>(Qt::FindDirectChildrenOnly))
        socket->setFlushScheduler(nullptr);
}

void Server::useBackend(std::unique_ptr<Backend> backend)
{
    m_backend = std::move(backend);
    connect(m_backend.get(), &Backend::committed, this, &Server::onBatchCommitted);
    connect(m_backend.get(), &Backend::sessionMoved, this,
        [this](const QString &id) { dropSharedSessions(id, u"session resumed on another node"_s); });
    // Its clients reconnect (here once it has registered again, or elsewhere) and resume: nothing fires.
    connect(m_backend.get(), &Backend::fenced, this,
        [this] { dropSharedSessions(QString(), u"this node lost its lease; reconnect and resume"_s); });
    for (Database *db : m_namespaces.databases())
        m_backend->attach(db);
}

bool Server::openRedis(QString *error)
{
    RedisBackend::Options options;
    if (!redis::RedisUrl::parse(m_config.redisUrl, &options.url, error))
        return false;
    options.nodeName = m_config.nodeName.isEmpty()
        ? u"%1:%2"_s.arg(QHostInfo::localHostName())
              .arg(m_config.port != 0 ? m_config.port : QCoreApplication::applicationPid())
        : m_config.nodeName;
    options.leaseMs = m_config.deadAfterMs;
    options.graceMs = m_config.graceMs;
    options.unsafe = m_config.redisUnsafe;
    auto backend = std::make_unique<RedisBackend>(options);
    if (!backend->start([this](const QString &ns) { return database(ns); }, nullptr, error))
        return false;
    // A remote dashboard cannot see this node's log: tell the watchers when Redis goes away and comes back, and
    // when nodes join, leave or die.
    connect(backend.get(), &RedisBackend::describeChanged, this,
        [this] { broadcastToWatchers(protocol::extensionPush(u"lark.store"_s, describeStore())); });
    m_feed.setNodeName(options.nodeName);
    useBackend(std::move(backend));
    return true;
}

bool Server::openStore(QString *error)
{
    if (m_backend->isPersistent())
        return true;
    if (!m_config.redisUrl.isEmpty())
        return openRedis(error);
    if (m_config.dataFile.isEmpty())
        return true;
    auto backend
        = std::make_unique<SqliteBackend>(m_config.dataFile, m_config.fsync ? Store::Sync::Full : Store::Sync::Normal);
    Backend::Loaded loaded;
    QString why;
    if (!backend->start([this](const QString &ns) { return database(ns); }, &loaded, &why)) {
        if (error)
            *error = why;
        return false;
    }
    useBackend(std::move(backend));
    const quint64 next = loaded.nextSessionNumber;
    std::vector<Backend::StoredSession> &stored = loaded.sessions;
    m_registry.setNextNumber(next);
    // Every stored session was live or suspended when the server went away: none of them has a socket now, so all
    // come back suspended with a fresh grace (docs/semantics.md §6), to be resumed with `ls` or to fire once.
    const qint64 now = epochMs();
    for (Backend::StoredSession &st : stored) {
        Session *s = m_registry.restore(st.id, st.number, database(st.ns), monotonicMs(), now, m_config.graceMs);
        s->setIdentity(st.identity);
        s->queue().setOps(std::move(st.ops));
        s->createdAt = s->connectedAt = st.createdAt;
        noteSessionChanged(s);
    }
    qCInfo(lcServer).noquote() << "data file" << m_config.dataFile << "loaded:" << m_namespaces.size() << "namespaces,"
                               << stored.size() << "sessions back suspended for" << m_config.graceMs << "ms";
    armGraceTimer();
    return true;
}

bool Server::persistSession(Session *s, QString *error)
{
    return m_backend->saveSession(*s, error);
}

bool Server::persistRegistration(Session *s, const OnDisconnectQueue::Registration &r, QString *error)
{
    return m_backend->recordRegistration(*s, r, error);
}

bool Server::commitStore(QString *error)
{
    return m_backend->commit(error);
}

void Server::setCommitsPausedForTesting(bool paused)
{
    m_backend->setCommitsPausedForTesting(paused);
}

void Server::awaitCommit(Connection *c)
{
    if (!m_awaitingCommit.contains(c))
        m_awaitingCommit.append(c);
}

void Server::afterCommit(quint64 batch, std::function<void(bool ok, const QString &error)> done)
{
    m_commitWaiters.emplace_back(batch, std::move(done));
}

void Server::onBatchCommitted(quint64 batch, bool ok, const QString &error)
{
    if (!ok && error != Backend::DataStaleError) {
        qCCritical(lcServer).noquote() << "answering the requests that waited for the lost commit with write_failed";
        Q_EMIT storeFailed(error);
        // A remote dashboard cannot see this server's log: tell the watchers why writes are refused from now on.
        broadcastToWatchers(protocol::extensionPush(u"lark.store"_s, describeStore()));
    }
    // Taken out whole; a connection that still holds replies for a later batch is put back.
    const QList<Connection *> waiting = std::exchange(m_awaitingCommit, {});
    for (Connection *c : waiting) {
        if (c->releaseCommitted(batch, ok, error))
            m_awaitingCommit.append(c);
    }
    while (!m_commitWaiters.empty() && m_commitWaiters.front().first <= batch) {
        const auto done = std::move(m_commitWaiters.front().second);
        m_commitWaiters.pop_front();
        done(ok, error);
    }
}

bool Server::listen(QString *error)
{
    if (!openStore(error))
        return false;
    if (!m_poller)
        m_poller = new SocketPoller(this);
    if (!m_listener)
        m_listener = new Listener(
            m_poller, [this](int fd) { onTcpConnection(fd); }, this);
    // Qt's default backlog of 50 turns a connection storm into SYN retransmits (docs/transport.md §3).
    if (!m_listener->listen(m_config.host, m_config.port, 4096, error))
        return false;
    m_policy = AccessPolicy(m_config.allowedOrigins, m_config.allowedHosts, m_config.host.isLoopback());
    // Every connection is a descriptor; a reserve stays for the data file, logs and the dashboard's own sockets.
    constexpr int ReservedFiles = 64;
    const qint64 files = openFileLimit();
    m_maxConnections = m_config.maxConnections > 0
        ? m_config.maxConnections
        : int(std::clamp<qint64>(files - ReservedFiles, 1, std::numeric_limits<int>::max()));
    setTimers(m_config.pingIntervalMs, m_config.deadAfterMs, m_config.graceMs);
    qCInfo(lcServer).noquote() << "listening on" << url() << "ping" << m_config.pingIntervalMs << "ms, dead after"
                               << m_config.deadAfterMs << "ms, grace" << m_config.graceMs << "ms";
    qCInfo(lcServer).noquote() << "up to" << m_maxConnections << "connections"
                               << (m_config.maxConnections > 0
                                          ? u"(--max-connections)"_s
                                          : u"(open-file limit %1 less %2)"_s.arg(files).arg(ReservedFiles))
                               << "and" << m_config.maxHandshakes << "unfinished handshakes at once";
    return true;
}

bool Server::isListening() const
{
    return m_listener && m_listener->isListening();
}

quint16 Server::port() const
{
    return m_listener ? m_listener->port() : 0;
}

QString Server::url() const
{
    QString host = m_config.host.toString();
    if (m_config.host.protocol() == QAbstractSocket::IPv6Protocol)
        host = u"["_s + host + u"]"_s;
    return u"ws://%1:%2"_s.arg(host).arg(port());
}

QString Server::pageUrl(const QString &uid) const
{
    QString base = url();
    base.replace(0, 2, u"http"_s);
    return base + u"/?uid="_s + QString::fromLatin1(QUrl::toPercentEncoding(uid));
}

void Server::setTimers(int pingIntervalMs, int deadAfterMs, int graceMs)
{
    m_config.pingIntervalMs = std::max(1, pingIntervalMs);
    m_config.deadAfterMs = std::max(1, deadAfterMs);
    m_config.graceMs = std::max(0, graceMs);
    m_heartbeat.setTimers(m_config.pingIntervalMs, m_config.deadAfterMs);
    m_feed.setDeadAfterMs(m_config.deadAfterMs);
    // One sweep for all connections; a quarter of the shortest timer keeps detection within ~25 % of its setting.
    const int period = std::clamp(
        std::min({m_config.pingIntervalMs, m_config.deadAfterMs, std::max(1, m_config.slowAfterMs)}) / 4, 5, 1000);
    m_sweepTimer.start(period);
}

Database *Server::database(const QString &ns)
{
    bool created = false;
    Database *db = m_namespaces.database(ns, &created);
    if (created)
        m_backend->attach(db);
    return db;
}

Server::OutputStats Server::outputStats() const
{
    OutputStats stats;
    for (const Connection *c : m_connections) {
        stats.unsent += c->socket()->bytesToWrite();
        stats.buffered += c->socket()->bufferedBytes();
    }
    for (const EventStream *s : m_streams) {
        stats.unsent += s->socket()->bytesToWrite();
        stats.buffered += s->socket()->bufferedBytes();
    }
    return stats;
}

QJsonArray Server::describeStreams() const
{
    QJsonArray out;
    for (const EventStream *s : m_streams)
        out.append(s->describe());
    return out;
}

EventStream *Server::createEventStream(EventStream::Spec spec)
{
    auto *stream = new EventStream(this, std::move(spec), u"E%1"_s.arg(++m_streamsOpened));
    stream->setParent(this);
    return stream;
}

void Server::adoptEventStream(EventStream *stream, ServerWebSocket *socket)
{
    handshakeEnded(socket); // a stream is an open connection now, not a short request
    stream->attach(socket);
    m_streams.append(stream);
    connect(stream, &EventStream::ended, this, &Server::streamEnded);
    if (!m_keepAliveTimer.isActive())
        m_keepAliveTimer.start();
    qCInfo(lcSession).noquote() << "stream" << stream->handle() << "of" << socket->peerAddress().toString() << "at"
                                << stream->spec().path.toString() << "in" << stream->database()->name() << "as"
                                << stream->spec().identity.describe();
    m_feed.noteStream(stream->describe(), false);
}

void Server::streamEnded(EventStream *stream, const QString &reason)
{
    if (!m_streams.removeOne(stream))
        return;
    qCInfo(lcSession).noquote() << "stream" << stream->handle() << "ended:" << reason;
    m_feed.noteStream(stream->describe(), true);
    if (m_streams.isEmpty())
        m_keepAliveTimer.stop();
    stream->deleteLater();
}

QList<Session *> Server::sessions() const
{
    return m_registry.byNumber();
}

void Server::serveHttp(ServerWebSocket *socket, const protocol::HttpRequest &request)
{
    const QUrl url = QUrl::fromEncoded(request.target);
    const HttpCall call {request, url, QUrlQuery(url), socket->admission(), socket->peerAddress(), socket};
    // A write's answer may come after a commit, by when the client may have gone.
    m_http.dispatch(call,
        [socket = QPointer<ServerWebSocket>(socket), peer = socket->peerAddress(), method = request.method,
            target = request.target](const protocol::HttpResponse &response) {
            qCDebug(lcServer).noquote() << peer.toString() << method << target.left(200) << "->" << response.status;
            if (socket)
                socket->respond(response);
        });
}

void Server::onTcpConnection(int socketDescriptor)
{
    ServerWebSocket::Limits limits;
    limits.maxMessageBytes = m_config.maxMessageBytes;
    limits.handshakeTimeoutMs = m_config.handshakeTimeoutMs;
    limits.maxBacklogBytes = m_config.maxBacklogBytes;
    limits.slowAfterMs = m_config.slowAfterMs;
    limits.policy = &m_policy;
    limits.servesHttp = true;
    limits.maxHttpBodyBytes = m_config.maxMessageBytes;
    auto *socket = new ServerWebSocket(socketDescriptor, limits, m_poller, this);
    socket->setFlushScheduler(&m_flushes);
    // A plain HTTP connection stays counted with the handshakes: its requests are short and it is timed out as one.
    connect(socket, &ServerWebSocket::httpRequest, this,
        [this, socket](const protocol::HttpRequest &request) { serveHttp(socket, request); });
    connect(socket, &ServerWebSocket::opened, this, [this, socket] {
        handshakeEnded(socket);
        onWebSocketOpened(socket);
    });
    // Until a Connection takes it: a failed handshake or a refused endpoint is dropped here.
    connect(socket, &ServerWebSocket::disconnected, socket, [this, socket] {
        handshakeEnded(socket);
        if (socket->parent() == this)
            socket->deleteLater();
    });
    if (socket->state() == ServerWebSocket::State::Closed) { // the poller refused it, before anyone was listening
        socket->deleteLater();
        return;
    }
    if (m_connections.size() + m_streams.size() + m_handshaking.size() >= m_maxConnections) {
        // An answer at once, rather than a client left waiting: SDKs retry with a backoff.
        qCWarning(lcServer).noquote() << "at capacity:" << m_connections.size() << "connections; refusing"
                                      << socket->peerAddress().toString() << "with 503";
        socket->refuse(503,
            "server at capacity: " + QByteArray::number(m_maxConnections)
                + " connections (--max-connections, or the open-file limit); try again later",
            "Retry-After: 5\r\n");
        return;
    }
    m_handshaking.insert(socket);
    if (m_handshaking.size() >= m_config.maxHandshakes && !m_listener->isHeld()) {
        // The rest wait in the kernel's backlog (4096), not in memory; each handshake ends or times out.
        qCWarning(lcServer).noquote()
            << m_handshaking.size()
            << "handshakes unfinished (--max-handshakes): holding new connections in the backlog";
        m_listener->setHeld(true);
    }
}

void Server::handshakeEnded(ServerWebSocket *socket)
{
    if (!m_handshaking.remove(socket))
        return;
    if (m_listener && m_listener->isHeld() && m_handshaking.size() < m_config.maxHandshakes) {
        qCInfo(lcServer) << "accepting new connections again";
        m_listener->setHeld(false);
    }
}

void Server::onWebSocketOpened(ServerWebSocket *socket)
{
    const QUrl url = socket->requestUrl();
    const QUrlQuery query(url);
    const QString ns = query.queryItemValue(u"ns"_s, QUrl::FullyDecoded);
    if (url.path() != u"/.ws"_s || !Namespaces::isValidName(ns)) {
        const QString reason = url.path() != u"/.ws"_s
            ? u"unknown endpoint %1; use /.ws?v=5&ns=<namespace>"_s.arg(url.path().left(64))
            : u"invalid namespace"_s;
        qCWarning(lcProtocol).noquote() << "refusing" << socket->peerAddress().toString() << reason;
        socket->close(QWebSocketProtocol::CloseCodePolicyViolated, reason);
        return;
    }
    if (m_backend->sharesSessions() && !m_backend->acceptsSessions()) {
        // No hello without a session the cluster knows.
        socket->close(TryAgainLater, StorageUnavailable);
        return;
    }
    if (QString reason; !m_namespaces.admits(ns, &reason)) {
        qCWarning(lcProtocol).noquote() << "refusing" << socket->peerAddress().toString() << "namespace"
                                        << m_namespaces.resolve(ns).left(64) << reason;
        socket->close(QWebSocketProtocol::CloseCodePolicyViolated, reason);
        return;
    }
    auto *c = new Connection(this, socket, database(ns));
    m_connections.append(c);
    c->start(query.queryItemValue(u"ls"_s, QUrl::FullyDecoded));
    Q_EMIT connectionCountChanged(int(m_connections.size()));
}

Session *Server::attach(Connection *c, Database *db, const QString &lastSessionId, bool *resumed)
{
    *resumed = false;
    if (!lastSessionId.isEmpty()) {
        const qint64 suspendedAt = [&] {
            const Session *s = m_registry.find(lastSessionId);
            return s ? s->suspendedAt : 0;
        }();
        const SessionRegistry::Resumed r = m_registry.resume(lastSessionId, db, c, c->remoteAddress(), epochMs());
        if (r.session) {
            if (r.takenFrom) {
                qCInfo(lcSession).noquote() << r.session->handle() << "taken over by" << c->remoteAddress()
                                            << "(the old socket had not been detected dead yet)";
                r.takenFrom->releaseForTakeover();
            } else {
                qCInfo(lcSession).noquote() << r.session->handle() << "resumed from" << c->remoteAddress() << "after"
                                            << (epochMs() - suspendedAt) << "ms";
            }
            *resumed = true;
            noteSessionChanged(r.session);
            return r.session;
        }
    }
    Session *s = m_registry.open(c, db, c->remoteAddress(), epochMs());
    qCInfo(lcSession).noquote() << s->handle() << "connected from" << s->remoteAddress << "namespace" << db->name();
    QString why;
    if (m_backend->sharesSessions())
        m_backend->openSession(*s);
    else if (!persistSession(s, &why))
        qCWarning(lcSession).noquote() << s->handle() << "could not be stored:" << why;
    noteSessionChanged(s);
    return s;
}

void Server::resumeShared(Connection *c, Database *db, const QString &id)
{
    m_backend->resumeSession(
        db->name(), id, [this, c = QPointer<Connection>(c), db, id](bool reached, Backend::SharedSession shared) {
            if (!c || c->isLost()) {
                // Gone while the backend answered: the session it just made live here is suspended again.
                if (reached && shared.found) {
                    const Session gone(id, 0, db);
                    m_backend->suspendSession(gone, m_config.graceMs);
                }
                return;
            }
            if (!reached) {
                c->closeWithError(TryAgainLater, StorageUnavailable);
                return;
            }
            if (shared.found && !m_registry.find(id)) {
                // Resumed from another node (or after this one forgot it): the local view is built from the backend.
                Session *s = m_registry.restore(id, m_registry.nextNumber(), db, monotonicMs(), epochMs(), 0);
                s->setIdentity(shared.identity);
                s->queue().setOps(std::move(shared.ops));
                s->createdAt = shared.createdAt;
            } else if (shared.found) {
                m_registry.find(id)->queue().setOps(std::move(shared.ops));
            }
            bool resumed = false;
            Session *s = attach(c, db, shared.found ? id : QString(), &resumed);
            c->finishStart(s, resumed);
        });
}

void Server::dropSharedSessions(const QString &id, const QString &reason)
{
    const qint64 now = epochMs();
    const QList<Session *> sessions = id.isEmpty() ? m_registry.sessions() : QList<Session *> {m_registry.find(id)};
    for (Session *s : sessions) {
        if (!s)
            continue;
        qCInfo(lcSession).noquote() << s->handle() << "dropped without firing:" << reason;
        if (Connection *c = s->connection())
            c->releaseForTakeover(reason);
        s->setState(Session::State::Ended);
        s->setEndReason(Session::EndReason::Takeover);
        s->queue().clear();
        m_feed.noteSessionEnded(*s, {}, now);
        m_registry.remove(s);
    }
}

void Server::connectionLost(Connection *c, Session *s, bool cleanClose)
{
    m_connections.removeOne(c);
    m_awaitingCommit.removeOne(c); // its held replies have nowhere to go
    Q_EMIT connectionCountChanged(int(m_connections.size()));
    if (!s || m_shuttingDown || s->connection() != c)
        return;
    s->setConnection(nullptr);
    if (cleanClose) {
        qCInfo(lcSession).noquote() << s->handle() << "closed cleanly";
        endSession(s, Session::EndReason::CleanClose);
        return;
    }
    m_registry.suspend(s, monotonicMs(), epochMs(), m_config.graceMs);
    if (m_backend->sharesSessions())
        m_backend->suspendSession(*s, m_config.graceMs);
    qCInfo(lcSession).noquote() << s->handle() << "suspended; its" << s->queue().ops().size() << "ops fire in"
                                << m_config.graceMs << "ms unless it resumes";
    noteSessionChanged(s);
    armGraceTimer();
}

Session *Server::restartSession(Connection *c, Session *s)
{
    Database *db = s->database();
    s->setConnection(nullptr);
    endSession(s, Session::EndReason::IdentityChanged);
    bool resumed = false;
    return attach(c, db, QString(), &resumed);
}

void Server::armGraceTimer()
{
    const qint64 next = m_registry.nextDeadline();
    if (next < 0) {
        m_graceTimer.stop();
        return;
    }
    const qint64 wait = std::max<qint64>(0, next - monotonicMs());
    m_graceTimer.start(int(std::min<qint64>(wait, 24 * 3600 * 1000)));
}

void Server::onGraceTimer()
{
    const qint64 now = monotonicMs();
    if (forgiveLoopStall(now))
        return; // re-armed at the moved deadlines
    for (Session *s : m_registry.takeExpired(now)) {
        qCInfo(lcSession).noquote() << s->handle() << "grace expired";
        endSession(s, Session::EndReason::Timeout);
    }
    armGraceTimer();
}

void Server::endSession(Session *s, Session::EndReason reason)
{
    s->setState(Session::State::Ended);
    s->setEndReason(reason);
    Database *db = s->database();
    const qint64 now = epochMs();
    QStringList errors;
    std::vector<Write> writes = s->queue().resolve(db->root(), now, &errors);
    for (const QString &e : std::as_const(errors))
        qCWarning(lcSession).noquote() << s->handle() << "skipped an op that no longer applies:" << e;
    // Described before they are applied (and moved away); only when someone consumes it (AdminFeed).
    const QJsonArray fired = m_feed.describeFired(writes);
    if (m_backend->sharesSessions()) {
        // The backend fires, exactly once across servers: at once here, or (grace ended) by its own sweep. What the
        // feed shows was resolved against this server's copy; the backend resolves at the moment it fires.
        if (reason != Session::EndReason::Timeout)
            m_backend->suspendSession(*s, 0);
        s->queue().clear();
        m_feed.noteSessionEnded(*s, fired, now);
        m_registry.remove(s);
        return;
    }
    if (!writes.empty()) {
        qCInfo(lcSession).noquote() << u"%1 firing %2 onDisconnect ops (%3)"_s.arg(s->handle())
                                           .arg(writes.size())
                                           .arg(Session::endReasonName(reason));
    }
    // The fired batch and the end of the session are recorded together (one savepoint of the open batch, so one
    // commit): after a crash the session has either fired (and is gone) or comes back with all its ops, so nothing
    // fires twice and nothing is lost.
    QString why;
    const WriteOrigin origin {WriteOrigin::Kind::OnDisconnect, s->handle()};
    if (!m_backend->endSession(*db, writes, s->id(), origin, &why))
        qCCritical(lcSession).noquote() << s->handle() << "ended but could not be recorded; after a restart it"
                                        << "may come back and fire again:" << why;
    if (!writes.empty() && !m_backend->appliesLater())
        db->applyRecorded(Path(), std::move(writes), origin);
    s->queue().clear();
    m_feed.noteSessionEnded(*s, fired, now);
    m_registry.remove(s);
}

void Server::noteSessionChanged(Session *s)
{
    m_feed.noteSessionChanged(*s);
}

bool Server::forgiveLoopStall(qint64 now)
{
    const qint64 late = m_heartbeat.loopStall(now, m_sweepTimer.interval());
    if (late == 0)
        return false;
    // Short stalls are routine with sub-second test timers (a window opening, a big import): not worth a warning.
    const QString what = u"the server's event loop was stalled for about %1 ms: counting no client's silence from "
                         "before it, and moving every grace deadline by as much"_s.arg(late);
    if (late >= 1000)
        qCWarning(lcServer).noquote() << what;
    else
        qCInfo(lcServer).noquote() << what;
    for (Connection *c : std::as_const(m_connections))
        c->touch();
    // Clients that came back during the stall wait in the backlog: their sessions must still be there.
    m_registry.shiftDeadlines(late);
    for (Session *s : m_registry.sessions()) {
        if (s->state() == Session::State::Suspended)
            noteSessionChanged(s);
    }
    armGraceTimer();
    return true;
}

void Server::sweep()
{
    const qint64 now = monotonicMs();
    forgiveLoopStall(now);
    const bool observed = m_feed.isObserved();
    // Copy: abortDead() and closeIfTooSlow() can drop connections from the list.
    const QList<Connection *> connections = m_connections;
    for (Connection *c : connections) {
        if (c->closeIfTooSlow())
            continue;
        // Input held back by backpressure is not silence: the backlog rule (closeIfTooSlow) decides its fate.
        // Input that waits in the kernel is life the server has not read yet.
        const Heartbeat::Verdict v = m_heartbeat.judge({c->lastActivity(), c->lastPing()}, now,
            [c] { return c->socket()->isInputPaused() || c->socket()->hasUnreadInput(); });
        if (v.touch)
            c->touch();
        if (v.dead) {
            c->abortDead();
            continue;
        }
        if (v.ping)
            c->ping();
        // Watchers hear of a silence when it starts and when it ends.
        if (v.silent != c->isSilent()) {
            c->setSilent(v.silent);
            Session *s = c->session();
            if (observed && s && s->connection() == c)
                noteSessionChanged(s);
        }
    }
    const QList<EventStream *> streams = m_streams; // closeIfTooSlow() ends streams
    for (EventStream *s : streams)
        s->closeIfTooSlow();
}

QJsonObject Server::describeStore() const
{
    return m_backend->describe();
}

bool Server::importJson(const QString &ns, const Path &path, const QByteArray &json, QString *error)
{
    Node node;
    if (!Node::fromJsonText(json, path, &node, error))
        return false;
    std::vector<Write> writes;
    writes.push_back({Path(), std::move(node)});
    return database(ns)->write(path, std::move(writes), {WriteOrigin::Kind::Import, QString()}, error);
}

void Server::shutdown()
{
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    m_sweepTimer.stop();
    m_graceTimer.stop();
    // Commit before closing: the replies that waited for it go out ahead of the close frames.
    QString why;
    if (!m_backend->commit(&why))
        qCWarning(lcServer).noquote() << "the last commit failed at shutdown:" << why;
    if (!m_connections.isEmpty())
        qCInfo(lcServer) << "closing" << m_connections.size() << "connections";
    const QList<Connection *> connections = m_connections;
    for (Connection *c : connections)
        c->closeForShutdown();
    for (EventStream *s : std::as_const(m_streams))
        s->close();
    m_flushes.flushAll(); // the close frames go out now: an embedding app may delete the server right after this
    if (m_listener)
        m_listener->close();
    m_backend->stop();
}

} // namespace lark
