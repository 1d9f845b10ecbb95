// SPDX-License-Identifier: MIT
// REST event streams on the real server over 127.0.0.1 (docs/rest.md §6): GET with Accept: text/event-stream answers
// a head without a length, the value first as `put` at `/`, then `put` and `patch` for every change at, above or below
// the location, from REST and WebSocket writers alike, `keep-alive` on the server's timer, `cancel` when the rules
// revoke the read and `auth_revoked` when the token expires; queries apply; streams count as connections and show in
// the admin feed as kind `sse`.
#include "httppeer.h"
#include "rawclient.h"
#include "testserver.h"

#include "server/tokenverifier.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QSignalSpy>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

namespace
{

const QByteArray Accept = "Accept: text/event-stream\r\n";

struct Event {
    QByteArray name;
    QByteArray data; // the data line as sent
    [[nodiscard]] QJsonObject json() const { return QJsonDocument::fromJson(data).object(); }
    [[nodiscard]] QString path() const { return json().value(u"path"_s).toString(); }
    [[nodiscard]] QJsonValue value() const { return json().value(u"data"_s); }
};

/** A client of one stream: the head, then the events as they arrive. */
class StreamPeer : public HttpPeer
{
public:
    bool open(quint16 port, const QByteArray &target, const QByteArray &headers = {})
    {
        if (!connectTo(port))
            return false;
        send(get(target, Accept + headers));
        return QTest::qWaitFor([&] { return in.contains("\r\n\r\n") || closed; }, Timeout);
    }
    [[nodiscard]] QByteArray head() const { return in.left(in.indexOf("\r\n\r\n") + 4); }
    [[nodiscard]] QList<Event> events() const
    {
        QList<Event> out;
        qsizetype at = in.indexOf("\r\n\r\n") + 4;
        for (;;) {
            const qsizetype end = in.indexOf("\n\n", at);
            if (end < 0)
                return out;
            const QByteArray block = in.mid(at, end - at);
            Event e;
            for (const QByteArray &line : block.split('\n')) {
                if (line.startsWith("event: "))
                    e.name = line.mid(7);
                else if (line.startsWith("data: "))
                    e.data = line.mid(6);
            }
            out << e;
            at = end + 2;
        }
    }
    /** The next event that is not a keep-alive, after those already taken; an empty name on timeout. */
    Event next(bool keepAlives = false)
    {
        Event found;
        (void)QTest::qWaitFor(
            [&] {
                const QList<Event> all = events();
                while (m_taken < all.size()) {
                    const Event &e = all.at(m_taken++);
                    if (keepAlives || e.name != "keep-alive") {
                        found = e;
                        return true;
                    }
                }
                return closed;
            },
            Timeout);
        return found;
    }

private:
    qsizetype m_taken = 0;
};

QByteArray b64url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QJsonValue json(const char *text)
{
    return QJsonDocument::fromJson(QByteArray("[") + text + "]").array().at(0);
}

} // namespace

class TstSse : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void headThenTheValue();
    void emptyLocationStartsWithNull();
    void restWritesBecomePutsAndPatches();
    void writesAboveAndBelowTheStream();
    void webSocketWritesReachStreams();
    void queriesApplyToStreams();
    void exportFormatKeepsPriorities();
    void keepAlivesOnTheServersTimer();
    void rulesRefuseOrCancelTheStream();
    void expiredTokenIsRevoked();
    void badStreamRequestsAre400();
    void clientCloseEndsTheStream();
    void streamsCountAsConnections();
    void shutdownEndsStreams();

private:
    Response call(const QByteArray &method, const QByteArray &target, const QByteArray &body = {})
    {
        return m_http.exchange(httpRequest(method, target, body));
    }
    void restart(const ServerConfig &config)
    {
        m_http.socket.abort();
        m_http.in.clear();
        m_http.closed = false;
        m_server = startConfiguredServer(config);
        QVERIFY(m_server);
        QVERIFY(m_http.connectTo(m_server->port()));
    }
    std::unique_ptr<Server> m_server;
    HttpPeer m_http;
};

