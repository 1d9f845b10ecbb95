// SPDX-License-Identifier: MIT
// protocol::WebSocketParser, table-driven: bytes in, the events they must give out. Rows marked for it are also fed
// split at every byte boundary, and a byte at a time, as a slow link delivers them; the events must not change.
#include "protocol/websocketparser.h"

#include <QTest>

#include <cstring>

using namespace lark::protocol;
using namespace Qt::Literals::StringLiterals;

namespace
{

constexpr qsizetype MaxMessage = 70000;
constexpr qsizetype MaxHandshake = 1024;
constexpr char SampleKey[] = "dGhlIHNhbXBsZSBub25jZQ=="; // RFC 6455 §1.3
constexpr char MaskKey[4] = {'\x37', '\xfa', '\x21', '\x3d'};

enum : quint8 { Fin = 0x80, Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

QByteArray request(const QByteArray &headers, const QByteArray &requestLine = "GET /.ws?v=5&ns=test HTTP/1.1"_ba)
{
    return requestLine + "\r\n" + headers + "\r\n";
}

QByteArray upgradeHeaders(const QByteArray &host = "Host: 127.0.0.1\r\n"_ba)
{
    return host + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + SampleKey
        + "\r\nSec-WebSocket-Version: 13\r\n";
}

const QByteArray Open = request(upgradeHeaders());
const QString Opened = u"handshake /.ws?v=5&ns=test host=127.0.0.1 origin=- headers=5"_s;

/** A client frame: first is FIN, RSV and opcode; the length field claims size (the payload's by default). */
QByteArray frame(quint8 first, const QByteArray &payload, bool masked = true, int lengthBits = 0, quint64 size = 0)
{
    if (size == 0)
        size = quint64(payload.size());
    if (lengthBits == 0)
        lengthBits = size < 126 ? 7 : (size <= 0xffff ? 16 : 64);
    QByteArray f(1, char(first));
    const char mask = masked ? char(0x80) : char(0);
    if (lengthBits == 7) {
        f.append(char(mask | char(size)));
    } else if (lengthBits == 16) {
        f.append(char(mask | 126));
        f.append(char(size >> 8));
        f.append(char(size & 0xff));
    } else {
        f.append(char(mask | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            f.append(char((size >> shift) & 0xff));
    }
    if (masked)
        f.append(MaskKey, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        f.append(masked ? char(payload.at(i) ^ MaskKey[i % 4]) : payload.at(i));
    return f;
}

QByteArray closePayload(quint16 code, const QByteArray &reason = {})
{
    return QByteArray(1, char(code >> 8)) + char(code & 0xff) + reason;
}

class Recorder : public WebSocketParser::Handler
{
public:
    QStringList events;
    int stopAfter = -1; // stop parsing after this many events (-1: never)

    bool onHandshake(const Handshake &h) override
    {
        return add(u"handshake %1 host=%2 origin=%3 headers=%4"_s
                       .arg(QString::fromLatin1(h.target), h.hasHost ? QString::fromLatin1(h.host) : u"-"_s,
                           h.hasOrigin ? QString::fromLatin1(h.origin) : u"-"_s)
                       .arg(h.headers.size()));
    }
    void onHandshakeRefused(const HandshakeRefusal &r) override
    {
        QString e = u"refused %1 %2"_s.arg(r.status).arg(QString::fromLatin1(r.reason));
        if (!r.extraHeaders.isEmpty())
            e += u" | "_s + QString::fromLatin1(r.extraHeaders.trimmed());
        add(e);
    }
    bool onTextMessage(const QByteArray &utf8) override
    {
        return add(utf8.size() > 64 ? u"text of %1 bytes"_s.arg(utf8.size()) : u"text "_s + QString::fromUtf8(utf8));
    }
    bool onBinaryMessage(const QByteArray &payload) override
    {
        return add(u"binary of %1 bytes"_s.arg(payload.size()));
    }
    bool onPing(QByteArrayView payload) override { return add(u"ping "_s + QString::fromUtf8(payload)); }
    bool onPong(QByteArrayView payload) override { return add(u"pong "_s + QString::fromUtf8(payload)); }
    void onClose(quint16 code, QByteArrayView reason) override
    {
        add(u"close %1 %2"_s.arg(code).arg(QString::fromUtf8(reason)));
    }
    void onProtocolError(QWebSocketProtocol::CloseCode code, const QString &reason) override
    {
        add(u"error %1 %2"_s.arg(int(code)).arg(reason));
    }

private:
    bool add(const QString &event)
    {
        events.append(event);
        return stopAfter < 0 || events.size() < stopAfter;
    }
};

/**
 * Feeds input as ServerWebSocket does: the pieces end at cuts, and what a feed() left unconsumed comes again in
 * front of the next piece.
 */
QStringList parse(const QByteArray &input, const QList<qsizetype> &cuts = {})
{
    Recorder recorder;
    WebSocketParser parser({MaxMessage, MaxHandshake}, &recorder);
    QByteArray pending;
    qsizetype from = 0;
    for (qsizetype i = 0; i <= cuts.size(); ++i) {
        const qsizetype to = i < cuts.size() ? cuts[i] : input.size();
        pending += input.mid(from, to - from);
        from = to;
        const qsizetype used = parser.feed(pending.data(), pending.size());
        if (used < 0 || used > pending.size())
            return {u"feed() consumed %1 of %2 bytes"_s.arg(used).arg(pending.size())};
        pending.remove(0, used);
    }
    return recorder.events;
}

} // namespace

class TstWebSocketParser : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void events_data();
    void events();
    void handlerStopsParsing();
    void handshakeFields();
    void frameParsedInPlace();
    void unmaskMatchesBytewise();
    void responses();
};

void TstWebSocketParser::events_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<bool>("everySplit"); // also fed split at every boundary, and a byte at a time

    const QByteArray filler = "X-Filler: " + QByteArray(MaxHandshake, 'f') + "\r\n";
    const QString tooLong = u"refused 431 request line and headers exceed 1024 bytes"_s;

    // Handshakes
    QTest::newRow("canonical") << Open << QStringList {Opened} << true;
    QTest::newRow("with Origin and more headers")
        << request(upgradeHeaders() + "Origin: http://localhost:5173\r\nUser-Agent: test\r\n")
        << QStringList {u"handshake /.ws?v=5&ns=test host=127.0.0.1 origin=http://localhost:5173 headers=7"_s} << false;
    QTest::newRow("names and tokens in other cases")
        << request("host: h\r\nUPGRADE: WebSocket\r\nconnection: upgrade\r\nsec-websocket-key: "_ba + SampleKey
               + "\r\nSEC-WEBSOCKET-VERSION: 13\r\n")
        << QStringList {u"handshake /.ws?v=5&ns=test host=h origin=- headers=5"_s} << false;
    QTest::newRow("Connection lists more tokens")
        << request(upgradeHeaders().replace("Connection: Upgrade", "Connection: keep-alive, Upgrade"))
        << QStringList {Opened} << false;
    QTest::newRow("Connection repeated")
        << request(upgradeHeaders() + "Connection: keep-alive\r\n")
        << QStringList {u"handshake /.ws?v=5&ns=test host=127.0.0.1 origin=- headers=6"_s} << false;
    QTest::newRow("no spaces after colons") << request("Host:127.0.0.1\r\nUpgrade:websocket\r\nConnection:Upgrade\r\n"
                                                       "Sec-WebSocket-Key:"_ba
        + SampleKey + "\r\nSec-WebSocket-Version:13\r\n")
                                            << QStringList {Opened} << false;
    QTest::newRow("empty Host") << request(upgradeHeaders("Host:\r\n"))
                                << QStringList {u"handshake /.ws?v=5&ns=test host= origin=- headers=5"_s} << false;
    QTest::newRow("head exactly at the cap")
        << request(upgradeHeaders() + "X-Pad: " + QByteArray(MaxHandshake - Open.size() - 9 + 4, 'p') + "\r\n")
        << QStringList {u"handshake /.ws?v=5&ns=test host=127.0.0.1 origin=- headers=6"_s} << true;
    QTest::newRow("frames in the handshake's segment") << Open + frame(Fin | Text, "early") + frame(Fin | Ping, "p")
                                                       << QStringList {Opened, u"text early"_s, u"ping p"_s} << true;

    // Refusals
    QTest::newRow("POST") << request(upgradeHeaders(), "POST /.ws?v=5&ns=test HTTP/1.1")
                          << QStringList {u"refused 405 a WebSocket handshake is a GET request | Allow: GET"_s}
                          << false;
    QTest::newRow("HTTP/1.0") << request(upgradeHeaders(), "GET /.ws HTTP/1.0")
                              << QStringList {u"refused 400 not an HTTP/1.1 request"_s} << false;
    QTest::newRow("HTTP/2") << request(upgradeHeaders(), "GET /.ws HTTP/2")
                            << QStringList {u"refused 400 not an HTTP/1.1 request"_s} << false;
    QTest::newRow("not HTTP") << "HELLO THERE\r\n\r\n"_ba << QStringList {u"refused 400 not an HTTP/1.1 request"_s}
                              << false;
    QTest::newRow("absolute-form target") << request(upgradeHeaders(), "GET http://x/.ws HTTP/1.1")
                                          << QStringList {u"refused 400 not an HTTP/1.1 request"_s} << false;
    QTest::newRow("no Host") << request(upgradeHeaders({})) << QStringList {u"refused 400 Host header is required"_s}
                             << true;
    QTest::newRow("two Hosts") << request(upgradeHeaders() + "Host: evil.example\r\n")
                               << QStringList {u"refused 400 more than one Host header"_s} << false;
    QTest::newRow("two Origins") << request(upgradeHeaders() + "Origin: http://a\r\nOrigin: http://b\r\n")
                                 << QStringList {u"refused 400 more than one Origin header"_s} << false;
    const QString speaks
        = u"refused 426 Lark speaks the Firebase Realtime Database protocol over WebSocket: connect to "
          u"/.ws?v=5&ns=<namespace>"_s;
    QTest::newRow("plain HTTP GET") << request("Host: 127.0.0.1\r\nAccept: text/html\r\n", "GET / HTTP/1.1")
                                    << QStringList {speaks} << false;
    QTest::newRow("Upgrade to something else")
        << request(upgradeHeaders().replace("websocket", "h2c")) << QStringList {speaks} << false;
    QTest::newRow("no Connection: Upgrade")
        << request(upgradeHeaders().replace("Connection: Upgrade", "Connection: keep-alive"))
        << QStringList {u"refused 400 Connection: Upgrade is missing"_s} << false;
    const QString version = u"refused 426 only WebSocket version 13 is supported | Sec-WebSocket-Version: 13"_s;
    QTest::newRow("version 8") << request(upgradeHeaders().replace("Version: 13", "Version: 8"))
                               << QStringList {version} << false;
    QTest::newRow("no version") << request(upgradeHeaders().replace("Sec-WebSocket-Version: 13\r\n", ""))
                                << QStringList {version} << false;
    const QString key = u"refused 400 Sec-WebSocket-Key must be 16 bytes in base64"_s;
    QTest::newRow("no key") << request(upgradeHeaders().replace("Sec-WebSocket-Key: "_ba + SampleKey + "\r\n", ""))
                            << QStringList {key} << false;
    QTest::newRow("key of 15 bytes") << request(upgradeHeaders().replace(SampleKey, QByteArray(15, 'k').toBase64()))
                                     << QStringList {key} << false;
    QTest::newRow("key not base64") << request(upgradeHeaders().replace(SampleKey, "!!not*base64*at*all!!"))
                                    << QStringList {key} << false;
    QTest::newRow("key repeated") << request(upgradeHeaders() + "Sec-WebSocket-Key: " + SampleKey + "\r\n")
                                  << QStringList {key} << false;
    QTest::newRow("header line without colon")
        << request(upgradeHeaders() + "Bogus\r\n") << QStringList {u"refused 400 malformed header line"_s} << false;
    QTest::newRow("header without a name")
        << request(upgradeHeaders() + ": value\r\n") << QStringList {u"refused 400 malformed header line"_s} << false;
    QTest::newRow("head over the cap") << request(upgradeHeaders() + filler) << QStringList {tooLong} << false;
    QTest::newRow("head over the cap, unfinished")
        << "GET /.ws HTTP/1.1\r\n" + filler << QStringList {tooLong} << false;
    QTest::newRow("unfinished head under the cap") << "GET /.ws HTTP/1.1\r\nHost: x\r\n"_ba << QStringList {} << true;

    // Frames, after a valid handshake
    QTest::newRow("text, 7-bit length") << Open + frame(Fin | Text, "hello") << QStringList {Opened, u"text hello"_s}
                                        << true;
    QTest::newRow("empty text") << Open + frame(Fin | Text, {}) << QStringList {Opened, u"text "_s} << true;
    QTest::newRow("text of 125 bytes") << Open + frame(Fin | Text, QByteArray(125, 'a'))
                                       << QStringList {Opened, u"text of 125 bytes"_s} << false;
    QTest::newRow("text, 16-bit length") << Open + frame(Fin | Text, QByteArray(126, 'a'))
                                         << QStringList {Opened, u"text of 126 bytes"_s} << false;
    QTest::newRow("text of 65535 bytes") << Open + frame(Fin | Text, QByteArray(65535, 'a'))
                                         << QStringList {Opened, u"text of 65535 bytes"_s} << false;
    QTest::newRow("text, 64-bit length") << Open + frame(Fin | Text, QByteArray(65536, 'a'))
                                         << QStringList {Opened, u"text of 65536 bytes"_s} << false;
    QTest::newRow("16-bit length for 3 bytes")
        << Open + frame(Fin | Text, "abc", true, 16) << QStringList {Opened, u"text abc"_s} << true;
    QTest::newRow("64-bit length for 3 bytes")
        << Open + frame(Fin | Text, "abc", true, 64) << QStringList {Opened, u"text abc"_s} << true;
    QTest::newRow("message at the cap") << Open + frame(Fin | Text, QByteArray(MaxMessage, 'm'))
                                        << QStringList {Opened, u"text of 70000 bytes"_s} << false;
    QTest::newRow("multi-byte UTF-8") << Open + frame(Fin | Text, "caf\xc3\xa9 \xf0\x9f\x98\x80")
                                      << QStringList {Opened, u"text café 😀"_s} << true;
    QTest::newRow("binary") << Open + frame(Fin | Binary, "\x00\x01\x02"_ba)
                            << QStringList {Opened, u"binary of 3 bytes"_s} << false;
    QTest::newRow("two frames in one read") << Open + frame(Fin | Text, "a") + frame(Fin | Text, "b")
                                            << QStringList {Opened, u"text a"_s, u"text b"_s} << true;
    QTest::newRow("fragments with a ping between")
        << Open + frame(Text, "{\"t\":") + frame(Fin | Ping, "mid") + frame(Continuation, "\"c\",")
            + frame(Fin | Continuation, "\"d\":{}}")
        << QStringList {Opened, u"ping mid"_s, u"text {\"t\":\"c\",\"d\":{}}"_s} << true;
    QTest::newRow("code point split across fragments")
        << Open + frame(Text, "caf\xc3") + frame(Fin | Continuation, "\xa9") << QStringList {Opened, u"text café"_s}
        << true;
    QTest::newRow("fragmented binary") << Open + frame(Binary, "ab") + frame(Fin | Continuation, "c")
                                       << QStringList {Opened, u"binary of 3 bytes"_s} << false;
    QTest::newRow("ping of 125 bytes") << Open + frame(Fin | Ping, QByteArray(125, 'p'))
                                       << QStringList {Opened, u"ping "_s + QString(125, u'p')} << false;
    QTest::newRow("pong") << Open + frame(Fin | Pong, "x") << QStringList {Opened, u"pong x"_s} << false;

    // Broken frames: the connection fails, and nothing after them is parsed
    const QString reserved = u"error 1002 reserved bits set; no extension was agreed"_s;
    QTest::newRow("RSV1") << Open + frame(Fin | 0x40 | Text, "x") << QStringList {Opened, reserved} << false;
    QTest::newRow("RSV2") << Open + frame(Fin | 0x20 | Text, "x") << QStringList {Opened, reserved} << false;
    QTest::newRow("RSV3") << Open + frame(Fin | 0x10 | Text, "x") << QStringList {Opened, reserved} << false;
    QTest::newRow("unmasked") << Open + frame(Fin | Text, "hello", false) + frame(Fin | Text, "after")
                              << QStringList {Opened, u"error 1002 client frames must be masked"_s} << true;
    for (const quint8 opcode : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        QTest::addRow("opcode %d", opcode)
            << Open + frame(Fin | opcode, "x") << QStringList {Opened, u"error 1002 unknown opcode %1"_s.arg(opcode)}
            << false;
    }
    const QString control = u"error 1002 control frames must be final and at most 125 bytes"_s;
    QTest::newRow("fragmented ping") << Open + frame(Ping, "x") << QStringList {Opened, control} << false;
    QTest::newRow("ping of 126 bytes") << Open + frame(Fin | Ping, QByteArray(126, 'p'))
                                       << QStringList {Opened, control} << false;
    QTest::newRow("continuation without a message")
        << Open + frame(Fin | Continuation, "x")
        << QStringList {Opened, u"error 1002 continuation frame without a message"_s} << false;
    QTest::newRow("new message inside a fragmented one")
        << Open + frame(Text, "a") + frame(Fin | Text, "b")
        << QStringList {Opened, u"error 1002 a new message before the previous one ended"_s} << true;
    const QString tooBig = u"error 1009 message larger than 70000 bytes"_s;
    QTest::newRow("frame over the cap, known from its header")
        << Open + frame(Fin | Text, {}, true, 64, quint64(MaxMessage) + 1).left(Open.size() + 14)
        << QStringList {Opened, tooBig} << true;
    QTest::newRow("64-bit length with the top bit set")
        << Open + frame(Fin | Text, {}, true, 64, quint64(1) << 63).left(Open.size() + 14)
        << QStringList {Opened, tooBig} << false;
    QTest::newRow("fragments over the cap")
        << Open + frame(Text, QByteArray(40000, 'a')) + frame(Fin | Continuation, {}, true, 16, 30001).left(8)
        << QStringList {Opened, tooBig} << false;
    QTest::newRow("invalid UTF-8") << Open + frame(Fin | Text, "\xed\xa0\x80"_ba)
                                   << QStringList {Opened, u"error 1007 text message is not valid UTF-8"_s} << true;
    QTest::newRow("UTF-8 cut at the last fragment")
        << Open + frame(Text, "ok") + frame(Fin | Continuation, "\xc3"_ba)
        << QStringList {Opened, u"error 1007 text message is not valid UTF-8"_s} << false;

    // Close frames
    QTest::newRow("close without a code")
        << Open + frame(Fin | Close, {}) + frame(Fin | Text, "after") << QStringList {Opened, u"close 1005 "_s} << true;
    QTest::newRow("close 1000 with a reason")
        << Open + frame(Fin | Close, closePayload(1000, "bye")) << QStringList {Opened, u"close 1000 bye"_s} << true;
    for (const quint16 code : {1001, 1003, 1007, 1014, 3000, 4999})
        QTest::addRow("close %d", code) << Open + frame(Fin | Close, closePayload(code))
                                        << QStringList {Opened, u"close %1 "_s.arg(code)} << false;
    QTest::newRow("close of one byte") << Open + frame(Fin | Close, "\x03"_ba)
                                       << QStringList {Opened, u"error 1002 invalid close code 0"_s} << false;
    for (const quint16 code : {0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535})
        QTest::addRow("close code %d refused", code)
            << Open + frame(Fin | Close, closePayload(code))
            << QStringList {Opened, u"error 1002 invalid close code %1"_s.arg(code)} << false;
    QTest::newRow("close reason not UTF-8")
        << Open + frame(Fin | Close, closePayload(1000, "\xff"))
        << QStringList {Opened, u"error 1007 close reason is not valid UTF-8"_s} << false;
}

void TstWebSocketParser::events()
{
    QFETCH(QByteArray, input);
    QFETCH(QStringList, expected);
    QFETCH(bool, everySplit);
    QCOMPARE(parse(input), expected);
    if (!everySplit)
        return;
    for (qsizetype at = 1; at < input.size(); ++at) {
        const QStringList split = parse(input, {at});
        if (split != expected)
            QFAIL(qPrintable(u"split after byte %1 gave %2"_s.arg(at).arg(split.join(u" / "_s))));
    }
    QList<qsizetype> everyByte;
    for (qsizetype at = 1; at < input.size(); ++at)
        everyByte.append(at);
    QCOMPARE(parse(input, everyByte), expected);
}

void TstWebSocketParser::handlerStopsParsing()
{
    // An owner that closes while handling a message stops the parser there; the next feed() goes on after it.
    QByteArray input = Open + frame(Fin | Text, "a") + frame(Fin | Text, "b");
    Recorder recorder;
    recorder.stopAfter = 2;
    WebSocketParser parser({MaxMessage, MaxHandshake}, &recorder);
    const qsizetype first = parser.feed(input.data(), input.size());
    QCOMPARE(first, Open.size() + frame(Fin | Text, "a").size());
    QCOMPARE(recorder.events, (QStringList {Opened, u"text a"_s}));
    recorder.stopAfter = -1;
    QCOMPARE(parser.feed(input.data() + first, input.size() - first), input.size() - first);
    QCOMPARE(recorder.events.last(), u"text b"_s);
    // After a close frame, nothing more is consumed.
    QByteArray close = frame(Fin | Close, {}) + frame(Fin | Text, "c");
    QCOMPARE(parser.feed(close.data(), close.size()), frame(Fin | Close, {}).size());
    QCOMPARE(parser.state(), WebSocketParser::State::Closed);
    QCOMPARE(parser.feed(close.data() + 6, close.size() - 6), 0);
    QCOMPARE(recorder.events.last(), u"close 1005 "_s);
}

void TstWebSocketParser::handshakeFields()
{
    class Keep : public Recorder
    {
    public:
        Handshake handshake;
        bool onHandshake(const Handshake &h) override
        {
            handshake = h;
            return true;
        }
    } keep;
    WebSocketParser parser({MaxMessage, MaxHandshake}, &keep);
    QByteArray input = request(upgradeHeaders("Host:  example.org:9000 \r\n") + "Origin: https://app.example\r\n"
            + "X-Multi: a\r\nx-multi: b\r\n",
        "GET /.ws?v=5&ns=demo&ls=abc HTTP/1.1");
    QCOMPARE(parser.feed(input.data(), input.size()), input.size());
    const Handshake &h = keep.handshake;
    QCOMPARE(h.target, "/.ws?v=5&ns=demo&ls=abc"_ba);
    QVERIFY(h.hasHost);
    QCOMPARE(h.host, "example.org:9000"_ba);
    QVERIFY(h.hasOrigin);
    QCOMPARE(h.origin, "https://app.example"_ba);
    QCOMPARE(h.key, QByteArray(SampleKey));
    QCOMPARE(h.headers.size(), 8);
    QCOMPARE(h.headers.first(), (QPair<QByteArray, QByteArray>("Host"_ba, "example.org:9000"_ba)));
    QCOMPARE(h.headers.last(), (QPair<QByteArray, QByteArray>("x-multi"_ba, "b"_ba)));
    QCOMPARE(h.header("X-MULTI"), "a, b"_ba);
    QCOMPARE(h.header("absent"), QByteArray());
    QCOMPARE(parser.state(), WebSocketParser::State::Frames);

    Keep without;
    WebSocketParser second({MaxMessage, MaxHandshake}, &without);
    QByteArray plain = Open;
    QCOMPARE(second.feed(plain.data(), plain.size()), plain.size());
    QVERIFY(!without.handshake.hasOrigin);
    QVERIFY(without.handshake.origin.isEmpty());
}

void TstWebSocketParser::frameParsedInPlace()
{
    // The payload is unmasked in the caller's buffer and handed on from there: no copy of a whole read.
    class Where : public Recorder
    {
    public:
        const char *payload = nullptr;
        bool onPing(QByteArrayView p) override
        {
            payload = p.data();
            return true;
        }
    } where;
    WebSocketParser parser({MaxMessage, MaxHandshake}, &where);
    QByteArray input = Open;
    QCOMPARE(parser.feed(input.data(), input.size()), input.size());
    QByteArray ping = frame(Fin | Ping, "in place, eight at a time");
    QCOMPARE(parser.feed(ping.data(), ping.size()), ping.size());
    QCOMPARE(where.payload, ping.constData() + 6);
    QCOMPARE(ping.mid(6), "in place, eight at a time"_ba);
}

void TstWebSocketParser::unmaskMatchesBytewise()
{
    const char key[4] = {'\x01', '\x80', '\x7f', '\xff'};
    for (qsizetype offset = 0; offset < 8; ++offset) {
        for (qsizetype size = 0; size <= 40; ++size) {
            QByteArray data(offset + size, '\0');
            for (qsizetype i = 0; i < data.size(); ++i)
                data[i] = char(i * 37 + 11);
            QByteArray expected = data;
            for (qsizetype i = 0; i < size; ++i)
                expected[offset + i] = char(expected[offset + i] ^ key[i % 4]);
            WebSocketParser::unmask(data.data() + offset, size, key);
            QCOMPARE(data, expected);
        }
    }
}

void TstWebSocketParser::responses()
{
    Handshake h;
    h.key = SampleKey;
    QCOMPARE(handshakeResponse(h),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"_ba);
    QCOMPARE(refusalResponse({405, "a WebSocket handshake is a GET request", "Allow: GET\r\n"}),
        "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nConnection: close\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 39\r\n\r\n"
        "a WebSocket handshake is a GET request\n"_ba);
    const QByteArray upgrade = refusalResponse({426, "x", {}});
    QVERIFY(
        upgrade.startsWith("HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n"));
    QVERIFY(refusalResponse({403, "origin not allowed", {}}).startsWith("HTTP/1.1 403 Forbidden\r\n"));
    QVERIFY(refusalResponse({431, "big", {}}).startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

QTEST_GUILESS_MAIN(TstWebSocketParser)
#include "tst_websocketparser.moc"
