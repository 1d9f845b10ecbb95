// SPDX-License-Identifier: MIT
#pragma once

// What the tst_websocket_* tests share: they test lark::ServerWebSocket, the server's own RFC 6455 layer, black-box
// over loopback. Exact bytes go in from a raw TCP socket (Peer); what comes back is the status line of a refused
// handshake or the code in the server's close frame, then the server's TCP close. WebSocketTest is their fixture: a
// server with a small message cap and a bystander whose service every bad input must leave alone.

#include "rawclient.h"

#include "protocol/websocketparser.h"
#include "server/server.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QTcpSocket>

#include <memory>

inline constexpr int Timeout = 5000;
/** The cap of the server under test: small, so a 1009 needs no big payload. */
inline constexpr qint64 MaxMessage = 4096;

using Op = lark::protocol::WebSocketParser::Opcode;
/** The FIN bit of a frame's first byte. */
inline constexpr quint8 Fin = 0x80;

// RFC 6455 §1.3: the sample key and the accept value the server must derive from it.
inline constexpr char SampleKey[] = "dGhlIHNhbXBsZSBub25jZQ==";
inline constexpr char SampleAccept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

QByteArray upgradeRequest(const QByteArray &target = QByteArrayLiteral("/.ws?v=5&ns=test"));
/** A frame header: first is FIN, RSV and opcode as sent; size is what the length field claims. */
QByteArray frameHeader(quint8 first, quint64 size, bool masked = true);
QByteArray clientFrame(quint8 first, const QByteArray &payload, bool masked = true);
QByteArray closePayload(quint16 code, const QByteArray &reason = {});
QByteArray request(int r, const QString &action, const QJsonObject &body);
/** A 'p' request to /pad whose JSON is exactly size bytes. */
QByteArray paddedRequest(int r, qsizetype size);

/**
 * A WebSocket peer over a bare QTcpSocket: it sends exactly the bytes a test gives it and records what the server
 * sent back, the HTTP response and then (after a 101) every frame.
 */
class Peer
{
public:
    struct Frame {
        quint8 first; // FIN, RSV and opcode
        QByteArray payload;
    };

    Peer();
    // The socket's destructor emits disconnected, after this object's other members are gone.
    ~Peer() { QObject::disconnect(&socket, nullptr, nullptr, nullptr); }
    Q_DISABLE_COPY_MOVE(Peer)

    bool connectTo(quint16 port);
    void send(const QByteArray &bytes);
    /** Connects, sends the upgrade request with then right behind it in the same write, waits for the hello. */
    bool open(quint16 port, const QByteArray &then = {});

    [[nodiscard]] QByteArray statusLine() const { return head.left(head.indexOf("\r\n")); }
    [[nodiscard]] bool hasHeader(const QByteArray &line) const;
    [[nodiscard]] QList<QByteArray> payloads(quint8 opcode) const;
    [[nodiscard]] QList<QJsonObject> messages() const;
    [[nodiscard]] QJsonObject hello() const;
    /** The body {s, d} of the reply to request r; empty until it came. */
    [[nodiscard]] QJsonObject reply(int r) const;
    /** Index in frames of the first frame with opcode (and payload, if given); -1 if none. */
    [[nodiscard]] qsizetype indexOf(quint8 opcode, const QByteArray *payload = nullptr) const;
    /** The code in the server's close frame: -1 without one, 0 when it carried no code. */
    [[nodiscard]] int closeCode() const;
    [[nodiscard]] QByteArray closeReason() const;

    QTcpSocket socket;
    QByteArray head; // the response's status line and headers
    QByteArray body; // the body of a refusal
    QList<Frame> frames; // every server frame after a 101, in order
    bool maskedFrame = false; // the server masked a frame, which it must not (RFC 6455 §5.1)
    bool closed = false; // the TCP connection is gone; the test never closes it itself unless it says so

private:
    void read();

    QByteArray m_in;
};

/** The fixture: a server (no ping during a test, a 60 s grace) and a bystander listening on /data. */
class WebSocketTest : public QObject
{
    Q_OBJECT

protected:
    /** The tests' init(): only a clean close can fire ops within a test. */
    void startServer();
    /** The tests' cleanup(). */
    void stopServer();
    /** The bystander still connected and served, and no connection of the test left. */
    void checkOthersUnharmed();
    QJsonValue valueAt(const QString &path);

    std::unique_ptr<lark::Server> m_server;
    std::unique_ptr<RawClient> m_bystander;
    QJsonObject m_before;
};
