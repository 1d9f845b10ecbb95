// SPDX-License-Identifier: MIT
#include "listener.h"

#include "logging.h"

#include <QDateTime>
#include <QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <cstring>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{
int signalPipe[2] = {-1, -1};

void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] const auto n = ::write(signalPipe[0], &c, 1);
}
} // namespace

bool onTerminationSignal(QObject *context, std::function<void()> onStop)
{
    if (signalPipe[0] >= 0 || ::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) != 0)
        return false;
    auto *notifier = new QSocketNotifier(signalPipe[1], QSocketNotifier::Read, context);
    QObject::connect(notifier, &QSocketNotifier::activated, context, [onStop = std::move(onStop)] {
        char c;
        [[maybe_unused]] const auto n = ::read(signalPipe[1], &c, 1);
        onStop();
    });
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    return true;
}

FileLimit raiseFileLimit()
{
    FileLimit limit;
    rlimit r {};
    if (::getrlimit(RLIMIT_NOFILE, &r) != 0)
        return limit;
    limit.before = limit.soft = qint64(r.rlim_cur);
    limit.hard = qint64(r.rlim_max);
    if (r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &r) == 0)
            limit.soft = qint64(r.rlim_cur);
    }
    return limit;
}

qint64 openFileLimit()
{
    rlimit r {};
    return ::getrlimit(RLIMIT_NOFILE, &r) == 0 ? qint64(r.rlim_cur) : 1024;
}

Listener::Listener(SocketPoller *poller, std::function<void(int fd)> onAccepted, QObject *parent)
    : QObject(parent)
    , m_poller(poller)
    , m_onAccepted(std::move(onAccepted))
{
    m_backoff.setSingleShot(true);
    connect(&m_backoff, &QTimer::timeout, this, [this] { updateInterest(); });
}

Listener::~Listener()
{
    close();
}

bool Listener::listen(const QHostAddress &address, quint16 port, int backlog, QString *error)
{
    close();
    sockaddr_storage storage {};
    socklen_t length = 0;
    int family = AF_INET6;
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        auto *in = reinterpret_cast<sockaddr_in *>(&storage);
        in->sin_family = family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(address.toIPv4Address());
        length = sizeof *in;
    } else {
        // IPv6, or QHostAddress::Any: the IPv6 wildcard with IPv4 mapped in (dual stack), as QTcpServer does.
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        if (address.protocol() == QAbstractSocket::IPv6Protocol) {
            const Q_IPV6ADDR a = address.toIPv6Address();
            std::memcpy(&in6->sin6_addr, &a, sizeof a);
            if (!address.scopeId().isEmpty()) {
                bool numeric = false;
                const uint id = address.scopeId().toUInt(&numeric);
                in6->sin6_scope_id = numeric ? id : ::if_nametoindex(address.scopeId().toLatin1().constData());
            }
        } else {
            in6->sin6_addr = in6addr_any;
        }
        length = sizeof *in6;
    }
    const auto failed = [&](const char *what) {
        if (error)
            *error = u"cannot listen on %1:%2: %3 (%4)"_s.arg(address.toString())
                         .arg(port)
                         .arg(QString::fromLocal8Bit(std::strerror(errno)), QLatin1String(what));
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
        return false;
    };
    m_fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_fd < 0)
        return failed("socket");
    const int on = 1, off = 0;
    // A restarted server can bind at once, while the last one's connections are in TIME_WAIT.
    ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (family == AF_INET6 && address.protocol() != QAbstractSocket::IPv6Protocol)
        ::setsockopt(m_fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (::bind(m_fd, reinterpret_cast<sockaddr *>(&storage), length) != 0)
        return failed("bind");
    if (::listen(m_fd, backlog) != 0)
        return failed("listen");
    sockaddr_storage bound {};
    socklen_t boundLength = sizeof bound;
    ::getsockname(m_fd, reinterpret_cast<sockaddr *>(&bound), &boundLength);
    m_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in *>(&bound)->sin_port);
    if (!m_poller->add(m_fd, this))
        return failed("epoll");
    m_watching = true;
    return true;
}

void Listener::close()
{
    if (m_fd < 0)
        return;
    ::close(m_fd); // also leaves the poller's epoll set
    m_fd = -1;
    m_port = 0;
    m_backoff.stop();
}

void Listener::setHeld(bool held)
{
    if (m_held == held)
        return;
    m_held = held;
    updateInterest();
}

void Listener::updateInterest()
{
    const bool watch = m_fd >= 0 && !m_held && !m_backoff.isActive();
    if (watch == m_watching || m_fd < 0)
        return;
    m_watching = watch;
    m_poller->setInterest(m_fd, this, watch, false);
}

// Linux reports a listening socket's accept queue in TCP_INFO's tcpi_unacked (what `ss -l` shows as Recv-Q); -1 if
// it cannot say.
int Listener::waitingClients() const
{
    tcp_info info {};
    socklen_t size = sizeof info;
    if (::getsockopt(m_fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0)
        return -1;
    return int(info.tcpi_unacked);
}

void Listener::endEpisode()
{
    if (!m_exhausted)
        return;
    qCInfo(lcServer).noquote() << "accepting connections again, after"
                               << QDateTime::currentMSecsSinceEpoch() - m_episodeStart << "ms";
    m_exhausted = false;
}

void Listener::onReadable()
{
    // A bounded number per notification, so a storm of connects cannot hold the loop from the open connections.
    for (int i = 0; i < 256 && m_fd >= 0 && !m_held; ++i) {
        const int fd = ::accept4(m_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            m_backoffMs = 0; // progress: the next shortage backs off from the start
            m_onAccepted(fd);
            continue;
        }
        switch (errno) {
        case EAGAIN:
#if EAGAIN != EWOULDBLOCK
        case EWOULDBLOCK:
#endif
            // The episode ends once every waiting client is taken, not at the first descriptor that frees up:
            // while clients close one by one, accepts alternate with shortages, and that is one episode.
            endEpisode();
            return;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM: {
            const int why = errno;
            // accept() takes a descriptor before it looks at the queue, so with the table full it fails even when
            // nobody waits: that is no shortage yet (the next client makes the socket readable again).
            if (waitingClients() == 0) {
                endEpisode();
                return;
            }
            if (!m_exhausted) {
                m_exhausted = true;
                m_episodeStart = QDateTime::currentMSecsSinceEpoch();
                qCWarning(lcServer).noquote()
                    << "cannot accept a connection:" << std::strerror(why)
                    << "- pausing accepts and retrying with a backoff; new clients wait in the backlog meanwhile"
                    << "(the open-file limit bounds the connection count: see the README, \"Connections\")";
                Q_EMIT resourceExhausted(why);
            }
            m_backoffMs = m_backoffMs == 0 ? 10 : std::min(2 * m_backoffMs, 1000);
            m_backoff.start(m_backoffMs);
            updateInterest();
            return;
        }
        default:
            // The client gave up before it was accepted (ECONNABORTED), a signal, a network error: the next one.
            continue;
        }
    }
}

} // namespace lark
