// SPDX-License-Identifier: MIT
// lark::ServerWebSocket, the server's own RFC 6455 layer, black-box over loopback: exact bytes go in from a raw TCP
// socket; what comes back is the status line of a refused handshake or the code in the server's close frame, then
// the server's TCP close. Every bad input leaves the other clients served.

#include "rawclient.h"
#include "testserver.h"

#include "server/websocket.h"

#include <QRandomGenerator>
#include <QTcpSocket>

#include <utility>

#include <sys/socket.h>

using namespace Qt::Literals::StringLiterals;

namespace
{

constexpr int Timeout = 5000;
constexpr qint64 MaxMessage = 4096; // the cap of the server under test: small, so a 1009 needs no big payload

enum Opcode : quint8 {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};
constexpr quint8 Fin = 0x80;

// RFC 6455 §1.3: the sample key and the accept value the server must derive from it.
constexpr char SampleKey[] = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr char SampleAccept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
constexpr char MaskKey[4] = {'\x37', '\xfa', '\x21', '\x3d'};

QByteArray upgradeRequest(const QByteArray &target = "/.ws?v=5&ns=test"_ba)
{
    return "GET " + target
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + SampleKey
        + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

/** A frame header: first is FIN, RSV and opcode as sent; size is what the length field claims. */
QByteArray frameHeader(quint8 first, quint64 size, bool masked = true)
{
    QByteArray h;
    h.append(char(first));
    const quint8 mask = masked ? 0x80 : 0;
    if (size < 126) {
        h.append(char(mask | size));
    } else if (size <= 0xffff) {
        h.append(char(mask | 126));
        h.append(char(size >> 8));
        h.append(char(size & 0xff));
    } else {
        h.append(char(mask | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            h.append(char((size >> shift) & 0xff));
    }
    if (masked)
        h.append(MaskKey, 4);
    return h;
}

QByteArray clientFrame(quint8 first, const QByteArray &payload, bool masked = true)
{
    QByteArray f = frameHeader(first, quint64(payload.size()), masked);
    for (qsizetype i = 0; i < payload.size(); ++i)
        f.append(masked ? char(payload.at(i) ^ MaskKey[i % 4]) : payload.at(i));
    return f;
}

QByteArray closePayload(quint16 code, const QByteArray &reason = {})
{
    return QByteArray(1, char(code >> 8)) + char(code & 0xff) + reason;
}

QByteArray request(int r, const QString &action, const QJsonObject &body)
{
    const QJsonObject d {{u"r"_s, r}, {u"a"_s, action}, {u"b"_s, body}};
    return QJsonDocument(QJsonObject {{u"t"_s, u"d"_s}, {u"d"_s, d}}).toJson(QJsonDocument::Compact);
}

/** A 'p' request to /pad whose JSON is exactly size bytes. */
QByteArray paddedRequest(int r, qsizetype size)
{
    const qsizetype bare = request(r, u"p"_s, {{u"p"_s, u"/pad"_s}, {u"d"_s, u""_s}}).size();
    return request(r, u"p"_s, {{u"p"_s, u"/pad"_s}, {u"d"_s, QString(size - bare, u'x')}});
}

/**
 * A WebSocket peer over a bare QTcpSocket: it sends exactly the bytes a test gives it and records what the server
 * sent back, the HTTP response and then (after a 101) every frame.
 */
class Peer
{
public:
    struct Frame {
        quint8 first; // FIN, RSV and opcode
        QByteArray payload;
    };

    Peer()
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, &socket, [this] { read(); });
        QObject::connect(&socket, &QTcpSocket::disconnected, &socket, [this] {
            read();
            closed = true;
        });
    }
    // The socket's destructor emits disconnected, after this object's other members are gone.
    ~Peer() { QObject::disconnect(&socket, nullptr, nullptr, nullptr); }
    Q_DISABLE_COPY_MOVE(Peer)

    bool connectTo(quint16 port)
    {
        socket.connectToHost(QHostAddress::LocalHost, port);
        socket.setSocketOption(QAbstractSocket::LowDelayOption, 1); // no Nagle: a write is its own segment
        return QTest::qWaitFor([this] { return socket.state() == QAbstractSocket::ConnectedState; }, Timeout);
    }

    void send(const QByteArray &bytes)
    {
        socket.write(bytes);
        socket.flush();
    }

    /** Connects, sends the upgrade request with then right behind it in the same write, waits for the hello. */
    bool open(quint16 port, const QByteArray &then = {})
    {
        if (!connectTo(port))
            return false;
        send(upgradeRequest() + then);
        return QTest::qWaitFor([this] { return !hello().isEmpty() || closed; }, Timeout) && !hello().isEmpty();
    }

    [[nodiscard]] QByteArray statusLine() const { return head.left(head.indexOf("\r\n")); }

    [[nodiscard]] bool hasHeader(const QByteArray &line) const
    {
        const QList<QByteArray> lines = head.split('\n');
        for (qsizetype i = 1; i < lines.size(); ++i) {
            if (lines.at(i).trimmed() == line)
                return true;
        }
        return false;
    }

    [[nodiscard]] QList<QByteArray> payloads(quint8 opcode) const
    {
        QList<QByteArray> list;
        for (const Frame &f : frames) {
            if ((f.first & 0x0f) == opcode)
                list.append(f.payload);
        }
        return list;
    }

    [[nodiscard]] QList<QJsonObject> messages() const
    {
        QList<QJsonObject> list;
        for (const QByteArray &p : payloads(Text))
            list.append(QJsonDocument::fromJson(p).object());
        return list;
    }

    [[nodiscard]] QJsonObject hello() const
    {
        for (const QJsonObject &m : messages()) {
            const QJsonObject d = m.value(u"d"_s).toObject();
            if (m.value(u"t"_s) == u"c"_s && d.value(u"t"_s) == u"h"_s)
                return d.value(u"d"_s).toObject();
        }
        return {};
    }

    /** The body {s, d} of the reply to request r; empty until it came. */
    [[nodiscard]] QJsonObject reply(int r) const
    {
        for (const QJsonObject &m : messages()) {
            const QJsonObject d = m.value(u"d"_s).toObject();
            if (m.value(u"t"_s) == u"d"_s && d.value(u"r"_s) == r)
                return d.value(u"b"_s).toObject();
        }
        return {};
    }

    /** Index in frames of the first frame with opcode (and payload, if given); -1 if none. */
    [[nodiscard]] qsizetype indexOf(quint8 opcode, const QByteArray *payload = nullptr) const
    {
        for (qsizetype i = 0; i < frames.size(); ++i) {
            if ((frames.at(i).first & 0x0f) == opcode && (!payload || frames.at(i).payload == *payload))
                return i;
        }
        return -1;
    }

    /** The code in the server's close frame: -1 without one, 0 when it carried no code. */
    [[nodiscard]] int closeCode() const
    {
        const QList<QByteArray> close = payloads(Close);
        if (close.isEmpty())
            return -1;
        const QByteArray &p = close.constFirst();
        return p.size() < 2 ? 0 : (uchar(p.at(0)) << 8) | uchar(p.at(1));
    }

    [[nodiscard]] QByteArray closeReason() const
    {
        const QList<QByteArray> close = payloads(Close);
        return close.isEmpty() ? QByteArray() : close.constFirst().mid(2);
    }

    QTcpSocket socket;
    QByteArray head; // the response's status line and headers
    QByteArray body; // the body of a refusal
    QList<Frame> frames; // every server frame after a 101, in order
    bool maskedFrame = false; // the server masked a frame, which it must not (RFC 6455 §5.1)
    bool closed = false; // the TCP connection is gone; the test never closes it itself unless it says so

private:
    void read()
    {
        if (!socket.isOpen()) // the test aborted it
            return;
        m_in += socket.readAll();
        if (head.isEmpty()) {
            const qsizetype end = m_in.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            head = m_in.left(end);
            m_in.remove(0, end + 4);
        }
        if (!head.startsWith("HTTP/1.1 101 ")) {
            body += std::exchange(m_in, {});
            return;
        }
        while (m_in.size() >= 2) {
            const auto *p = reinterpret_cast<const uchar *>(m_in.constData());
            quint64 size = p[1] & 0x7f;
            qsizetype header = 2;
            if (size == 126) {
                if (m_in.size() < 4)
                    return;
                size = (quint64(p[2]) << 8) | p[3];
                header = 4;
            } else if (size == 127) {
                if (m_in.size() < 10)
                    return;
                size = 0;
                for (int i = 2; i < 10; ++i)
                    size = (size << 8) | p[i];
                header = 10;
            }
            if (p[1] & 0x80)
                maskedFrame = true;
            if (quint64(m_in.size() - header) < size)
                return;
            frames.append({p[0], m_in.mid(header, qsizetype(size))});
            m_in.remove(0, header + qsizetype(size));
        }
    }

    QByteArray m_in;
};

} // namespace

class TstWebSocket : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void handshakeAccepted_data();
    void handshakeAccepted();
    void handshakeInPieces();
    void handshakeRefused_data();
    void handshakeRefused();
    void handshakeTimeout();
    void endpointRefused_data();
    void endpointRefused();
    void requestInHandshakeSegment();
    void frameInPieces();
    void fragmentedMessageWithPingBetween();
    void codePointSplitAcrossFragments();
    void pingGetsPong_data();
    void pingGetsPong();
    void pongsKeepConnectionAlive();
    void clientPingsCountAsLife();
    void messageAtCapAccepted();
    void badFrameClosesConnection_data();
    void badFrameClosesConnection();
    void tooBigClosedFromHeader_data();
    void tooBigClosedFromHeader();
    void clientCloseEchoed_data();
    void clientCloseEchoed();
    void cleanCloseFiresOnDisconnectAtOnce();
    void closeFrameThenResetIsClean();
    void tcpDropWaitsForGrace_data();
    void tcpDropWaitsForGrace();
    void shutdownSendsGoingAwayAtOnce();
    void randomBytesNeverHarm();

private:
    void checkOthersUnharmed();
    QJsonValue valueAt(const QString &path);

