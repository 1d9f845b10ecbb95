// SPDX-License-Identifier: MIT
#include "websocket.h"

#include "logging.h"
#include "protocol/framing.h"

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

// The frames this side builds; the parser owns the list of opcodes.
using Op = protocol::WebSocketParser::Opcode;
constexpr quint8 Close = Op::Close;
constexpr quint8 Ping = Op::Ping;
constexpr quint8 Pong = Op::Pong;

qint64 steadyMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

} // namespace

ServerWebSocket::ServerWebSocket(qintptr socketDescriptor, const Limits &limits, SocketPoller *poller, QObject *parent)
    : QObject(parent)
    , m_fd(int(socketDescriptor))
    , m_poller(poller)
    , m_limits(limits)
    , m_parser({limits.maxMessageBytes, limits.maxHandshakeBytes}, this)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        if (m_state == State::Http)
            qCDebug(lcProtocol).noquote() << "closing the idle HTTP connection of" << m_peerAddress.toString();
        else if (m_state == State::Handshaking)
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
    if (m_flushScheduled && m_scheduler)
        m_scheduler->cancelFlush(this);
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
    if (m_state == State::Open || m_state == State::Streaming)
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
    if (bytes.size() > SmallFrame) {
        m_out.push_back({bytes, false});
    } else {
        Chunk *tail = m_out.size() > m_head ? &m_out.back() : nullptr;
        if (!tail || !tail->owned || tail->bytes.size() + bytes.size() > BufferBytes) {
            // Filled by resize() and memcpy below, not append(): appending to an empty array would share `bytes`
            // and copy it on the next frame. Not reserved ahead: an idle connection keeps its spare buffer.
            m_out.push_back({std::exchange(m_spare, {}), true});
            tail = &m_out.back();
        }
        const qsizetype at = tail->bytes.size();
        tail->bytes.resize(at + bytes.size());
        std::memcpy(tail->bytes.data() + at, bytes.constData(), size_t(bytes.size()));
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
    if (m_flushScheduled)
        return;
    m_flushScheduled = true;
    if (m_scheduler)
        m_scheduler->scheduleFlush(this);
    else
        QMetaObject::invokeMethod(this, &ServerWebSocket::flush, Qt::QueuedConnection);
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
    m_flushScheduled = false;
    while (m_fd >= 0 && m_unsent > 0) {
        constexpr size_t MaxIov = 64;
        iovec iov[MaxIov];
        size_t count = 0;
        for (size_t i = m_head; i < m_out.size() && count < MaxIov; ++i, ++count) {
            const qsizetype offset = i == m_head ? m_headOffset : 0;
            iov[count].iov_base = const_cast<char *>(m_out[i].bytes.constData()) + offset;
            iov[count].iov_len = size_t(m_out[i].bytes.size() - offset);
        }
        ssize_t n = 0;
        if (count == 1) { // the usual case (a round's frames in one buffer): send() is the cheaper call
            n = ::send(m_fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
        } else {
            msghdr msg {};
            msg.msg_iov = iov;
            msg.msg_iovlen = count;
            n = ::sendmsg(m_fd, &msg, MSG_NOSIGNAL);
        }
        if (n > 0) {
            // Progress matters only over the cap (tooSlow() counts from the later of it and crossing the cap):
            // the clock is not read for every send of the hot path.
            if (m_overCapSince != 0)
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
    const qsizetype used = m_parser.feed(m_in.data(), m_in.size());
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
    if (m_state == State::Streaming) {
        beginClose(); // what is queued (the stream's last event) goes out first; a stream has no close frame
        if (m_unsent == 0)
            flush(); // nothing left to send: end it now, not when the close timer runs out
        return;
    }
    if (m_state != State::Open) {
        if (m_state == State::Handshaking || m_state == State::Http)
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
    if (m_state == State::Closing || m_state == State::Closed || m_state == State::Streaming || m_inputStopped)
        return; // after our close frame (or a broken frame), or on a stream, input is read only to find the peer's EOF
    if (m_state == State::Open)
        Q_EMIT activity();
    // Bytes the parser did not consume (a partial frame, or the handshake so far) wait in m_in for the rest.
    const auto readsOn
        = [this] { return m_state == State::Handshaking || m_state == State::Open || m_state == State::Http; };
    if (m_state == State::Http) {
        m_in.append(buffer, n);
        readHttp();
        return;
    }
    if (m_in.isEmpty()) {
        // The usual case: whole frames, handled straight from the read buffer.
        const qsizetype used = m_parser.feed(buffer, n);
        if (readsOn() && used < n)
            m_in = QByteArray(buffer + used, n - used);
    } else {
        m_in.append(buffer, n);
        const qsizetype used = m_parser.feed(m_in.data(), m_in.size());
        if (!readsOn())
            return;
        if (used == m_in.size())
            m_in = QByteArray(); // a large message's buffer is not kept
        else
            m_in.remove(0, used);
    }
    // The head had no Upgrade: the parser left every byte of it for the HTTP reader.
    if (m_state == State::Http)
        readHttp();
}

bool ServerWebSocket::admit(const protocol::Handshake &head)
{
    if (!m_limits.policy)
        return true;
    const AccessPolicy::Verdict verdict = m_limits.policy->check(head.hasHost ? std::optional(head.host) : std::nullopt,
        head.hasOrigin ? std::optional(head.origin) : std::nullopt);
    if (verdict.status != 0) {
        refuseHandshake(verdict.status, verdict.reason);
        return false;
    }
    m_admission = verdict.admission;
    return true;
}

bool ServerWebSocket::onHandshake(const protocol::Handshake &handshake)
{
    if (!admit(handshake))
        return false;
    m_handshake = handshake;
    m_requestUrl = QUrl::fromEncoded(handshake.target);
    queue(protocol::handshakeResponse(handshake));
    m_timer.stop();
    m_state = State::Open;
    Q_EMIT opened();
    return m_state == State::Open;
}

void ServerWebSocket::onHandshakeRefused(const protocol::HandshakeRefusal &refusal)
{
    refuseHandshake(refusal.status, refusal.reason, refusal.extraHeaders);
}

bool ServerWebSocket::onPlainRequest(const protocol::Handshake &head)
{
    if (!m_limits.servesHttp)
        return false;
    // The same who-may-connect policy as a WebSocket (a page on another origin must not reach the routes either).
    if (admit(head)) {
        m_handshake = head;
        m_state = State::Http;
        m_httpReader = std::make_unique<protocol::HttpRequestReader>(
            protocol::HttpRequestReader::Limits {m_limits.maxHandshakeBytes, m_limits.maxHttpBodyBytes});
    }
    return true;
}

void ServerWebSocket::readHttp()
{
    m_readingHttp = true;
    while (m_state == State::Http && !m_httpAwaiting) {
        const qsizetype used = m_httpReader->feed(m_in.constData(), m_in.size());
        m_in.remove(0, used);
        if (m_httpReader->failed()) {
            qCInfo(lcProtocol).noquote() << "refused an HTTP request of" << m_peerAddress.toString() << ":"
                                         << m_httpReader->errorStatus() << m_httpReader->errorReason();
            queue(protocol::HttpResponse::error(m_httpReader->errorStatus(), m_httpReader->errorReason())
                      .serialize(false));
            beginClose();
            break;
        }
        if (!m_httpReader->hasRequest())
            break;
        const protocol::HttpRequest request = m_httpReader->takeRequest();
        m_httpKeepAlive = request.keepAlive;
        m_httpAwaiting = true;
        m_timer.stop(); // the request is the server's to answer now, however long that takes
        Q_EMIT httpRequest(request);
        if (m_httpAwaiting && !isSignalConnected(QMetaMethod::fromSignal(&ServerWebSocket::httpRequest)))
            respond(protocol::HttpResponse::error(404, u"no HTTP routes here"_s));
    }
    m_readingHttp = false;
}

void ServerWebSocket::respond(const protocol::HttpResponse &response)
{
    if (m_state != State::Http || !m_httpAwaiting)
        return;
    m_httpAwaiting = false;
    queue(response.serialize(m_httpKeepAlive));
    if (response.stream) {
        // Whatever the client pipelined after the stream's request is never answered: the stream holds the line.
        m_state = State::Streaming;
        m_httpReader.reset();
        m_in = QByteArray();
        m_timer.stop();
        return;
    }
    if (!m_httpKeepAlive || response.closeConnection) {
        beginClose();
        return;
    }
    m_timer.start(m_limits.handshakeTimeoutMs); // an idle keep-alive connection is dropped like a slow handshake
    if (!m_readingHttp)
        readHttp(); // answered later than its signal: read what the client pipelined meanwhile
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
    queue(protocol::refusalResponse({status, reason, extraHeaders}));
    beginClose();
}

bool ServerWebSocket::onTextMessage(const QByteArray &utf8)
{
    Q_EMIT textMessageReceived(utf8);
    if (m_unsent > m_limits.maxBacklogBytes) {
        // Backpressure: one read can hold a thousand requests; their answers wait until the peer reads.
        m_inputHeldBack = true;
        return false;
    }
    return m_state == State::Open;
}

bool ServerWebSocket::onBinaryMessage(const QByteArray &)
{
    Q_EMIT binaryMessageReceived();
    return m_state == State::Open;
}

bool ServerWebSocket::onPing(QByteArrayView payload)
{
    queuePong(payload.toByteArray());
    return m_state == State::Open;
}

bool ServerWebSocket::onPong(QByteArrayView)
{
    return m_state == State::Open; // counted as life when it was read
}

void ServerWebSocket::onClose(quint16 code, QByteArrayView)
{
    // Told before anything that could end the connection, so the loss is counted as the clean close it is.
    Q_EMIT peerClosed(code);
    if (m_state != State::Open)
        return;
    // Answered with the same code (none if the peer gave none), then TCP closes (the server closes first).
    QByteArray echo;
    if (code != QWebSocketProtocol::CloseCodeMissingStatusCode)
        echo = QByteArray(1, char(code >> 8)) + char(code & 0xff);
    queue(protocol::serverFrame(Close, echo));
    beginClose();
}

void ServerWebSocket::onProtocolError(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    failConnection(code, reason);
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