void TstSse::init()
{
    ServerConfig config;
    config.port = 0;
    restart(config);
}

void TstSse::cleanup()
{
    m_http.socket.abort();
    m_server.reset();
}

void TstSse::headThenTheValue()
{
    QCOMPARE(call("PUT", "/c.json?ns=s", R"({"a": 1})").status, "HTTP/1.1 200 OK"_ba);
    StreamPeer peer;
    QVERIFY(peer.open(m_server->port(), "/.json?ns=s"));
    const QByteArray head = peer.head();
    QVERIFY2(head.startsWith("HTTP/1.1 200 OK\r\n"), head.constData());
    QVERIFY(head.contains("\r\nContent-Type: text/event-stream; charset=utf-8\r\n"));
    QVERIFY(head.contains("\r\nConnection: close\r\n")); // read until the close
    QVERIFY(head.contains("\r\nCache-Control: no-cache\r\n"));
    QVERIFY(!head.contains("Content-Length"));
    const Event first = peer.next();
    QCOMPARE(first.name, "put"_ba);
    QCOMPARE(first.data, R"({"data":{"c":{"a":1}},"path":"/"})"_ba); // one line, as clients split on blank lines
    QTRY_COMPARE(m_server->streamCount(), 1);
}

void TstSse::emptyLocationStartsWithNull()
{
    StreamPeer peer;
    QVERIFY(peer.open(m_server->port(), "/nobody/here.json?ns=s"));
    const Event first = peer.next();
    QCOMPARE(first.name, "put"_ba);
    QCOMPARE(first.data, R"({"data":null,"path":"/"})"_ba); // keys in the order every other event has them
}

void TstSse::restWritesBecomePutsAndPatches()
{
    StreamPeer peer;
    QVERIFY(peer.open(m_server->port(), "/.json?ns=s"));
    QCOMPARE(peer.next().name, "put"_ba);
    // The REST reference's own example.
    call("PUT", "/c.json?ns=s", R"({"foo": true, "bar": false})");
    Event e = peer.next();
    QCOMPARE(e.name, "put"_ba);
    QCOMPARE(e.path(), u"/c"_s);
    QCOMPARE(e.value(), json(R"({"foo": true, "bar": false})"));
    call("PATCH", "/c.json?ns=s", R"({"foo": 3, "baz": 4})");
    e = peer.next();
    QCOMPARE(e.name, "patch"_ba);
    QCOMPARE(e.path(), u"/c"_s);
    QCOMPARE(e.value(), json(R"({"foo": 3, "baz": 4})"));
    // A PATCH with deeper keys is one patch of each first segment's whole new value.
    call("PATCH", "/.json?ns=s", R"({"c/foo": 5, "d": 1})");
    e = peer.next();
    QCOMPARE(e.name, "patch"_ba);
    QCOMPARE(e.path(), u"/"_s);
    QCOMPARE(e.value(), json(R"({"c": {"foo": 5, "bar": false, "baz": 4}, "d": 1})"));
    // A push appears at its new key, a delete as null, a ServerValue resolved.
    const QString key
        = QJsonDocument::fromJson(call("POST", "/list.json?ns=s", R"("x")").body).object().value(u"name"_s).toString();
    e = peer.next();
    QCOMPARE(e.path(), u"/list/"_s + key);
    QCOMPARE(e.value(), QJsonValue(u"x"_s));
    call("DELETE", "/c.json?ns=s");
    e = peer.next();
    QCOMPARE(e.name, "put"_ba);
    QCOMPARE(e.path(), u"/c"_s);
    QVERIFY(e.value().isNull());
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    call("PUT", "/t.json?ns=s", R"({".sv": "timestamp"})");
    e = peer.next();
    QVERIFY(e.value().isDouble() && e.value().toDouble() >= double(before));
}