    std::unique_ptr<lark::Server> m_server;
    std::unique_ptr<RawClient> m_bystander;
    QJsonObject m_before;
};

void TstWebSocket::init()
{
    // No ping during a test, and a grace far longer than one: only a clean close can fire ops.
    m_server = startTestServer(30000, 60000, 60000, MaxMessage);
    m_bystander = std::make_unique<RawClient>();
    QVERIFY(m_bystander->open(m_server->port()));
    m_bystander->call(u"p"_s, {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u"a"_s, 1}, {u"b"_s, u"two"_s}}}});
    m_bystander->call(u"q"_s, {{u"p"_s, u"/data"_s}, {u"h"_s, u""_s}});
    m_before = m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}});
}

void TstWebSocket::cleanup()
{
    m_bystander.reset();
    m_server.reset();
}

void TstWebSocket::checkOthersUnharmed()
{
    QVERIFY(!m_bystander->closed);
    QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 1, Timeout);
    QCOMPARE(m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}}), m_before);
    QCOMPARE(replyStatus(m_bystander->call(u"p"_s, {{u"p"_s, u"/data/c"_s}, {u"d"_s, 3}})), u"ok"_s);
    QVERIFY(!m_bystander->waitPush(pushAt(u"d"_s, u"/data/c"_s)).isEmpty());
}

