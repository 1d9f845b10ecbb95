// SPDX-License-Identifier: MIT
#include "websocket.h"

#include "logging.h"
#include "protocol/framing.h"

#include <QCryptographicHash>
#include <QMetaMethod>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{

enum Opcode : quint8 {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

// Client frames are masked (RFC 6455 §5.3). Eight bytes at a time: Qt's own loop is byte by byte.
void unmask(char *data, qsizetype size, const char *key)
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

// Whether a comma-separated header value lists token (case-insensitive), as Connection and Upgrade do.
bool hasToken(const QByteArray &value, QByteArrayView token)
{
    for (const QByteArray &item : value.split(',')) {
        if (item.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

// Codes a peer may send in a close frame (RFC 6455 §7.4): 1004–1006 and 1015 are reserved for local use.
bool isValidCloseCode(quint16 code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

QByteArray statusText(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 405:
        return "Method Not Allowed";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    default:
        return "Error";
    }
}

} // namespace

ServerWebSocket::ServerWebSocket(qintptr socketDescriptor, const Limits &limits, SocketPoller *poller, QObject *parent)
    : QObject(parent)
    , m_fd(int(socketDescriptor))
    , m_poller(poller)
    , m_limits(limits)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        if (m_state == State::Handshaking)
            qCInfo(lcProtocol).noquote() << "no WebSocket handshake from" << m_peerAddress.toString() << "within"
                                         << m_limits.handshakeTimeoutMs << "ms; dropping it";
        closeSocket();
    });
    if (m_fd < 0) { // the server's core tests use sockets that never connect
        m_state = State::Closed;
        return;
    }
    sockaddr_storage peer {};
    socklen_t length = sizeof peer;
    if (::getpeername(m_fd, reinterpret_cast<sockaddr *>(&peer), &length) == 0) {
        m_peerAddress = QHostAddress(reinterpret_cast<const sockaddr *>(&peer));
        m_peerPort = peer.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6 *>(&peer)->sin6_port)
                                                : ntohs(reinterpret_cast<const sockaddr_in *>(&peer)->sin_port);
    }
    ::fcntl(m_fd, F_SETFL, ::fcntl(m_fd, F_GETFL) | O_NONBLOCK);
    if (!m_poller->add(m_fd, this)) {
        qCWarning(lcServer) << "cannot watch an accepted socket:" << std::strerror(errno);
        closeSocket();
        return;
    }
    m_timer.start(m_limits.handshakeTimeoutMs);
}

ServerWebSocket::~ServerWebSocket()
{
    if (m_fd >= 0) {
        // (Closing the descriptor also takes it out of the poller's epoll set, which may already be gone.)
        // Unread input would make close() send a reset, which can cost the peer what is still in flight to it
        // (a shutting-down server deletes its sockets right after queueing their close frames).
        char sink[4096];
        for (int i = 0; i < 64 && ::read(m_fd, sink, sizeof sink) > 0; ++i) { }
        ::close(m_fd);
    }
}

qint64 ServerWebSocket::bytesToWrite() const
{
    return m_out.size() - m_outPos;
}

void ServerWebSocket::write(const QByteArray &frame)
{
    if (m_state == State::Open)
        queue(frame);
}

void ServerWebSocket::queue(const QByteArray &bytes)
{
    if (m_fd < 0 || m_sendFailed)
        return;
    m_out += bytes;
    if (!m_flushRequested) {
        m_flushRequested = true;
        Q_EMIT flushRequested();
    }
}

