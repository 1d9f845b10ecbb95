// SPDX-License-Identifier: MIT
// RawClients' connections: non-blocking connects (a window of handshakes at a time), the client handshake, masked
// frames out (corked while an epoll batch is handled), frames and Lark frame counts in, replies and stamped pushes
// counted without a JSON parse. The writes scenario's phase is rawwrites.cpp.
#include "rawclients_p.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

namespace
{

// A fixed key is fine for a benchmark client; its accept value is the RFC 6455 §1.3 example.
constexpr std::string_view WsKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view WsAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
// Client frames must be masked (RFC 6455 §5.3); the key need not be secret here.
constexpr unsigned char Mask[4] = {0x37, 0xfa, 0x21, 0x3d};
// At most this many handshakes in progress, as in the Qt path.
constexpr int Window = 512;
constexpr size_t MaxFrame = size_t(64) << 20;

bool contains(std::string_view hay, std::string_view needle)
{
    return hay.find(needle) != std::string_view::npos;
}

} // namespace

RawClients::RawClients()
    : m_buf(size_t(256) << 10)
{
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (m_epoll < 0)
        return;
    m_notifier = std::make_unique<QSocketNotifier>(m_epoll, QSocketNotifier::Read);
    QObject::connect(m_notifier.get(), &QSocketNotifier::activated, this, [this] { drain(); });
}

RawClients::~RawClients()
{
    m_notifier.reset();
    if (m_timer >= 0)
        ::close(m_timer);
    for (const auto &c : m_conns) {
        if (c->fd >= 0)
            ::close(c->fd);
    }
    if (m_epoll >= 0)
        ::close(m_epoll);
}

int RawClients::closedCount() const
{
    int n = 0;
    for (const auto &c : m_conns)
        n += c->ready && c->state == Conn::State::Closed ? 1 : 0;
    return n;
}

void RawClients::note(const QString &what)
{
    if (m_firstError.isEmpty())
        m_firstError = what.left(200);
}

QJsonObject RawClients::open(const QString &host, quint16 port, const QByteArray &resource, int first, int n, bool echo,
    const QByteArray &listenPath, bool signIn)
{
    if (m_epoll < 0)
        return {{u"error"_s, u"epoll_create1 failed"_s}};
    m_addr.sin_family = AF_INET;
    m_addr.sin_port = htons(port);
    if (inet_pton(AF_INET, host.toLatin1().constData(), &m_addr.sin_addr) != 1)
        return {{u"error"_s, u"the epoll listeners need an IPv4 address, not "_s + host}};
    m_echo = echo;
    m_handshake = "GET " + resource + " HTTP/1.1\r\nHost: " + host.toLatin1() + ":" + QByteArray::number(port)
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + QByteArray(WsKey.data())
        + "\r\nSec-WebSocket-Version: 13\r\n\r\n";

    const qint64 t0 = nowUs();
    const size_t from = m_conns.size();
    for (int i = 0; i < n; ++i) {
        m_conns.push_back(std::make_unique<Conn>());
        m_conns.back()->index = first + i;
    }
    m_next = from;
    startMore();
    waitFor([this] { return m_next >= m_conns.size() && m_connecting == 0; }, 60000);
    const qint64 tHello = nowUs();
    int opened = 0;
    for (size_t i = from; i < m_conns.size(); ++i)
        opened += m_conns[i]->ready && m_conns[i]->state == Conn::State::Open ? 1 : 0;

    m_pendingReplies = 0;
    if (signIn) {
        for (size_t i = from; i < m_conns.size(); ++i) {
            Conn &c = *m_conns[i];
            if (c.ready && c.state == Conn::State::Open) {
                ++m_pendingReplies;
                request(c, "auth", signInBody(QByteArray::number(c.index)));
            }
        }
        waitFor([this] { return m_pendingReplies <= 0; }, 60000);
    }
    if (!listenPath.isEmpty()) {
        const QByteArray body = "{\"p\":\"" + listenPath + "\",\"h\":\"\"}";
        for (size_t i = from; i < m_conns.size(); ++i) {
            Conn &c = *m_conns[i];
            if (c.ready && c.state == Conn::State::Open) {
                ++m_pendingReplies;
                request(c, "q", body);
            }
        }
        waitFor([this] { return m_pendingReplies <= 0; }, 60000);
    }
    const qint64 tListen = nowUs();
    return {{u"opened"_s, opened}, {u"failed"_s, n - opened}, {u"errors"_s, double(m_errors)},
        {u"unanswered"_s, double(m_pendingReplies)}, {u"firstError"_s, m_firstError}, {u"t0"_s, double(t0)},
        {u"tHello"_s, double(tHello)}, {u"tListen"_s, double(tListen)}, {u"tOps"_s, double(tListen)}};
}