QJsonValue TstWebSocket::valueAt(const QString &path)
{
    return m_bystander->call(u"g"_s, {{u"p"_s, path}, {u"q"_s, QJsonObject()}}).value(u"d"_s);
}

void TstWebSocket::handshakeAccepted_data()
{
    QTest::addColumn<QByteArray>("handshake");
    const QByteArray key = "Sec-WebSocket-Key: "_ba + SampleKey + "\r\n";
    const QByteArray start = "GET /.ws?v=5&ns=test HTTP/1.1\r\nHost: 127.0.0.1\r\n"_ba;
    QTest::newRow("canonical") << upgradeRequest();
    QTest::newRow("names and tokens in other cases") << start
            + "UPGRADE: WebSocket\r\nconnection: upgrade\r\nsec-websocket-key: " + SampleKey
            + "\r\nSEC-WEBSOCKET-VERSION: 13\r\n\r\n";
    QTest::newRow("Connection lists more tokens (Firefox)") << start
            + "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" + key + "Sec-WebSocket-Version: 13\r\n\r\n";
    QTest::newRow("Connection header repeated") << start
            + "Upgrade: websocket\r\nConnection: keep-alive\r\nConnection: Upgrade\r\n" + key
            + "Sec-WebSocket-Version: 13\r\n\r\n";
    QTest::newRow("extra headers and no spaces after colons") << start
            + "Origin: http://localhost\r\nUpgrade:websocket\r\nConnection:Upgrade\r\n" + key
            + "Sec-WebSocket-Version:13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
              "User-Agent: test\r\n\r\n";
}

void TstWebSocket::handshakeAccepted()
{
    QFETCH(QByteArray, handshake);
    Peer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send(handshake);
    QTRY_VERIFY_WITH_TIMEOUT(!p.hello().isEmpty(), Timeout);
    QCOMPARE(p.statusLine(), "HTTP/1.1 101 Switching Protocols"_ba);
    QVERIFY(p.hasHeader("Sec-WebSocket-Accept: "_ba + SampleAccept));
    QVERIFY(p.hasHeader("Upgrade: websocket"_ba));
    QVERIFY(p.hasHeader("Connection: Upgrade"_ba));
    // No extension was agreed, so the client must not use one.
    QVERIFY(!p.head.toLower().contains("sec-websocket-extensions"));
    QVERIFY(!p.maskedFrame);
    QCOMPARE(p.frames.constFirst().first, quint8(Fin | Text)); // the hello comes first
    p.send(clientFrame(Fin | Text, request(1, u"s"_s, {})));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QVERIFY(!p.closed);
}

void TstWebSocket::handshakeInPieces()
{
    // The request arrives a byte per segment, as from a slow link; then one frame the same way.
    Peer p;
    QVERIFY(p.connectTo(m_server->port()));
    const QByteArray handshake = upgradeRequest();
    for (const char c : handshake)
        p.send(QByteArray(1, c));
    QTRY_VERIFY_WITH_TIMEOUT(!p.hello().isEmpty(), Timeout);
    QCOMPARE(p.statusLine(), "HTTP/1.1 101 Switching Protocols"_ba);
    QVERIFY(p.hasHeader("Sec-WebSocket-Accept: "_ba + SampleAccept));
}

