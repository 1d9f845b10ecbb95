// SPDX-License-Identifier: MIT
// The REST API on the real server over 127.0.0.1 (docs/rest.md): GET, PUT, POST, PATCH and DELETE on <path>.json
// with the answers of docs/rest.md §1, the namespace and identities of §2 and §3, print, shallow and format=export,
// bad input as 400s, ETags (§4), and (§5) that a REST write is the same write as a WebSocket one: pushed to listeners,
// checked by the rules, answered only once the data file has it.
#include "httppeer.h"
#include "rawclient.h"
#include "testserver.h"

#include "server/sqlitebackend.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

namespace
{

const QByteArray Owner = "Authorization: Bearer owner\r\n";

/** The body as JSON, scalars included. */
QJsonValue value(const Response &r)
{
    return QJsonDocument::fromJson("[" + r.body + "]").array().at(0);
}

QString errorOf(const Response &r)
{
    return QJsonDocument::fromJson(r.body).object().value(u"error"_s).toString();
}

/** An unsigned emulator token for uid, as the JS SDK's mockUserToken makes. */
QByteArray mockToken(const QString &uid)
{
    const auto part = [](const QByteArray &json) {
        return json.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    };
    return part(R"({"alg":"none","typ":"JWT"})") + '.' + part(u"{\"sub\":\"%1\"}"_s.arg(uid).toUtf8()) + '.';
}

} // namespace

class TstRest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void putThenGet();
    void scalarsAndNull();
    void postAnswersAPushId();
    void patchUpdatesChildrenAndPaths();
    void deleteAnswersNull();
    void methodOverride();
    void printSilentAndPretty();
    void shallowAndExportFormat();
    void serverValuesResolve();
    void etagsAndConditionalRequests();
    void queries();
    void namespaceFromParameterOrHost();
    void inspectListsTheNamespaces();
    void uploadImportsAFile();
    void badInputIs400();
    void unknownMethodIs405();
    void corsForAdmittedOrigins();
    void rulesAndIdentities();
    void writesReachWebSocketListeners();
    void pipelinedRequestsAnswerInOrder();
    void writeIsAnsweredOnceCommitted();
    void timeoutAndWriteSizeLimitAreChecked();
    void downloadAndCallbackShapeTheAnswer();
    void authVariableOverrideIsTheAdminsOnly();

private:
    Response call(
        const QByteArray &method, const QByteArray &target, const QByteArray &body = {}, const QByteArray &headers = {})
    {
        return m_http.exchange(httpRequest(method, target, body, headers));
    }
    std::unique_ptr<Server> m_server;
    HttpPeer m_http;
};

void TstRest::init()
{
    m_server = startTestServer();
    QVERIFY(m_http.connectTo(m_server->port()));
}

void TstRest::cleanup()
{
    m_http.socket.abort();
    m_http.in.clear();
    m_http.closed = false;
    m_server.reset();
}

