// SPDX-License-Identifier: MIT
#pragma once

#include "accesspolicy.h"
#include "poller.h"
#include "protocol/httpmessage.h"
#include "protocol/websocketparser.h"

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QTimer>
#include <QUrl>
#include <QWebSocketProtocol>

#include <memory>
#include <vector>

namespace lark
{

/**
 * The server side of one WebSocket (RFC 6455) on an accepted TCP socket: the opening handshake, frames with size
 * caps (parsed by protocol::WebSocketParser), control frames, and the closing handshake. Messages arrive as UTF-8
 * bytes, and frames go out as bytes the server built once for all recipients.
 *
 * Lark owns this layer, and the socket's reads and writes, instead of using QWebSocket on a QTcpSocket: the
 * benchmark's profiles put most of the server's cost per small message in that per-read and per-write machinery (a
 * posted event and an ioctl per read, a QString per frame that JSON parsing turns back into UTF-8, a write notifier
 * switched on and off and bytesWritten emitted for every flush). docs/performance.md, server changes 7 and 8.
 *
 * Writes are buffered: write() queues, and the first write after a flush tells the FlushScheduler, which calls
 * flush() once this round's work is done, so everything a round sends to one client leaves in one send().
 */
class ServerWebSocket : public QObject, private SocketPoller::Handler, private protocol::WebSocketParser::Handler
{
    Q_OBJECT
public:
    struct Limits {
        qsizetype maxMessageBytes = 16 * 1024 * 1024; /**< a bigger frame or message is closed with 1009 */
        qsizetype maxHandshakeBytes = 16 * 1024; /**< request line and headers; more gets 431 */
        int handshakeTimeoutMs = 10000; /**< a client that does not finish its handshake in time is dropped */
        int closeTimeoutMs = 5000; /**< after our close frame, how long unsent data may hold the TCP close */
        qint64 maxBacklogBytes = 8 * 1024 * 1024; /**< unsent bytes over which the peer must keep making progress */
        int slowAfterMs = 10000; /**< how long a backlog over the cap may go without progress (tooSlow()) */
        const AccessPolicy *policy = nullptr; /**< who may connect (Host, Origin); nullptr: anyone */
        /** Whether a request without Upgrade is read as plain HTTP (httpRequest()) rather than refused with 426. */
        bool servesHttp = false;
        qsizetype maxHttpBodyBytes = 16 * 1024 * 1024; /**< a bigger request body is refused with 413 */
    };

    /**
     * Http: the first request had no Upgrade, so the connection carries plain HTTP requests (keep-alive).
     * Streaming: an HTTP answer became an event stream (HttpResponse::stream): only the server writes, with write(),
     * until close(); what the client sends is read and dropped, its EOF ends the stream.
     */
    enum class State { Handshaking, Open, Http, Streaming, Closing, Closed };

    /**
     * Who calls flush() once the round's work is done (the server, for all its sockets at once). A plain interface
     * rather than a signal: a fan-out tells it for every listener, and a signal's dispatch there cost as much as
     * the rest of the delivery (docs/performance.md, the #12 fan-out A/B).
     */
    class FlushScheduler
    {
    public:
        virtual void scheduleFlush(ServerWebSocket *socket) = 0;
        /** The socket is being destroyed while scheduled: forget it. */
        virtual void cancelFlush(ServerWebSocket *socket) = 0;

    protected:
        ~FlushScheduler() = default;
    };

    /**
     * Takes the accepted socket descriptor (closed with this object), watched by poller, and reads the client's
     * handshake. -1 (and no poller): a socket that never connects, for tests of the server's bookkeeping.
     */
    ServerWebSocket(qintptr socketDescriptor, const Limits &limits, SocketPoller *poller, QObject *parent = nullptr);
    ~ServerWebSocket() override;

    /** Without one (nullptr), the socket posts its own flush to the event loop. Not owned: detach before it goes. */
    void setFlushScheduler(FlushScheduler *scheduler) { m_scheduler = scheduler; }