void TstWebSocket::handshakeRefused_data()
{
    QTest::addColumn<QByteArray>("handshake");
    QTest::addColumn<QByteArray>("status");
    QTest::addColumn<QByteArray>("header"); // a header the response must carry, if any
    QTest::addColumn<QByteArray>("body"); // what the body must contain

    const QByteArray start = "GET /.ws?v=5&ns=test HTTP/1.1\r\nHost: 127.0.0.1\r\n"_ba;
    const QByteArray upgrade = "Upgrade: websocket\r\n"_ba;
    const QByteArray connection = "Connection: Upgrade\r\n"_ba;
    const QByteArray key = "Sec-WebSocket-Key: "_ba + SampleKey + "\r\n";
    const QByteArray version = "Sec-WebSocket-Version: 13\r\n"_ba;
    const QByteArray filler = "X-Filler: " + QByteArray(17 * 1024, 'f') + "\r\n";

    QTest::newRow("POST") << "POST /.ws?v=5&ns=test HTTP/1.1\r\nHost: 127.0.0.1\r\n"_ba + upgrade + connection + key
            + version + "\r\n"
                          << "HTTP/1.1 405 Method Not Allowed"_ba
                          << "Allow: GET"_ba
                          << "GET"_ba;
    QTest::newRow("plain HTTP GET") << "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n\r\n"_ba
                                    << "HTTP/1.1 426 Upgrade Required"_ba
                                    << "Upgrade: websocket"_ba
                                    << "/.ws?v=5&ns=<namespace>"_ba;
    QTest::newRow("Upgrade to something else") << start + "Upgrade: h2c\r\n" + connection + key + version + "\r\n"
                                               << "HTTP/1.1 426 Upgrade Required"_ba
                                               << "Upgrade: websocket"_ba
                                               << "/.ws?v=5"_ba;
    QTest::newRow("no Connection") << start + upgrade + key + version + "\r\n"
                                   << "HTTP/1.1 400 Bad Request"_ba << QByteArray() << "Connection: Upgrade"_ba;
    QTest::newRow("Connection without upgrade")
        << start + upgrade + "Connection: keep-alive\r\n" + key + version + "\r\n"
        << "HTTP/1.1 400 Bad Request"_ba << QByteArray() << "Connection: Upgrade"_ba;
    QTest::newRow("version 8") << start + upgrade + connection + key + "Sec-WebSocket-Version: 8\r\n\r\n"
                               << "HTTP/1.1 426 Upgrade Required"_ba
                               << "Sec-WebSocket-Version: 13"_ba
                               << "version 13"_ba;
    QTest::newRow("no version") << start + upgrade + connection + key + "\r\n"
                                << "HTTP/1.1 426 Upgrade Required"_ba
                                << "Sec-WebSocket-Version: 13"_ba
                                << "version 13"_ba;
    QTest::newRow("no key") << start + upgrade + connection + version + "\r\n"
                            << "HTTP/1.1 400 Bad Request"_ba << QByteArray() << "Sec-WebSocket-Key"_ba;
    QTest::newRow("key of 15 bytes") << start + upgrade + connection
            + "Sec-WebSocket-Key: " + QByteArray(15, 'k').toBase64() + "\r\n" + version + "\r\n"
                                     << "HTTP/1.1 400 Bad Request"_ba << QByteArray() << "Sec-WebSocket-Key"_ba;
    QTest::newRow("key of 17 bytes") << start + upgrade + connection
            + "Sec-WebSocket-Key: " + QByteArray(17, 'k').toBase64() + "\r\n" + version + "\r\n"
                                     << "HTTP/1.1 400 Bad Request"_ba << QByteArray() << "Sec-WebSocket-Key"_ba;
    QTest::newRow("key not base64") << start + upgrade + connection + "Sec-WebSocket-Key: !!not*base64*at*all!!\r\n"
            + version + "\r\n"
                                    << "HTTP/1.1 400 Bad Request"_ba << QByteArray() << "Sec-WebSocket-Key"_ba;
    QTest::newRow("HTTP/1.0") << "GET /.ws?v=5&ns=test HTTP/1.0\r\nHost: 127.0.0.1\r\n"_ba + upgrade + connection + key
            + version + "\r\n"
                              << "HTTP/1.1 400 Bad Request"_ba << QByteArray() << "HTTP/1.1"_ba;
    QTest::newRow("not HTTP") << "HELLO THERE\r\n\r\n"_ba
                              << "HTTP/1.1 400 Bad Request"_ba << QByteArray() << "HTTP/1.1"_ba;
    QTest::newRow("header line without colon") << start + upgrade + connection + key + version + "Bogus\r\n\r\n"
                                               << "HTTP/1.1 400 Bad Request"_ba << QByteArray() << "header"_ba;
    QTest::newRow("headers over 16 KiB") << start + upgrade + connection + key + version + filler + "\r\n"
                                         << "HTTP/1.1 431 Request Header Fields Too Large"_ba << QByteArray()
                                         << "16384"_ba;
    QTest::newRow("headers over 16 KiB, unfinished")
        << start + upgrade + filler << "HTTP/1.1 431 Request Header Fields Too Large"_ba << QByteArray() << "16384"_ba;
}

void TstWebSocket::handshakeRefused()
{
    QFETCH(QByteArray, handshake);
    QFETCH(QByteArray, status);
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, body);
    Peer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send(handshake);
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout); // the server closes TCP after its answer
    QCOMPARE(p.statusLine(), status);
    if (!header.isEmpty())
        QVERIFY2(p.hasHeader(header), p.head.constData());
    QVERIFY(p.hasHeader("Content-Length: " + QByteArray::number(p.body.size())));
    // One Connection header, and it says the server closes (a 426 also lists Upgrade there, RFC 9110 §7.8).
    QCOMPARE(p.head.count("\r\nConnection:"), 1);
    QVERIFY2(p.hasHeader(status.contains(" 426 ") ? "Connection: Upgrade, close"_ba : "Connection: close"_ba),
        p.head.constData());
    QVERIFY2(p.body.contains(body), p.body.constData());
    QVERIFY(p.frames.isEmpty());
    QCOMPARE(m_server->sessions().size(), 1); // no session for a refused handshake
    checkOthersUnharmed();
}

void TstWebSocket::handshakeTimeout()
{
    // A client that opens TCP and never finishes its handshake does not hold a socket forever.
    lark::ServerConfig config;
    config.port = 0;
    config.handshakeTimeoutMs = 300;
    m_server = startConfiguredServer(config);
    m_bystander = std::make_unique<RawClient>();
    QVERIFY(m_bystander->open(m_server->port()));
    m_bystander->call(u"q"_s, {{u"p"_s, u"/data"_s}, {u"h"_s, u""_s}});
    m_before = m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}});
    QTcpSocket silent, partial;
    silent.connectToHost(QHostAddress::LocalHost, m_server->port());
    partial.connectToHost(QHostAddress::LocalHost, m_server->port());
    QVERIFY(silent.waitForConnected(5000));
    QVERIFY(partial.waitForConnected(5000));
    partial.write("GET /.ws?v=5&ns=test HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    QTRY_COMPARE_WITH_TIMEOUT(silent.state(), QAbstractSocket::UnconnectedState, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(partial.state(), QAbstractSocket::UnconnectedState, 5000);
    QVERIFY(partial.readAll().isEmpty()); // dropped, not answered
    QCOMPARE(m_server->sessions().size(), 1);
    checkOthersUnharmed();
}