void RawClients::arm(qint64 fromUs, qint64 *received, qint64 *lastRecvUs, Histogram *hist)
{
    m_armUs = fromUs;
    m_received = received;
    m_lastRecvUs = lastRecvUs;
    m_hist = hist;
}

void RawClients::startMore()
{
    while (m_next < m_conns.size() && m_connecting < Window)
        startConnect(*m_conns[m_next++]);
}

void RawClients::startConnect(Conn &c)
{
    ++m_connecting;
    c.state = Conn::State::Connecting;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        lose(c, u"socket: "_s + QString::fromLocal8Bit(std::strerror(errno)));
        return;
    }
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c.fd, reinterpret_cast<const sockaddr *>(&m_addr), sizeof m_addr) < 0 && errno != EINPROGRESS) {
        lose(c, u"connect: "_s + QString::fromLocal8Bit(std::strerror(errno)));
        return;
    }
    epoll_event ev {};
    ev.events = EPOLLOUT;
    ev.data.ptr = &c;
    c.writeArmed = true;
    if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, c.fd, &ev) < 0)
        lose(c, u"epoll_ctl: "_s + QString::fromLocal8Bit(std::strerror(errno)));
}

void RawClients::drain()
{
    epoll_event events[512];
    // Bounded, so the worker's own commands (queued from its stdin thread) still get their turn.
    for (int round = 0; round < 16; ++round) {
        const int n = epoll_wait(m_epoll, events, 512, 0);
        handleEvents(events, n);
        if (n < 512)
            break;
    }
    startMore();
}

