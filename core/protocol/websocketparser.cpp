// SPDX-License-Identifier: MIT
#include "websocketparser.h"

#include "httpmessage.h"

#include <QCryptographicHash>

#include <algorithm>
#include <cstring>
#include <utility>

using namespace Qt::Literals::StringLiterals;

namespace lark::protocol
{

namespace
{

// Whether a comma-separated header value lists token (case-insensitive), as Connection and Upgrade do.
bool hasToken(const QByteArray &value, QByteArrayView token)
{
    for (const QByteArray &item : value.split(',')) {
        if (item.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

} // namespace

QByteArray Handshake::header(QByteArrayView name) const
{
    QByteArray joined;
    for (const auto &[headerName, value] : headers) {
        if (QByteArrayView(headerName).compare(name, Qt::CaseInsensitive) != 0)
            continue;
        joined = joined.isEmpty() ? value : joined + ", " + value;
    }
    return joined;
}

WebSocketParser::WebSocketParser(const Limits &limits, Handler *handler)
    : m_limits(limits)
    , m_handler(handler)
{
}

// Client frames are masked (RFC 6455 §5.3). Eight bytes at a time: Qt's own loop is byte by byte.
void WebSocketParser::unmask(char *data, qsizetype size, const char *key)
{
    char key8[8];
    std::memcpy(key8, key, 4);
    std::memcpy(key8 + 4, key, 4);
    quint64 key64;
    std::memcpy(&key64, key8, 8);
    qsizetype i = 0;
    for (; i + 8 <= size; i += 8) {
        quint64 word;
        std::memcpy(&word, data + i, 8);
        word ^= key64;
        std::memcpy(data + i, &word, 8);
    }
    for (; i < size; ++i)
        data[i] ^= key[i & 3];
}

bool WebSocketParser::isValidCloseCode(quint16 code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

qsizetype WebSocketParser::feed(char *data, qsizetype size)
{
    qsizetype pos = 0;
    if (m_state == State::Handshake) {
        Handshake handshake;
        pos = readHandshake(data, size, &handshake);
        if (pos == 0)
            return 0;
        m_state = State::Frames;
        // Frames may ride in the handshake's own segment: they are read once the owner has answered.
        if (!m_handler->onHandshake(handshake))
            return pos;
    }
    if (m_state != State::Frames)
        return pos;
    return pos + readFrames(data + pos, size - pos);
}

void WebSocketParser::refuse(int status, const QByteArray &reason, const QByteArray &extraHeaders)
{
    m_state = State::Failed;
    m_handler->onHandshakeRefused({status, reason, extraHeaders});
}

void WebSocketParser::fail(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    m_state = State::Failed;
    m_handler->onProtocolError(code, reason);
}

qsizetype WebSocketParser::readHandshake(const char *data, qsizetype size, Handshake *out)
{
    const QByteArrayView in(data, size);
    // The end can start at most 3 bytes before where the last search stopped.
    const qsizetype end = in.indexOf("\r\n\r\n", std::max<qsizetype>(0, m_scanned - 3));
    m_scanned = end < 0 ? size : end;
    if (end < 0 || end > m_limits.maxHandshakeBytes) {
        // Unfinished, it is refused once it cannot end within the cap: its "\r\n\r\n" may start in the last 3
        // bytes, so a head that ends exactly at the cap is accepted however the reads split it.
        if (end > m_limits.maxHandshakeBytes || (end < 0 && size > m_limits.maxHandshakeBytes + 3))
            refuse(431,
                "request line and headers exceed %1 bytes"_ba.replace(
                    "%1", QByteArray::number(m_limits.maxHandshakeBytes)));
        return 0;
    }
    const QList<QByteArray> lines = QByteArray(data, end).split('\n');
    const QList<QByteArray> request = lines.first().trimmed().split(' ');
    if (request.size() != 3 || !request[2].startsWith("HTTP/1.") || request[2] == "HTTP/1.0"
        || !request[1].startsWith('/')) {
        refuse(400, "not an HTTP/1.1 request");
        return 0;
    }
    QByteArray upgrade, connection, version;
    int hosts = 0, origins = 0;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines[i];
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) {
            refuse(400, "malformed header line");
            return 0;
        }
        const QByteArray name = line.left(colon).trimmed();
        const QByteArray lower = name.toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        out->headers.append({name, value});
        // Repeated headers are one comma-separated list (RFC 9110 §5.3).
        auto add = [&value](QByteArray *to) { *to = to->isEmpty() ? value : *to + ", " + value; };
        if (lower == "upgrade") {
            add(&upgrade);
        } else if (lower == "connection") {
            add(&connection);
        } else if (lower == "sec-websocket-key") {
            add(&out->key);
        } else if (lower == "sec-websocket-version") {
            add(&version);
        } else if (lower == "host") {
            ++hosts;
            out->host = value;
        } else if (lower == "origin") {
            ++origins;
            out->origin = value;
        }
    }
    // Host and Origin are single values (RFC 9112 §3.2, RFC 6454 §7.3): two would leave an access policy guessing
    // which one counts.
    if (hosts == 0) {
        refuse(400, "Host header is required");
        return 0;
    }
    if (hosts > 1) {
        refuse(400, "more than one Host header");
        return 0;
    }
    if (origins > 1) {
        refuse(400, "more than one Origin header");
        return 0;
    }
    out->hasHost = true;
    out->hasOrigin = origins == 1;
    // A request without any Upgrade is plain HTTP: the owner's routes may serve it (it reads the bytes itself).
    if (upgrade.isEmpty()) {
        out->target = request[1];
        out->method = request[0];
        if (m_handler->onPlainRequest(*out)) {
            m_state = State::PlainRequest;
            return 0;
        }
    }
    if (!hasToken(upgrade, "websocket")) {
        refuse(426,
            "Lark speaks the Firebase Realtime Database protocol over WebSocket: connect to /.ws?v=5&ns=<namespace>");
        return 0;
    }
    if (request[0] != "GET") {
        refuse(405, "a WebSocket handshake is a GET request", "Allow: GET\r\n");
        return 0;
    }
    if (!hasToken(connection, "upgrade")) {
        refuse(400, "Connection: Upgrade is missing");
        return 0;
    }
    if (version != "13") {
        refuse(426, "only WebSocket version 13 is supported", "Sec-WebSocket-Version: 13\r\n");
        return 0;
    }
    const auto decodedKey = QByteArray::fromBase64Encoding(out->key, QByteArray::AbortOnBase64DecodingErrors);
    if (!decodedKey || decodedKey.decoded.size() != 16) {
        refuse(400, "Sec-WebSocket-Key must be 16 bytes in base64");
        return 0;
    }
    out->target = request[1];
    out->method = request[0];
    return end + 4;
}

qsizetype WebSocketParser::readFrames(char *data, qsizetype dataSize)
{
    qsizetype pos = 0;
    while (m_state == State::Frames) {
        const qsizetype available = dataSize - pos;
        if (available < 2)
            break;
        const auto *p = reinterpret_cast<const uchar *>(data + pos);
        const bool fin = p[0] & 0x80;
        const quint8 opcode = p[0] & 0x0f;
        if (p[0] & 0x70) {
            fail(QWebSocketProtocol::CloseCodeProtocolError, u"reserved bits set; no extension was agreed"_s);
            break;
        }
        if (!(p[1] & 0x80)) {
            fail(QWebSocketProtocol::CloseCodeProtocolError, u"client frames must be masked"_s);
            break;
        }
        quint64 size = p[1] & 0x7f;
        qsizetype header = 2;
        if (size == 126) {
            if (available < 4)
                break;
            size = (quint64(p[2]) << 8) | p[3];
            header = 4;
        } else if (size == 127) {
            if (available < 10)
                break;
            size = 0;
            for (int i = 2; i < 10; ++i)
                size = (size << 8) | p[i];
            header = 10;
        }
        header += 4; // the masking key
        const bool control = opcode & 0x8;
        if (control && opcode != Close && opcode != Ping && opcode != Pong) {
            fail(QWebSocketProtocol::CloseCodeProtocolError, u"unknown opcode %1"_s.arg(opcode));
            break;
        }
        if (control && (!fin || size > 125)) {
            fail(QWebSocketProtocol::CloseCodeProtocolError, u"control frames must be final and at most 125 bytes"_s);
            break;
        }
        if (!control) {
            if (opcode > Binary) {
                fail(QWebSocketProtocol::CloseCodeProtocolError, u"unknown opcode %1"_s.arg(opcode));
                break;
            }
            if ((opcode == Continuation) != (m_messageOpcode != 0)) {
                fail(QWebSocketProtocol::CloseCodeProtocolError,
                    opcode == Continuation ? u"continuation frame without a message"_s
                                           : u"a new message before the previous one ended"_s);
                break;
            }
            // Known from the header alone: a client cannot make the server wait for (and buffer) what it refuses.
            if (size > quint64(m_limits.maxMessageBytes - m_message.size())) {
                fail(QWebSocketProtocol::CloseCodeTooMuchData,
                    u"message larger than %1 bytes"_s.arg(m_limits.maxMessageBytes));
                break;
            }
        }
        if (available < header || quint64(available - header) < size)
            break; // the rest of the frame has not arrived
        char *payload = data + pos + header;
        unmask(payload, qsizetype(size), payload - 4);
        pos += header + qsizetype(size);
        if (control) {
            if (!handleControlFrame(opcode, payload, qsizetype(size)))
                break;
            continue;
        }
        if (!fin) {
            if (opcode != Continuation)
                m_messageOpcode = opcode;
            m_message.append(payload, qsizetype(size));
            continue;
        }
        QByteArray message;
        quint8 kind = opcode;
        if (opcode == Continuation) {
            kind = std::exchange(m_messageOpcode, 0);
            m_message.append(payload, qsizetype(size));
            message = std::exchange(m_message, {});
        } else {
            message = QByteArray(payload, qsizetype(size));
        }
        if (kind == Binary) {
            if (!m_handler->onBinaryMessage(message))
                break;
        } else if (!QByteArrayView(message).isValidUtf8()) {
            fail(QWebSocketProtocol::CloseCodeWrongDatatype, u"text message is not valid UTF-8"_s);
        } else if (!m_handler->onTextMessage(message)) {
            break;
        }
    }
    return pos;
}

bool WebSocketParser::handleControlFrame(quint8 opcode, const char *payload, qsizetype size)
{
    switch (opcode) {
    case Ping:
        return m_handler->onPing(QByteArrayView(payload, size));
    case Pong:
        return m_handler->onPong(QByteArrayView(payload, size));
    default:
        break;
    }
    quint16 code = QWebSocketProtocol::CloseCodeMissingStatusCode;
    if (size > 0) {
        code = size >= 2 ? quint16((uchar(payload[0]) << 8) | uchar(payload[1])) : 0;
        if (!isValidCloseCode(code)) {
            fail(QWebSocketProtocol::CloseCodeProtocolError, u"invalid close code %1"_s.arg(code));
            return false;
        }
        if (!QByteArrayView(payload + 2, size - 2).isValidUtf8()) {
            fail(QWebSocketProtocol::CloseCodeWrongDatatype, u"close reason is not valid UTF-8"_s);
            return false;
        }
    }
    m_state = State::Closed;
    m_handler->onClose(code, size >= 2 ? QByteArrayView(payload + 2, size - 2) : QByteArrayView());
    return false;
}

QByteArray handshakeResponse(const Handshake &handshake)
{
    const QByteArray accept
        = QCryptographicHash::hash(handshake.key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", QCryptographicHash::Sha1)
              .toBase64();
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: "
        + accept + "\r\n\r\n";
}

QByteArray refusalResponse(const HandshakeRefusal &refusal)
{
    const QByteArray body = refusal.reason + '\n';
    // A 426 names the protocol to switch to, and Upgrade is then a Connection option (RFC 9110 §7.8, §15.5.22).
    const QByteArray upgrade
        = refusal.status == 426 ? "Upgrade: websocket\r\nConnection: Upgrade, close\r\n" : "Connection: close\r\n";
    return "HTTP/1.1 " + QByteArray::number(refusal.status) + ' ' + httpStatusText(refusal.status) + "\r\n"
        + refusal.extraHeaders + upgrade + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: "
        + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

} // namespace lark::protocol