void TstWebSocket::endpointRefused_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("reason");
    QTest::newRow("other path") << "/other?v=5&ns=test"_ba
                                << "/.ws"_ba;
    QTest::newRow("root") << "/"_ba
                          << "/.ws"_ba;
    QTest::newRow("invalid namespace") << "/.ws?v=5&ns=bad!ns"_ba
                                       << "namespace"_ba;
    QTest::newRow("namespace with a slash") << "/.ws?v=5&ns=a%2Fb"_ba
                                            << "namespace"_ba;
}

void TstWebSocket::endpointRefused()
{
    // The handshake itself is fine; the lark server then refuses the URL with a close frame.
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, reason);
    Peer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send(upgradeRequest(target));
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout);
    QCOMPARE(p.statusLine(), "HTTP/1.1 101 Switching Protocols"_ba);
    QCOMPARE(p.closeCode(), 1008);
    QVERIFY2(p.closeReason().contains(reason), p.closeReason().constData());
    QCOMPARE(p.frames.size(), 1); // no hello before it
    QCOMPARE(m_server->sessions().size(), 1);
    checkOthersUnharmed();
}

void TstWebSocket::requestInHandshakeSegment()
{
    // A client may send frames before it has seen the 101; here two ride in the handshake's own write.
    Peer p;
    QVERIFY(p.open(m_server->port(),
        clientFrame(Fin | Text, request(1, u"p"_s, {{u"p"_s, u"/early"_s}, {u"d"_s, u"bird"_s}}))
            + clientFrame(Fin | Ping, "early ping"_ba)));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QTRY_COMPARE_WITH_TIMEOUT(p.payloads(Pong), QList<QByteArray> {"early ping"_ba}, Timeout);
    QCOMPARE(valueAt(u"/early"_s), QJsonValue(u"bird"_s));
    QVERIFY(!p.closed);
}

void TstWebSocket::frameInPieces()
{
    // A frame with a 16-bit length, a byte per segment: the server waits for each part of the header and payload.
    Peer p;
    QVERIFY(p.open(m_server->port()));
    const QByteArray frame = clientFrame(Fin | Text, paddedRequest(1, 300));
    QCOMPARE(uchar(frame.at(1)), uchar(0x80 | 126));
    for (const char c : frame)
        p.send(QByteArray(1, c));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QVERIFY(!p.closed);
}

void TstWebSocket::fragmentedMessageWithPingBetween()
{
    Peer p;
    QVERIFY(p.open(m_server->port()));
    const QByteArray ping = "are you there"_ba;
    p.send(clientFrame(Text, R"({"t":"d",)"_ba));
    p.send(clientFrame(Fin | Ping, ping));
    p.send(clientFrame(Continuation, R"("d":{"r":1,"a":"s",)"_ba));
    p.send(clientFrame(Fin | Continuation, R"("b":{}}})"_ba));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    // Hello, then the pong (the ping was answered when it came, not after the message it interrupted), then the reply.
    QCOMPARE(p.frames.size(), 3);
    QCOMPARE(p.frames.at(1).first, quint8(Fin | Pong));
    QCOMPARE(p.frames.at(1).payload, ping);
    QCOMPARE(p.frames.at(2).first, quint8(Fin | Text));
    QVERIFY(!p.closed);
}

void TstWebSocket::codePointSplitAcrossFragments()
{
    // UTF-8 is checked on the joined message: a code point cut by a fragment boundary is fine.
    Peer p;
    QVERIFY(p.open(m_server->port()));
    const QByteArray json = request(1, u"p"_s, {{u"p"_s, u"/utf8"_s}, {u"d"_s, u"é😀"_s}});
    const qsizetype e = json.indexOf("\xc3\xa9");
    const qsizetype emoji = json.indexOf("\xf0\x9f\x98\x80");
    QVERIFY(e > 0 && emoji > e);
    p.send(clientFrame(Text, json.left(e + 1)));
    p.send(clientFrame(Continuation, json.mid(e + 1, emoji + 2 - (e + 1))));
    p.send(clientFrame(Fin | Continuation, json.mid(emoji + 2)));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QCOMPARE(valueAt(u"/utf8"_s), QJsonValue(u"é😀"_s));
}

void TstWebSocket::pingGetsPong_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("text") << "hello"_ba;
    QByteArray bytes;
    for (int i = 0; i < 125; ++i)
        bytes.append(char(i * 7));
    QTest::newRow("125 bytes, not UTF-8") << bytes;
}

void TstWebSocket::pingGetsPong()
{
    QFETCH(QByteArray, payload);
    Peer p;
    QVERIFY(p.open(m_server->port()));
    p.send(clientFrame(Fin | Ping, payload));
    QTRY_COMPARE_WITH_TIMEOUT(p.payloads(Pong).size(), 1, Timeout);
    QCOMPARE(p.payloads(Pong).constFirst(), payload);
    QCOMPARE(p.frames.at(p.indexOf(Pong)).first, quint8(Fin | Pong));
    // An unsolicited pong from the client is ignored (RFC 6455 §5.5.3).
    p.send(clientFrame(Fin | Pong, "unsolicited"_ba));
    p.send(clientFrame(Fin | Text, request(1, u"s"_s, {})));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QVERIFY(!p.closed);
}

