// SPDX-License-Identifier: MIT
// protocol::HttpRequestReader and HttpResponse: the plain-HTTP side of the server's port, bytes in and out, with
// every split of the input the socket could produce.
#include "protocol/httpmessage.h"

#include <QJsonObject>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using lark::protocol::HttpRequest;
using lark::protocol::HttpRequestReader;
using lark::protocol::HttpResponse;

namespace
{

constexpr qsizetype MaxHead = 256;
constexpr qsizetype MaxBody = 64;

/** What a stream gives: the complete requests (method target body), then "error STATUS" if it failed. */
QStringList readAll(const QByteArray &stream, qsizetype chunk)
{
    HttpRequestReader reader({MaxHead, MaxBody});
    QByteArray pending;
    QStringList got;
    for (qsizetype at = 0; at < stream.size(); at += chunk) {
        pending += stream.mid(at, chunk);
        for (;;) {
            const qsizetype used = reader.feed(pending.constData(), pending.size());
            if (used > pending.size())
                return {u"consumed more than it was given"_s};
            pending.remove(0, used);
            if (reader.failed()) {
                got << u"error %1"_s.arg(reader.errorStatus());
                return got;
            }
            if (!reader.hasRequest())
                break;
            const HttpRequest r = reader.takeRequest();
            got << QString::fromLatin1(r.method + ' ' + r.target + ' ' + r.body + (r.keepAlive ? "" : " close"));
        }
    }
    return got;
}

} // namespace

class TstHttpMessage : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void reader_data();
    void reader();
    void headersAreKept();
    void responseBytes();
    void jsonBodies();
};

void TstHttpMessage::reader_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<QStringList>("expected");

    const QByteArray get = "GET /.settings/rules.json?ns=a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"_ba;
    const QByteArray put = "PUT /.settings/rules.json HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"_ba;
    QTest::newRow("GET") << get << QStringList {u"GET /.settings/rules.json?ns=a "_s};
    QTest::newRow("PUT with a body") << put << QStringList {u"PUT /.settings/rules.json hello"_s};
    QTest::newRow("chunked body")
        << "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"_ba
        << QStringList {u"POST /x abcde"_s};
    QTest::newRow("pipelined") << get + put + get
                               << QStringList {u"GET /.settings/rules.json?ns=a "_s,
                                      u"PUT /.settings/rules.json hello"_s, u"GET /.settings/rules.json?ns=a "_s};
    QTest::newRow("Connection: close") << "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"_ba
                                       << QStringList {u"GET /  close"_s};
    QTest::newRow("HTTP/1.0 closes") << "GET / HTTP/1.0\r\n\r\n"_ba << QStringList {u"GET /  close"_s};
    QTest::newRow("unfinished body") << put.chopped(2) << QStringList {};

    // Refusals: a status for the client, and nothing after it is read.
    QTest::newRow("not HTTP") << "HELLO THERE\r\n\r\n"_ba << QStringList {u"error 400"_s};
    QTest::newRow("bad Content-Length") << "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n"_ba
                                        << QStringList {u"error 400"_s};
    QTest::newRow("head over the cap") << "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: "_ba + QByteArray(MaxHead, 'p')
            + "\r\n\r\n" << QStringList {u"error 431"_s};
    // fuzz_http's finding: http-parser reports a token only when it or the input ends, so a cap counted from its
    // callbacks refused this with 400 in one piece and 431 in small ones.
    QTest::newRow("a bad byte past the head's cap")
        << "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: "_ba + QByteArray(MaxHead, 'p') + "\x01\r\n\r\n"
        << QStringList {u"error 431"_s};
    QTest::newRow("a bad byte inside the head's cap")
        << "GET / HTTP/1.1\r\nHost: x\x01\r\n\r\n"_ba << QStringList {u"error 400"_s};
    QTest::newRow("body over the cap, by Content-Length")
        << "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n"_ba << QStringList {u"error 413"_s};
    QTest::newRow("body over the cap, chunked")
        << "PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n"_ba + QByteArray(64, 'a')
            + "\r\n1\r\nb\r\n0\r\n\r\n"
        << QStringList {u"error 413"_s};
    QTest::newRow("a request after the error is not read") << "BAD\r\n\r\n"_ba + get << QStringList {u"error 400"_s};
    QTest::newRow("an Upgrade later on the stream")
        << get + "GET /.ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        << QStringList {u"GET /.settings/rules.json?ns=a "_s, u"error 400"_s};
}

void TstHttpMessage::reader()
{
    QFETCH(QByteArray, stream);
    QFETCH(QStringList, expected);
    // Every chunk size a socket could deliver gives the same requests.
    for (const qsizetype chunk : {qsizetype(1), qsizetype(2), qsizetype(7), qsizetype(64), stream.size()})
        QCOMPARE(readAll(stream, chunk), expected);
}

void TstHttpMessage::headersAreKept()
{
    HttpRequestReader reader({MaxHead, MaxBody});
    const QByteArray in = "PUT /a HTTP/1.1\r\nHost: x\r\nAuthorization:  Bearer owner \r\nX-A: 1\r\nx-a: 2\r\n"
                          "Content-Length: 0\r\n\r\n"_ba;
    QCOMPARE(reader.feed(in.constData(), in.size()), in.size());
    QVERIFY(reader.hasRequest());
    const HttpRequest r = reader.takeRequest();
    QCOMPARE(r.header("authorization"), "Bearer owner"_ba);
    QCOMPARE(r.header("X-A"), "1, 2"_ba);
    QCOMPARE(r.headers.size(), 5);
    QCOMPARE(r.header("Missing"), QByteArray());
}

void TstHttpMessage::responseBytes()
{
    HttpResponse r = HttpResponse::error(400, u"1:2: Parse error.\n"_s);
    QCOMPARE(r.serialize(true),
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 31\r\n"
        "Connection: keep-alive\r\nCache-Control: no-store\r\n\r\n{\"error\":\"1:2: Parse error.\\n\"}"_ba);
    r.extraHeaders = "Allow: GET\r\n";
    QVERIFY(r.serialize(false).startsWith("HTTP/1.1 400 Bad Request\r\nAllow: GET\r\n"));
    QVERIFY(r.serialize(false).contains("\r\nConnection: close\r\n"));
    r.closeConnection = true;
    QVERIFY(r.serialize(true).contains("\r\nConnection: close\r\n"));
    HttpResponse upgrade = HttpResponse::error(426, u"x"_s);
    QVERIFY(upgrade.serialize(false).contains("\r\nConnection: Upgrade, close\r\n"));
    QCOMPARE(lark::protocol::httpStatusText(413), "Content Too Large"_ba);
}

void TstHttpMessage::jsonBodies()
{
    QCOMPARE(HttpResponse::json(200, QJsonObject {{u"status"_s, u"ok"_s}}).body, R"({"status":"ok"})"_ba);
    QCOMPARE(HttpResponse::json(200, QJsonValue(u"a\"b"_s)).body, R"("a\"b")"_ba);
    QCOMPARE(HttpResponse::json(200, QJsonValue(3)).body, "3"_ba);
    QCOMPARE(HttpResponse::json(200, QJsonValue()).body, "null"_ba);
}

QTEST_GUILESS_MAIN(TstHttpMessage)
#include "tst_httpmessage.moc"