void RawClients::handleEvents(const epoll_event *events, int n)
{
    m_corked = true;
    for (int i = 0; i < n; ++i) {
        if (!events[i].data.ptr) { // the writes phase's timerfd: it only had to wake the loop
            uint64_t expirations = 0;
            [[maybe_unused]] const ssize_t r = ::read(m_timer, &expirations, sizeof expirations);
            continue;
        }
        Conn &c = *static_cast<Conn *>(events[i].data.ptr);
        if (c.state == Conn::State::Closed)
            continue;
        if (c.state == Conn::State::Connecting || (events[i].events & EPOLLOUT))
            onWritable(c);
        if (c.state != Conn::State::Closed && c.state != Conn::State::Connecting
            && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            onReadable(c);
    }
    flushCorked();
}

void RawClients::flushCorked()
{
    m_corked = false;
    for (Conn *c : m_dirty) {
        c->dirty = false;
        // With EPOLLOUT armed the socket is full: the writable event sends the rest.
        if (c->state != Conn::State::Closed && !c->writeArmed)
            onWritable(*c);
    }
    m_dirty.clear();
}

void RawClients::onWritable(Conn &c)
{
    if (c.state == Conn::State::Connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err != 0) {
            lose(c, u"connect: "_s + QString::fromLocal8Bit(std::strerror(err)));
            return;
        }
        c.state = Conn::State::Handshake;
        c.out.append(m_handshake.constData(), size_t(m_handshake.size()));
    }
    while (!c.out.empty()) {
        const ssize_t w = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (w > 0) {
            c.out.erase(0, size_t(w));
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        lose(c, u"send: "_s + QString::fromLocal8Bit(std::strerror(errno)));
        return;
    }
    const bool wantWrite = !c.out.empty();
    if (wantWrite != c.writeArmed || c.state == Conn::State::Handshake) {
        epoll_event ev {};
        ev.events = EPOLLIN | (wantWrite ? EPOLLOUT : 0u);
        ev.data.ptr = &c;
        epoll_ctl(m_epoll, EPOLL_CTL_MOD, c.fd, &ev);
        c.writeArmed = wantWrite;
    }
}

void RawClients::onReadable(Conn &c)
{
    for (;;) {
        const ssize_t n = ::read(c.fd, m_buf.data(), m_buf.size());
        if (n == 0) {
            lose(c, u"closed by the server"_s);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                lose(c, u"read: "_s + QString::fromLocal8Bit(std::strerror(errno)));
            return;
        }
        // Everything in one read arrived together: one clock read stamps it all.
        m_readUs = nowUs();
        const char *data = m_buf.data();
        auto size = size_t(n);
        if (c.state == Conn::State::Handshake) {
            c.in.append(data, size);
            const size_t end = c.in.find("\r\n\r\n");
            if (end == std::string::npos) {
                if (c.in.size() > 16384)
                    lose(c, u"handshake response too long"_s);
                if (c.state == Conn::State::Closed || size < m_buf.size())
                    return;
                continue;
            }
            const std::string_view head(c.in.data(), end);
            if (head.substr(0, 12) != "HTTP/1.1 101" || !contains(head, WsAccept)) {
                lose(c, u"handshake refused: "_s + QString::fromLatin1(head.data(), qsizetype(head.size())));
                return;
            }
            c.state = Conn::State::Open;
            c.in.erase(0, end + 4);
            const size_t used = parseFrames(c, c.in.data(), c.in.size());
            if (c.state == Conn::State::Closed)
                return;
            c.in.erase(0, used);
        } else if (c.in.empty()) {
            // The usual case: parse straight from the read buffer, keep only an incomplete tail.
            const size_t used = parseFrames(c, data, size);
            if (c.state == Conn::State::Closed)
                return;
            if (used < size)
                c.in.assign(data + used, size - used);
        } else {
            c.in.append(data, size);
            const size_t used = parseFrames(c, c.in.data(), c.in.size());
            if (c.state == Conn::State::Closed)
                return;
            c.in.erase(0, used);
        }
        if (size < m_buf.size())
            return; // most likely drained; level-triggered epoll reports it again if not
    }
}

size_t RawClients::parseFrames(Conn &c, const char *data, size_t size)
{
    const auto *u = reinterpret_cast<const unsigned char *>(data);
    size_t pos = 0;
    while (size - pos >= 2) {
        const bool fin = (u[pos] & 0x80) != 0;
        const int opcode = u[pos] & 0x0f;
        const bool masked = (u[pos + 1] & 0x80) != 0;
        uint64_t len = u[pos + 1] & 0x7f;
        size_t header = 2;
        if (len == 126) {
            if (size - pos < 4)
                break;
            len = (uint64_t(u[pos + 2]) << 8) | u[pos + 3];
            header = 4;
        } else if (len == 127) {
            if (size - pos < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; ++i)
                len = (len << 8) | u[pos + 2 + size_t(i)];
            header = 10;
        }
        if (masked) {
            lose(c, u"masked frame from the server"_s);
            return size;
        }
        if (len > MaxFrame) {
            lose(c, u"frame of %1 bytes"_s.arg(len));
            return size;
        }
        if (size - pos - header < len)
            break;
        onFrame(c, opcode, fin, data + pos + header, size_t(len));
        if (c.state == Conn::State::Closed)
            return size;
        pos += header + size_t(len);
    }
    return pos;
}

void RawClients::onFrame(Conn &c, int opcode, bool fin, const char *payload, size_t len)
{
    switch (opcode) {
    case 0x9: // ping: the server's heartbeat drops listeners that do not answer
        sendFrame(c, 0xA, std::string_view(payload, len));
        return;
    case 0xA:
        return;
    case 0x8:
        sendFrame(c, 0x8, std::string_view(payload, std::min<size_t>(len, 2)));
        if (!c.writeArmed)
            onWritable(c); // now, even while corked: lose() closes the socket
        lose(c, u"close frame from the server"_s);
        return;
    case 0x1:
    case 0x2:
        if (fin && c.frag.empty()) {
            onMessage(c, std::string_view(payload, len));
            return;
        }
        c.frag.assign(payload, len);
        return;
    case 0x0:
        c.frag.append(payload, len);
        if (fin) {
            const std::string m = std::move(c.frag);
            c.frag.clear();
            onMessage(c, m);
        }
        return;
    default:
        lose(c, u"unknown opcode %1"_s.arg(opcode));
        return;
    }
}

void RawClients::onMessage(Conn &c, std::string_view m)
{
    // Frame counts (docs/wire-protocol.md §3): a short all-digit message says how many messages the next one spans.
    if (c.countPending == 0 && !m.empty() && m.size() <= 6
        && m.find_first_not_of("0123456789") == std::string_view::npos) {
        c.countPending = std::atoi(std::string(m).c_str());
        c.counted.clear();
        return;
    }
    std::string joined;
    if (c.countPending > 0) {
        c.counted.append(m);
        if (--c.countPending > 0)
            return;
        joined = std::move(c.counted);
        c.counted.clear();
        m = joined;
    }

    if (m.substr(0, 8) == R"({"t":"c")" || (m.size() >= 8 && m.substr(m.size() - 8) == R"("t":"c"})")) {
        if (!c.ready && contains(m, R"("t":"h")")) {
            c.ready = true;
            c.settled = true;
            --m_connecting;
        }
        return;
    }
    const size_t r = m.find(R"("r":)");
    if (r != std::string_view::npos) {
        // A reply: matched by its number, and "ok" unless the status says otherwise (no JSON parse). The baseline
        // echoes each request as its reply, so there any message with an "r" is a success.
        qint64 number = 0;
        for (size_t i = r + 4; i < m.size() && m[i] >= '0' && m[i] <= '9'; ++i)
            number = number * 10 + (m[i] - '0');
        const bool ok = m_echo || contains(m, R"("s":"ok")");
        if (!ok) {
            ++m_errors;
            note(QString::fromUtf8(m.data(), qsizetype(std::min<size_t>(m.size(), 200))));
        }
        --c.outstanding;
        if (m_phase)
            onReply(c, number, ok);
        else
            --m_pendingReplies;
        return;
    }
    if (!m_received)
        return;
    // A push: the number after the last "d": is the writer's send time in µs (as Client::pushNumber).
    const size_t d = m.rfind(R"("d":)");
    if (d == std::string_view::npos)
        return;
    size_t i = d + 4;
    qint64 stamp = 0;
    const size_t digits = i;
    while (i < m.size() && m[i] >= '0' && m[i] <= '9')
        stamp = stamp * 10 + (m[i++] - '0');
    if (i == digits)
        return; // null or an object: not a stamped write
    if (i < m.size() && (m[i] == '.' || m[i] == 'e' || m[i] == 'E')) {
        // Not written by this bench's writer as such, but a server may reformat numbers.
        const std::string text(m.substr(digits, 32));
        stamp = qint64(std::strtod(text.c_str(), nullptr));
    }
    if (stamp < m_armUs)
        return;
    ++*m_received;
    *m_lastRecvUs = m_readUs;
    m_hist->add(m_readUs - stamp);
}

void RawClients::sendFrame(Conn &c, int opcode, std::string_view payload)
{
    const bool queued = !c.out.empty();
    std::string &frame = c.out; // built in place, after whatever the socket has not taken yet
    frame.reserve(frame.size() + payload.size() + 14);
    frame.push_back(char(0x80 | opcode));
    if (payload.size() < 126) {
        frame.push_back(char(0x80 | payload.size()));
    } else if (payload.size() <= 0xffff) {
        frame.push_back(char(0x80 | 126));
        frame.push_back(char(payload.size() >> 8));
        frame.push_back(char(payload.size() & 0xff));
    } else {
        frame.push_back(char(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            frame.push_back(char((uint64_t(payload.size()) >> shift) & 0xff));
    }
    frame.append(reinterpret_cast<const char *>(Mask), 4);
    for (size_t i = 0; i < payload.size(); ++i)
        frame.push_back(char(payload[i] ^ char(Mask[i % 4])));
    if (m_corked) {
        if (!c.dirty) {
            c.dirty = true;
            m_dirty.push_back(&c);
        }
        return;
    }
    if (!queued)
        onWritable(c);
}

void RawClients::request(Conn &c, const char *action, const QByteArray &body)
{
    const QByteArray m = "{\"t\":\"d\",\"d\":{\"r\":" + QByteArray::number(c.nextR++) + ",\"a\":\"" + action
        + "\",\"b\":" + body + "}}";
    ++c.outstanding;
    sendFrame(c, 0x1, std::string_view(m.constData(), size_t(m.size())));
}

void RawClients::lose(Conn &c, const QString &why)
{
    if (c.state == Conn::State::Closed)
        return;
    if (!c.ready)
        note(why);
    c.state = Conn::State::Closed;
    if (c.fd >= 0) {
        epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        c.fd = -1;
    }
    if (!c.settled) {
        c.settled = true;
        --m_connecting;
    }
    // Its replies will not come: do not make the open phase wait for them.
    m_pendingReplies -= std::max<qint64>(0, c.outstanding);
    c.outstanding = 0;
    if (m_phase) {
        ++m_phase->lost;
        m_phase->abandoned += qint64(c.sentAt.size());
        c.sentAt.clear();
        note(u"writer lost: "_s + why);
    }
}

} // namespace bench