void TstWebSocket::pongsKeepConnectionAlive()
{
    // The server's pings reach the client as ping frames, and its pongs are heard: with a ping every 50 ms and a
    // dead-after of 400 ms, a peer that answers 20 pings (about 1 s) is still connected.
    m_bystander.reset();
    m_server = startTestServer(50, 400, 60000, MaxMessage);
    Peer p;
    QVERIFY(p.open(m_server->port()));
    qsizetype answered = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (const QList<QByteArray> pings = p.payloads(Ping); answered < pings.size(); ++answered)
                p.send(clientFrame(Fin | Pong, pings.at(answered)));
            return answered >= 20;
        }(),
        Timeout);
    QVERIFY(!p.closed);
    QCOMPARE(m_server->connectionCount(), 1);
    QCOMPARE(m_server->sessions().constFirst()->state(), lark::Session::State::Live);
}

void TstWebSocket::clientPingsCountAsLife()
{
    // docs/semantics.md §3: any inbound frame counts as life. This peer never answers the server's pings but sends
    // a ping of its own for each one it gets: still alive after 20 of them (about 1 s, dead-after is 400 ms).
    m_bystander.reset();
    m_server = startTestServer(50, 400, 60000, MaxMessage);
    Peer p;
    QVERIFY(p.open(m_server->port()));
    qsizetype seen = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (const qsizetype pings = p.payloads(Ping).size(); seen < pings; ++seen)
                p.send(clientFrame(Fin | Ping, "still here"_ba));
            return seen >= 20 || p.closed;
        }(),
        Timeout);
    QVERIFY2(!p.closed, "the server dropped a peer that kept sending pings");
    QCOMPARE(m_server->connectionCount(), 1);
}

void TstWebSocket::messageAtCapAccepted()
{
    Peer p;
    QVERIFY(p.open(m_server->port()));
    const QByteArray whole = paddedRequest(1, MaxMessage);
    QCOMPARE(qint64(whole.size()), MaxMessage);
    p.send(clientFrame(Fin | Text, whole));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    // The same size in fragments.
    const QByteArray pieces = paddedRequest(2, MaxMessage);
    p.send(clientFrame(Text, pieces.left(1000)));
    p.send(clientFrame(Continuation, pieces.mid(1000, 2000)));
    p.send(clientFrame(Fin | Continuation, pieces.mid(3000)));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(2)), u"ok"_s, Timeout);
    QVERIFY(!p.closed);
}

void TstWebSocket::badFrameClosesConnection_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("code");

    const QByteArray json = request(1, u"s"_s, {});
    QTest::newRow("unmasked text") << clientFrame(Fin | Text, json, false) << 1002;
    QTest::newRow("unmasked ping") << clientFrame(Fin | Ping, "x"_ba, false) << 1002;
    QTest::newRow("RSV1") << clientFrame(Fin | 0x40 | Text, json) << 1002;
    QTest::newRow("RSV2") << clientFrame(Fin | 0x20 | Text, json) << 1002;
    QTest::newRow("RSV3") << clientFrame(Fin | 0x10 | Text, json) << 1002;
    QTest::newRow("data opcode 3") << clientFrame(Fin | 0x3, json) << 1002;
    QTest::newRow("data opcode 7") << clientFrame(Fin | 0x7, json) << 1002;
    QTest::newRow("control opcode 0xB") << clientFrame(Fin | 0xB, "x"_ba) << 1002;
    QTest::newRow("control opcode 0xF") << clientFrame(Fin | 0xF, "x"_ba) << 1002;
    QTest::newRow("ping without FIN") << clientFrame(Ping, "x"_ba) << 1002;
    QTest::newRow("ping of 126 bytes") << clientFrame(Fin | Ping, QByteArray(126, 'p')) << 1002;
    QTest::newRow("close of 126 bytes") << clientFrame(Fin | Close, closePayload(1000, QByteArray(124, 'r'))) << 1002;
    QTest::newRow("continuation without a message") << clientFrame(Fin | Continuation, json) << 1002;
    QTest::newRow("text inside a fragmented text")
        << clientFrame(Text, R"({"t":)"_ba) + clientFrame(Fin | Text, json) << 1002;
    QTest::newRow("binary inside a fragmented text")
        << clientFrame(Text, R"({"t":)"_ba) + clientFrame(Fin | Binary, "b"_ba) << 1002;
    QTest::newRow("close with 1 byte") << clientFrame(Fin | Close, "\x03"_ba) << 1002;
    QTest::newRow("close code 0") << clientFrame(Fin | Close, closePayload(0)) << 1002;
    QTest::newRow("close code 999") << clientFrame(Fin | Close, closePayload(999)) << 1002;
    QTest::newRow("close code 1004") << clientFrame(Fin | Close, closePayload(1004)) << 1002;
    QTest::newRow("close code 1005") << clientFrame(Fin | Close, closePayload(1005)) << 1002;
    QTest::newRow("close code 1006") << clientFrame(Fin | Close, closePayload(1006)) << 1002;
    QTest::newRow("close code 1015") << clientFrame(Fin | Close, closePayload(1015)) << 1002;
    QTest::newRow("close code 2999") << clientFrame(Fin | Close, closePayload(2999)) << 1002;
    QTest::newRow("close code 5000") << clientFrame(Fin | Close, closePayload(5000)) << 1002;
    QTest::newRow("close reason not UTF-8") << clientFrame(Fin | Close, closePayload(1000, "\xff"_ba)) << 1007;
    QTest::newRow("text not UTF-8") << clientFrame(Fin | Text, "{\"t\":\"d\",\"d\":\xff\xfe}"_ba) << 1007;
    QTest::newRow("text with a truncated code point") << clientFrame(Fin | Text, "\"\xc3\""_ba) << 1007;
    QTest::newRow("text with an overlong encoding") << clientFrame(Fin | Text, "\"\xc0\xaf\""_ba) << 1007;
    QTest::newRow("text with an encoded surrogate") << clientFrame(Fin | Text, "\"\xed\xa0\x80\""_ba) << 1007;
    QTest::newRow("text above U+10FFFF") << clientFrame(Fin | Text, "\"\xf4\x90\x80\x80\""_ba) << 1007;
    QTest::newRow("invalid UTF-8 across fragments")
        << clientFrame(Text, "\"a\xc3"_ba) + clientFrame(Fin | Continuation, "\x28\""_ba) << 1007;
    QTest::newRow("binary message") << clientFrame(Fin | Binary, "\x00\x01"_ba) << 1003;
}