void TstSse::writesAboveAndBelowTheStream()
{
    StreamPeer below, above;
    QVERIFY(below.open(m_server->port(), "/a/b.json?ns=s"));
    QVERIFY(above.open(m_server->port(), "/a.json?ns=s"));
    QVERIFY(below.next().value().isNull());
    QVERIFY(above.next().value().isNull());
    // A write above the stream: its new value, at "/".
    call("PUT", "/a.json?ns=s", R"({"b": {"x": 1}, "c": 2})");
    Event e = below.next();
    QCOMPARE(e.name, "put"_ba);
    QCOMPARE(e.path(), u"/"_s);
    QCOMPARE(e.value(), json(R"({"x": 1})"));
    QCOMPARE(above.next().value(), json(R"({"b": {"x": 1}, "c": 2})"));
    // One that leaves the stream's value as it was sends it nothing: its next event is the next change.
    call("PUT", "/a.json?ns=s", R"({"b": {"x": 1}, "c": 3})");
    QCOMPARE(above.next().value(), json(R"({"b": {"x": 1}, "c": 3})"));
    call("PUT", "/a/b/x.json?ns=s", "5");
    e = below.next();
    QCOMPARE(e.path(), u"/x"_s);
    QCOMPARE(e.value(), QJsonValue(5));
    e = above.next();
    QCOMPARE(e.path(), u"/b/x"_s);
    // A multi-path update below both: a patch at each stream's own place.
    call("PATCH", "/a.json?ns=s", R"({"b/x": 6, "b/y": 7})");
    e = below.next();
    QCOMPARE(e.name, "patch"_ba);
    QCOMPARE(e.path(), u"/"_s);
    QCOMPARE(e.value(), json(R"({"x": 6, "y": 7})"));
    e = above.next();
    QCOMPARE(e.name, "patch"_ba);
    QCOMPARE(e.path(), u"/"_s);
    QCOMPARE(e.value(), json(R"({"b": {"x": 6, "y": 7}})"));
}

void TstSse::webSocketWritesReachStreams()
{
    StreamPeer peer;
    QVERIFY(peer.open(m_server->port(), "/room.json?ns=s"));
    QCOMPARE(peer.next().name, "put"_ba);
    RawClient ws;
    QVERIFY(ws.open(m_server->port(), u"s"_s));
    QVERIFY(ws.call(u"p"_s, QJsonObject {{u"p"_s, u"/room/alice"_s}, {u"d"_s, u"here"_s}}).value(u"s"_s) == u"ok"_s);
    Event e = peer.next();
    QCOMPARE(e.name, "put"_ba);
    QCOMPARE(e.path(), u"/alice"_s);
    QCOMPARE(e.value(), QJsonValue(u"here"_s));
    QVERIFY(ws.call(u"m"_s, QJsonObject {{u"p"_s, u"/room"_s}, {u"d"_s, QJsonObject {{u"bob"_s, 1}, {u"eve"_s, 2}}}})
                .value(u"s"_s)
        == u"ok"_s);
    e = peer.next();
    QCOMPARE(e.name, "patch"_ba);
    QCOMPARE(e.path(), u"/"_s);
    QCOMPARE(e.value(), json(R"({"bob": 1, "eve": 2})"));
}

void TstSse::queriesApplyToStreams()
{
    call("PUT", "/scores.json?ns=s", R"({"a": 1, "b": 5, "c": 3})");
    StreamPeer peer;
    QVERIFY(peer.open(m_server->port(), R"(/scores.json?ns=s&orderBy="$value"&limitToLast=2)"));
    Event e = peer.next();
    QCOMPARE(e.path(), u"/"_s);
    QCOMPARE(e.value(), json(R"({"b": 5, "c": 3})"));
    // Outside the window: nothing; inside: the new window, never the unfiltered data.
    call("PUT", "/scores/d.json?ns=s", "0");
    call("PUT", "/scores/e.json?ns=s", "9");
    e = peer.next();
    QCOMPARE(e.name, "put"_ba);
    QCOMPARE(e.path(), u"/"_s);
    QCOMPARE(e.value(), json(R"({"b": 5, "e": 9})"));
    // A query that is not one is refused before any stream starts.
    StreamPeer bad;
    QVERIFY(bad.open(m_server->port(), "/scores.json?ns=s&limitToFirst=2"));
    QVERIFY(bad.head().startsWith("HTTP/1.1 400 "));
}

