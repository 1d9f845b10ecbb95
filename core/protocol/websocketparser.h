// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <QString>
#include <QWebSocketProtocol>

namespace lark::protocol
{

/** A client's opening handshake that is valid at the protocol level (RFC 6455 §4.2.1): what a server decides on. */
struct Handshake {
    QByteArray method; /**< GET for a handshake; any method for a plain request (Handler::onPlainRequest) */
    QByteArray target; /**< the request target as sent, e.g. /.ws?v=5&ns=demo */
    QByteArray host; /**< the Host value (exactly one was sent; it may be empty) */
    bool hasHost = false; /**< always true once reported: a request without Host is refused */
    QByteArray origin; /**< the Origin value, if hasOrigin */
    bool hasOrigin = false; /**< native SDKs send none; browsers always do */
    QByteArray key; /**< Sec-WebSocket-Key, 16 bytes in base64 */
    /** Every header line in order: the name as sent and the value, both trimmed. */
    QList<QPair<QByteArray, QByteArray>> headers;

    /** The values of every header called name (case-insensitive), joined with ", " (RFC 9110 §5.3). */
    [[nodiscard]] QByteArray header(QByteArrayView name) const;
};

/** Why a handshake was refused: an HTTP status, a reason for the body and the log, and headers the answer needs. */
struct HandshakeRefusal {
    int status = 400;
    QByteArray reason;
    QByteArray extraHeaders; /**< whole header lines, e.g. "Allow: GET\r\n" */
};

/**
 * The server side of RFC 6455's input: the client's opening handshake, then its frames. Bytes in, events out: no
 * socket and no event loop, so every byte sequence can be tested and fuzzed as it is.
 *
 * feed() parses what it can and returns how many bytes it consumed; the caller passes the rest again, at the front of
 * the next call, with what arrived since. Complete frames are handled straight from the caller's buffer, their
 * payload unmasked in place, so a read that holds whole frames is never copied (only a message's bytes, to hand it
 * on, and fragments, to join them).
 *
 * The parser checks the protocol: the request line, Host, the upgrade headers and the key; masking, reserved bits,
 * opcodes, control-frame rules, fragmentation, the size caps, UTF-8 of text messages and close reasons, and close
 * codes. What a handshake may reach (target, Host, Origin) is the owner's to decide: it gets the parsed Handshake
 * before anything is answered.
 */
class WebSocketParser
{
public:
    enum Opcode : quint8 {
        Continuation = 0x0,
        Text = 0x1,
        Binary = 0x2,
        Close = 0x8,
        Ping = 0x9,
        Pong = 0xA,
    };

    struct Limits {
        qsizetype maxMessageBytes = 16 * 1024 * 1024; /**< a bigger frame or message fails with 1009 */
        qsizetype maxHandshakeBytes = 16 * 1024; /**< request line and headers; more is refused with 431 */
    };

    enum class State {
        Handshake, /**< reading the opening handshake */
        Frames, /**< the handshake was valid: reading frames */
        PlainRequest, /**< a plain HTTP request the owner took over: the parser reads nothing more */
        Closed, /**< the peer's close frame was read: nothing after it is parsed */
        Failed, /**< refused or broken: nothing more is parsed */
    };

    /**
     * Receives the events. Those returning bool return whether to go on: false makes feed() return at once, after the
     * bytes of the event (e.g. the owner closed the connection while handling a message).
     */
    class Handler
    {
    public:
        virtual ~Handler() = default;
        /** A valid handshake: the owner answers it (101, or a refusal of its own) before returning. */
        virtual bool onHandshake(const Handshake &handshake) = 0;
        /**
         * A request with no Upgrade header at all (head is parsed, its Host and Origin checked): true if the owner
         * serves plain HTTP and reads the connection's bytes from the start itself; false refuses it with 426.
         */
        virtual bool onPlainRequest(const Handshake &head)
        {
            Q_UNUSED(head);
            return false;
        }
        /** An invalid handshake: the owner answers with refusal.status and closes. */
        virtual void onHandshakeRefused(const HandshakeRefusal &refusal) = 0;
        /** A complete text message, valid UTF-8, at most maxMessageBytes. */
        virtual bool onTextMessage(const QByteArray &utf8) = 0;
        virtual bool onBinaryMessage(const QByteArray &payload) = 0;
        /** payload points into the fed buffer: valid during the call only. */
        virtual bool onPing(QByteArrayView payload) = 0;
        virtual bool onPong(QByteArrayView payload) = 0;
        /**
         * A valid close frame: a close code the peer may send, or 1005 (CloseCodeMissingStatusCode) when it sent
         * none, and a UTF-8 reason (into the fed buffer). The parser reads nothing after it.
         */
        virtual void onClose(quint16 code, QByteArrayView reason) = 0;
        /** The peer broke the protocol: the owner closes with code and reason. The parser reads nothing after it. */
        virtual void onProtocolError(QWebSocketProtocol::CloseCode code, const QString &reason) = 0;
    };

    WebSocketParser(const Limits &limits, Handler *handler);

    /** Parses data (modified in place: payloads are unmasked); returns how many bytes were consumed. */
    qsizetype feed(char *data, qsizetype size);

    [[nodiscard]] State state() const { return m_state; }
    /** Whether a fragmented message is in progress. */
    [[nodiscard]] bool inMessage() const { return m_messageOpcode != 0; }

    /** XORs data with the 4-byte masking key (RFC 6455 §5.3), eight bytes at a time. */
    static void unmask(char *data, qsizetype size, const char *key);
    /** Codes a peer may send in a close frame (RFC 6455 §7.4): 1004–1006 and 1015 are for local use only. */
    [[nodiscard]] static bool isValidCloseCode(quint16 code);

private:
    /** The bytes of a complete, valid handshake, parsed into *out; 0 until then, or when it was refused. */
    qsizetype readHandshake(const char *data, qsizetype size, Handshake *out);
    qsizetype readFrames(char *data, qsizetype size);
    bool handleControlFrame(quint8 opcode, const char *payload, qsizetype size);
    void refuse(int status, const QByteArray &reason, const QByteArray &extraHeaders = {});
    void fail(QWebSocketProtocol::CloseCode code, const QString &reason);

    Limits m_limits;
    Handler *m_handler;
    State m_state = State::Handshake;
    qsizetype m_scanned = 0; // how far the handshake was searched for its end, so a slow client is not rescanned
    QByteArray m_message; // the fragments of a message in progress
    quint8 m_messageOpcode = 0; // 0: no fragmented message in progress
};

/** The 101 answer to a valid handshake, with Sec-WebSocket-Accept derived from its key. */
[[nodiscard]] QByteArray handshakeResponse(const Handshake &handshake);
/** The HTTP answer to a refused handshake: status, reason as a text/plain body, and Connection: close. */
[[nodiscard]] QByteArray refusalResponse(const HandshakeRefusal &refusal);

} // namespace lark::protocol
