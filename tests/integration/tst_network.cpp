// SPDX-License-Identifier: MIT
// The network surface (issue #12, docs/semantics.md §3 and §7): output flow control, who may connect, and what a
// connection may cost, against the real server over 127.0.0.1.
#include "rawclient.h"
#include "testserver.h"

#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTest>

using namespace Qt::Literals::StringLiterals;

namespace
{

/** A WebSocket client written by hand over a QTcpSocket: any handshake headers, any frames, reads only when told. */
class HandClient
{
public:
    bool connectTo(quint16 port)
    {
        socket.connectToHost(QHostAddress::LocalHost, port);
        return QTest::qWaitFor([this] { return socket.state() == QAbstractSocket::ConnectedState; }, 5000);
    }

    /** The handshake request, with Host (unless host is null) and any extra header lines. */
    void sendHandshake(quint16 port, const QByteArray &extraHeaders = {}, const QByteArray &host = "127.0.0.1")
    {
        QByteArray request = "GET /.ws?v=5&ns=test HTTP/1.1\r\n";
        if (!host.isNull())
            request += "Host: " + host + ':' + QByteArray::number(port) + "\r\n";
        request += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
            + extraHeaders + "\r\n";
        socket.write(request);
    }

    /** Waits for the response head; returns its status code (0: none came). The body, if any, is in body. */
    int readResponse(int timeoutMs = 5000)
    {
        const bool done = QTest::qWaitFor(
            [this] {
                in += socket.readAll();
                return in.contains("\r\n\r\n") || socket.state() != QAbstractSocket::ConnectedState;
            },
            timeoutMs);
        in += socket.readAll();
        const qsizetype end = in.indexOf("\r\n\r\n");
        if (!done || end < 0)
            return 0;
        head = in.left(end);
        // The rest: a refusal's body, or the first frames (the hello).
        (void)QTest::qWaitFor(
            [this] {
                in += socket.readAll();
                return socket.state() != QAbstractSocket::ConnectedState || in.size() > head.size() + 4;
            },
            1000);
        body = in.mid(end + 4);
        const QList<QByteArray> statusLine = head.left(head.indexOf("\r\n")).split(' ');
        return statusLine.size() >= 2 ? statusLine[1].toInt() : -1;
    }

    /** Bytes of one masked frame. */
    static QByteArray frame(quint8 opcode, const QByteArray &payload)
    {
        QByteArray f;
        f.append(char(0x80 | opcode));
        if (payload.size() < 126) {
            f.append(char(0x80 | payload.size()));
        } else if (payload.size() < 65536) {
            f.append(char(0x80 | 126));
            f.append(char(payload.size() >> 8));
            f.append(char(payload.size() & 0xff));
        } else {
            f.append(char(0x80 | 127));
            for (int i = 7; i >= 0; --i)
                f.append(char((quint64(payload.size()) >> (8 * i)) & 0xff));
        }
        const quint32 mask = QRandomGenerator::global()->generate();
        const char m[4] = {char(mask >> 24), char(mask >> 16), char(mask >> 8), char(mask)};
        f.append(m, 4);
        for (qsizetype i = 0; i < payload.size(); ++i)
            f.append(char(payload.at(i) ^ m[i % 4]));
        return f;
    }

    static QByteArray request(int r, const QString &action, const QJsonObject &body)
    {
        const QJsonObject msg {{u"t"_s, u"d"_s}, {u"d"_s, QJsonObject {{u"r"_s, r}, {u"a"_s, action}, {u"b"_s, body}}}};
        return frame(0x1, QJsonDocument(msg).toJson(QJsonDocument::Compact));
    }

    QTcpSocket socket;
    QByteArray in;
    QByteArray head;
    QByteArray body;
};

/** An open connection made by hand, its hello read; it reads nothing more unless the test reads. */
bool openHand(HandClient &c, quint16 port)
{
    if (!c.connectTo(port))
        return false;
    c.sendHandshake(port);
    return c.readResponse() == 101;
}

/** A server with the default timers (clients made by hand do not answer pings), on a free port. */
std::unique_ptr<lark::Server> startServer(lark::ServerConfig config = {})
{
    config.port = 0;
    return startConfiguredServer(config);
}

} // namespace

class TstNetwork : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Output flow control.
    void bigValueReachesAFastListener();
    void pingFloodKeepsTheBacklogBounded();
    void sentBytesAreReleasedAsTheyGo();
    // A reader that stops is closed with 1008: tst_badinput's slowReaderIsClosed.
    void requestsWhoseAnswersAreNotReadAreHeldBack();
    // Who may connect.
    void originAndHost_data();
    void originAndHost();
    void listedOriginAndHost();
    void adminNeedsANamedOrigin();
    // Capacity.
    void atCapacityNewClientsGet503();
    void unfinishedHandshakesAreCapped();
};