void TstSse::exportFormatKeepsPriorities()
{
    call("PUT", "/p.json?ns=s", R"({".value": "v", ".priority": 2})");
    StreamPeer plain, exported;
    QVERIFY(plain.open(m_server->port(), "/p.json?ns=s"));
    QVERIFY(exported.open(m_server->port(), "/p.json?ns=s&format=export"));
    QCOMPARE(plain.next().value(), QJsonValue(u"v"_s));
    QCOMPARE(exported.next().value(), json(R"({".value": "v", ".priority": 2})"));
}

void TstSse::keepAlivesOnTheServersTimer()
{
    ServerConfig config;
    config.port = 0;
    config.streamKeepAliveMs = 40;
    config.handshakeTimeoutMs = 100; // an idle HTTP connection's limit: a stream is not one
    restart(config);
    StreamPeer peer;
    QVERIFY(peer.open(m_server->port(), "/.json?ns=s"));
    QCOMPARE(peer.next().name, "put"_ba);
    for (int i = 0; i < 5; ++i) {
        const Event e = peer.next(true);
        QCOMPARE(e.name, "keep-alive"_ba);
        QCOMPARE(e.data, "null"_ba);
    }
    QVERIFY(!peer.closed);
}

void TstSse::rulesRefuseOrCancelTheStream()
{
    QVERIFY(m_server->rules().set(u"g"_s, R"({"rules": {"open": {".read": true}}})").ok);
    // Refused at the start: the REST denial, and no stream.
    StreamPeer refused;
    QVERIFY(refused.open(m_server->port(), "/secret.json?ns=g"));
    QVERIFY(refused.head().startsWith("HTTP/1.1 401 "));
    QVERIFY(refused.in.contains(R"({"error":"Permission denied"})"));
    // Revoked later: `cancel`, then the server closes.
    StreamPeer peer;
    QVERIFY(peer.open(m_server->port(), "/open.json?ns=g"));
    QCOMPARE(peer.next().name, "put"_ba);
    QTRY_COMPARE(m_server->streamCount(), 1);
    QVERIFY(m_server->rules().set(u"g"_s, R"({"rules": {".read": false}})").ok);
    const Event e = peer.next();
    QCOMPARE(e.name, "cancel"_ba);
    QCOMPARE(e.data, R"("Permission denied.")"_ba);
    QTRY_VERIFY(peer.closed);
    QTRY_COMPARE(m_server->streamCount(), 0);
}

void TstSse::expiredTokenIsRevoked()
{
    const QByteArray secret = "sse-hs256-secret";
    auto verifier = std::make_shared<TokenVerifier>();
    QString error;
    QVERIFY(verifier->setHmacSecret(secret, &error));
    verifier->setSkewSeconds(0);
    ServerConfig config;
    config.port = 0;
    config.auth = {AuthConfig::Mode::Verify, QByteArray(), verifier};
    restart(config);
    const double now = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
    const QJsonObject claims {{u"sub"_s, u"alice"_s}, {u"iat"_s, qint64(now)}, {u"exp"_s, now + 0.3}};
    const QByteArray input
        = b64url(R"({"alg":"HS256","typ":"JWT"})") + '.' + b64url(QJsonDocument(claims).toJson(QJsonDocument::Compact));
    const QByteArray token
        = input + '.' + b64url(QMessageAuthenticationCode::hash(input, secret, QCryptographicHash::Sha256));
    StreamPeer peer;
    QVERIFY(peer.open(m_server->port(), "/.json?ns=s&auth=" + token));
    QCOMPARE(peer.next().name, "put"_ba);
    const Event e = peer.next();
    QCOMPARE(e.name, "auth_revoked"_ba);
    QCOMPARE(e.data, "credential is no longer valid"_ba); // unquoted: what the Python Admin SDK compares
    QTRY_VERIFY(peer.closed);
}

