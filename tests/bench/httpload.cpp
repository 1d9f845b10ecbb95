// SPDX-License-Identifier: MIT
#include "httpload.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

HttpLoad::HttpLoad()
    : m_buf(256 * 1024)
{
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    // Between commands the Qt loop runs; streams must be read then too, or their events would wait in the kernel.
    m_notifier = std::make_unique<QSocketNotifier>(m_epoll, QSocketNotifier::Read);
    QObject::connect(m_notifier.get(), &QSocketNotifier::activated, this, [this] { poll(0); });
}

HttpLoad::~HttpLoad()
{
    m_notifier.reset();
    for (const auto &c : m_conns) {
        if (c->fd >= 0)
            ::close(c->fd);
    }
    if (m_epoll >= 0)
        ::close(m_epoll);
}

void HttpLoad::note(const QString &what)
{
    ++m_errors;
    if (m_firstError.isEmpty())
        m_firstError = what;
}

QJsonObject HttpLoad::open(const QString &host, quint16 port, int n, const QByteArray &streamTarget)
{
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.toLatin1().constData(), &addr.sin_addr) != 1)
        return {{u"error"_s, u"not an IPv4 address: "_s + host}};
    const qint64 t0 = nowUs();
    const std::string request = streamTarget.isEmpty() ? std::string()
                                                       : "GET " + streamTarget.toStdString()
            + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
    const auto streamsLive = [this] {
        poll(0);
        return std::all_of(m_conns.begin(), m_conns.end(), [](const auto &k) { return k->headSeen || k->closed; });
    };
    for (int i = 0; i < n; ++i) {
        auto c = std::make_unique<Conn>();
        c->index = int(m_conns.size());
        c->stream = !request.empty();
        // Blocking connects on loopback are immediate; the sockets turn non-blocking for the load itself.
        c->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || ::connect(c->fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) != 0)
            return {{u"error"_s, u"connect %1: %2"_s.arg(i).arg(QString::fromLocal8Bit(std::strerror(errno)))}};
        const int one = 1;
        ::setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::fcntl(c->fd, F_SETFL, ::fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        epoll_event ev {};
        ev.events = EPOLLIN;
        ev.data.ptr = c.get();
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, c->fd, &ev);
        if (!request.empty() && !sendAll(*c, request))
            return {{u"error"_s, u"could not open stream %1"_s.arg(i)}};
        m_conns.push_back(std::move(c));
        // Not thousands of requests in flight at once: the server answers them in order anyway.
        if (!request.empty() && i % 256 == 255)
            waitFor(streamsLive, 30000);
    }
    if (!request.empty())
        waitFor(streamsLive, 60000);
    int opened = 0;
    for (const auto &c : m_conns)
        opened += !c->closed && (request.empty() || c->headSeen) ? 1 : 0;
    return {{u"opened"_s, opened}, {u"ms"_s, double(nowUs() - t0) / 1000}, {u"errors"_s, double(m_errors)},
        {u"firstError"_s, m_firstError}};
}

