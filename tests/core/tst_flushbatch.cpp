// SPDX-License-Identifier: MIT
// lark::FlushBatch: the sockets that queued something this round are flushed together, once, and a socket destroyed
// while scheduled is forgotten (by the batch, or by itself when the batch went first). On a socketpair: no network.
#include "server/flushbatch.h"
#include "server/poller.h"

#include <QTest>

#include <memory>

#include <sys/socket.h>
#include <unistd.h>

using namespace lark;

class TestFlushBatch : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void flushesEachScheduledSocketOnce();
    void forgetsASocketDestroyedWhileScheduled();
    void socketOutlivingTheBatchFlushesItself();
    void oneFlushPerRound();

private:
    /** A server socket on one end of a socketpair; the other end is *peer (closed by the caller). */
    std::unique_ptr<ServerWebSocket> makeSocket(int *peer);
    static QByteArray readAll(int fd);

    SocketPoller m_poller;
};

std::unique_ptr<ServerWebSocket> TestFlushBatch::makeSocket(int *peer)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return nullptr;
    *peer = fds[1];
    return std::make_unique<ServerWebSocket>(fds[0], ServerWebSocket::Limits(), &m_poller);
}

QByteArray TestFlushBatch::readAll(int fd)
{
    QByteArray bytes;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0)
        bytes.append(buffer, n);
    return bytes;
}

void TestFlushBatch::flushesEachScheduledSocketOnce()
{
    FlushBatch batch;
    int peerA = -1;
    int peerB = -1;
    auto a = makeSocket(&peerA);
    auto b = makeSocket(&peerB);
    QVERIFY(a && b);
    a->setFlushScheduler(&batch);
    b->setFlushScheduler(&batch);
    a->refuse(503, "busy"); // queues an HTTP answer, as a handshake refusal does
    b->refuse(403, "forbidden");
    QCOMPARE(batch.scheduled(), size_t(2));
    QVERIFY(readAll(peerA).isEmpty()); // nothing is sent before the flush
    batch.flushAll();
    QCOMPARE(batch.scheduled(), size_t(0));
    QVERIFY(readAll(peerA).startsWith("HTTP/1.1 503"));
    QVERIFY(readAll(peerB).startsWith("HTTP/1.1 403"));
    ::close(peerA);
    ::close(peerB);
}

void TestFlushBatch::forgetsASocketDestroyedWhileScheduled()
{
    FlushBatch batch;
    int peerA = -1;
    int peerB = -1;
    auto a = makeSocket(&peerA);
    auto b = makeSocket(&peerB);
    QVERIFY(a && b);
    a->setFlushScheduler(&batch);
    b->setFlushScheduler(&batch);
    a->refuse(503, "busy");
    b->refuse(503, "busy");
    a.reset(); // under AddressSanitizer, a flush of the deleted socket would be a use after free
    batch.flushAll();
    QVERIFY(readAll(peerB).startsWith("HTTP/1.1 503"));
    ::close(peerA);
    ::close(peerB);
}

void TestFlushBatch::socketOutlivingTheBatchFlushesItself()
{
    int peer = -1;
    auto socket = makeSocket(&peer);
    QVERIFY(socket);
    {
        FlushBatch batch; // a server's members go before its child sockets
        socket->setFlushScheduler(&batch);
        socket->refuse(503, "busy");
    }
    // Still scheduled when the batch went: its answer went out then, and its destructor asks no one.
    QVERIFY(readAll(peer).startsWith("HTTP/1.1 503"));
    socket.reset();
    ::close(peer);
}

void TestFlushBatch::oneFlushPerRound()
{
    FlushBatch batch;
    int peer = -1;
    auto socket = makeSocket(&peer);
    QVERIFY(socket);
    socket->setFlushScheduler(&batch);
    socket->refuse(503, "busy");
    QCOMPARE(batch.scheduled(), size_t(1));
    // The posted flush runs on the next pass of the loop, with no call here.
    QTRY_COMPARE(batch.scheduled(), size_t(0));
    QVERIFY(readAll(peer).startsWith("HTTP/1.1 503"));
    socket.reset();
    ::close(peer);
}

QTEST_GUILESS_MAIN(TestFlushBatch)
#include "tst_flushbatch.moc"