void TstSse::badStreamRequestsAre400()
{
    for (const QByteArray &target : {"/a.json?ns=s&shallow=true"_ba, "/.info/connected.json?ns=s"_ba,
             "/a.json?ns=s&orderBy=\"$key\"&limitToFirst=0"_ba, "/a.json?ns=bad%24name"_ba, "/a%00.json?ns=s"_ba}) {
        StreamPeer peer;
        QVERIFY(peer.open(m_server->port(), target));
        QVERIFY2(peer.head().startsWith("HTTP/1.1 400 "), target.constData());
    }
    QCOMPARE(m_server->streamCount(), 0);
}

void TstSse::clientCloseEndsTheStream()
{
    QSignalSpy opened(m_server->adminFeed(), &AdminFeed::streamOpened);
    QSignalSpy ended(m_server->adminFeed(), &AdminFeed::streamEnded);
    StreamPeer peer;
    QVERIFY(peer.open(
        m_server->port(), "/x.json?ns=s&auth=" + b64url(R"({"alg":"none"})") + '.' + b64url(R"({"sub":"bob"})") + '.'));
    QCOMPARE(peer.next().name, "put"_ba);
    QTRY_COMPARE(opened.size(), 1);
    const QJsonObject described = opened.at(0).at(0).toJsonObject();
    QCOMPARE(described.value(u"kind"_s), u"sse"_s);
    QCOMPARE(described.value(u"namespace"_s), u"s"_s);
    QCOMPARE(described.value(u"path"_s), u"/x"_s);
    QVERIFY(described.value(u"identity"_s).toString().contains(u"bob"_s));
    QCOMPARE(m_server->describeStreams().size(), 1);
    // A lark.watch admin sees it in its snapshot.
    RawClient admin;
    QVERIFY(admin.open(m_server->port(), u"s"_s));
    QCOMPARE(replyStatus(admin.call(u"gauth"_s, QJsonObject {{u"cred"_s, u"owner"_s}})), u"ok"_s);
    const QJsonObject watch = admin.call(u"lark.watch"_s, QJsonObject());
    QCOMPARE(watch.value(u"d"_s).toObject().value(u"streams"_s).toArray().size(), 1);
    peer.socket.abort();
    QTRY_COMPARE(m_server->streamCount(), 0);
    QTRY_COMPARE(ended.size(), 1);
    QCOMPARE(ended.at(0).at(0).toJsonObject().value(u"endReason"_s), u"closed by the client"_s);
    // Its listen is gone with it: a write reaches nobody and nothing breaks.
    QCOMPARE(call("PUT", "/x.json?ns=s", "1").status, "HTTP/1.1 200 OK"_ba);
}

void TstSse::streamsCountAsConnections()
{
    ServerConfig config;
    config.port = 0;
    config.maxConnections = 2;
    restart(config); // m_http is one
    StreamPeer peer;
    QVERIFY(peer.open(m_server->port(), "/.json?ns=s"));
    QCOMPARE(peer.next().name, "put"_ba);
    m_http.socket.abort();
    StreamPeer second;
    QVERIFY(second.open(m_server->port(), "/.json?ns=s"));
    QCOMPARE(second.next().name, "put"_ba);
    HttpPeer third;
    QVERIFY(third.connectTo(m_server->port()));
    QTRY_VERIFY(third.in.startsWith("HTTP/1.1 503 "));
}

void TstSse::shutdownEndsStreams()
{
    StreamPeer peer;
    QVERIFY(peer.open(m_server->port(), "/.json?ns=s"));
    QCOMPARE(peer.next().name, "put"_ba);
    m_server->shutdown();
    QTRY_VERIFY(peer.closed);
    m_server.reset();
}

QTEST_GUILESS_MAIN(TstSse)
#include "tst_sse.moc"