    [[nodiscard]] State state() const { return m_state; }
    /** The request target of the handshake, e.g. /.ws?v=5&ns=demo (valid once opened). */
    [[nodiscard]] QUrl requestUrl() const { return m_requestUrl; }
    [[nodiscard]] QByteArray host() const { return m_handshake.host; }
    /** The parsed handshake (valid once opened): target, Host, Origin and every header as sent. */
    [[nodiscard]] const protocol::Handshake &handshake() const { return m_handshake; }
    /** How the access policy let this connection in (valid once opened). */
    [[nodiscard]] AccessPolicy::Admission admission() const { return m_admission; }
    [[nodiscard]] QHostAddress peerAddress() const { return m_peerAddress; }
    [[nodiscard]] quint16 peerPort() const { return m_peerPort; }
    /** Bytes queued (frames, pongs, a handshake answer) that the kernel has not taken yet. */
    [[nodiscard]] qint64 bytesToWrite() const { return m_unsent; }
    /** Memory the send queue holds: what is unsent, the sent part of the chunk being sent, and a reusable buffer. */
    [[nodiscard]] qint64 bufferedBytes() const;
    /**
     * Whether the peer is too slow to keep, with the reason; called by the server's heartbeat sweep.
     * Only a backlog over Limits::maxBacklogBytes is judged, and never by its size alone: the peer is too slow once
     * the socket has taken nothing for slowAfterMs, or the backlog has not shrunk over slowAfterMs. So one message of
     * any size reaches a reader that reads, and a reader that stopped, or keeps falling behind, is closed.
     */
    [[nodiscard]] bool tooSlow(QString *reason);
    /** While the backlog is over the cap, the peer's input is not read (its requests would only add to it). */
    [[nodiscard]] bool isInputPaused() const { return m_inputPaused; }
    /** Whether input waits unread in the kernel (life that the server has not read yet, e.g. after a stall). */
    [[nodiscard]] bool hasUnreadInput() const;
    /** Forgets what is queued and not started, so a close frame goes out next (a client closed as too slow). */
    void dropUnsent();

    /**
     * Queues a complete server frame (e.g. protocol::serverTextFrame) to be sent by flush(). A large frame is kept
     * by reference (a push shared by all its recipients is held once); small ones are copied into one buffer.
     */
    void write(const QByteArray &frame);
    /** Sends what is queued, as far as the kernel takes it; the rest goes when the socket is writable again. */
    void flush();
    void ping();
    /** Sends a close frame with code and reason, then closes TCP once it is written (or after closeTimeoutMs). */
    void close(QWebSocketProtocol::CloseCode code, const QString &reason);
    /** Drops the TCP connection at once, without a closing handshake. */
    void abort();
    /**
     * Answers the handshake with an HTTP error (e.g. 503 when the server is at capacity) without waiting for the
     * request, and closes; only before the handshake is answered.
     */
    void refuse(int status, const QByteArray &reason, const QByteArray &extraHeaders = {});
    /**
     * Answers the HTTP request last emitted by httpRequest(); the next one on the connection is read after it. With
     * the client's Connection: close (or HTTP/1.0), the connection closes once it is sent. The head of a stream
     * (HttpResponse::stream) turns the connection to State::Streaming instead.
     */
    void respond(const protocol::HttpResponse &response);

Q_SIGNALS:
    /** The handshake succeeded: the server answered 101 and messages may flow. */
    void opened();
    void textMessageReceived(const QByteArray &utf8);
    void binaryMessageReceived();
    /** The peer sent something (any frame, or part of one): it is alive. */
    void activity();
    /** The peer sent a close frame (it has been answered): a clean close by the client. */
    void peerClosed(quint16 code);
    /**
     * The client broke the protocol (a bad frame, invalid UTF-8, a message over the cap). Input has stopped; the
     * receiver should close() with this code and reason once it has sent what it owes. With no receiver, the
     * socket closes at once.
     */
    void protocolError(QWebSocketProtocol::CloseCode code, const QString &reason);
    /**
     * A plain HTTP request (Limits::servesHttp), admitted by the access policy like a handshake (admission()). The
     * receiver answers with respond(); until then nothing more is read from the connection.
     */
    void httpRequest(const lark::protocol::HttpRequest &request);
    /** The TCP connection is gone. Emitted once, also when the handshake failed. */
    void disconnected();

private:
    void onReadable() override;
    void onWritable() override;
    /** Closes the descriptor and emits disconnected() (once). */
    void closeSocket();
    /** Our close frame (or handshake refusal) is queued: stop reading messages and close TCP once it is sent. */
    void beginClose();
    // The parser's events. Those returning bool say whether to read on: not once this socket is closing.
    bool onHandshake(const protocol::Handshake &handshake) override;
    bool onPlainRequest(const protocol::Handshake &head) override;
    /** Checks Host and Origin with the access policy; false once it refused the connection. */
    bool admit(const protocol::Handshake &head);
    /** Reads and hands on the HTTP requests in m_in, one at a time (each waits for its respond()). */
    void readHttp();
    void onHandshakeRefused(const protocol::HandshakeRefusal &refusal) override;
    bool onTextMessage(const QByteArray &utf8) override;
    bool onBinaryMessage(const QByteArray &payload) override;
    bool onPing(QByteArrayView payload) override;
    bool onPong(QByteArrayView payload) override;
    void onClose(quint16 code, QByteArrayView reason) override;
    void onProtocolError(QWebSocketProtocol::CloseCode code, const QString &reason) override;
    /** Answers the handshake with an HTTP error (status, reason as the body) and closes. */
    void refuseHandshake(int status, const QByteArray &reason, const QByteArray &extraHeaders = {});
    void failConnection(QWebSocketProtocol::CloseCode code, const QString &reason);
    void queue(const QByteArray &bytes);
    /** Queues the answer to a ping; one not yet started is replaced (RFC 6455 §5.5.3: the latest is enough). */
    void queuePong(const QByteArray &payload);
    /** Marks that something was queued: schedules a flush, and notes when the backlog crossed the cap. */
    void queued();
    /** Takes n sent bytes off the front of the queue, releasing what is fully sent. */
    void consume(qsizetype n);
    void updateInterest();
    /** Handles the input kept while the backlog was over the cap, once it is not. */
    void resumeInput();

