// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>
#include <QSocketNotifier>

namespace lark
{

/**
 * Watches many sockets through one epoll descriptor, which Qt's event loop sees as a single socket notifier.
 *
 * Qt's Unix dispatcher polls every registered notifier in every loop iteration and delivers each readiness as an
 * event to its own QSocketNotifier: at 10 000 connections that bookkeeping was a fifth of the server's time
 * (docs/performance.md, change 10). Here the loop polls one descriptor, and a ready batch is handed straight to the
 * sockets' handlers. Level-triggered, so what a handler leaves unread comes back in the next batch.
 */
class SocketPoller : public QObject
{
    Q_OBJECT
public:
    class Handler
    {
    public:
        virtual void onReadable() = 0;
        virtual void onWritable() = 0;

    protected:
        ~Handler() = default;
    };

    explicit SocketPoller(QObject *parent = nullptr);
    ~SocketPoller() override;

    /** Watches fd for input and, once setInterest() asks for it, for room to write. False if epoll refused it. */
    bool add(int fd, Handler *handler);
    /** What fd is watched for; a hang-up or error is always reported (as readable). */
    void setInterest(int fd, Handler *handler, bool read, bool write);
    // No remove(): closing a descriptor takes it out of the epoll set.

private:
    void dispatch();

    int m_epoll = -1;
    QSocketNotifier m_notifier {QSocketNotifier::Read};
};

} // namespace lark
