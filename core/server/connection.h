// SPDX-License-Identifier: MIT
#pragma once

#include "adminfeed.h"
#include "db/database.h"
#include "protocol/framing.h"
#include "requesthandler.h"

#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <QWebSocketProtocol>

#include <deque>
#include <functional>
#include <optional>

namespace lark
{

class Server;
class ServerWebSocket;
class Session;

/**
 * One client WebSocket. Joins frames, parses the envelope and answers every request in order; its listens push
 * through it. Listens belong to the connection, ops to its session (docs/semantics.md §2).
 *
 * With a data file, a reply whose request recorded something is held until the store commits that batch, and
 * every later reply waits behind it (see handleRequest). Pushes are never held.
 */
class Connection : public QObject, public ListenerSink, public AdminFeed::Watcher
{
    Q_OBJECT
public:
    /** Takes socket, which has finished its handshake. */
    Connection(Server *server, ServerWebSocket *socket, Database *db);
    ~Connection() override;

    /**
     * Attaches a (new or resumed) session and sends the hello. With sessions in a shared backend, a resume waits
     * for the backend's answer (finishStart()); what the client sends meanwhile is handled after the hello.
     */
    void start(const QString &lastSessionId);
    /** The session to serve, once the server has it; sends the hello. */
    void finishStart(Session *s, bool resumed);
    [[nodiscard]] bool isLost() const { return m_lost; }

    void deliver(const SharedEvent &event) override;
    void send(const QByteArray &message);
    void sendFeed(const QByteArray &message) override { send(message); }

    /** Server-side close with a code and reason; the session is treated as lost abnormally (grace applies). */
    void closeWithError(QWebSocketProtocol::CloseCode code, const QString &reason);
    /** Closes with 1008 a peer that makes no progress on its backlog (ServerWebSocket::tooSlow); true if it did. */
    bool closeIfTooSlow();
    /** Gives up on a silent peer: drops the socket without a close handshake. */
    void abortDead();
    /** Another connection resumed this one's session (or, with reason, another server has it): close without firing. */
    void releaseForTakeover(const QString &reason = QString());
    /** Server shutdown: close frame 1001, no firing. */
    void closeForShutdown();
    void ping();
    /** Stops reacting to the socket: used when the server is destroyed. */
    void silence();

    [[nodiscard]] Session *session() const { return m_session; }
    [[nodiscard]] Database *database() const { return m_db; }
    /**
     * Checks every listen again (rules or identity changed; never on data change): each one no longer readable is
     * removed and revoked with the `c` push, so the client cancels it with permission_denied.
     */
    void recheckListens(qint64 now);
    /**
     * Who this connection's requests act as: its session's identity, or anonymous once the token it was given has
     * expired (--auth verify) until it authenticates again. The session's identity, which its queued ops keep, is
     * not changed by the expiry.
     */
    [[nodiscard]] Identity identity() const;
    void setSession(Session *s) { m_session = s; }
    [[nodiscard]] QString remoteAddress() const;
    [[nodiscard]] QString describe() const;
    [[nodiscard]] qint64 lastActivity() const { return m_lastActivity; }
    /** Counts as life now: after a stall of the server's own loop, or while its input is held back (backpressure). */
    void touch();
    [[nodiscard]] ServerWebSocket *socket() const { return m_socket; }
    [[nodiscard]] qint64 lastPing() const { return m_lastPing; }
    [[nodiscard]] bool resumed() const { return m_resumed; }
    /** What the last heartbeat sweep concluded: no word from the peer for a ping interval and a half. */
    [[nodiscard]] bool isSilent() const { return m_silent; }
    void setSilent(bool silent) { m_silent = silent; }

    /**
     * The store finished batch (durable if ok): sends the held replies that waited for it or an earlier one, and
     * those queued behind them for order only; with !ok, an `ok` that waited for it becomes write_failed. Returns
     * whether replies are still held (for a later batch).
     */
    bool releaseCommitted(quint64 batch, bool ok, const QString &error);

private:
    void onTextFrame(const QByteArray &frame);
    void onBinaryFrame();
    void onPeerClosed();
    void onDisconnected();
    void handleMessage(const QByteArray &utf8);
    void handleRequest(qint64 r, const QString &action, const QJsonValue &body);

    // Request handlers: each returns the reply's status and payload.
    /** The v5 data actions: decoded, then answered by the server's RequestHandler (the listen cap is ours). */
    Reply handleData(Request::Action action, const QJsonObject &b);
    Reply handleAuth(const QString &action, const QJsonObject &b);
    Reply handleWatch();
    // --auth verify: a token that expires on a live connection is revoked (the `ac` push).
    void watchTokenExpiry(qint64 expiresAtMs);
    void onTokenExpiryTimer();

    /** A reply that is not sent yet: it waits for batch to commit (0: only for the replies ahead of it). */
    struct HeldReply {
        quint64 batch;
        qint64 r;
        QString status;
        QJsonValue data;
        std::function<void()> undo; /**< puts back in-memory state that a lost commit did not keep */
    };

    Server *m_server;
    std::deque<HeldReply> m_held;
    ServerWebSocket *m_socket;
    Database *m_db;
    Session *m_session = nullptr;
    protocol::FrameAssembler m_frames;
    /** A listen as it was granted: what a re-check needs, and the q object the `c` push must echo. */
    struct ActiveListen {
        Path path;
        Query query;
        QJsonObject wireQuery; /**< as the client sent it; empty for an untagged listen */
    };
    QHash<QPair<QString, QString>, ActiveListen> m_listens; // by (path, query identifier)
    qint64 m_lastActivity = 0;
    qint64 m_lastPing = 0;
    bool m_peerClosed = false;
    bool m_serverClosing = false;
    // Bad input arrived while replies waited for a commit: the close that goes out once they are sent.
    std::optional<std::pair<QWebSocketProtocol::CloseCode, QString>> m_closeAfterHeld;
    bool m_released = false;
    bool m_resumed = false;
    bool m_starting = false; // waiting for finishStart(): no hello yet
    std::vector<QByteArray> m_early; // messages that came before the hello
    bool m_lost = false;
    bool m_silent = false;
    QTimer m_tokenExpiry;
    qint64 m_tokenExpiresAtMs = 0; /**< epoch ms; 0: the connection's token does not expire */
    bool m_tokenLapsed = false; /**< requests act as anonymous: the token expired, or is not shown again yet */
};

} // namespace lark
