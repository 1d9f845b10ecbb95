// SPDX-License-Identifier: MIT
#include "websocket.h"

#include "logging.h"
#include "protocol/framing.h"

#include <QCryptographicHash>
#include <QMetaMethod>

#include <cerrno>
#include <cstring>

#include <chrono>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
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

qint64 steadyMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

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
    case 403:
        return "Forbidden";
    case 405:
        return "Method Not Allowed";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
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

void ServerWebSocket::write(const QByteArray &frame)
{
    if (m_state == State::Open)
        queue(frame);
}

void ServerWebSocket::queue(const QByteArray &bytes)
{
    if (m_fd < 0 || m_sendFailed || bytes.isEmpty())
        return;
    // Small frames share one buffer (one iovec, and a round's replies leave in one send); a large one is held by
    // reference, so a push to many listeners is in memory once however far behind they are.
    constexpr qsizetype SmallFrame = 4096;
    constexpr qsizetype BufferBytes = 64 * 1024;
    Chunk *tail = m_out.size() > m_head ? &m_out.back() : nullptr;
    if (bytes.size() <= SmallFrame && tail && tail->owned && tail->bytes.size() + bytes.size() <= BufferBytes) {
        tail->bytes.append(bytes);
    } else if (bytes.size() <= SmallFrame) {
        QByteArray buffer = std::exchange(m_spare, {});
        buffer.append(bytes);
        m_out.push_back({std::move(buffer), true});
    } else {
        m_out.push_back({bytes, false});
    }
    m_unsent += bytes.size();
    queued();
}

void ServerWebSocket::queuePong(const QByteArray &payload)
{
    if (m_fd < 0 || m_sendFailed)
        return;
    QByteArray frame = protocol::serverFrame(Pong, payload);
    if (m_pongChunk >= 0) {
        // A ping flood costs one pending pong, not one per ping.
        Chunk &pending = m_out[size_t(m_pongChunk)];
        m_unsent += frame.size() - pending.bytes.size();
        pending.bytes = std::move(frame);
        return;
    }
    m_unsent += frame.size();
    m_pongChunk = qsizetype(m_out.size());
    m_out.push_back({std::move(frame), false});
    queued();
}

void ServerWebSocket::queued()
{
    if (m_unsent > m_limits.maxBacklogBytes && m_overCapSince == 0) {
        m_overCapSince = steadyMs();
        m_windowStart = m_overCapSince;
        m_windowBytes = m_unsent;
    }
    if (!m_flushRequested) {
        m_flushRequested = true;
        Q_EMIT flushRequested();
    }
}

bool ServerWebSocket::tooSlow(QString *reason)
{
    if (m_overCapSince == 0 || m_unsent <= m_limits.maxBacklogBytes || m_state == State::Closed)
        return false;
    const qint64 now = steadyMs();
    const qint64 idle = now - std::max(m_lastProgress, m_overCapSince);
    if (idle >= m_limits.slowAfterMs) {
        *reason = u"client too slow: %1 bytes unsent and none taken for %2 ms"_s.arg(m_unsent).arg(idle);
        return true;
    }
    if (now - m_windowStart >= m_limits.slowAfterMs) {
        if (m_unsent >= m_windowBytes) {
            *reason = u"client too slow: its backlog grew from %1 to %2 bytes in %3 ms"_s.arg(m_windowBytes)
                          .arg(m_unsent)
                          .arg(now - m_windowStart);
            return true;
        }
        m_windowStart = now;
        m_windowBytes = m_unsent;
    }
    return false;
}

qint64 ServerWebSocket::bufferedBytes() const
{
    qint64 held = m_spare.capacity();
    for (size_t i = m_head; i < m_out.size(); ++i)
        held += m_out[i].bytes.size();
    return held;
}

