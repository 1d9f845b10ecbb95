// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QTimer>
#include <QUrl>
#include <QWebSocketProtocol>

class QTcpSocket;

namespace lark
{

/**
 * The server side of one WebSocket (RFC 6455) on an accepted QTcpSocket: the opening handshake, frame parsing with
 * size caps, control frames, and the closing handshake. Messages arrive as UTF-8 bytes, and frames go out as bytes
 * the server built once for all recipients.
 *
 * Lark owns this layer instead of using QWebSocket because the benchmark's profiles put the server's cost per small
 * message in QWebSocket's per-read work (a posted event per read, a QString per frame that JSON parsing has to turn
 * back into UTF-8, its bytesWritten bookkeeping): docs/performance.md, server change 7.
 */
class ServerWebSocket : public QObject
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

    /** Takes socket (reparented to this) and starts reading the client's handshake. */
    ServerWebSocket(QTcpSocket *socket, const Limits &limits, QObject *parent = nullptr);
    ~ServerWebSocket() override;

    [[nodiscard]] State state() const { return m_state; }
    /** The request target of the handshake, e.g. /.ws?v=5&ns=demo (valid once opened). */
    [[nodiscard]] QUrl requestUrl() const { return m_requestUrl; }
    [[nodiscard]] QByteArray host() const { return m_host; }
    [[nodiscard]] QHostAddress peerAddress() const { return m_peerAddress; }
    [[nodiscard]] quint16 peerPort() const { return m_peerPort; }
    /** Bytes accepted by write() that the kernel has not taken yet. */
    [[nodiscard]] qint64 bytesToWrite() const;

    /** Queues a complete server frame (e.g. protocol::serverTextFrame); flush() or the event loop sends it. */
    void write(const QByteArray &frame);
    void flush();
    void ping();
    /** Sends a close frame with code and reason, then closes TCP once it is written (or after closeTimeoutMs). */
    void close(QWebSocketProtocol::CloseCode code, const QString &reason);
    /** Drops the TCP connection at once, without a closing handshake. */
    void abort();

Q_SIGNALS:
    /** The handshake succeeded: the server answered 101 and messages may flow. */
    void opened();
    void textMessageReceived(const QByteArray &utf8);
    void binaryMessageReceived();
    void pong();
    /** The peer sent a close frame (it has been answered): a clean close by the client. */
    void peerClosed(quint16 code);
    /** The TCP connection is gone. Emitted once, also when the handshake failed. */
    void disconnected();

private:
    void onReadyRead();
    void onDisconnected();
    bool readHandshake();
    void refuseHandshake(int status, const QByteArray &reason, const QByteArray &extraHeaders = {});
    /** Parses the frames in m_in; returns false once the connection is closing or closed. */
    bool readFrames();
    bool handleControlFrame(quint8 opcode, const char *payload, qsizetype size);
    void failConnection(QWebSocketProtocol::CloseCode code, const QString &reason);
    void writeControlFrame(quint8 opcode, const QByteArray &payload);

    QTcpSocket *m_socket;
    Limits m_limits;
    State m_state = State::Handshaking;
    QByteArray m_in; // read but not parsed yet
    QByteArray m_message; // the fragments of a message in progress
    quint8 m_messageOpcode = 0; // 0: no fragmented message in progress
    QUrl m_requestUrl;
    QByteArray m_host;
    QHostAddress m_peerAddress; // kept: the socket forgets it once disconnected, and logs want it after
    quint16 m_peerPort = 0;
    QTimer m_timer; // handshake timeout, then close timeout
    bool m_disconnectedEmitted = false;
};

} // namespace lark
