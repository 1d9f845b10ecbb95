// SPDX-License-Identifier: MIT
// lark::ServerWebSocket's framing (RFC 6455 §5), black-box over loopback: frames in pieces, fragmented messages
// with a control frame between their fragments and code points split across them, pings and pongs both ways (any
// inbound frame counts as life), a message exactly at the cap, and random bytes that must never harm the server.

#include "websockettest.h"

#include "testserver.h"

#include <QRandomGenerator>

using namespace Qt::Literals::StringLiterals;

class TstWebSocketFrames : public WebSocketTest
{
    Q_OBJECT

private Q_SLOTS:
    void init() { startServer(); }
    void cleanup() { stopServer(); }

    void frameInPieces();
    void fragmentedMessageWithPingBetween();
    void codePointSplitAcrossFragments();
    void pingGetsPong_data();
    void pingGetsPong();
    void pongsKeepConnectionAlive();
    void clientPingsCountAsLife();
    void messageAtCapAccepted();
    void randomBytesNeverHarm();
};

void TstWebSocketFrames::frameInPieces()
{
    // A frame with a 16-bit length, a byte per segment: the server waits for each part of the header and payload.
    Peer p;
    QVERIFY(p.open(m_server->port()));
    const QByteArray frame = clientFrame(Fin | Op::Text, paddedRequest(1, 300));
    QCOMPARE(uchar(frame.at(1)), uchar(0x80 | 126));
    for (const char c : frame)
        p.send(QByteArray(1, c));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QVERIFY(!p.closed);
}

void TstWebSocketFrames::fragmentedMessageWithPingBetween()
{
    Peer p;
    QVERIFY(p.open(m_server->port()));
    const QByteArray ping = "are you there"_ba;
    p.send(clientFrame(Op::Text, R"({"t":"d",)"_ba));
    p.send(clientFrame(Fin | Op::Ping, ping));
    p.send(clientFrame(Op::Continuation, R"("d":{"r":1,"a":"s",)"_ba));
    p.send(clientFrame(Fin | Op::Continuation, R"("b":{}}})"_ba));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    // Hello, then the pong (the ping was answered when it came, not after the message it interrupted), then the reply.
    QCOMPARE(p.frames.size(), 3);
    QCOMPARE(p.frames.at(1).first, quint8(Fin | Op::Pong));
    QCOMPARE(p.frames.at(1).payload, ping);
    QCOMPARE(p.frames.at(2).first, quint8(Fin | Op::Text));
    QVERIFY(!p.closed);
}

void TstWebSocketFrames::codePointSplitAcrossFragments()
{
    // UTF-8 is checked on the joined message: a code point cut by a fragment boundary is fine.
    Peer p;
    QVERIFY(p.open(m_server->port()));
    const QByteArray json = request(1, u"p"_s, {{u"p"_s, u"/utf8"_s}, {u"d"_s, u"é😀"_s}});
    const qsizetype e = json.indexOf("\xc3\xa9");
    const qsizetype emoji = json.indexOf("\xf0\x9f\x98\x80");
    QVERIFY(e > 0 && emoji > e);
    p.send(clientFrame(Op::Text, json.left(e + 1)));
    p.send(clientFrame(Op::Continuation, json.mid(e + 1, emoji + 2 - (e + 1))));
    p.send(clientFrame(Fin | Op::Continuation, json.mid(emoji + 2)));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QCOMPARE(valueAt(u"/utf8"_s), QJsonValue(u"é😀"_s));
}

void TstWebSocketFrames::pingGetsPong_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("text") << "hello"_ba;
    QByteArray bytes;
    for (int i = 0; i < 125; ++i)
        bytes.append(char(i * 7));
    QTest::newRow("125 bytes, not UTF-8") << bytes;
}

void TstWebSocketFrames::pingGetsPong()
{
    QFETCH(QByteArray, payload);
    Peer p;
    QVERIFY(p.open(m_server->port()));
    p.send(clientFrame(Fin | Op::Ping, payload));
    QTRY_COMPARE_WITH_TIMEOUT(p.payloads(Op::Pong).size(), 1, Timeout);
    QCOMPARE(p.payloads(Op::Pong).constFirst(), payload);
    QCOMPARE(p.frames.at(p.indexOf(Op::Pong)).first, quint8(Fin | Op::Pong));
    // An unsolicited pong from the client is ignored (RFC 6455 §5.5.3).
    p.send(clientFrame(Fin | Op::Pong, "unsolicited"_ba));
    p.send(clientFrame(Fin | Op::Text, request(1, u"s"_s, {})));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    QVERIFY(!p.closed);
}

void TstWebSocketFrames::pongsKeepConnectionAlive()
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
            for (const QList<QByteArray> pings = p.payloads(Op::Ping); answered < pings.size(); ++answered)
                p.send(clientFrame(Fin | Op::Pong, pings.at(answered)));
            return answered >= 20;
        }(),
        Timeout);
    QVERIFY(!p.closed);
    QCOMPARE(m_server->connectionCount(), 1);
    QCOMPARE(m_server->sessions().constFirst()->state(), lark::Session::State::Live);
}

void TstWebSocketFrames::clientPingsCountAsLife()
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
            for (const qsizetype pings = p.payloads(Op::Ping).size(); seen < pings; ++seen)
                p.send(clientFrame(Fin | Op::Ping, "still here"_ba));
            return seen >= 20 || p.closed;
        }(),
        Timeout);
    QVERIFY2(!p.closed, "the server dropped a peer that kept sending pings");
    QCOMPARE(m_server->connectionCount(), 1);
}

void TstWebSocketFrames::messageAtCapAccepted()
{
    Peer p;
    QVERIFY(p.open(m_server->port()));
    const QByteArray whole = paddedRequest(1, MaxMessage);
    QCOMPARE(qint64(whole.size()), MaxMessage);
    p.send(clientFrame(Fin | Op::Text, whole));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(1)), u"ok"_s, Timeout);
    // The same size in fragments.
    const QByteArray pieces = paddedRequest(2, MaxMessage);
    p.send(clientFrame(Op::Text, pieces.left(1000)));
    p.send(clientFrame(Op::Continuation, pieces.mid(1000, 2000)));
    p.send(clientFrame(Fin | Op::Continuation, pieces.mid(3000)));
    QTRY_COMPARE_WITH_TIMEOUT(replyStatus(p.reply(2)), u"ok"_s, Timeout);
    QVERIFY(!p.closed);
}

void TstWebSocketFrames::randomBytesNeverHarm()
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

QTEST_GUILESS_MAIN(TstWebSocketFrames)
#include "tst_websocket_frames.moc"