void TstWebSocket::badFrameClosesConnection()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, code);
    Peer p;
    QVERIFY(p.open(m_server->port()));
    p.send(clientFrame(Fin | Text, request(1, u"o"_s, {{u"p"_s, u"/status/bad"_s}, {u"d"_s, u"gone"_s}})));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    p.send(bytes);
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout); // closed by the server: this peer never closes
    QCOMPARE(p.closeCode(), code);
    QCOMPARE(p.frames.constLast().first, quint8(Fin | Close)); // nothing after the close frame
    QVERIFY(!p.closeReason().isEmpty());
    QVERIFY(QByteArrayView(p.closeReason()).isValidUtf8());
    QVERIFY(p.frames.constLast().payload.size() <= 125);
    // A broken client is an abnormal loss: its session waits out the grace with its op.
    QTRY_COMPARE_WITH_TIMEOUT(m_server->sessions().constLast()->state(), lark::Session::State::Suspended, Timeout);
    QCOMPARE(m_server->sessions().constLast()->queue().ops().size(), size_t(1));
    checkOthersUnharmed();
}

void TstWebSocket::tooBigClosedFromHeader_data()
{
    // Only frame headers are sent: the server must refuse from the length field, before any payload.
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("16-bit length one over the cap") << frameHeader(Fin | Text, MaxMessage + 1);
    QTest::newRow("16-bit length without the mask key") << frameHeader(Fin | Text, MaxMessage + 1).chopped(4);
    QTest::newRow("64-bit length of 1 TiB") << frameHeader(Fin | Text, 1ull << 40);
    QTest::newRow("binary over the cap") << frameHeader(Fin | Binary, MaxMessage + 1);
    QTest::newRow("fragments joined over the cap")
        << clientFrame(Text, QByteArray(3000, ' ')) + frameHeader(Fin | Continuation, MaxMessage - 3000 + 1);
}

void TstWebSocket::tooBigClosedFromHeader()
{
    QFETCH(QByteArray, bytes);
    Peer p;
    QVERIFY(p.open(m_server->port()));
    p.send(bytes);
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout);
    QCOMPARE(p.closeCode(), 1009);
    QVERIFY2(p.closeReason().contains(QByteArray::number(MaxMessage)), p.closeReason().constData());
    QTRY_COMPARE_WITH_TIMEOUT(m_server->sessions().constLast()->state(), lark::Session::State::Suspended, Timeout);
    checkOthersUnharmed();
}

void TstWebSocket::clientCloseEchoed_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("echo");
    QTest::newRow("1000") << closePayload(1000) << closePayload(1000);
    QTest::newRow("1000 with a reason") << closePayload(1000, "bye"_ba) << closePayload(1000);
    QTest::newRow("1001 going away") << closePayload(1001) << closePayload(1001);
    QTest::newRow("1003") << closePayload(1003) << closePayload(1003);
    QTest::newRow("1014") << closePayload(1014) << closePayload(1014);
    QTest::newRow("3000") << closePayload(3000) << closePayload(3000);
    QTest::newRow("4999") << closePayload(4999) << closePayload(4999);
    QTest::newRow("no code") << QByteArray() << QByteArray();
}

void TstWebSocket::clientCloseEchoed()
{
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, echo);
    Peer p;
    QVERIFY(p.open(m_server->port()));
    QCOMPARE(m_server->sessions().size(), 2);
    p.send(clientFrame(Fin | Close, payload));
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout); // the server closes TCP first (RFC 6455 §7.1.1)
    QCOMPARE(p.payloads(Close), QList<QByteArray> {echo});
    QCOMPARE(p.frames.constLast().first, quint8(Fin | Close));
    // Any close frame is a clean close: the session ends at once.
    QTRY_COMPARE_WITH_TIMEOUT(m_server->sessions().size(), 1, Timeout);
    checkOthersUnharmed();
}