    int m_fd = -1;
    SocketPoller *m_poller;
    bool m_watchingWrites = false; // only while the kernel's send buffer is full
    bool m_inputPaused = false; // the backlog is over the cap: input waits in the kernel until it drains
    bool m_inputHeldBack = false; // frames were left in m_in for that reason: handle them once it drains
    bool m_inputStopped = false; // a protocol error: the rest of the input is read only to find the EOF
    bool m_sendFailed = false; // the peer reset: nothing more is sent, its last input is still read
    Limits m_limits;
    State m_state = State::Handshaking;
    QByteArray m_in; // read but not parsed yet (a partial frame, or the handshake so far)
    // The send queue: chunks from m_head on, the first one sent up to m_headOffset. What is sent is released as it
    // goes, so a steady reader never makes the server hold more than what it has not read yet.
    struct Chunk {
        QByteArray bytes;
        bool owned = false; // a buffer of small frames that later small frames may be appended to
    };
    std::vector<Chunk> m_out;
    size_t m_head = 0;
    qsizetype m_headOffset = 0;
    qint64 m_unsent = 0;
    qsizetype m_pongChunk = -1; // index in m_out of a pong not started yet, or -1
    QByteArray m_spare; // an emptied small buffer, reused for the next round's frames
    // Backlog judgement (tooSlow()), in steady-clock ms; m_overCapSince 0: not over the cap.
    qint64 m_overCapSince = 0;
    qint64 m_lastProgress = 0;
    qint64 m_windowStart = 0;
    qint64 m_windowBytes = 0;
    FlushScheduler *m_scheduler = nullptr;
    bool m_flushScheduled = false;
    bool m_closeWhenSent = false; // beginClose() was called: shut down writing once m_out is sent
    bool m_writeShut = false;
    protocol::WebSocketParser m_parser;
    protocol::Handshake m_handshake;
    QUrl m_requestUrl;
    AccessPolicy::Admission m_admission = AccessPolicy::Admission::NoOrigin;
    QHostAddress m_peerAddress; // kept: the socket forgets it once disconnected, and logs want it after
    quint16 m_peerPort = 0;
    QTimer m_timer; // handshake timeout (or an idle HTTP connection's), then close timeout
    // State::Http: the reader, whether a request waits for respond(), and whether its client keeps the connection.
    std::unique_ptr<protocol::HttpRequestReader> m_httpReader;
    bool m_httpAwaiting = false;
    bool m_httpKeepAlive = true;
    bool m_readingHttp = false;
};

} // namespace lark