bool HttpLoad::sendAll(Conn &c, const std::string &bytes)
{
    size_t at = 0;
    while (at < bytes.size()) {
        const ssize_t n = ::send(c.fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
        if (n > 0) {
            at += size_t(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            poll(1); // a small request never fills the buffer; if it does, let the answers drain
        } else {
            c.closed = true;
            note(u"send failed: "_s + QString::fromLocal8Bit(std::strerror(errno)));
            return false;
        }
    }
    return true;
}

void HttpLoad::poll(int timeoutMs)
{
    epoll_event events[256];
    const int n = ::epoll_wait(m_epoll, events, 256, timeoutMs);
    for (int i = 0; i < n; ++i)
        onReadable(*static_cast<Conn *>(events[i].data.ptr));
}

void HttpLoad::onReadable(Conn &c)
{
    for (;;) {
        const ssize_t n = ::read(c.fd, m_buf.data(), m_buf.size());
        if (n > 0) {
            c.in.append(m_buf.data(), size_t(n));
            if (size_t(n) < m_buf.size())
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (!c.closed) {
            c.closed = true;
            ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
            note(u"the server closed connection %1"_s.arg(c.index));
        }
        return;
    }
    if (c.stream)
        parseEvents(c);
    else
        parseAnswers(c);
}

void HttpLoad::parseAnswers(Conn &c)
{
    size_t at = 0;
    for (;;) {
        const size_t end = c.in.find("\r\n\r\n", at);
        if (end == std::string::npos)
            break;
        const std::string_view head(c.in.data() + at, end - at);
        size_t length = 0;
        if (const size_t cl = head.find("Content-Length: "); cl != std::string_view::npos)
            length = size_t(std::strtoull(head.data() + cl + 16, nullptr, 10));
        if (c.in.size() < end + 4 + length)
            break;
        if (head.substr(0, 13) != "HTTP/1.1 204 " && head.substr(0, 13) != "HTTP/1.1 200 ")
            note(u"a PUT was answered "_s
                + QString::fromUtf8(head.substr(0, head.find('\r')).data(), int(head.find('\r'))));
        --c.answersDue;
        ++m_answered;
        at = end + 4 + length;
    }
    c.in.erase(0, at);
}

void HttpLoad::parseEvents(Conn &c)
{
    size_t at = 0;
    if (!c.headSeen) {
        const size_t end = c.in.find("\r\n\r\n");
        if (end == std::string::npos)
            return;
        if (c.in.compare(0, 13, "HTTP/1.1 200 ") != 0) {
            note(u"a stream was answered "_s + QString::fromStdString(c.in.substr(0, c.in.find('\r'))));
            c.closed = true;
            return;
        }
        at = end + 4;
    }
    for (;;) {
        const size_t end = c.in.find("\n\n", at);
        if (end == std::string::npos)
            break;
        const std::string_view block(c.in.data() + at, end - at);
        at = end + 2;
        if (!c.headSeen) {
            c.headSeen = true; // the head and the first event, the value: the stream is live
            continue;
        }
        if (m_armUs < 0 || block.substr(0, 10) != "event: put")
            continue;
        const size_t d = block.find("\"data\":");
        if (d == std::string_view::npos)
            continue;
        const double stamp = std::strtod(block.data() + d + 7, nullptr);
        if (stamp < double(m_armUs))
            continue;
        const qint64 t = nowUs();
        ++*m_received;
        *m_lastRecvUs = t;
        m_hist->add(t - qint64(stamp));
    }
    c.in.erase(0, at);
}

QJsonObject HttpLoad::restWrites(qint64 durationUs, const QByteArray &prefix, const QByteArray &ns)
{
    const auto put = [&](Conn &c, qint64 value) {
        const std::string body = std::to_string(value);
        const std::string request = "PUT " + prefix.toStdString() + '/' + std::to_string(c.index)
            + ".json?ns=" + ns.toStdString() + "&print=silent HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
            + std::to_string(body.size()) + "\r\n\r\n" + body;
        ++c.answersDue;
        return sendAll(c, request);
    };
    m_notifier->setEnabled(false); // this loop reads the sockets itself
    const qint64 errorsBefore = m_errors;
    const qint64 start = nowUs(), end = start + durationUs;
    qint64 sent = 0, inWindow = 0;
    m_answered = 0;
    for (const auto &c : m_conns) {
        if (!c->closed && put(*c, sent))
            ++sent;
    }
    while (nowUs() < end) {
        const qint64 before = m_answered;
        poll(1);
        inWindow += m_answered - before;
        for (const auto &c : m_conns) {
            if (!c->closed && c->answersDue == 0 && nowUs() < end && put(*c, sent))
                ++sent;
        }
    }
    waitFor(
        [&] {
            poll(1);
            return std::all_of(
                m_conns.begin(), m_conns.end(), [](const auto &k) { return k->answersDue == 0 || k->closed; });
        },
        15000);
    m_notifier->setEnabled(true);
    return {{u"sent"_s, double(sent)}, {u"acked"_s, double(m_answered)}, {u"inWindow"_s, double(inWindow)},
        {u"windowUs"_s, double(durationUs)}, {u"errors"_s, double(m_errors - errorsBefore)},
        {u"firstError"_s, m_firstError}, {u"lost"_s, double(closedCount())}};
}

void HttpLoad::arm(qint64 fromUs, qint64 *received, qint64 *lastRecvUs, Histogram *hist)
{
    m_received = received;
    m_lastRecvUs = lastRecvUs;
    m_hist = hist;
    m_armUs = fromUs;
}

int HttpLoad::closedCount() const
{
    return int(std::count_if(m_conns.begin(), m_conns.end(), [](const auto &c) { return c->closed; }));
}

} // namespace bench
