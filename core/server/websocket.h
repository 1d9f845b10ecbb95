// SPDX-License-Identifier: MIT
#pragma once

#include "poller.h"
#include "protocol/websocketparser.h"

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QTimer>
#include <QUrl>
#include <QWebSocketProtocol>

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
 * Writes are buffered: write() queues, flushRequested() asks the owner to call flush() once this round's work is
 * done, so everything a round sends to one client leaves in one send().
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
    };

    enum class State { Handshaking, Open, Closing, Closed };

    /**
     * Takes the accepted socket descriptor (closed with this object), watched by poller, and reads the client's
     * handshake. -1 (and no poller): a socket that never connects, for tests of the server's bookkeeping.
     */
    ServerWebSocket(qintptr socketDescriptor, const Limits &limits, SocketPoller *poller, QObject *parent = nullptr);
    ~ServerWebSocket() override;

    [[nodiscard]] State state() const { return m_state; }
    /** The request target of the handshake, e.g. /.ws?v=5&ns=demo (valid once opened). */
    [[nodiscard]] QUrl requestUrl() const { return m_requestUrl; }
    [[nodiscard]] QByteArray host() const { return m_handshake.host; }
    /** The parsed handshake (valid once opened): target, Host, Origin and every header as sent. */
    [[nodiscard]] const protocol::Handshake &handshake() const { return m_handshake; }
    [[nodiscard]] QHostAddress peerAddress() const { return m_peerAddress; }
    [[nodiscard]] quint16 peerPort() const { return m_peerPort; }
    /** Bytes queued by write() that the kernel has not taken yet. */
    [[nodiscard]] qint64 bytesToWrite() const;

    /** Queues a complete server frame (e.g. protocol::serverTextFrame) to be sent by flush(). */
    void write(const QByteArray &frame);
    /** Sends what is queued, as far as the kernel takes it; the rest goes when the socket is writable again. */
    void flush();
    void ping();
    /** Sends a close frame with code and reason, then closes TCP once it is written (or after closeTimeoutMs). */
    void close(QWebSocketProtocol::CloseCode code, const QString &reason);
    /** Drops the TCP connection at once, without a closing handshake. */
    void abort();

Q_SIGNALS:
    /** Something was queued: call flush() once this round's work is done. Emitted once per flush. */
    void flushRequested();
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

    int m_fd = -1;
    SocketPoller *m_poller;
    bool m_watchingWrites = false; // only while the kernel's send buffer is full
    bool m_inputStopped = false; // a protocol error: the rest of the input is read only to find the EOF
    bool m_sendFailed = false; // the peer reset: nothing more is sent, its last input is still read
    Limits m_limits;
    State m_state = State::Handshaking;
    QByteArray m_in; // read but not parsed yet (a partial frame, or the handshake so far)
    QByteArray m_out; // queued, not yet taken by the kernel from m_outPos on
    qsizetype m_outPos = 0;
    bool m_flushRequested = false;
    bool m_closeWhenSent = false; // beginClose() was called: shut down writing once m_out is sent
    bool m_writeShut = false;
    protocol::WebSocketParser m_parser;
    protocol::Handshake m_handshake;
    QUrl m_requestUrl;
    QHostAddress m_peerAddress; // kept: the socket forgets it once disconnected, and logs want it after
    quint16 m_peerPort = 0;
    QTimer m_timer; // handshake timeout, then close timeout
};

} // namespace lark
