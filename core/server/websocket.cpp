// SPDX-License-Identifier: MIT
#include "websocket.h"

#include "logging.h"
#include "protocol/framing.h"

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
    // Bytes the parser did not consume (a partial frame, or the handshake so far) wait in m_in for the rest.
    const auto readsOn = [this] { return m_state == State::Handshaking || m_state == State::Open; };
    if (m_in.isEmpty()) {
        // The usual case: whole frames, handled straight from the read buffer.
        const qsizetype used = m_parser.feed(buffer, n);
        if (readsOn() && used < n)
            m_in = QByteArray(buffer + used, n - used);
        return;
    }
    m_in.append(buffer, n);
    const qsizetype used = m_parser.feed(m_in.data(), m_in.size());
    if (!readsOn())
        return;
    if (used == m_in.size())
        m_in = QByteArray(); // a large message's buffer is not kept
    else
        m_in.remove(0, used);
}

bool ServerWebSocket::onHandshake(const protocol::Handshake &handshake)
{
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
    return m_state == State::Open;
}

bool ServerWebSocket::onBinaryMessage(const QByteArray &)
{
    Q_EMIT binaryMessageReceived();
    return m_state == State::Open;
}

bool ServerWebSocket::onPing(QByteArrayView payload)
{
    queue(protocol::serverFrame(Pong, payload.toByteArray()));
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