bool ServerWebSocket::hasUnreadInput() const
{
    char byte;
    return m_fd >= 0 && ::recv(m_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

void ServerWebSocket::dropUnsent()
{
    // The chunk being sent must end whole, or the peer would read the next frame from its middle.
    const size_t keep = m_head + (m_headOffset > 0 ? 1 : 0);
    for (size_t i = keep; i < m_out.size(); ++i)
        m_unsent -= m_out[i].bytes.size();
    m_out.resize(keep);
    if (m_pongChunk >= qsizetype(keep))
        m_pongChunk = -1;
}

void ServerWebSocket::consume(qsizetype n)
{
    m_unsent -= n;
    while (n > 0) {
        Chunk &c = m_out[m_head];
        if (qsizetype(m_head) == m_pongChunk)
            m_pongChunk = -1; // started: the next ping gets a pong of its own
        const qsizetype left = c.bytes.size() - m_headOffset;
        if (n < left) {
            m_headOffset += n;
            return;
        }
        n -= left;
        // Released as soon as it is sent. A small buffer is kept for the next round; idle connections stay small.
        if (c.owned && c.bytes.capacity() <= 4096 && m_spare.isNull()) {
            m_spare = std::move(c.bytes);
            m_spare.resize(0);
        }
        c.bytes = QByteArray();
        ++m_head;
        m_headOffset = 0;
    }
    if (m_head == m_out.size()) {
        m_out.clear();
        if (m_out.capacity() > 64)
            m_out.shrink_to_fit();
        m_head = 0;
    } else if (m_head >= 64 && m_head * 2 >= m_out.size()) {
        m_out.erase(m_out.begin(), m_out.begin() + qsizetype(m_head));
        if (m_pongChunk >= 0)
            m_pongChunk -= qsizetype(m_head);
        m_head = 0;
    }
}

void ServerWebSocket::flush()
{
    m_flushRequested = false;
    while (m_fd >= 0 && m_unsent > 0) {
        constexpr size_t MaxIov = 64;
        iovec iov[MaxIov];
        size_t count = 0;
        for (size_t i = m_head; i < m_out.size() && count < MaxIov; ++i, ++count) {
            const qsizetype offset = i == m_head ? m_headOffset : 0;
            iov[count].iov_base = const_cast<char *>(m_out[i].bytes.constData()) + offset;
            iov[count].iov_len = size_t(m_out[i].bytes.size() - offset);
        }
        msghdr msg {};
        msg.msg_iov = iov;
        msg.msg_iovlen = count;
        const ssize_t n = ::sendmsg(m_fd, &msg, MSG_NOSIGNAL);
        if (n > 0) {
            m_lastProgress = steadyMs();
            consume(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            // The peer is gone (EPIPE, ECONNRESET). A tab that sends its close frame and then resets (it closed with
            // our data unread) leaves that frame readable after the reset: stop writing, and let onReadable()
            // read on to the end, so the close is seen as the clean one it is.
            m_sendFailed = true;
            m_out.clear();
            m_head = 0;
            m_headOffset = 0;
            m_unsent = 0;
            m_pongChunk = -1;
            break;
        }
    }
    if (m_fd < 0)
        return;
    if (m_unsent <= m_limits.maxBacklogBytes) {
        m_overCapSince = 0;
        if (std::exchange(m_inputHeldBack, false)) // not from inside flush(): handlers would queue into this round
            QMetaObject::invokeMethod(this, &ServerWebSocket::resumeInput, Qt::QueuedConnection);
    }
    updateInterest();
    if (m_unsent == 0 && m_closeWhenSent && !m_writeShut) {
        // Our close frame is out. The server closes TCP first (RFC 6455 §7.1.1); reading on until the peer's EOF
        // (or the close timeout) keeps unread input from turning the close into a reset that could lose the frame.
        m_writeShut = true;
        ::shutdown(m_fd, SHUT_WR);
    }
}

void ServerWebSocket::resumeInput()
{
    if (m_state != State::Open || m_inputStopped || m_in.isEmpty() || m_inputHeldBack)
        return;
    const qsizetype used = readFrames(m_in.data(), m_in.size());
    if (m_state == State::Open)
        m_in.remove(0, used);
}

void ServerWebSocket::updateInterest()
{
    // Backpressure: a peer whose backlog is over the cap is not read until it drains, so a flood of requests whose
    // answers it never reads waits in its own TCP window instead of in the server's memory.
    const bool pauseInput = m_state == State::Open && m_unsent > m_limits.maxBacklogBytes;
    const bool watchWrites = m_unsent > 0 && !m_sendFailed;
    if (pauseInput == m_inputPaused && watchWrites == m_watchingWrites)
        return;
    m_inputPaused = pauseInput;
    m_watchingWrites = watchWrites;
    m_poller->setInterest(m_fd, this, !pauseInput, watchWrites);
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
    m_head = 0;
    m_headOffset = 0;
    m_unsent = 0;
    m_pongChunk = -1;
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
    if (m_inputPaused) {
        // Only a hang-up (or an event from the batch before the pause) gets here while input is held back: keep
        // what was read for later. Bounded: the kernel reports no more input until the pause ends.
        m_in.append(buffer, n);
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
    std::optional<QByteArray> host, origin;
    int hostCount = 0;
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
        else if (name == "host") {
            host = value;
            ++hostCount;
        } else if (name == "origin") {
            if (!origin)
                origin.emplace();
            add(&*origin);
        }
    }
    if (hostCount > 1) {
        refuseHandshake(400, "more than one Host header");
        return false;
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
    if (m_limits.policy) {
        const AccessPolicy::Verdict verdict = m_limits.policy->check(host, origin);
        if (verdict.status != 0) {
            refuseHandshake(verdict.status, verdict.reason);
            return false;
        }
        m_admission = verdict.admission;
    }
    m_host = host.value_or(QByteArray());
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

void ServerWebSocket::refuse(int status, const QByteArray &reason, const QByteArray &extraHeaders)
{
    if (m_state == State::Handshaking && m_fd >= 0) {
        m_timer.stop();
        refuseHandshake(status, reason, extraHeaders);
    }
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
        if (m_unsent > m_limits.maxBacklogBytes) {
            // Backpressure: one read can hold a thousand requests; their answers wait until the peer reads.
            m_inputHeldBack = true;
            break;
        }
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
        queuePong(QByteArray(payload, size));
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