void ServerWebSocket::flush()
{
    m_flushRequested = false;
    while (m_fd >= 0 && m_outPos < m_out.size()) {
        const ssize_t n = ::send(m_fd, m_out.constData() + m_outPos, size_t(m_out.size() - m_outPos), MSG_NOSIGNAL);
        if (n > 0) {
            m_outPos += n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!m_watchingWrites) {
                m_watchingWrites = true;
                m_poller->setWriteInterest(m_fd, this, true);
            }
            return;
        } else {
            // The peer is gone (EPIPE, ECONNRESET). A tab that sends its close frame and then resets (it closed with
            // our data unread) leaves that frame readable after the reset: stop writing, and let onReadable()
            // read on to the end, so the close is seen as the clean one it is.
            m_sendFailed = true;
            m_out = QByteArray();
            m_outPos = 0;
            if (m_watchingWrites) {
                m_watchingWrites = false;
                m_poller->setWriteInterest(m_fd, this, false);
            }
            return;
        }
    }
    if (m_fd < 0)
        return;
    if (m_watchingWrites) {
        m_watchingWrites = false;
        m_poller->setWriteInterest(m_fd, this, false);
    }
    // A small buffer is kept for the next round; a bigger one is given back, so idle connections stay small.
    if (m_out.capacity() > 4096)
        m_out = QByteArray();
    else
        m_out.resize(0);
    m_outPos = 0;
    if (m_closeWhenSent && !m_writeShut) {
        // Our close frame is out. The server closes TCP first (RFC 6455 §7.1.1); reading on until the peer's EOF
        // (or the close timeout) keeps unread input from turning the close into a reset that could lose the frame.
        m_writeShut = true;
        ::shutdown(m_fd, SHUT_WR);
    }
}

void ServerWebSocket::onWritable()
{
    if (m_fd >= 0)
        flush();
}

void ServerWebSocket::ping()
{
    if (m_state == State::Open)
        queue(protocol::serverFrame(Ping, {}));
}

void ServerWebSocket::close(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    if (m_state != State::Open) {
        if (m_state == State::Handshaking)
            closeSocket();
        return;
    }
    QByteArray payload;
    payload.append(char(quint16(code) >> 8));
    payload.append(char(quint16(code) & 0xff));
    QByteArray text = reason.toUtf8();
    if (text.size() > 123) { // a control frame carries at most 125 bytes; cut on a code point boundary
        qsizetype end = 123;
        while (end > 0 && (uchar(text.at(end)) & 0xC0) == 0x80)
            --end;
        text.truncate(end);
    }
    payload.append(text);
    queue(protocol::serverFrame(Close, payload));
    beginClose();
}

void ServerWebSocket::beginClose()
{
    m_state = State::Closing;
    m_closeWhenSent = true;
    m_timer.start(m_limits.closeTimeoutMs); // a peer that stops reading cannot hold the socket open
}

void ServerWebSocket::abort()
{
    closeSocket();
}

void ServerWebSocket::closeSocket()
{
    if (m_fd < 0)
        return;
    ::close(m_fd); // also leaves the poller's epoll set
    m_fd = -1;
    m_state = State::Closed;
    m_timer.stop();
    m_out.clear();
    m_outPos = 0;
    Q_EMIT disconnected();
}

void ServerWebSocket::onReadable()
{
    // One read per notification: a client that sends without pause cannot keep the loop from the others.
    static thread_local char buffer[64 * 1024];
    if (m_fd < 0)
        return; // closed earlier in the same batch
    ssize_t n = -1;
    do {
        n = ::read(m_fd, buffer, sizeof buffer);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        closeSocket(); // EOF or a reset; without a close frame before it, the client did not close cleanly
        return;
    }
    if (m_state == State::Closing || m_state == State::Closed || m_inputStopped)
        return; // after our close frame (or a broken frame), input is read only to find the peer's EOF
    if (m_state == State::Open)
        Q_EMIT activity();
    if (m_state == State::Handshaking) {
        m_in.append(buffer, n);
        if (!readHandshake())
            return;
        // Frames sent right behind the handshake.
        const qsizetype used = readFrames(m_in.data(), m_in.size());
        if (m_state == State::Open)
            m_in.remove(0, used);
        return;
    }
    if (m_in.isEmpty()) {
        // The usual case: whole frames, handled straight from the read buffer.
        const qsizetype used = readFrames(buffer, n);
        if (m_state == State::Open && used < n)
            m_in = QByteArray(buffer + used, n - used);
        return;
    }
    m_in.append(buffer, n);
    const qsizetype used = readFrames(m_in.data(), m_in.size());
    if (m_state != State::Open)
        return;
    if (used == m_in.size())
        m_in = QByteArray(); // a large message's buffer is not kept
    else
        m_in.remove(0, used);
}