void TstNetwork::bigValueReachesAFastListener()
{
    // Data limits allow 10 MiB strings: a 9.5 MiB value is more than the 8 MiB backlog cap in one push, and a
    // listener that reads must get it, every time, without being closed.
    auto server = startServer();
    RawClient listener;
    RawClient writer;
    QVERIFY(listener.open(server->port()));
    QVERIFY(writer.open(server->port()));
    QCOMPARE(replyStatus(listener.call(u"q"_s, {{u"p"_s, u"/big"_s}, {u"h"_s, u""_s}})), u"ok"_s);
    for (int round = 0; round < 3; ++round) {
        const QString value = QString(qsizetype(9.5 * 1024 * 1024), QChar(u'a' + round));
        QCOMPARE(replyStatus(writer.call(u"p"_s, {{u"p"_s, u"/big/v"_s}, {u"d"_s, value}})), u"ok"_s);
        const QJsonObject push = listener.waitPush(
            [&](const QJsonObject &p) { return pushData(p).toString().startsWith(QChar(u'a' + round)); }, 30000);
        QVERIFY2(!push.isEmpty(), qPrintable(u"round %1: the listener did not get the value"_s.arg(round)));
        QCOMPARE(pushData(push).toString().size(), value.size());
        QVERIFY2(!listener.closed, qPrintable(listener.socket.closeReason()));
    }
    QCOMPARE(server->connectionCount(), 2);
}

void TstNetwork::pingFloodKeepsTheBacklogBounded()
{
    // A client that sends pings and never reads: each ping is life, so it is never dropped as dead, and every
    // answer it does not read would stay queued. Only the latest ping needs an answer (RFC 6455 §5.5.3).
    auto server = startServer();
    HandClient flood;
    QVERIFY(openHand(flood, server->port()));
    flood.socket.setReadBufferSize(1); // reads (almost) nothing from now on
    RawClient bystander;
    QVERIFY(bystander.open(server->port()));

    QByteArray burst;
    const QByteArray ping = HandClient::frame(0x9, QByteArray(125, 'p'));
    while (burst.size() < 1024 * 1024)
        burst += ping;
    qint64 sent = 0;
    qint64 maxUnsent = 0;
    while (sent < 64 * 1024 * 1024) {
        flood.socket.write(burst);
        sent += burst.size();
        QVERIFY(QTest::qWaitFor(
            [&] {
                maxUnsent = std::max(maxUnsent, server->outputStats().unsent);
                return flood.socket.bytesToWrite() == 0;
            },
            10000));
    }
    // The server read all of it (one ping's worth of pong at most is queued, plus its own pings).
    QTRY_VERIFY_WITH_TIMEOUT(!flood.socket.bytesToWrite(), 10000);
    maxUnsent = std::max(maxUnsent, server->outputStats().unsent);
    QVERIFY2(maxUnsent < 64 * 1024, qPrintable(u"%1 bytes were queued for a client that never reads"_s.arg(maxUnsent)));
    QCOMPARE(replyStatus(bystander.call(u"g"_s, {{u"p"_s, u"/"_s}, {u"q"_s, QJsonObject()}})), u"ok"_s);
}

void TstNetwork::sentBytesAreReleasedAsTheyGo()
{
    // A reader behind the stream: what it has read must not stay in the server's memory until the whole backlog
    // drains (which, for a reader that stays behind, is never).
    lark::ServerConfig config;
    config.slowAfterMs = 60000; // the writes below take a while, and this reader is not too slow
    auto server = startServer(config);
    HandClient listener;
    QVERIFY(openHand(listener, server->port()));
    listener.socket.setReadBufferSize(1); // it reads nothing while the writes arrive
    listener.socket.write(HandClient::request(1, u"q"_s, {{u"p"_s, u"/stream"_s}, {u"h"_s, u""_s}}));
    RawClient writer;
    QVERIFY(writer.open(server->port()));
    writer.socket.setOutgoingFrameSize(1024 * 1024);
    const QString chunk(256 * 1024, u's');
    constexpr int Values = 120; // 30 MiB: loopback's socket buffers alone can take 10
    QList<qint64> rs;
    for (int i = 0; i < Values; ++i)
        rs.append(writer.request(u"p"_s, {{u"p"_s, u"/stream/%1"_s.arg(i)}, {u"d"_s, chunk}}));
    QCOMPARE(replyStatus(writer.waitReply(rs.last(), 60000)), u"ok"_s);
    const qint64 backlog = server->outputStats().unsent;
    QVERIFY2(backlog > 4 * 1024 * 1024, "the test must keep a backlog on the server");

    // Now it reads, 128 KiB per turn of the event loop: steady, and far from draining the backlog at once.
    listener.socket.setReadBufferSize(128 * 1024);
    qint64 received = 0;
    qint64 maxSentButHeld = 0;
    QVERIFY(QTest::qWaitFor(
        [&] {
            const lark::Server::OutputStats stats = server->outputStats();
            maxSentButHeld = std::max(maxSentButHeld, stats.buffered - stats.unsent);
            received += listener.socket.read(128 * 1024).size();
            return received > Values * 256 * 1024;
        },
        60000));
    // What is held beyond the unsent bytes: the sent part of the frame being sent and a small buffer.
    QVERIFY2(maxSentButHeld < 256 * 1024,
        qPrintable(u"%1 bytes already sent were still held by the server"_s.arg(maxSentButHeld)));
    QCOMPARE(server->connectionCount(), 2);
}

