// SPDX-License-Identifier: MIT
// Plain HTTP on the server's WebSocket port, black-box over loopback: routing (a route, 405 with Allow, 426 for a
// path that is not served), keep-alive and pipelining, the access policy, the caps, and that a WebSocket client beside
// it is not harmed.
#include "httppeer.h"
#include "rawclient.h"
#include "testserver.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QTimer>

using namespace Qt::Literals::StringLiterals;
using lark::protocol::HttpResponse;

namespace
{

constexpr int Timeout = 5000;

} // namespace

class TstHttp : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void routeAnswers();
    void keepAliveAndPipelining();
    void wrongMethodIs405();
    void unservedPathIs426AndCloses();
    void connectionCloseIsHonoured();
    void foreignOriginIsRefused();
    void oversizeBodyIs413();
    void malformedRequestIs400();
    void idleConnectionIsDropped();
    void tricklingRequestIsClosed();
    void webSocketBesideIsUnharmed();
    void presencePageIsServed();

private:
    std::unique_ptr<lark::Server> m_server;
    int m_calls = 0;
};

void TstHttp::init()
{
    lark::ServerConfig config;
    config.port = 0;
    config.maxMessageBytes = 1024; // also the HTTP body cap
    config.handshakeTimeoutMs = 300; // also the idle keep-alive timeout
    m_server = startConfiguredServer(config);
    m_calls = 0;
    m_server->httpRoutes().add("PUT", u"/echo"_s, [this](const lark::HttpCall &call) {
        ++m_calls;
        return HttpResponse::json(200,
            QJsonObject {{u"body"_s, QString::fromUtf8(call.request.body)},
                {u"ns"_s, call.query.queryItemValue(u"ns"_s)}, {u"token"_s, call.bearerToken()}});
    });
    m_server->httpRoutes().add("GET", u"/echo"_s, [this](const lark::HttpCall &call) {
        ++m_calls;
        return HttpResponse::json(200, QJsonObject {{u"target"_s, QString::fromUtf8(call.request.target)}});
    });
}

void TstHttp::cleanup()
{
    m_server.reset();
}

void TstHttp::routeAnswers()
{
    HttpPeer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send("PUT /echo?ns=demo HTTP/1.1\r\nHost: localhost:9000\r\nAuthorization: Bearer owner\r\n"
           "Content-Length: 11\r\n\r\n{\"rules\":1}");
    QTRY_COMPARE_WITH_TIMEOUT(p.responses().size(), 1, Timeout);
    const Response r = p.responses().first();
    QCOMPARE(r.status, "HTTP/1.1 200 OK"_ba);
    QVERIFY(r.hasHeader("Content-Type: application/json; charset=utf-8"));
    QCOMPARE(QJsonDocument::fromJson(r.body).object(),
        (QJsonObject {{u"body"_s, u"{\"rules\":1}"_s}, {u"ns"_s, u"demo"_s}, {u"token"_s, u"owner"_s}}));
    QVERIFY(!p.closed);
}

void TstHttp::keepAliveAndPipelining()
{
    HttpPeer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send(get("/echo?a=1") + get("/echo?a=2") + get("/echo?a=3"));
    QTRY_COMPARE_WITH_TIMEOUT(p.responses().size(), 3, Timeout);
    for (int i = 0; i < 3; ++i) { // answered in order
        QCOMPARE(QJsonDocument::fromJson(p.responses()[i].body).object().value(u"target"_s).toString(),
            u"/echo?a=%1"_s.arg(i + 1));
        QVERIFY(p.responses()[i].hasHeader("Connection: keep-alive"));
    }
    p.send(get("/echo?a=4")); // the same connection, later
    QTRY_COMPARE_WITH_TIMEOUT(p.responses().size(), 4, Timeout);
    QCOMPARE(m_calls, 4);
}

void TstHttp::wrongMethodIs405()
{
    HttpPeer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send("DELETE /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QTRY_COMPARE_WITH_TIMEOUT(p.responses().size(), 1, Timeout);
    QCOMPARE(p.responses().first().status, "HTTP/1.1 405 Method Not Allowed"_ba);
    QVERIFY(p.responses().first().hasHeader("Allow: PUT, GET"));
    QVERIFY(QJsonDocument::fromJson(p.responses().first().body).object().contains(u"error"_s));
    QCOMPARE(m_calls, 0);
}

void TstHttp::presencePageIsServed()
{
    // The page at / (docs/rest.md §7), told the default namespace, and its bundled script: both from the binary.
    HttpPeer p;
    QVERIFY(p.connectTo(m_server->port()));
    const Response page = p.exchange(get("/?uid=alice&ns=demo"));
    QCOMPARE(page.status, "HTTP/1.1 200 OK"_ba);
    QVERIFY(page.hasHeader("Content-Type: text/html; charset=utf-8"));
    QVERIFY(page.body.contains(R"(window.LARK_PAGE = {"defaultNamespace":"lark"};)"));
    QVERIFY(page.body.contains(R"(<script src="/.lark/presence.js"></script>)"));
    QVERIFY(!page.body.contains("__LARK_PAGE_CONFIG__"));
    const Response script = p.exchange(get("/.lark/presence.js"));
    QCOMPARE(script.status, "HTTP/1.1 200 OK"_ba);
    QVERIFY(script.hasHeader("Content-Type: application/javascript; charset=utf-8"));
    // The SDK is in it (its version string and the emulator hook), and it loads nothing from elsewhere.
    QVERIFY(script.body.size() > 50000);
    QVERIFY(script.body.contains("1.1.5"));
    QVERIFY(script.body.contains("mockUserToken"));
    QVERIFY(!script.body.contains("https://www.gstatic.com"));
    const Response post = p.exchange(httpRequest("POST", "/", "x"));
    QCOMPARE(post.status, "HTTP/1.1 405 Method Not Allowed"_ba);
    QVERIFY(post.hasHeader("Allow: GET"));
}

void TstHttp::unservedPathIs426AndCloses()
{
    HttpPeer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send(get("/nothing/here"));
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout);
    QCOMPARE(p.responses().size(), 1);
    QCOMPARE(p.responses().first().status, "HTTP/1.1 426 Upgrade Required"_ba);
    QVERIFY(p.responses().first().hasHeader("Upgrade: websocket"));
    QVERIFY(p.responses().first().hasHeader("Connection: Upgrade, close"));
    QVERIFY(p.responses().first().body.contains("/.ws?v=5&ns=<namespace>"));
}

