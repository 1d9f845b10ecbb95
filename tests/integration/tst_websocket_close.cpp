// SPDX-License-Identifier: MIT
// How lark::ServerWebSocket's connections end (RFC 6455 §7), black-box over loopback: bad frames and messages over
// the cap closed with their code (1002, 1003, 1007, 1009), the client's close echoed, clean closes firing
// onDisconnect at once (even when a reset follows the close frame), TCP drops waiting out the grace, and the 1001
// of a shutdown.

#include "websockettest.h"

#include "server/websocket.h"

#include <sys/socket.h>

using namespace Qt::Literals::StringLiterals;

class TstWebSocketClose : public WebSocketTest
{
    Q_OBJECT

private Q_SLOTS:
    void init() { startServer(); }
    void cleanup() { stopServer(); }

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
};

void TstWebSocketClose::badFrameClosesConnection_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("code");

    const QByteArray json = request(1, u"s"_s, {});
    QTest::newRow("unmasked text") << clientFrame(Fin | Op::Text, json, false) << 1002;
    QTest::newRow("unmasked ping") << clientFrame(Fin | Op::Ping, "x"_ba, false) << 1002;
    QTest::newRow("RSV1") << clientFrame(Fin | 0x40 | Op::Text, json) << 1002;
    QTest::newRow("RSV2") << clientFrame(Fin | 0x20 | Op::Text, json) << 1002;
    QTest::newRow("RSV3") << clientFrame(Fin | 0x10 | Op::Text, json) << 1002;
    QTest::newRow("data opcode 3") << clientFrame(Fin | 0x3, json) << 1002;
    QTest::newRow("data opcode 7") << clientFrame(Fin | 0x7, json) << 1002;
    QTest::newRow("control opcode 0xB") << clientFrame(Fin | 0xB, "x"_ba) << 1002;
    QTest::newRow("control opcode 0xF") << clientFrame(Fin | 0xF, "x"_ba) << 1002;
    QTest::newRow("ping without FIN") << clientFrame(Op::Ping, "x"_ba) << 1002;
    QTest::newRow("ping of 126 bytes") << clientFrame(Fin | Op::Ping, QByteArray(126, 'p')) << 1002;
    QTest::newRow("close of 126 bytes") << clientFrame(Fin | Op::Close, closePayload(1000, QByteArray(124, 'r')))
                                        << 1002;
    QTest::newRow("continuation without a message") << clientFrame(Fin | Op::Continuation, json) << 1002;
    QTest::newRow("text inside a fragmented text")
        << clientFrame(Op::Text, R"({"t":)"_ba) + clientFrame(Fin | Op::Text, json) << 1002;
    QTest::newRow("binary inside a fragmented text")
        << clientFrame(Op::Text, R"({"t":)"_ba) + clientFrame(Fin | Op::Binary, "b"_ba) << 1002;
    QTest::newRow("close with 1 byte") << clientFrame(Fin | Op::Close, "\x03"_ba) << 1002;
    QTest::newRow("close code 0") << clientFrame(Fin | Op::Close, closePayload(0)) << 1002;
    QTest::newRow("close code 999") << clientFrame(Fin | Op::Close, closePayload(999)) << 1002;
    QTest::newRow("close code 1004") << clientFrame(Fin | Op::Close, closePayload(1004)) << 1002;
    QTest::newRow("close code 1005") << clientFrame(Fin | Op::Close, closePayload(1005)) << 1002;
    QTest::newRow("close code 1006") << clientFrame(Fin | Op::Close, closePayload(1006)) << 1002;
    QTest::newRow("close code 1015") << clientFrame(Fin | Op::Close, closePayload(1015)) << 1002;
    QTest::newRow("close code 2999") << clientFrame(Fin | Op::Close, closePayload(2999)) << 1002;
    QTest::newRow("close code 5000") << clientFrame(Fin | Op::Close, closePayload(5000)) << 1002;
    QTest::newRow("close reason not UTF-8") << clientFrame(Fin | Op::Close, closePayload(1000, "\xff"_ba)) << 1007;
    QTest::newRow("text not UTF-8") << clientFrame(Fin | Op::Text, "{\"t\":\"d\",\"d\":\xff\xfe}"_ba) << 1007;
    QTest::newRow("text with a truncated code point") << clientFrame(Fin | Op::Text, "\"\xc3\""_ba) << 1007;
    QTest::newRow("text with an overlong encoding") << clientFrame(Fin | Op::Text, "\"\xc0\xaf\""_ba) << 1007;
    QTest::newRow("text with an encoded surrogate") << clientFrame(Fin | Op::Text, "\"\xed\xa0\x80\""_ba) << 1007;
    QTest::newRow("text above U+10FFFF") << clientFrame(Fin | Op::Text, "\"\xf4\x90\x80\x80\""_ba) << 1007;
    QTest::newRow("invalid UTF-8 across fragments")
        << clientFrame(Op::Text, "\"a\xc3"_ba) + clientFrame(Fin | Op::Continuation, "\x28\""_ba) << 1007;
    QTest::newRow("binary message") << clientFrame(Fin | Op::Binary, "\x00\x01"_ba) << 1003;
}