void TstWebSocket::cleanCloseFiresOnDisconnectAtOnce()
{
    Peer p;
    QVERIFY(p.open(m_server->port()));
    p.send(clientFrame(Fin | Text, request(1, u"o"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"offline"_s}})));
    p.send(clientFrame(Fin | Text, request(2, u"p"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"online"_s}})));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(2)), u"ok"_s, Timeout);
    m_bystander->call(u"q"_s, {{u"p"_s, u"/status/a"_s}, {u"h"_s, u""_s}});
    p.send(clientFrame(Fin | Close, closePayload(1000)));
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout);
    QCOMPARE(p.closeCode(), 1000);
    // The grace is 60 s: only the clean close explains a fire within the timeout.
    const QJsonObject push = m_bystander->waitPush(
        [](const QJsonObject &push) { return pushAt(u"d"_s, u"/status/a"_s)(push) && pushData(push) == u"offline"_s; },
        Timeout);
    QVERIFY2(!push.isEmpty(), "onDisconnect did not fire on a close frame");
    QCOMPARE(valueAt(u"/status/a"_s), QJsonValue(u"offline"_s));
    QCOMPARE(m_server->sessions().size(), 1);
    checkOthersUnharmed();
}

void TstWebSocket::closeFrameThenResetIsClean()
{
    // A tab that closes with our data unread sends its close frame, then a reset. If the server writes to it in
    // between, that write fails; the close frame is still there to read, and it is still a clean close.
    Peer p;
    QVERIFY(p.open(m_server->port()));
    p.send(clientFrame(Fin | Text, request(1, u"o"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"offline"_s}})));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    m_bystander->call(u"q"_s, {{u"p"_s, u"/status/a"_s}, {u"h"_s, u""_s}});
    lark::ServerWebSocket *serverSide = nullptr;
    for (lark::ServerWebSocket *s : m_server->findChildren<lark::ServerWebSocket *>()) {
        if (s->peerPort() == p.socket.localPort())
            serverSide = s;
    }
    QVERIFY(serverSide);

    // The close frame, then a reset (linger 0), back to back: the server's loop does not run in between.
    p.send(clientFrame(Fin | Close, closePayload(1000)));
    const linger abortive {1, 0};
    QCOMPARE(::setsockopt(int(p.socket.socketDescriptor()), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive), 0);
    p.socket.abort();
    // The server writes before it reads again (a heartbeat ping, say): the send fails with ECONNRESET.
    serverSide->ping();
    serverSide->flush();

    // The grace is 60 s: only a clean close explains a fire within the timeout.
    const QJsonObject push = m_bystander->waitPush(
        [](const QJsonObject &push) { return pushAt(u"d"_s, u"/status/a"_s)(push) && pushData(push) == u"offline"_s; },
        Timeout);
    QVERIFY2(!push.isEmpty(), "a close frame followed by a reset was taken for a lost connection");
    QCOMPARE(m_server->sessions().size(), 1);
    checkOthersUnharmed();
}

void TstWebSocket::tcpDropWaitsForGrace_data()
{
    QTest::addColumn<bool>("reset");
    QTest::newRow("FIN without a close frame") << false;
    QTest::newRow("reset") << true;
}

void TstWebSocket::tcpDropWaitsForGrace()
{
    QFETCH(bool, reset);
    Peer p;
    QVERIFY(p.open(m_server->port()));
    p.send(clientFrame(Fin | Text, request(1, u"o"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"offline"_s}})));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    m_bystander->call(u"q"_s, {{u"p"_s, u"/status/a"_s}, {u"h"_s, u""_s}});
    QCOMPARE(m_server->connectionCount(), 2);
    if (reset)
        p.socket.abort();
    else
        p.socket.disconnectFromHost();
    // The server has seen the loss once the connection is gone; the session then waits out the 60 s grace.
    QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 1, Timeout);
    QCOMPARE(m_server->sessions().constLast()->state(), lark::Session::State::Suspended);
    QCOMPARE(m_server->sessions().constLast()->queue().ops().size(), size_t(1));
    QVERIFY(valueAt(u"/status/a"_s).isNull());
    for (const QJsonObject &push : std::as_const(m_bystander->pushes))
        QVERIFY2(pushData(push) != u"offline"_s, "onDisconnect fired on a TCP drop before the grace");
    checkOthersUnharmed();
}

void TstWebSocket::shutdownSendsGoingAwayAtOnce()
{
    // The dashboard's "Restart server" shuts the embedded server down and deletes it in the same call: the close
    // frames must be on the wire by then, or the clients see a dropped connection instead of 1001.
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    m_bystander.reset();
    m_server->shutdown();
    m_server.reset();
    QTRY_VERIFY_WITH_TIMEOUT(c.closed, Timeout);
    QCOMPARE(c.socket.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    QCOMPARE(c.socket.closeReason(), u"server shutting down"_s);
}

void TstWebSocket::randomBytesNeverHarm()
{
    // Garbage in place of the handshake, and after it: each such connection is refused or closed, never the server.
    QRandomGenerator rng(20261125); // fixed, so a failure reproduces
    for (int i = 0; i < 200; ++i) {
        Peer p;
        const bool handshake = i % 4 != 0;
        QVERIFY(handshake ? p.open(m_server->port()) : p.connectTo(m_server->port()));
        QByteArray junk(qsizetype(rng.bounded(2, 400)), Qt::Uninitialized);
        for (char &c : junk)
            c = char(rng.bounded(256));
        if (i % 2)
            junk[1]
                = char(junk.at(1) | 0x80); // masked, so the frame gets past the first check into lengths and opcodes
        p.send(junk);
        if (i % 8 == 1) // now and then, wait for the server's verdict before hanging up
            (void)QTest::qWaitFor([&p] { return p.closed; }, 200);
    }
    checkOthersUnharmed();
}

QTEST_GUILESS_MAIN(TstWebSocket)
#include "tst_websocket.moc"
