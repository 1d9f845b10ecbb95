// SPDX-License-Identifier: MIT
#pragma once

#include "accesspolicy.h"
#include "adminfeed.h"
#include "authenticator.h"
#include "backend.h"
#include "eventstream.h"
#include "flushbatch.h"
#include "heartbeat.h"
#include "httprouter.h"
#include "namespaces.h"
#include "pushencoder.h"
#include "requesthandler.h"
#include "securityrules.h"
#include "session.h"
#include "sessionregistry.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace lark
{

class Connection;
class Database;
class Listener;
class ServerWebSocket;
class SocketPoller;

struct ServerConfig {
    QHostAddress host = QHostAddress::LocalHost;
    quint16 port = 9000; /**< 0 picks a free port */
    QString defaultNamespace = QStringLiteral("lark");
    int pingIntervalMs = 5000;
    int deadAfterMs = 15000;
    int graceMs = 10000;
    /** How often every REST event stream gets a `keep-alive` event (docs/rest.md §6). */
    int streamKeepAliveMs = 30000;
    qint64 maxMessageBytes = 16 * 1024 * 1024; /**< one incoming message, frames joined */
    /** Unsent bytes over which a client must keep draining its backlog (slowAfterMs), or be closed with 1008. */
    qint64 maxBacklogBytes = 8 * 1024 * 1024;
    /** How long a backlog over maxBacklogBytes may go without the socket taking anything (or without shrinking). */
    int slowAfterMs = 10000;
    int handshakeTimeoutMs = 10000; /**< a TCP connection that has not finished its WebSocket handshake is dropped */
    /** Open connections (and handshakes) at most; more are answered 503. 0: the open-file limit less a reserve. */
    int maxConnections = 0;
    /** Unfinished handshakes at once; more connections wait in the kernel's backlog until one finishes. */
    int maxHandshakes = 1024;
    /** Browser origins allowed besides loopback ones (`scheme://host[:port]`, `null`, or `*`); see AccessPolicy. */
    QStringList allowedOrigins;
    /** Host names a loopback listener answers to besides loopback ones (`*` for any); see AccessPolicy. */
    QStringList allowedHosts;
    /** SQLite file keeping data, sessions and queued ops across restarts (docs/semantics.md §6); empty: memory only. */
    QString dataFile;
    /** With dataFile: fsync every write (synchronous=FULL) so it survives power loss, not only a process crash. */
    bool fsync = false;
    /** Cluster mode (issue #17): the trees live in this Redis (redis://host:port[/db]), shared with other nodes. */
    QString redisUrl;
    /** With redisUrl: run even when Redis is configured below the durability promise (a warning instead). */
    bool redisUnsafe = false;
    /** With redisUrl: this node's name in Redis, unique to one process; empty: <host name>:<port>. */
    QString nodeName;

    // Resource caps (docs/semantics.md §7): reaching one is refused with a status or close reason and a log line.
    int maxOpsPerSession = 1000; /**< queued onDisconnect ops per session; an o/om beyond is refused */
    int maxListensPerConnection = 10000; /**< listens per connection; a new listen beyond is refused */
    int maxNamespaces = 1000; /**< namespaces per server; a client naming a new one beyond is closed (1008) */

    /** Which credentials are accepted (--auth and friends); emulator-style by default. */
    AuthConfig auth;
    /**
     * The first session handle's number (S<n>). The dashboard continues its numbering across restarts, so that
     * one handle never names two sessions in its history; stored sessions move it further on.
     */
    quint64 firstSessionNumber = 1;
};

/**
 * The Lark server: accepts WebSocket connections (own listening socket with a large backlog in front of
 * ServerWebSocket), keeps the namespaces' databases, and runs the session lifecycle of docs/semantics.md §2–§4:
 * one heartbeat sweep for all connections, grace deadlines, resume with `ls`, atomic onDisconnect firing.
 */
class Server : public QObject, private SessionLedger
{
    Q_OBJECT
public:
    explicit Server(const ServerConfig &config = {}, QObject *parent = nullptr);
    ~Server() override;

    /**
     * With a data file: opens it, loads the data and brings the stored sessions back suspended with a fresh grace.
     * With a Redis (cluster mode): checks its configuration, registers this node and reads the namespaces.
     * Does nothing without either or when already open. listen() calls it; call it earlier to import into stored data.
     */
    bool openStore(QString *error = nullptr);
    /** Where data and sessions are kept: in memory (the default) or, once openStore() opened it, the data file or
     * Redis. */
    [[nodiscard]] Backend &backend() const { return *m_backend; }
    /**
     * Records s (identity, queued ops) in the store's open batch, if there is a store; false with a reason when it
     * could not. It is durable once that batch is committed (see Connection's held replies).
     */
    bool persistSession(Session *s, QString *error);
    /** Records an o/om/oc that s's queue has just applied, like persistSession() but at the cost of r alone. */
    bool persistRegistration(Session *s, const OnDisconnectQueue::Registration &r, QString *error);
    /** Commits the store's open batch now (normally done once per event-loop round); true without a store. */
    bool commitStore(QString *error = nullptr);
    /** Test seam: while paused, the end-of-round commit waits (a full batch or shutdown still commits). */
    void setCommitsPausedForTesting(bool paused);

    /** Starts listening (opening the store first); false with a reason (e.g. the port is taken). */
    bool listen(QString *error = nullptr);
    [[nodiscard]] bool isListening() const;
    [[nodiscard]] quint16 port() const;
    /** ws://host:port, for clients. */
    [[nodiscard]] QString url() const;
    /** http://host:port/?uid=UID: the presence page (pageroutes.h) as that user. */
    [[nodiscard]] QString pageUrl(const QString &uid = QStringLiteral("alice")) const;
    [[nodiscard]] const ServerConfig &config() const { return m_config; }
    /** Changes the heartbeat and grace timers; applies to the next sweep and to sessions suspended later. */
    void setTimers(int pingIntervalMs, int deadAfterMs, int graceMs);

    /** The request path every transport calls (RequestHandler). */
    [[nodiscard]] const RequestHandler &requests() const { return m_requests; }
    /** Which credentials are valid: every transport's auth requests go through it. */
    [[nodiscard]] const Authenticator &authenticator() const { return m_authenticator; }
    /** Every namespace's security rules, which the request path asks unless setAuthorizer() replaced them. */
    [[nodiscard]] SecurityRules &rules() { return m_rules; }
    [[nodiscard]] const SecurityRules &rules() const { return m_rules; }
    /** Test seam: the authorizer the request path asks (not owned; it must outlive the server); nullptr: rules(). */
    void setAuthorizer(const Authorizer *authorizer) { m_requests.setAuthorizer(authorizer ? authorizer : &m_rules); }
    /** The HTTP routes served on the WebSocket port beside the upgrade (the rules endpoint; REST next). */
    [[nodiscard]] HttpRouter &httpRoutes() { return m_http; }
    /** A session by its id (live or suspended), or nullptr. */
    [[nodiscard]] Session *findSession(const QString &id) const override { return m_registry.find(id); }

    /** The namespace's database, created on first use as the Firebase emulator does. */
    Database *database(const QString &ns);
    /** The namespaces there are (the dashboard's list) and the cap on new ones. */
    [[nodiscard]] const Namespaces &namespaces() const { return m_namespaces; }

    [[nodiscard]] QList<Session *> sessions() const;
    /** The number the next session's handle takes. */
    [[nodiscard]] quint64 nextSessionNumber() const { return m_registry.nextNumber(); }
    [[nodiscard]] int connectionCount() const { return int(m_connections.size()); }
    /** REST event streams open now (each holds a connection, and counts against maxConnections). */
    [[nodiscard]] int streamCount() const { return int(m_streams.size()); }
    [[nodiscard]] const QList<EventStream *> &streams() const { return m_streams; }
    /** Every open stream as the admin feed describes it (EventStream::describe()). */
    [[nodiscard]] QJsonArray describeStreams() const;
    /** The connection cap in force (ServerConfig::maxConnections, or what the open-file limit allows). */
    [[nodiscard]] int maxConnections() const { return m_maxConnections; }
    struct OutputStats {
        qint64 unsent = 0; /**< queued for clients, not yet taken by the kernel */
        qint64 buffered = 0; /**< what the send queues hold in memory for that (ServerWebSocket::bufferedBytes) */
    };
    /** The send queues of every open connection, summed. */
    [[nodiscard]] OutputStats outputStats() const;
    /** TCP connections that have not finished their WebSocket handshake. */
    [[nodiscard]] int handshakeCount() const { return int(m_handshaking.size()); }
    /** The admin view of the sessions: lark.watch subscribers, and signals for an embedding dashboard. */
    [[nodiscard]] AdminFeed *adminFeed() { return &m_feed; }
    [[nodiscard]] const AdminFeed *adminFeed() const { return &m_feed; }
    /** Admin view of the data file: whether there is one, and why it failed if it did (lark.watch feed). */
    [[nodiscard]] QJsonObject describeStore() const;

    /** Replaces the value at path of a namespace with a JSON document (export format); false with a reason. */
    bool importJson(const QString &ns, const Path &path, const QByteArray &json, QString *error);

    /**
     * Closes every client with a close frame (1001); sessions are dropped without firing. With a store they stay
     * stored (and come back suspended on the next start), and the log is compacted into snapshots.
     */
    void shutdown();

    // Called by connections.
    Session *attach(Connection *c, Database *db, const QString &lastSessionId, bool *resumed);
    /** With sessions in a shared backend: asks it for session id, then gives c its session (finishStart). */
    void resumeShared(Connection *c, Database *db, const QString &id);
    void connectionLost(Connection *c, Session *s, bool cleanClose);
    /** Ends s (firing its ops) and gives c a fresh session instead; used when a resumed client changes identity. */
    Session *restartSession(Connection *c, Session *s);
    void noteSessionChanged(Session *s);
    /** s's identity changed: its queued ops are checked again with it, and those now denied are dropped. */
    void recheckQueuedOps(Session *s);
    /** c has replies waiting for a commit: it hears of every commit until it has none. */
    void awaitCommit(Connection *c);
    /** Calls done once batch (Backend::openBatch()) is committed, or has failed; for answers that wait for it. */
    void afterCommit(quint64 batch, std::function<void(bool ok, const QString &error)> done);
    [[nodiscard]] qint64 monotonicMs() const { return m_clock.elapsed(); }
    /**
     * A REST event stream for spec, not yet serving: the route registers its listen, then sends the answer's head
     * and hands it the connection with adoptEventStream() (or deletes it when the listen was refused).
     */
    EventStream *createEventStream(EventStream::Spec spec);
    /** socket answered the head of stream's response (State::Streaming): the stream takes it and starts. */
    void adoptEventStream(EventStream *stream, ServerWebSocket *socket);
    /** The SSE encodings of the last event, shared by every stream it goes to. */
    [[nodiscard]] SseEncoder &sseEncoder() { return m_sse; }
    /** event as ready WebSocket frames; the last event's are kept, so a fan-out encodes its push only once. */
    const QList<QByteArray> &pushFrames(const SharedEvent &event) { return m_pushes.wireFrames(event); }

Q_SIGNALS:
    void connectionCountChanged(int count);
    /** A commit of the data file failed: from now on writes are refused until a restart (Store::failure()). */
    void storeFailed(const QString &reason);

private:
    /** Talks to backend from now on; the namespaces that exist are attached to it. */
    void useBackend(std::unique_ptr<Backend> backend);
    void onTcpConnection(int socketDescriptor);
    void serveHttp(ServerWebSocket *socket, const protocol::HttpRequest &request);
    void handshakeEnded(ServerWebSocket *socket);
    /**
     * docs/semantics.md §3: a client is never declared dead for time the server was not listening. When the loop
     * ran late by more than a ping interval (SIGSTOP, a paused VM, a long import), every silence clock restarts and
     * every grace deadline moves by the stall. Returns whether it did.
     */
    bool forgiveLoopStall(qint64 now);
    void onWebSocketOpened(ServerWebSocket *socket);
    void sweep();
    void armGraceTimer();
    void onGraceTimer();
    void endSession(Session *s, Session::EndReason reason);
    bool openRedis(QString *error);
    /** A shared backend moved session id to another server, or (id empty) took all of them: drop without firing. */
    void dropSharedSessions(const QString &id, const QString &reason);
    void broadcastToWatchers(const QByteArray &message) { m_feed.broadcast(message); } // onBatchCommitted's
    // SessionLedger, for the request path.
    bool recordRegistration(Session *s, const OnDisconnectQueue::Registration &r, QString *error) override
    {
        return persistRegistration(s, r, error);
    }
    [[nodiscard]] bool recordsCanBeLost() const override { return m_backend->isPersistent(); }
    void sessionUpdated(Session *s) override { noteSessionChanged(s); }
    void requestDenied(const Caller &caller, const Request &request, const Denied &denied) override;
    void onBatchCommitted(quint64 batch, bool ok, const QString &error);
    /** ns's rules were replaced: every listen and queued op there is checked again (serverrules.cpp). */
    void onRulesChanged(const QString &ns);
    void streamEnded(EventStream *stream, const QString &reason);

    ServerConfig m_config;
    std::unique_ptr<Backend> m_backend;
    Listener *m_listener = nullptr;
    AccessPolicy m_policy;
    HttpRouter m_http;
    int m_maxConnections = 0;
    QSet<ServerWebSocket *> m_handshaking;
    Heartbeat m_heartbeat;
    Namespaces m_namespaces;
    SocketPoller *m_poller = nullptr; // all client sockets, through one epoll descriptor
    QElapsedTimer m_clock;
    QTimer m_sweepTimer;
    QTimer m_graceTimer;
    QList<Connection *> m_awaitingCommit;
    std::deque<std::pair<quint64, std::function<void(bool, const QString &)>>> m_commitWaiters; // batch order
    SessionRegistry m_registry;
    AdminFeed m_feed;
    QList<Connection *> m_connections;
    QList<EventStream *> m_streams;
    quint64 m_streamsOpened = 0; // numbers the stream handles: E1, E2…
    QTimer m_keepAliveTimer;
    SseEncoder m_sse;
    PushEncoder m_pushes;
    SecurityRules m_rules;
    RequestHandler m_requests;
    Authenticator m_authenticator {m_config.auth};
    bool m_shuttingDown = false;
    FlushBatch m_flushes;
};

} // namespace lark