void TstWebSocketClose::badFrameClosesConnection()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, code);
    Peer p;
    QVERIFY(p.open(m_server->port()));
    p.send(clientFrame(Fin | Op::Text, request(1, u"o"_s, {{u"p"_s, u"/status/bad"_s}, {u"d"_s, u"gone"_s}})));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    p.send(bytes);
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout); // closed by the server: this peer never closes
    QCOMPARE(p.closeCode(), code);
    QCOMPARE(p.frames.constLast().first, quint8(Fin | Op::Close)); // nothing after the close frame
    QVERIFY(!p.closeReason().isEmpty());
    QVERIFY(QByteArrayView(p.closeReason()).isValidUtf8());
    QVERIFY(p.frames.constLast().payload.size() <= 125);
    // A broken client is an abnormal loss: its session waits out the grace with its op.
    QTRY_COMPARE_WITH_TIMEOUT(m_server->sessions().constLast()->state(), lark::Session::State::Suspended, Timeout);
    QCOMPARE(m_server->sessions().constLast()->queue().ops().size(), size_t(1));
    checkOthersUnharmed();
}

void TstWebSocketClose::tooBigClosedFromHeader_data()
{
    // Only frame headers are sent: the server must refuse from the length field, before any payload.
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("16-bit length one over the cap") << frameHeader(Fin | Op::Text, MaxMessage + 1);
    QTest::newRow("16-bit length without the mask key") << frameHeader(Fin | Op::Text, MaxMessage + 1).chopped(4);
    QTest::newRow("64-bit length of 1 TiB") << frameHeader(Fin | Op::Text, 1ull << 40);
    QTest::newRow("binary over the cap") << frameHeader(Fin | Op::Binary, MaxMessage + 1);
    QTest::newRow("fragments joined over the cap")
        << clientFrame(Op::Text, QByteArray(3000, ' ')) + frameHeader(Fin | Op::Continuation, MaxMessage - 3000 + 1);
}

void TstWebSocketClose::tooBigClosedFromHeader()
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

void TstWebSocketClose::clientCloseEchoed_data()
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

void TstWebSocketClose::clientCloseEchoed()
{
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, echo);
    Peer p;
    QVERIFY(p.open(m_server->port()));
    QCOMPARE(m_server->sessions().size(), 2);
    p.send(clientFrame(Fin | Op::Close, payload));
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout); // the server closes TCP first (RFC 6455 §7.1.1)
    QCOMPARE(p.payloads(Op::Close), QList<QByteArray> {echo});
    QCOMPARE(p.frames.constLast().first, quint8(Fin | Op::Close));
    // Any close frame is a clean close: the session ends at once.
    QTRY_COMPARE_WITH_TIMEOUT(m_server->sessions().size(), 1, Timeout);
    checkOthersUnharmed();
}

void TstWebSocketClose::cleanCloseFiresOnDisconnectAtOnce()
{
    Peer p;
    QVERIFY(p.open(m_server->port()));
    p.send(clientFrame(Fin | Op::Text, request(1, u"o"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"offline"_s}})));
    p.send(clientFrame(Fin | Op::Text, request(2, u"p"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"online"_s}})));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(2)), u"ok"_s, Timeout);
    m_bystander->call(u"q"_s, {{u"p"_s, u"/status/a"_s}, {u"h"_s, u""_s}});
    p.send(clientFrame(Fin | Op::Close, closePayload(1000)));
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

void TstWebSocketClose::closeFrameThenResetIsClean()
{
    // A tab that closes with our data unread sends its close frame, then a reset. If the server writes to it in
    // between, that write fails; the close frame is still there to read, and it is still a clean close.
    Peer p;
    QVERIFY(p.open(m_server->port()));
    p.send(clientFrame(Fin | Op::Text, request(1, u"o"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"offline"_s}})));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    m_bystander->call(u"q"_s, {{u"p"_s, u"/status/a"_s}, {u"h"_s, u""_s}});
    lark::ServerWebSocket *serverSide = nullptr;
    for (lark::ServerWebSocket *s : m_server->findChildren<lark::ServerWebSocket *>()) {
        if (s->peerPort() == p.socket.localPort())
            serverSide = s;
    }
    QVERIFY(serverSide);

    // The close frame, then a reset (linger 0), back to back: the server's loop does not run in between.
    p.send(clientFrame(Fin | Op::Close, closePayload(1000)));
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

void TstWebSocketClose::tcpDropWaitsForGrace_data()
{
    QTest::addColumn<bool>("reset");
    QTest::newRow("FIN without a close frame") << false;
    QTest::newRow("reset") << true;
}

void TstWebSocketClose::tcpDropWaitsForGrace()
{
    QFETCH(bool, reset);
    Peer p;
    QVERIFY(p.open(m_server->port()));
    p.send(clientFrame(Fin | Op::Text, request(1, u"o"_s, {{u"p"_s, u"/status/a"_s}, {u"d"_s, u"offline"_s}})));
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

void TstWebSocketClose::shutdownSendsGoingAwayAtOnce()
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

QTEST_GUILESS_MAIN(TstWebSocketClose)
#include "tst_websocket_close.moc"
