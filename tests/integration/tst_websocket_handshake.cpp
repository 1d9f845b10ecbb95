// SPDX-License-Identifier: MIT
// lark::ServerWebSocket's opening handshake (RFC 6455 §4), black-box over loopback: the requests it accepts, in
// any case and in pieces; those it refuses, with the status and headers each refusal must carry; a handshake that
// never ends; endpoints refused after the 101; and frames that ride in the handshake's own segment.

#include "websockettest.h"

#include "testserver.h"

#include <QTcpSocket>

using namespace Qt::Literals::StringLiterals;

class TstWebSocketHandshake : public WebSocketTest
{
    Q_OBJECT

private Q_SLOTS:
    void init() { startServer(); }
    void cleanup() { stopServer(); }

    void handshakeAccepted_data();
    void handshakeAccepted();
    void handshakeInPieces();
    void handshakeRefused_data();
    void handshakeRefused();
    void handshakeTimeout();
    void endpointRefused_data();
    void endpointRefused();
    void requestInHandshakeSegment();
};

void TstWebSocketHandshake::handshakeAccepted_data()
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

void TstWebSocketHandshake::handshakeAccepted()
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
    QCOMPARE(p.frames.constFirst().first, quint8(Fin | Op::Text)); // the hello comes first
    p.send(clientFrame(Fin | Op::Text, request(1, u"s"_s, {})));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QVERIFY(!p.closed);
}

void TstWebSocketHandshake::handshakeInPieces()
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

void TstWebSocketHandshake::handshakeRefused_data()
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
    QTest::newRow("plain HTTP GET") << "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n\r\n"_ba
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

void TstWebSocketHandshake::handshakeRefused()
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

void TstWebSocketHandshake::handshakeTimeout()
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

void TstWebSocketHandshake::endpointRefused_data()
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

void TstWebSocketHandshake::endpointRefused()
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

void TstWebSocketHandshake::requestInHandshakeSegment()
{
    // A client may send frames before it has seen the 101; here two ride in the handshake's own write.
    Peer p;
    QVERIFY(p.open(m_server->port(),
        clientFrame(Fin | Op::Text, request(1, u"p"_s, {{u"p"_s, u"/early"_s}, {u"d"_s, u"bird"_s}}))
            + clientFrame(Fin | Op::Ping, "early ping"_ba)));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QTRY_COMPARE_WITH_TIMEOUT(p.payloads(Op::Pong), QList<QByteArray> {"early ping"_ba}, Timeout);
    QCOMPARE(valueAt(u"/early"_s), QJsonValue(u"bird"_s));
    QVERIFY(!p.closed);
}

QTEST_GUILESS_MAIN(TstWebSocketHandshake)
#include "tst_websocket_handshake.moc"