bool ServerWebSocket::readHandshake()
{
    const qsizetype end = m_in.indexOf("\r\n\r\n");
    if (end < 0 || end > m_limits.maxHandshakeBytes) {
        if (end > m_limits.maxHandshakeBytes || m_in.size() > m_limits.maxHandshakeBytes)
            refuseHandshake(431,
                "request line and headers exceed %1 bytes"_ba.replace(
                    "%1", QByteArray::number(m_limits.maxHandshakeBytes)));
        return false;
    }
    const QList<QByteArray> lines = m_in.left(end).split('\n');
    m_in.remove(0, end + 4); // what follows are the client's first frames
    const QList<QByteArray> request = lines.first().trimmed().split(' ');
    if (request.size() != 3 || !request[2].startsWith("HTTP/1.") || request[2] == "HTTP/1.0"
        || !request[1].startsWith('/')) {
        refuseHandshake(400, "not an HTTP/1.1 request");
        return false;
    }
    if (request[0] != "GET") {
        refuseHandshake(405, "a WebSocket handshake is a GET request", "Allow: GET\r\n");
        return false;
    }
    QByteArray upgrade, connection, key, version;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines[i];
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) {
            refuseHandshake(400, "malformed header line");
            return false;
        }
        const QByteArray name = line.left(colon).trimmed().toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        // Repeated headers are one comma-separated list (RFC 9110 §5.3).
        auto add = [&value](QByteArray *to) { *to = to->isEmpty() ? value : *to + ", " + value; };
        if (name == "upgrade")
            add(&upgrade);
        else if (name == "connection")
            add(&connection);
        else if (name == "sec-websocket-key")
            add(&key);
        else if (name == "sec-websocket-version")
            add(&version);
        else if (name == "host")
            m_host = value;
    }
    if (!hasToken(upgrade, "websocket")) {
        refuseHandshake(426,
            "Lark speaks the Firebase Realtime Database protocol over WebSocket: connect to /.ws?v=5&ns=<namespace>");
        return false;
    }
    if (!hasToken(connection, "upgrade")) {
        refuseHandshake(400, "Connection: Upgrade is missing");
        return false;
    }
    if (version != "13") {
        refuseHandshake(426, "only WebSocket version 13 is supported", "Sec-WebSocket-Version: 13\r\n");
        return false;
    }
    const auto decodedKey = QByteArray::fromBase64Encoding(key, QByteArray::AbortOnBase64DecodingErrors);
    if (!decodedKey || decodedKey.decoded.size() != 16) {
        refuseHandshake(400, "Sec-WebSocket-Key must be 16 bytes in base64");
        return false;
    }
    m_requestUrl = QUrl::fromEncoded(request[1]);
    const QByteArray accept
        = QCryptographicHash::hash(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", QCryptographicHash::Sha1).toBase64();
    queue("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: "
        + accept + "\r\n\r\n");
    m_timer.stop();
    m_state = State::Open;
    Q_EMIT opened();
    return true;
}

void ServerWebSocket::refuseHandshake(int status, const QByteArray &reason, const QByteArray &extraHeaders)
{
    qCInfo(lcProtocol).noquote() << "refused the WebSocket handshake of" << m_peerAddress.toString() << ":" << status
                                 << reason;
    const QByteArray body = reason + '\n';
    // A 426 names the protocol to switch to, and Upgrade is then a Connection option (RFC 9110 §7.8, §15.5.22).
    const QByteArray upgrade
        = status == 426 ? "Upgrade: websocket\r\nConnection: Upgrade, close\r\n" : "Connection: close\r\n";
    queue("HTTP/1.1 " + QByteArray::number(status) + ' ' + statusText(status) + "\r\n" + extraHeaders + upgrade
        + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n"
        + body);
    beginClose();
}

