// SPDX-License-Identifier: MIT
#include "poller.h"

#include "logging.h"

#include <cerrno>
#include <cstring>

#include <sys/epoll.h>
#include <unistd.h>

namespace lark
{

SocketPoller::SocketPoller(QObject *parent)
    : QObject(parent)
    , m_epoll(::epoll_create1(EPOLL_CLOEXEC))
{
    if (m_epoll < 0) {
        qCCritical(lcServer) << "epoll_create1 failed:" << std::strerror(errno);
        return;
    }
    m_notifier.setSocket(m_epoll);
    connect(&m_notifier, &QSocketNotifier::activated, this, &SocketPoller::dispatch);
    m_notifier.setEnabled(true);
}

SocketPoller::~SocketPoller()
{
    if (m_epoll >= 0) {
        m_notifier.setEnabled(false);
        ::close(m_epoll);
    }
}

bool SocketPoller::add(int fd, Handler *handler)
{
    epoll_event event {};
    event.events = EPOLLIN;
    event.data.ptr = handler;
    return m_epoll >= 0 && ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) == 0;
}

void SocketPoller::setInterest(int fd, Handler *handler, bool read, bool write)
{
    epoll_event event {};
    event.events = (read ? EPOLLIN : 0u) | (write ? EPOLLOUT : 0u);
    event.data.ptr = handler;
    ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &event);
}

void SocketPoller::dispatch()
{
    // A bounded batch per loop iteration: timers and the end-of-round flush run between batches.
    epoll_event events[512];
    const int n = ::epoll_wait(m_epoll, events, 512, 0);
    for (int i = 0; i < n; ++i) {
        // Handlers are deleted only later (deleteLater), so one closing itself cannot invalidate the rest.
        auto *handler = static_cast<Handler *>(events[i].data.ptr);
        if (events[i].events & EPOLLOUT)
            handler->onWritable();
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            handler->onReadable();
    }
}

} // namespace lark