void TstRest::putThenGet()
{
    const Response put = call("PUT", "/users/jack.json?ns=rest", R"({"name": "Jack", "age": 31})");
    QCOMPARE(put.status, "HTTP/1.1 200 OK"_ba);
    QVERIFY(put.hasHeader("Content-Type: application/json; charset=utf-8"));
    QVERIFY(put.hasHeader("Cache-Control: no-store"));
    QVERIFY(!put.head.contains("ETag")); // only when asked for
    QCOMPARE(value(put), QJsonValue(QJsonObject {{u"name"_s, u"Jack"_s}, {u"age"_s, 31}}));
    QCOMPARE(value(call("GET", "/users.json?ns=rest")),
        QJsonValue(QJsonObject {{u"jack"_s, QJsonObject {{u"name"_s, u"Jack"_s}, {u"age"_s, 31}}}}));
    QCOMPARE(value(call("GET", "/users/jack/name.json?ns=rest")), QJsonValue(u"Jack"_s));
    // A slash before .json is the same location; the root is /.json.
    QCOMPARE(value(call("GET", "/users/jack/name/.json?ns=rest")), QJsonValue(u"Jack"_s));
    QCOMPARE(value(call("GET", "/.json?ns=rest")).toObject().keys(), QStringList {u"users"_s});
    // Percent-encoded keys are decoded.
    QCOMPARE(call("PUT", "/a%20b.json?ns=rest", "1").status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(value(call("GET", "/.json?ns=rest")).toObject().value(u"a b"_s), QJsonValue(1));
    // Absent: 200 null, not 404.
    const Response absent = call("GET", "/nobody/here.json?ns=rest");
    QCOMPARE(absent.status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(absent.body, "null"_ba);
    QVERIFY(!m_http.closed); // keep-alive throughout
}

void TstRest::scalarsAndNull()
{
    QCOMPARE(value(call("PUT", "/s.json?ns=scalars", R"("hi")")), QJsonValue(u"hi"_s));
    QCOMPARE(value(call("PUT", "/n.json?ns=scalars", "2.5")), QJsonValue(2.5));
    QCOMPARE(value(call("PUT", "/b.json?ns=scalars", "true")), QJsonValue(true));
    QCOMPARE(value(call("GET", "/.json?ns=scalars")),
        QJsonValue(QJsonObject {{u"s"_s, u"hi"_s}, {u"n"_s, 2.5}, {u"b"_s, true}}));
    // An array is stored as an object keyed by index, as over the WebSocket.
    call("PUT", "/arr.json?ns=scalars", "[1, 2]");
    QCOMPARE(value(call("GET", "/arr/1.json?ns=scalars")), QJsonValue(2));
    // PUT null deletes.
    const Response deleted = call("PUT", "/s.json?ns=scalars", "null");
    QCOMPARE(deleted.status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(deleted.body, "null"_ba);
    QCOMPARE(call("GET", "/s.json?ns=scalars").body, "null"_ba);
}

void TstRest::postAnswersAPushId()
{
    const Response first = call("POST", "/messages.json?ns=post", R"({"text": "one"})");
    QCOMPARE(first.status, "HTTP/1.1 200 OK"_ba);
    const QString a = QJsonDocument::fromJson(first.body).object().value(u"name"_s).toString();
    QCOMPARE(a.size(), 20);
    const QString b = QJsonDocument::fromJson(call("POST", "/messages.json?ns=post", R"("two")").body)
                          .object()
                          .value(u"name"_s)
                          .toString();
    QVERIFY2(a < b, "push ids sort in creation order");
    const QJsonObject all = value(call("GET", "/messages.json?ns=post")).toObject();
    QCOMPARE(all.value(a), QJsonValue(QJsonObject {{u"text"_s, u"one"_s}}));
    QCOMPARE(all.value(b), QJsonValue(u"two"_s));
}

void TstRest::patchUpdatesChildrenAndPaths()
{
    call("PUT", "/u.json?ns=patch", R"({"a": 1, "b": {"c": 2, "keep": true}, "gone": 1})");
    const QByteArray update = R"({"b/c": 3, "d": {"e": 4}, "gone": null})";
    const Response patch = call("PATCH", "/u.json?ns=patch", update);
    QCOMPARE(patch.status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(value(patch), QJsonValue(QJsonDocument::fromJson(update).object())); // the request data
    QCOMPARE(value(call("GET", "/u.json?ns=patch")),
        QJsonValue(QJsonDocument::fromJson(R"({"a": 1, "b": {"c": 3, "keep": true}, "d": {"e": 4}})").object()));
    // PATCH null deletes the location (firebase database:remove).
    QCOMPARE(call("PATCH", "/u/b.json?ns=patch", "null").body, "null"_ba);
    QVERIFY(!value(call("GET", "/u.json?ns=patch")).toObject().contains(u"b"_s));
    // Not an object: nothing written.
    const Response bad = call("PATCH", "/u.json?ns=patch", "5");
    QCOMPARE(bad.status, "HTTP/1.1 400 Bad Request"_ba);
    QVERIFY(errorOf(bad).contains(u"object"_s));
    const Response badKey = call("PATCH", "/u.json?ns=patch", R"({"a": 9, "x$y": 1})");
    QCOMPARE(badKey.status, "HTTP/1.1 400 Bad Request"_ba);
    QCOMPARE(value(call("GET", "/u/a.json?ns=patch")), QJsonValue(1)); // all or nothing
}

void TstRest::deleteAnswersNull()
{
    call("PUT", "/x.json?ns=del", R"({"y": 1, "z": 2})");
    const Response r = call("DELETE", "/x/y.json?ns=del");
    QCOMPARE(r.status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(r.body, "null"_ba);
    QCOMPARE(value(call("GET", "/x.json?ns=del")), QJsonValue(QJsonObject {{u"z"_s, 2}}));
}

void TstRest::methodOverride()
{
    call("PUT", "/o.json?ns=override", R"({"a": 1, "b": 2})");
    QCOMPARE(call("POST", "/o/a.json?ns=override", {}, "X-HTTP-Method-Override: DELETE\r\n").body, "null"_ba);
    QCOMPARE(value(call("POST", "/o/b.json?ns=override&x-http-method-override=PUT", "7")), QJsonValue(7));
    QCOMPARE(value(call("GET", "/o.json?ns=override")), QJsonValue(QJsonObject {{u"b"_s, 7}}));
}

void TstRest::printSilentAndPretty()
{
    const Response silent = call("PUT", "/p.json?ns=print&print=silent", R"({"a": {"b": 1}})");
    QCOMPARE(silent.status, "HTTP/1.1 204 No Content"_ba);
    QVERIFY(silent.body.isEmpty());
    QCOMPARE(
        value(call("GET", "/p.json?ns=print")), QJsonValue(QJsonDocument::fromJson(R"({"a": {"b": 1}})").object()));
    const Response pretty = call("GET", "/p.json?ns=print&print=pretty");
    QVERIFY2(pretty.body.contains('\n'), pretty.body);
    QCOMPARE(value(pretty), QJsonValue(QJsonDocument::fromJson(R"({"a": {"b": 1}})").object()));
    QCOMPARE(call("GET", "/p.json?ns=print&print=silent").status, "HTTP/1.1 204 No Content"_ba);
}

void TstRest::shallowAndExportFormat()
{
    call("PUT", "/s.json?ns=shallow", R"({"a": {"deep": 1}, "b": 2, ".priority": 5})");
    QCOMPARE(value(call("GET", "/s.json?ns=shallow&shallow=true")),
        QJsonValue(QJsonObject {{u"a"_s, true}, {u"b"_s, true}}));
    QCOMPARE(value(call("GET", "/s/b.json?ns=shallow&shallow=true")), QJsonValue(2));
    QCOMPARE(call("GET", "/none.json?ns=shallow&shallow=true").body, "null"_ba);
    // A plain read leaves priorities out; format=export has them.
    QCOMPARE(value(call("GET", "/s.json?ns=shallow")),
        QJsonValue(QJsonObject {{u"a"_s, QJsonObject {{u"deep"_s, 1}}}, {u"b"_s, 2}}));
    QCOMPARE(value(call("GET", "/s.json?ns=shallow&format=export")).toObject().value(u".priority"_s), QJsonValue(5));
    call("PUT", "/leaf.json?ns=shallow", R"({".value": "Tom", ".priority": 1})");
    QCOMPARE(value(call("GET", "/leaf.json?ns=shallow")), QJsonValue(u"Tom"_s));
    QCOMPARE(value(call("GET", "/leaf.json?ns=shallow&format=export")),
        QJsonValue(QJsonObject {{u".value"_s, u"Tom"_s}, {u".priority"_s, 1}}));
}

void TstRest::serverValuesResolve()
{
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    const Response r = call("PUT", "/t.json?ns=sv", R"({"at": {".sv": "timestamp"}, "n": {".sv": {"increment": 2}}})");
    const QJsonObject written = value(r).toObject();
    QVERIFY2(written.value(u"at"_s).toDouble() >= double(before), r.body);
    QCOMPARE(written.value(u"n"_s), QJsonValue(2));
    call("PATCH", "/t.json?ns=sv", R"({"n": {".sv": {"increment": 3}}})");
    QCOMPARE(value(call("GET", "/t/n.json?ns=sv")), QJsonValue(5));
    const Response unknown = call("PUT", "/t.json?ns=sv", R"({".sv": "nonsense"})");
    QCOMPARE(unknown.status, "HTTP/1.1 400 Bad Request"_ba);
}

/** The value of a response's ETag header, or empty. */
static QByteArray etagOf(const Response &r)
{
    const qsizetype at = r.head.indexOf("\r\nETag: ");
    return at < 0 ? QByteArray() : r.head.mid(at + 8, r.head.indexOf("\r\n", at + 8) - at - 8);
}

// As the Python and Go Admin SDKs use them: get with X-Firebase-ETag, set_if_unchanged (if-match, 412 with the
// current value and ETag), get_if_changed (if-none-match, 304), and null_etag for writing only where nothing is.
void TstRest::etagsAndConditionalRequests()
{
    const QByteArray asked = "X-Firebase-ETag: true\r\n";
    const Response first = call("GET", "/e.json?ns=etag", {}, asked);
    QCOMPARE(etagOf(first), "null_etag"_ba);
    // null_etag writes only where there is nothing.
    const Response created = call("PUT", "/e.json?ns=etag", R"({"n": 1})", "if-match: null_etag\r\n" + asked);
    QCOMPARE(created.status, "HTTP/1.1 200 OK"_ba);
    const QByteArray v1 = etagOf(created);
    QVERIFY(!v1.isEmpty() && v1 != "null_etag");
    QCOMPARE(etagOf(call("GET", "/e.json?ns=etag", {}, asked)), v1); // the same data, the same ETag
    const Response again = call("PUT", "/e.json?ns=etag", R"({"n": 9})", "if-match: null_etag\r\n");
    QCOMPARE(again.status, "HTTP/1.1 412 Precondition Failed"_ba);
    QCOMPARE(value(again), QJsonValue(QJsonObject {{u"n"_s, 1}})); // the current value, for the next attempt
    QCOMPARE(etagOf(again), v1);
    // A matching ETag writes; the old one no longer does.
    const Response updated = call("PUT", "/e.json?ns=etag", R"({"n": 2})", "if-match: " + v1 + "\r\n" + asked);
    QCOMPARE(updated.status, "HTTP/1.1 200 OK"_ba);
    const QByteArray v2 = etagOf(updated);
    QVERIFY(v2 != v1);
    QCOMPARE(call("PUT", "/e.json?ns=etag", R"({"n": 3})", "if-match: " + v1 + "\r\n").status,
        "HTTP/1.1 412 Precondition Failed"_ba);
    QCOMPARE(value(call("GET", "/e.json?ns=etag")), QJsonValue(QJsonObject {{u"n"_s, 2}}));
    // if-none-match: 304 while unchanged (no body, the ETag), 200 with the data and the new ETag after a change.
    const Response same = call("GET", "/e.json?ns=etag", {}, "if-none-match: " + v2 + "\r\n");
    QCOMPARE(same.status, "HTTP/1.1 304 Not Modified"_ba);
    QVERIFY(same.body.isEmpty());
    QCOMPARE(etagOf(same), v2);
    const Response changed = call("GET", "/e.json?ns=etag", {}, "if-none-match: " + v1 + "\r\n");
    QCOMPARE(changed.status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(etagOf(changed), v2);
    QCOMPARE(value(changed), QJsonValue(QJsonObject {{u"n"_s, 2}}));
    // DELETE with if-match; its ETag is that of null.
    const Response deleted = call("DELETE", "/e.json?ns=etag", {}, "if-match: " + v2 + "\r\n" + asked);
    QCOMPARE(deleted.status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(etagOf(deleted), "null_etag"_ba);
    // Where ETags do not apply: 400, nothing written.
    QCOMPARE(call("GET", "/e.json?ns=etag", {}, "if-match: null_etag\r\n").status, "HTTP/1.1 400 Bad Request"_ba);
    QCOMPARE(call("PATCH", "/e.json?ns=etag", R"({"a": 1})", asked).status, "HTTP/1.1 400 Bad Request"_ba);
    QCOMPARE(call("POST", "/e.json?ns=etag", "1", "if-match: null_etag\r\n").status, "HTTP/1.1 400 Bad Request"_ba);
    QCOMPARE(call("GET", "/e.json?ns=etag").body, "null"_ba);
}

void TstRest::namespaceFromParameterOrHost()
{
    call("PUT", "/where.json?ns=alpha", R"("alpha")");
    // The Host's first label, as <ns>.firebaseio.com (here under .localhost, the loopback names the access policy
    // lets in); ?ns= wins over it.
    QCOMPARE(m_http.exchange("GET /where.json HTTP/1.1\r\nHost: alpha.localhost:9000\r\n\r\n").body, "\"alpha\""_ba);
    QCOMPARE(m_http.exchange("GET /where.json HTTP/1.1\r\nHost: alpha.rtdb.localhost\r\n\r\n").body, "\"alpha\""_ba);
    QCOMPARE(m_http.exchange("GET /where.json?ns=beta HTTP/1.1\r\nHost: alpha.localhost\r\n\r\n").body, "null"_ba);
    // An IP or a two-label host is no namespace: the default one.
    call("PUT", "/where.json", R"("default")");
    QCOMPARE(m_http.exchange("GET /where.json HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n\r\n").body, "\"default\""_ba);
    QCOMPARE(m_http.exchange("GET /where.json HTTP/1.1\r\nHost: localhost\r\n\r\n").body, "\"default\""_ba);
    QVERIFY(m_server->namespaces().names().contains(u"alpha"_s));
    const Response bad = call("GET", "/x.json?ns=no%20spaces");
    QCOMPARE(bad.status, "HTTP/1.1 400 Bad Request"_ba);
    QCOMPARE(errorOf(bad), u"invalid namespace"_s);
}

// The query parameters of docs/rest.md §1, raw quotes as curl users type them and percent-encoded as the SDKs send
// them; the result is an object of the matching children (clients sort again).
void TstRest::queries()
{
    call("PUT", "/d.json?ns=query", R"({"a": {"h": 3, "n": "x"}, "b": {"h": 1, "n": "y"}, "c": {"h": 2, "n": "z"},
                                        "d": {"n": "w"}})");
    const auto keys = [this](const QByteArray &params) {
        const Response r = call("GET", "/d.json?ns=query&" + params);
        if (r.status != "HTTP/1.1 200 OK"_ba)
            return QStringList {QString::fromUtf8(r.status + ' ' + r.body)};
        QStringList k = value(r).toObject().keys();
        k.sort();
        return k;
    };
    QCOMPARE(keys(R"(orderBy="h"&startAt=2)"), (QStringList {u"a"_s, u"c"_s}));
    QCOMPARE(keys("orderBy=%22h%22&endAt=2"), (QStringList {u"b"_s, u"c"_s, u"d"_s})); // missing sorts first
    QCOMPARE(keys(R"(orderBy="h"&equalTo=3)"), QStringList {u"a"_s});
    QCOMPARE(keys(R"(orderBy="h"&limitToLast=2)"), (QStringList {u"a"_s, u"c"_s}));
    QCOMPARE(keys(R"(orderBy="h"&startAfter=1&endBefore=3)"), QStringList {u"c"_s});
    QCOMPARE(keys(R"(orderBy="$key"&startAt="b"&limitToFirst=2)"), (QStringList {u"b"_s, u"c"_s}));
    QCOMPARE(keys(R"(orderBy="$value"&limitToFirst=1)"), QStringList {u"a"_s}); // objects tie: by key
    QCOMPARE(keys(R"(orderBy="n"&startAt="x")"), (QStringList {u"a"_s, u"b"_s, u"c"_s}));
    // The Emulator UI's bare words, and the JS SDK's value-and-key bound.
    QCOMPARE(keys("orderBy=n&equalTo=y"), QStringList {u"b"_s});
    QCOMPARE(keys(R"(orderBy="h"&startAt=2,"c")"), (QStringList {u"a"_s, u"c"_s}));
    QCOMPARE(keys(R"(orderBy="h"&startAt=2,"d")"), QStringList {u"a"_s});
    // firebase-tools' listing: shallow with a limit and an unquoted startAfter key, no orderBy.
    const Response page = call("GET", "/d.json?ns=query&shallow=true&limitToFirst=2&startAfter=a");
    QCOMPARE(value(page), QJsonValue(QJsonObject {{u"b"_s, true}, {u"c"_s, true}}));
    // Nothing matches: null.
    QCOMPARE(call("GET", "/d.json?ns=query&orderBy=%22h%22&startAt=10").body, "null"_ba);
}

void TstRest::inspectListsTheNamespaces()
{
    call("PUT", "/x.json?ns=listed", "1");
    const Response r = call("GET", "/.inspect/databases.json?ns=anything");
    QCOMPARE(r.status, "HTTP/1.1 200 OK"_ba);
    const QJsonArray names = QJsonDocument::fromJson(r.body).array();
    QVERIFY2(names.contains(QJsonObject {{u"name"_s, u"listed"_s}}), r.body);
    QCOMPARE(names.size(), m_server->namespaces().size());
    QCOMPARE(call("PUT", "/.inspect/databases.json", "1").status, "HTTP/1.1 405 Method Not Allowed"_ba);
}

// The Emulator UI's "Import JSON": POST <path>/.upload?access_token=owner, multipart/form-data, the file as myFile.
void TstRest::uploadImportsAFile()
{
    call("PUT", "/target.json?ns=upload", R"({"old": true})");
    const QByteArray file = R"({"users": {"ada": {"name": "Ada"}}, "n": 2})";
    const QByteArray form = "--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nignored\r\n"
                            "--XyZ\r\nContent-Disposition: form-data; name=\"myFile\"; filename=\"export.json\"\r\n"
                            "Content-Type: application/json\r\n\r\n"
        + file + "\r\n--XyZ--\r\n";
    const QByteArray type = "Content-Type: multipart/form-data; boundary=XyZ\r\n";
    const Response r
        = call("POST", "/target/.upload?ns=upload&access_token=owner&writeSizeLimit=unlimited", form, type);
    QCOMPARE(r.status, "HTTP/1.1 200 OK"_ba);
    // All data at the location is replaced.
    QCOMPARE(value(call("GET", "/target.json?ns=upload")), QJsonValue(QJsonDocument::fromJson(file).object()));
    // Not a form, no myFile, bad JSON in it, another method: 4xx, nothing written.
    QCOMPARE(call("POST", "/target/.upload?ns=upload", file, "Content-Type: application/json\r\n").status,
        "HTTP/1.1 400 Bad Request"_ba);
    QByteArray noFile = form;
    noFile.replace("myFile", "notIt");
    const Response missing = call("POST", "/target/.upload?ns=upload", noFile, type);
    QCOMPARE(missing.status, "HTTP/1.1 400 Bad Request"_ba);
    QVERIFY(errorOf(missing).contains(u"myFile"_s));
    QByteArray broken = form;
    broken.replace("\"n\": 2", "\"n\": ");
    QCOMPARE(call("POST", "/target/.upload?ns=upload", broken, type).status, "HTTP/1.1 400 Bad Request"_ba);
    QCOMPARE(call("PUT", "/target/.upload?ns=upload", form, type).status, "HTTP/1.1 405 Method Not Allowed"_ba);
    QCOMPARE(value(call("GET", "/target/n.json?ns=upload")), QJsonValue(2));
    // At the root.
    QCOMPARE(call("POST", "/.upload?ns=upload2&access_token=owner", form, type).status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(value(call("GET", "/n.json?ns=upload2")), QJsonValue(2));
}

void TstRest::badInputIs400()
{
    const auto is400 = [](const Response &r, const QString &text) {
        if (r.status != "HTTP/1.1 400 Bad Request"_ba || !errorOf(r).contains(text))
            qWarning() << r.status << r.body;
        return r.status == "HTTP/1.1 400 Bad Request"_ba && errorOf(r).contains(text);
    };
    QVERIFY(is400(call("PUT", "/a.json?ns=bad", "{nope"), u"couldn't parse"_s));
    QVERIFY(is400(call("PUT", "/a.json?ns=bad", "1 2"), u"couldn't parse"_s));
    QVERIFY(is400(call("PUT", "/a.json?ns=bad"), u"No data supplied"_s));
    QVERIFY(is400(call("POST", "/a.json?ns=bad", "  "), u"No data supplied"_s));
    QVERIFY(is400(call("PUT", "/a$b.json?ns=bad", "1"), u"Invalid path"_s));
    QVERIFY(is400(call("GET", "/a%23b.json?ns=bad"), u"Invalid path"_s));
    QVERIFY(is400(call("PUT", "/.info/connected.json?ns=bad", "true"), u".info"_s));
    QVERIFY(is400(call("PUT", "/a.json?ns=bad", R"({"k.ey": 1})"), u""_s));
    QVERIFY(is400(call("GET", "/a.json?ns=bad&limitToFirst=2"), u"orderBy must be defined"_s));
    QVERIFY(is400(call("GET", "/a.json?ns=bad&orderBy=%22$key%22&limitToFirst=0"), u"positive"_s));
    QVERIFY(is400(call("GET", "/a.json?ns=bad&orderBy=%22$key%22&limitToFirst=1&limitToLast=1"), u"together"_s));
    QVERIFY(is400(call("GET", "/a.json?ns=bad&orderBy=%22$key%22&shallow=true"), u"shallow"_s));
    QVERIFY(is400(call("GET", "/a.json?ns=bad&orderBy=3"), u"orderBy must be a string"_s));
    // Nothing of those was written, and the connection still serves.
    QCOMPARE(call("GET", "/.json?ns=bad").body, "null"_ba);
    QVERIFY(!m_http.closed);
    // A path without .json is still not a REST call.
    HttpPeer other;
    QVERIFY(other.connectTo(m_server->port()));
    QCOMPARE(other.exchange(get("/a")).status, "HTTP/1.1 426 Upgrade Required"_ba);
}

void TstRest::unknownMethodIs405()
{
    const Response r = m_http.exchange("OPTIONS /a.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QCOMPARE(r.status, "HTTP/1.1 405 Method Not Allowed"_ba);
    QVERIFY(r.hasHeader("Allow: GET, PUT, POST, PATCH, DELETE"));
    const Response overridden = call("POST", "/a.json", "1", "X-HTTP-Method-Override: TRACE\r\n");
    QCOMPARE(overridden.status, "HTTP/1.1 405 Method Not Allowed"_ba);
    QCOMPARE(call("GET", "/a.json").body, "null"_ba);
}

// What the Emulator UI and a page on a loopback origin need: the preflight, then answers they may read. A page on
// another origin is refused by the access policy before any route (tst_http).
void TstRest::corsForAdmittedOrigins()
{
    const Response preflight = m_http.exchange("OPTIONS /x.json?ns=cors HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n"
                                               "Origin: http://localhost:3000\r\nAccess-Control-Request-Method: PUT\r\n"
                                               "Access-Control-Request-Headers: authorization, content-type\r\n\r\n");
    QCOMPARE(preflight.status, "HTTP/1.1 204 No Content"_ba);
    QVERIFY(preflight.hasHeader("Access-Control-Allow-Origin: http://localhost:3000"));
    QVERIFY(preflight.hasHeader("Access-Control-Allow-Methods: GET, PUT, POST, PATCH, DELETE"));
    QVERIFY(preflight.hasHeader("Access-Control-Allow-Headers: authorization, content-type"));
    QCOMPARE(call("GET", "/x.json?ns=cors").body, "null"_ba); // the preflight wrote nothing

    const QByteArray page = "Origin: http://localhost:3000\r\n";
    const Response put = call("PUT", "/x.json?ns=cors", "1", page + Owner);
    QCOMPARE(put.status, "HTTP/1.1 200 OK"_ba);
    QVERIFY(put.hasHeader("Access-Control-Allow-Origin: http://localhost:3000"));
    QVERIFY(put.hasHeader("Access-Control-Expose-Headers: ETag"));
    // The rules endpoint too, as the Emulator UI reads it from the browser.
    const Response rules = call("GET", "/.settings/rules.json?ns=cors", {}, page + Owner);
    QCOMPARE(rules.status, "HTTP/1.1 200 OK"_ba);
    QVERIFY(rules.hasHeader("Access-Control-Allow-Origin: http://localhost:3000"));
    // Without an Origin (curl, the Admin SDKs) no CORS headers.
    QVERIFY(!call("GET", "/x.json?ns=cors").head.contains("Access-Control"));
    // A foreign origin: 403 from the access policy, preflight or not.
    HttpPeer other;
    QVERIFY(other.connectTo(m_server->port()));
    const Response foreign
        = other.exchange("OPTIONS /x.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Origin: https://evil.example\r\nAccess-Control-Request-Method: PUT\r\n\r\n");
    QCOMPARE(foreign.status, "HTTP/1.1 403 Forbidden"_ba);
    QVERIFY(!foreign.head.contains("Access-Control-Allow-Origin"));
}

void TstRest::rulesAndIdentities()
{
    const QString ns = u"guarded"_s;
    QVERIFY(m_server->rules()
                .set(ns, R"({"rules": {"p": {"$uid": {".read": true, ".write": "auth != null && auth.uid === $uid"}},
                                   "dropbox": {".write": true}}})")
                .ok);
    // Anonymous: denied, with production's status and text.
    const Response anon = call("PUT", "/p/alice.json?ns=guarded", "1");
    QCOMPARE(anon.status, "HTTP/1.1 401 Unauthorized"_ba);
    QCOMPARE(errorOf(anon), u"Permission denied"_s);
    // A user token as auth=, access_token= or Bearer.
    const QByteArray alice = mockToken(u"alice"_s);
    QCOMPARE(call("PUT", "/p/alice.json?ns=guarded&auth=" + alice, "1").status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(call("PUT", "/p/alice.json?ns=guarded&access_token=" + alice, "2").status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(call("PUT", "/p/alice.json?ns=guarded", "3", "Authorization: Bearer " + alice + "\r\n").status,
        "HTTP/1.1 200 OK"_ba);
    QCOMPARE(call("PUT", "/p/bob.json?ns=guarded&auth=" + alice, "1").status, "HTTP/1.1 401 Unauthorized"_ba);
    // The admin bypasses the rules: Bearer owner, or access_token=owner as the Emulator UI's upload sends it.
    QCOMPARE(call("PUT", "/p/bob.json?ns=guarded", "4", Owner).status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(call("PUT", "/elsewhere.json?ns=guarded&access_token=owner", "5").status, "HTTP/1.1 200 OK"_ba);
    // Reads go through the rules too.
    QCOMPARE(call("GET", "/elsewhere.json?ns=guarded").status, "HTTP/1.1 401 Unauthorized"_ba);
    QCOMPARE(value(call("GET", "/p/alice.json?ns=guarded")), QJsonValue(3));
    QCOMPARE(value(call("GET", "/p/bob.json?ns=guarded")), QJsonValue(4));
    QCOMPARE(call("GET", "/p.json?ns=guarded").status, "HTTP/1.1 401 Unauthorized"_ba); // no .read at /p itself
    QCOMPARE(
        value(call("GET", "/p.json?ns=guarded", {}, Owner)), QJsonValue(QJsonObject {{u"alice"_s, 3}, {u"bob"_s, 4}}));
    // A 412 shows the current value only to a caller who may read it: here one who may only write.
    QCOMPARE(call("PUT", "/dropbox.json?ns=guarded", R"("secret")").status, "HTTP/1.1 200 OK"_ba);
    const Response stale = call("PUT", "/dropbox.json?ns=guarded", R"("mine")", "if-match: null_etag\r\n");
    QCOMPARE(stale.status, "HTTP/1.1 412 Precondition Failed"_ba);
    QVERIFY2(!stale.body.contains("secret") && !stale.head.contains("ETag"), stale.head + stale.body);
    QVERIFY(!errorOf(stale).isEmpty());
    // A credential that is no token: 401 with the reason.
    const Response junk = call("GET", "/p/alice.json?ns=guarded&auth=junk");
    QCOMPARE(junk.status, "HTTP/1.1 401 Unauthorized"_ba);
    QVERIFY2(errorOf(junk).contains(u"JWT"_s), junk.body);
}

void TstRest::writesReachWebSocketListeners()
{
    RawClient ws;
    QVERIFY(ws.open(m_server->port(), u"fan"_s));
    QCOMPARE(replyStatus(ws.call(u"q"_s, {{u"p"_s, u"/room"_s}, {u"h"_s, u""_s}})), u"ok"_s);
    call("PUT", "/room/a.json?ns=fan", R"({"x": 1})");
    QVERIFY(!ws.waitPush(pushAt(u"d"_s, u"/room/a"_s)).isEmpty());
    call("PATCH", "/room.json?ns=fan", R"({"b": 2, "c": 3})");
    // One update, one merge push, as an SDK update() gives.
    const QJsonObject merge = ws.waitPush(pushAt(u"m"_s, u"/room"_s));
    QCOMPARE(merge.value(u"b"_s).toObject().value(u"d"_s), QJsonValue(QJsonObject {{u"b"_s, 2}, {u"c"_s, 3}}));
    // And the other way: a WebSocket write is what REST reads.
    QCOMPARE(replyStatus(ws.call(u"p"_s, {{u"p"_s, u"/room/d"_s}, {u"d"_s, 4}})), u"ok"_s);
    QCOMPARE(value(call("GET", "/room/d.json?ns=fan")), QJsonValue(4));
}

void TstRest::pipelinedRequestsAnswerInOrder()
{
    m_http.send(httpRequest("PUT", "/q.json?ns=pipe", "1") + httpRequest("GET", "/q.json?ns=pipe")
        + httpRequest("PUT", "/q.json?ns=pipe", "2") + httpRequest("GET", "/q.json?ns=pipe"));
    QTRY_COMPARE_WITH_TIMEOUT(m_http.responses().size(), 4, HttpPeer::Timeout);
    const QList<Response> r = m_http.responses();
    QCOMPARE(r[1].body, "1"_ba);
    QCOMPARE(r[3].body, "2"_ba);
}

void TstRest::writeIsAnsweredOnceCommitted()
{
    QTemporaryDir dir;
    ServerConfig config;
    config.port = 0;
    config.dataFile = dir.filePath(u"rest.lark"_s);
    auto server = startConfiguredServer(config);
    HttpPeer p;
    QVERIFY(p.connectTo(server->port()));
    QCOMPARE(p.exchange(httpRequest("PUT", "/d.json?ns=durable", "1")).status, "HTTP/1.1 200 OK"_ba);

    server->setCommitsPausedForTesting(true);
    p.send(httpRequest("PUT", "/d.json?ns=durable", "2") + httpRequest("GET", "/d.json?ns=durable"));
    // The write is applied (another client reads it) but not answered, nor the read behind it, until the commit.
    HttpPeer other;
    QVERIFY(other.connectTo(server->port()));
    QCOMPARE(other.exchange(httpRequest("GET", "/d.json?ns=durable")).body, "2"_ba);
    QCOMPARE(p.responses().size(), 1);
    QVERIFY(lark::sqliteStore(server->backend())->openBatch() != 0);
    server->setCommitsPausedForTesting(false);
    QTRY_COMPARE_WITH_TIMEOUT(p.responses().size(), 3, HttpPeer::Timeout);
    QCOMPARE(p.responses()[1].status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(p.responses()[2].body, "2"_ba);
    QCOMPARE(lark::sqliteStore(server->backend())->openBatch(), quint64(0));
}

void TstRest::timeoutAndWriteSizeLimitAreChecked()
{
    // What firebase-tools and the Emulator UI send: accepted, and met at once.
    QCOMPARE(call("GET", "/.json?ns=p&timeout=1s&print=silent").status, "HTTP/1.1 204 No Content"_ba);
    QCOMPARE(call("GET", "/.json?ns=p&shallow=true&limitToFirst=1&timeout=300ms").status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(call("GET", "/.json?ns=p&timeout=15min").status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(call("PUT", "/a.json?ns=p&writeSizeLimit=unlimited", "1").status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(call("DELETE", "/a.json?ns=p&writeSizeLimit=tiny").status, "HTTP/1.1 200 OK"_ba);
    for (const QByteArray &bad :
        {"timeout=0s"_ba, "timeout=16min"_ba, "timeout=3"_ba, "timeout=-1s"_ba, "timeout=1h"_ba, "timeout="_ba}) {
        const Response r = call("GET", "/.json?ns=p&" + bad);
        QVERIFY2(r.status == "HTTP/1.1 400 Bad Request", bad.constData());
        QVERIFY(errorOf(r).contains(u"timeout"_s));
    }
    const Response big = call("PUT", "/a.json?ns=p&writeSizeLimit=huge", "2");
    QCOMPARE(big.status, "HTTP/1.1 400 Bad Request"_ba);
    QVERIFY(errorOf(big).contains(u"writeSizeLimit"_s));
    QCOMPARE(call("GET", "/a.json?ns=p").body, "null"_ba); // the refused write left nothing
}

void TstRest::downloadAndCallbackShapeTheAnswer()
{
    call("PUT", "/d.json?ns=p", R"({"x": 1})");
    const Response file = call("GET", "/d.json?ns=p&download=backup%20\"1\".json");
    QCOMPARE(file.status, "HTTP/1.1 200 OK"_ba);
    QVERIFY2(file.hasHeader(R"(Content-Disposition: attachment; filename="backup _1_.json")"), file.head.constData());
    QCOMPARE(file.body, R"({"x":1})"_ba);
    const Response jsonp = call("GET", "/d.json?ns=p&callback=app.onData");
    QCOMPARE(jsonp.status, "HTTP/1.1 200 OK"_ba);
    QVERIFY(jsonp.hasHeader("Content-Type: application/javascript; charset=utf-8"));
    QCOMPARE(jsonp.body, R"(app.onData({"x":1});)"_ba);
    // A name that is not one could carry script: refused.
    for (const QByteArray &bad : {"callback=alert(1)"_ba, "callback=a%3Bb"_ba, "callback=1a"_ba}) {
        const Response r = call("GET", "/d.json?ns=p&" + bad);
        QVERIFY2(r.status == "HTTP/1.1 400 Bad Request", bad.constData());
    }
    QCOMPARE(call("PUT", "/d.json?ns=p&callback=f", "1").status, "HTTP/1.1 400 Bad Request"_ba);
    QCOMPARE(call("PUT", "/d.json?ns=p&download=f.json", "1").status, "HTTP/1.1 400 Bad Request"_ba);
}

void TstRest::authVariableOverrideIsTheAdminsOnly()
{
    QVERIFY(
        m_server->rules()
            .set(u"ov"_s, R"({"rules": {"p": {"$uid": {".read": true, ".write": "auth != null && auth.uid === $uid"}},
                                   "svc": {".write": "auth != null && auth.role === 'worker'"}}})")
            .ok);
    // The admin acting as alice (what databaseAuthVariableOverride sends), as a worker, or as nobody.
    const QByteArray asAlice = QUrl::toPercentEncoding(u"{\"uid\":\"alice\"}"_s);
    QCOMPARE(
        call("PUT", "/p/alice.json?ns=ov&auth_variable_override=" + asAlice, "1", Owner).status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(call("PUT", "/p/bob.json?ns=ov&auth_variable_override=" + asAlice, "1", Owner).status,
        "HTTP/1.1 401 Unauthorized"_ba);
    const QByteArray worker = QUrl::toPercentEncoding(u"{\"uid\":\"w1\",\"role\":\"worker\"}"_s);
    QCOMPARE(
        call("PUT", "/svc/job.json?ns=ov&auth_variable_override=" + worker, "1", Owner).status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(call("PUT", "/p/alice.json?ns=ov&auth_variable_override=null", "2", Owner).status,
        "HTTP/1.1 401 Unauthorized"_ba);
    QCOMPARE(call("PUT", "/p/alice.json?ns=ov&auth_variable_override=%7Bbad", "2", Owner).status,
        "HTTP/1.1 400 Bad Request"_ba);
    // From anyone but the admin it is ignored: it cannot raise a caller's rights.
    QCOMPARE(call("PUT", "/p/alice.json?ns=ov&auth_variable_override=" + asAlice, "3").status,
        "HTTP/1.1 401 Unauthorized"_ba);
    QCOMPARE(call("PUT", "/p/alice.json?ns=ov&auth=" + mockToken(u"bob"_s) + "&auth_variable_override=" + asAlice, "3")
                 .status,
        "HTTP/1.1 401 Unauthorized"_ba);
    QCOMPARE(value(call("GET", "/p/alice.json?ns=ov")), QJsonValue(1));
}

QTEST_GUILESS_MAIN(TstRest)
#include "tst_rest.moc"