void TstNetwork::requestsWhoseAnswersAreNotReadAreHeldBack()
{
    // One read can carry a thousand small requests for a large value: answered all at once, their replies would be
    // gigabytes for a client that reads none of them. Input waits while the backlog is over the cap.
    lark::ServerConfig config;
    config.maxBacklogBytes = 2 * 1024 * 1024;
    config.slowAfterMs = 500;
    auto server = startServer(config);
    RawClient setup;
    QVERIFY(setup.open(server->port()));
    setup.socket.setOutgoingFrameSize(1024 * 1024);
    QCOMPARE(replyStatus(setup.call(u"p"_s, {{u"p"_s, u"/blob"_s}, {u"d"_s, QString(1024 * 1024, u'b')}})), u"ok"_s);

    HandClient greedy;
    QVERIFY(openHand(greedy, server->port()));
    greedy.socket.setReadBufferSize(1);
    QByteArray requests;
    for (int r = 1; r <= 300; ++r)
        requests += HandClient::request(r, u"g"_s, {{u"p"_s, u"/blob"_s}, {u"q"_s, QJsonObject()}});
    greedy.socket.write(requests); // about 25 KB: one read for the server
    qint64 maxUnsent = 0;
    QVERIFY(QTest::qWaitFor(
        [&] {
            maxUnsent = std::max(maxUnsent, server->outputStats().unsent);
            return server->connectionCount() == 1;
        },
        15000));
    // The cap, plus the answer that crossed it.
    QVERIFY2(maxUnsent <= config.maxBacklogBytes + 2 * 1024 * 1024,
        qPrintable(u"%1 bytes queued for a client that reads nothing"_s.arg(maxUnsent)));
    QCOMPARE(replyStatus(setup.call(u"g"_s, {{u"p"_s, u"/blob"_s}, {u"q"_s, QJsonObject()}})), u"ok"_s);
}

void TstNetwork::originAndHost_data()
{
    QTest::addColumn<QByteArray>("headers");
    QTest::addColumn<QByteArray>("host"); // null: no Host header
    QTest::addColumn<int>("status");

    QTest::newRow("no Origin") << QByteArray() << QByteArray("127.0.0.1") << 101;
    QTest::newRow("localhost page") << QByteArray("Origin: http://localhost:3000\r\n") << QByteArray("localhost")
                                    << 101;
    QTest::newRow("127.0.0.1 page") << QByteArray("Origin: http://127.0.0.1:5173\r\n") << QByteArray("127.0.0.1")
                                    << 101;
    QTest::newRow("foreign page") << QByteArray("Origin: https://evil.example\r\n") << QByteArray("127.0.0.1") << 403;
    QTest::newRow("null origin") << QByteArray("Origin: null\r\n") << QByteArray("127.0.0.1") << 403;
    QTest::newRow("no Host") << QByteArray() << QByteArray() << 400;
    QTest::newRow("two Hosts") << QByteArray("Host: 127.0.0.1\r\n") << QByteArray("127.0.0.1") << 400;
    QTest::newRow("rebinding Host") << QByteArray() << QByteArray("evil.example") << 403;
    QTest::newRow("rebinding Host, loopback page")
        << QByteArray("Origin: http://localhost:3000\r\n") << QByteArray("evil.example") << 403;
}