void TstHttp::connectionCloseIsHonoured()
{
    HttpPeer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send(get("/echo", "Connection: close\r\n") + get("/echo"));
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout);
    QCOMPARE(p.responses().size(), 1); // nothing after the request that closes is read
    QVERIFY(p.responses().first().hasHeader("Connection: close"));
    QCOMPARE(m_calls, 1);
}

void TstHttp::foreignOriginIsRefused()
{
    // A page elsewhere must not reach the routes (the rules endpoint) any more than the WebSocket.
    HttpPeer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send(get("/echo", "Origin: https://evil.example\r\n"));
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout);
    QVERIFY2(p.in.startsWith("HTTP/1.1 403 "), p.in.constData());
    QCOMPARE(m_calls, 0);
    HttpPeer rebound; // DNS rebinding: a loopback server under a foreign name
    QVERIFY(rebound.connectTo(m_server->port()));
    rebound.send("GET /echo HTTP/1.1\r\nHost: attacker.example\r\n\r\n");
    QTRY_VERIFY_WITH_TIMEOUT(rebound.closed, Timeout);
    QVERIFY2(rebound.in.startsWith("HTTP/1.1 403 "), rebound.in.constData());
    QCOMPARE(m_calls, 0);
}

void TstHttp::oversizeBodyIs413()
{
    HttpPeer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send("PUT /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1025\r\n\r\n");
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout); // refused on the header, before the body is sent
    QCOMPARE(p.responses().size(), 1);
    QCOMPARE(p.responses().first().status, "HTTP/1.1 413 Content Too Large"_ba);
    QVERIFY(p.responses().first().body.contains("1024"));
    QCOMPARE(m_calls, 0);
}

void TstHttp::malformedRequestIs400()
{
    HttpPeer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send(get("/echo") + "PUT /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n");
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout);
    QCOMPARE(p.responses().size(), 2); // the good request first is still answered
    QCOMPARE(p.responses()[0].status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(p.responses()[1].status, "HTTP/1.1 400 Bad Request"_ba);
    QVERIFY(p.responses()[1].hasHeader("Connection: close"));
}

void TstHttp::idleConnectionIsDropped()
{
    HttpPeer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send(get("/echo"));
    QTRY_COMPARE_WITH_TIMEOUT(p.responses().size(), 1, Timeout);
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout); // after handshakeTimeoutMs of silence
    QCOMPARE(m_server->handshakeCount(), 0);
}

void TstHttp::tricklingRequestIsClosed()
{
    // A client that keeps sending a byte now and then never finishes its request: the idle limit (handshakeTimeoutMs,
    // 300 ms here) counts from the last answer, not from the last byte, so it is closed all the same.
    for (const QByteArray &request :
        {get("/echo", "X-Slow: " + QByteArray(200, 'a') + "\r\n"), httpRequest("PUT", "/echo", QByteArray(200, 'b'))}) {
        HttpPeer p;
        QVERIFY(p.connectTo(m_server->port()));
        QCOMPARE(p.exchange(get("/echo")).status, "HTTP/1.1 200 OK"_ba);
        qsizetype sent = 0;
        QTimer drip;
        QObject::connect(&drip, &QTimer::timeout, [&] {
            if (sent < request.size() - 1) // never the last byte: the request stays unfinished
                p.send(request.mid(sent++, 1));
        });
        drip.start(20);
        QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout);
        QVERIFY2(sent < request.size() - 1, "the whole request went out before the close");
        QCOMPARE(p.responses().size(), 1);
        QCOMPARE(m_calls, 1);
        m_calls = 0;
    }
}

void TstHttp::webSocketBesideIsUnharmed()
{
    RawClient ws;
    QVERIFY(ws.open(m_server->port(), u"http"_s));
    HttpPeer p;
    QVERIFY(p.connectTo(m_server->port()));
    p.send("BROKEN\r\n\r\n");
    QTRY_VERIFY_WITH_TIMEOUT(p.closed, Timeout);
    QCOMPARE(ws.call(u"p"_s, QJsonObject {{u"p"_s, u"/a"_s}, {u"d"_s, 1}}).value(u"s"_s).toString(), u"ok"_s);
}

QTEST_GUILESS_MAIN(TstHttp)
#include "tst_http.moc"