qsizetype ServerWebSocket::readFrames(char *data, qsizetype dataSize)
{
    // Handlers may close or abort this socket: after each one, only m_state is looked at.
    qsizetype pos = 0;
    while (m_state == State::Open && !m_inputStopped) {
        const qsizetype available = dataSize - pos;
        if (available < 2)
            break;
        const auto *p = reinterpret_cast<const uchar *>(data + pos);
        const bool fin = p[0] & 0x80;
        const quint8 opcode = p[0] & 0x0f;
        if (p[0] & 0x70) {
            failConnection(QWebSocketProtocol::CloseCodeProtocolError, u"reserved bits set; no extension was agreed"_s);
            break;
        }
        if (!(p[1] & 0x80)) {
            failConnection(QWebSocketProtocol::CloseCodeProtocolError, u"client frames must be masked"_s);
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
            failConnection(QWebSocketProtocol::CloseCodeProtocolError, u"unknown opcode %1"_s.arg(opcode));
            break;
        }
        if (control && (!fin || size > 125)) {
            failConnection(
                QWebSocketProtocol::CloseCodeProtocolError, u"control frames must be final and at most 125 bytes"_s);
            break;
        }
        if (!control) {
            if (opcode > Binary) {
                failConnection(QWebSocketProtocol::CloseCodeProtocolError, u"unknown opcode %1"_s.arg(opcode));
                break;
            }
            if ((opcode == Continuation) != (m_messageOpcode != 0)) {
                failConnection(QWebSocketProtocol::CloseCodeProtocolError,
                    opcode == Continuation ? u"continuation frame without a message"_s
                                           : u"a new message before the previous one ended"_s);
                break;
            }
            if (size > quint64(m_limits.maxMessageBytes - m_message.size())) {
                failConnection(QWebSocketProtocol::CloseCodeTooMuchData,
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
            Q_EMIT binaryMessageReceived();
        } else if (!QByteArrayView(message).isValidUtf8()) {
            failConnection(QWebSocketProtocol::CloseCodeWrongDatatype, u"text message is not valid UTF-8"_s);
        } else {
            Q_EMIT textMessageReceived(message);
        }
    }
    return pos;
}

bool ServerWebSocket::handleControlFrame(quint8 opcode, const char *payload, qsizetype size)
{
    switch (opcode) {
    case Ping:
        queue(protocol::serverFrame(Pong, QByteArray(payload, size)));
        return true;
    case Pong:
        return true; // counted as life when it was read
    default:
        break;
    }
    // Close: answer with the same code (none if the peer gave none), then close TCP (the server closes first).
    quint16 code = QWebSocketProtocol::CloseCodeMissingStatusCode;
    if (size > 0) {
        code = size >= 2 ? quint16((uchar(payload[0]) << 8) | uchar(payload[1])) : 0;
        if (!isValidCloseCode(code)) {
            failConnection(QWebSocketProtocol::CloseCodeProtocolError, u"invalid close code %1"_s.arg(code));
            return false;
        }
        if (!QByteArrayView(payload + 2, size - 2).isValidUtf8()) {
            failConnection(QWebSocketProtocol::CloseCodeWrongDatatype, u"close reason is not valid UTF-8"_s);
            return false;
        }
    }
    // Told before anything that could end the connection, so the loss is counted as the clean close it is.
    Q_EMIT peerClosed(code);
    if (m_state != State::Open)
        return false;
    queue(protocol::serverFrame(Close, size >= 2 ? QByteArray(payload, 2) : QByteArray()));
    beginClose();
    return false;
}

void ServerWebSocket::failConnection(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    // Nothing after a broken frame can be trusted: input stops here. The owner closes, once it has sent what it
    // owes for the requests before it (replies waiting for a commit); without one, the close goes now.
    m_inputStopped = true;
    if (isSignalConnected(QMetaMethod::fromSignal(&ServerWebSocket::protocolError))) {
        Q_EMIT protocolError(code, reason);
        return;
    }
    qCWarning(lcProtocol).noquote() << "closing" << u"%1:%2"_s.arg(m_peerAddress.toString()).arg(m_peerPort) << "with"
                                    << int(code) << reason;
    close(code, reason);
}

} // namespace lark