void TstNetwork::originAndHost()
{
    QFETCH(QByteArray, headers);
    QFETCH(QByteArray, host);
    QFETCH(int, status);
    auto server = startServer();
    HandClient c;
    QVERIFY(c.connectTo(server->port()));
    c.sendHandshake(server->port(), headers, host);
    QCOMPARE(c.readResponse(), status);
    if (status != 101) {
        QVERIFY2(!c.body.trimmed().isEmpty(), "a refusal says why");
        QCOMPARE(server->connectionCount(), 0);
    } else {
        QTRY_COMPARE(server->connectionCount(), 1);
    }
}

void TstNetwork::listedOriginAndHost()
{
    lark::ServerConfig config;
    config.allowedOrigins = QStringList {u"https://app.example.com"_s};
    config.allowedHosts = QStringList {u"devbox.lan"_s};
    auto server = startServer(config);
    const struct {
        QByteArray headers, host;
        int status;
    } cases[] = {
        {"Origin: https://app.example.com\r\n", "127.0.0.1", 101},
        {"Origin: https://other.example.com\r\n", "127.0.0.1", 403},
        {"", "devbox.lan", 101},
        {"", "otherbox.lan", 403},
    };
    for (const auto &k : cases) {
        HandClient c;
        QVERIFY(c.connectTo(server->port()));
        c.sendHandshake(server->port(), k.headers, k.host);
        QCOMPARE(c.readResponse(), k.status);
    }
}

void TstNetwork::adminNeedsANamedOrigin()
{
    // --allow-origin '*' lets any page read and write as a user; the admin feed (session ids) stays closed to it.
    lark::ServerConfig config;
    config.allowedOrigins = QStringList {u"*"_s};
    auto server = startServer(config);
    RawClient page(nullptr, u"https://evil.example"_s);
    QVERIFY(page.open(server->port()));
    const QJsonObject refused = page.call(u"gauth"_s, {{u"cred"_s, u"owner"_s}});
    QCOMPARE(replyStatus(refused), u"permission_denied"_s);
    QVERIFY(refused.value(u"d"_s).toString().contains(u"--allow-origin"_s));
    QCOMPARE(replyStatus(page.call(u"lark.watch"_s, {})), u"permission_denied"_s);
    QCOMPARE(replyStatus(page.call(u"p"_s, {{u"p"_s, u"/x"_s}, {u"d"_s, 1}})), u"ok"_s);

    RawClient local(nullptr, u"http://localhost:3000"_s);
    QVERIFY(local.open(server->port()));
    QCOMPARE(replyStatus(local.call(u"gauth"_s, {{u"cred"_s, u"owner"_s}})), u"ok"_s);
    RawClient native;
    QVERIFY(native.open(server->port()));
    QCOMPARE(replyStatus(native.call(u"gauth"_s, {{u"cred"_s, u"owner"_s}})), u"ok"_s);
}

void TstNetwork::atCapacityNewClientsGet503()
{
    lark::ServerConfig config;
    config.maxConnections = 2;
    auto server = startServer(config);
    QCOMPARE(server->maxConnections(), 2);
    auto first = std::make_unique<RawClient>();
    RawClient second;
    QVERIFY(first->open(server->port()));
    QVERIFY(second.open(server->port()));
    HandClient third;
    QVERIFY(third.connectTo(server->port()));
    third.sendHandshake(server->port());
    QCOMPARE(third.readResponse(), 503);
    QVERIFY(third.head.contains("Retry-After:"));
    QVERIFY2(third.body.contains("capacity"), third.body.constData());
    // Room again once a client leaves.
    first.reset();
    QTRY_COMPARE(server->connectionCount(), 1);
    HandClient fourth;
    QVERIFY(openHand(fourth, server->port()));
}

void TstNetwork::unfinishedHandshakesAreCapped()
{
    // Connections that never finish their handshake hold no more than the cap; the next ones wait in the kernel's
    // backlog (not refused, not lost) and are served as soon as a handshake ends.
    lark::ServerConfig config;
    config.maxHandshakes = 2;
    auto server = startServer(config);
    auto idle1 = std::make_unique<HandClient>();
    HandClient idle2;
    QVERIFY(idle1->connectTo(server->port()));
    QVERIFY(idle2.connectTo(server->port()));
    QTRY_COMPARE(server->handshakeCount(), 2);
    HandClient waiting;
    QVERIFY(waiting.connectTo(server->port())); // the kernel completes the TCP handshake
    waiting.sendHandshake(server->port());
    QCOMPARE(waiting.readResponse(300), 0); // held
    QCOMPARE(server->handshakeCount(), 2);
    idle1->socket.abort();
    idle1.reset();
    QCOMPARE(waiting.readResponse(), 101);
    QTRY_COMPARE(server->connectionCount(), 1);
}

QTEST_GUILESS_MAIN(TstNetwork)
#include "tst_network.moc"
