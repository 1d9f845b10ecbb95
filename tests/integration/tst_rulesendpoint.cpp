// SPDX-License-Identifier: MIT
// GET and PUT /.settings/rules.json on the real server over 127.0.0.1, as firebase-tools and
// @firebase/rules-unit-testing load rules into the emulator (docs/rules.md §1): who may, what each answer is, that a
// refused or dry-run file installs nothing, namespaces are apart, and new rules take effect on live connections.
#include "httppeer.h"
#include "rawclient.h"
#include "testserver.h"

#include "rules/ruleset.h"
#include "server/session.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

namespace
{

const QByteArray Owner = "Authorization: Bearer owner\r\n";

// Comments, a trailing comma and a raw tab in a string: the emulator accepts all three, and GET gives them back.
const QByteArray PresenceRules = "{\n  // each user writes only their own entry\n  \"rules\": {\n"
                                 "    \"presence\": {\"$uid\": {\".read\": true, \".write\": \"$uid === auth.uid\"}},\n"
                                 "    \"notes\": {\".read\": \"'a\tb' != ''\"},\n  }\n}\n";

const QByteArray ClosedRules = R"({"rules": {".read": false, ".write": false}})";

QByteArray put(const QByteArray &target, const QByteArray &body, const QByteArray &headers = Owner)
{
    return httpRequest("PUT", target, body, headers);
}

QJsonObject json(const Response &r)
{
    return QJsonDocument::fromJson(r.body).object();
}

} // namespace

class TestRulesEndpoint : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void putInstallsAndGetReturnsTheSource();
    void getWithoutRulesIsTheOpenDefault();
    void refusedFileIs400WithPositionAndKeepsOldRules();
    void dryRunChecksWithoutInstalling();
    void namespacesAreApart();
    void credentialIsRequired();
    void adminTokenReplacesOwnerInVerifyMode();
    void invalidNamespaceIs400();
    void newRulesRevokeListensAndRefuseRequests();

private:
    std::unique_ptr<Server> m_server;
    HttpPeer m_http;
};

void TestRulesEndpoint::init()
{
    m_server = startTestServer();
    QVERIFY(m_http.connectTo(m_server->port()));
}

void TestRulesEndpoint::cleanup()
{
    m_http.socket.abort();
    m_http.in.clear();
    m_http.closed = false;
    m_server.reset();
}

void TestRulesEndpoint::putInstallsAndGetReturnsTheSource()
{
    const Response r = m_http.exchange(put("/.settings/rules.json?ns=test", PresenceRules));
    QCOMPARE(r.status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(json(r), (QJsonObject {{u"status"_s, u"ok"_s}}));
    QVERIFY(m_server->rules().hasRules(u"test"_s));

    const Response source = m_http.exchange(get("/.settings/rules.json?ns=test", Owner));
    QCOMPARE(source.status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(source.body, PresenceRules); // byte for byte, comments and all

    const Response strict = m_http.exchange(get("/.settings/rules.json?ns=test&format=strict", Owner));
    QCOMPARE(strict.status, "HTTP/1.1 200 OK"_ba);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(strict.body, &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(doc.object(),
        (QJsonObject {{u"rules"_s,
            QJsonObject {
                {u"presence"_s,
                    QJsonObject {{u"$uid"_s, QJsonObject {{u".read"_s, true}, {u".write"_s, u"$uid === auth.uid"_s}}}}},
                {u"notes"_s, QJsonObject {{u".read"_s, u"'a\tb' != ''"_s}}}}}}));
}

void TestRulesEndpoint::getWithoutRulesIsTheOpenDefault()
{
    // What today's emulator reports for a namespace nobody gave rules (docs/rules.md §1).
    const Response r = m_http.exchange(get("/.settings/rules.json?ns=fresh", Owner));
    QCOMPARE(r.status, "HTTP/1.1 200 OK"_ba);
    QCOMPARE(QJsonDocument::fromJson(r.body).object(),
        (QJsonObject {{u"rules"_s, QJsonObject {{u".read"_s, true}, {u".write"_s, true}}}}));
}

void TestRulesEndpoint::refusedFileIs400WithPositionAndKeepsOldRules()
{
    QCOMPARE(m_http.exchange(put("/.settings/rules.json?ns=test", PresenceRules)).status, "HTTP/1.1 200 OK"_ba);
    const QByteArray bad = "{\"rules\": {\n  \".read\": \"auth.uid ===\"\n}}";
    rules::LoadError expected;
    QVERIFY(!rules::Ruleset::compile(bad, &expected));

    const Response r = m_http.exchange(put("/.settings/rules.json?ns=test", bad));
    QCOMPARE(r.status, "HTTP/1.1 400 Bad Request"_ba);
    // The emulator's body: one key, "L:C: message" with a trailing newline (firebase-tools prints it as it is).
    QCOMPARE(json(r).keys(), QStringList {u"error"_s});
    const QString message = json(r).value(u"error"_s).toString();
    QCOMPARE(message, expected.toString() + u'\n');
    QVERIFY2(QRegularExpression(u"^2:\\d+: .+\\n$"_s).match(message).hasMatch(), qPrintable(message));
    // Nothing changed.
    QCOMPARE(m_http.exchange(get("/.settings/rules.json?ns=test", Owner)).body, PresenceRules);

    const Response notJson = m_http.exchange(put("/.settings/rules.json?ns=test", "{\"rules\": "));
    QCOMPARE(notJson.status, "HTTP/1.1 400 Bad Request"_ba);
    QVERIFY(QRegularExpression(u"^\\d+:\\d+: .+\\n$"_s).match(json(notJson).value(u"error"_s).toString()).hasMatch());
    QCOMPARE(m_http.exchange(get("/.settings/rules.json?ns=test", Owner)).body, PresenceRules);
}

void TestRulesEndpoint::dryRunChecksWithoutInstalling()
{
    const Response ok = m_http.exchange(put("/.settings/rules.json?ns=test&dryRun=true", ClosedRules));
    QCOMPARE(ok.status, "HTTP/1.1 200 OK"_ba);
    QVERIFY(!m_server->rules().hasRules(u"test"_s));
    const Response bad
        = m_http.exchange(put("/.settings/rules.json?ns=test&dryRun=true", "{\"rules\": {\".read\": \"\"}}"));
    QCOMPARE(bad.status, "HTTP/1.1 400 Bad Request"_ba);
    QVERIFY(!m_server->rules().hasRules(u"test"_s));
}

void TestRulesEndpoint::namespacesAreApart()
{
    QCOMPARE(m_http.exchange(put("/.settings/rules.json?ns=one", ClosedRules)).status, "HTTP/1.1 200 OK"_ba);
    QVERIFY(m_server->rules().hasRules(u"one"_s));
    QVERIFY(!m_server->rules().hasRules(u"two"_s));
    QCOMPARE(m_http.exchange(get("/.settings/rules.json?ns=one", Owner)).body, ClosedRules);
    QVERIFY(m_http.exchange(get("/.settings/rules.json?ns=two", Owner)).body != ClosedRules);
    // Without ?ns= it is the server's default namespace.
    QCOMPARE(m_http.exchange(put("/.settings/rules.json", ClosedRules)).status, "HTTP/1.1 200 OK"_ba);
    QVERIFY(m_server->rules().hasRules(m_server->namespaces().resolve(QString())));
}

void TestRulesEndpoint::credentialIsRequired()
{
    const Response none = m_http.exchange(put("/.settings/rules.json?ns=test", ClosedRules, {}));
    QCOMPARE(none.status, "HTTP/1.1 401 Unauthorized"_ba);
    QVERIFY(none.hasHeader("WWW-Authenticate: Bearer"));
    QVERIFY(json(none).value(u"error"_s).toString().contains(u"Bearer owner"_s));
    QCOMPARE(m_http.exchange(get("/.settings/rules.json?ns=test")).status, "HTTP/1.1 401 Unauthorized"_ba);

    const Response user
        = m_http.exchange(put("/.settings/rules.json?ns=test", ClosedRules, "Authorization: Bearer alice\r\n"));
    QCOMPARE(user.status, "HTTP/1.1 403 Forbidden"_ba);
    QVERIFY(json(user).contains(u"error"_s));
    QCOMPARE(m_http.exchange(get("/.settings/rules.json?ns=test", "Authorization: Basic b3duZXI=\r\n")).status,
        "HTTP/1.1 401 Unauthorized"_ba);
    QVERIFY(!m_server->rules().hasRules(u"test"_s));
}

void TestRulesEndpoint::adminTokenReplacesOwnerInVerifyMode()
{
    ServerConfig config;
    config.port = 0;
    config.auth.mode = AuthConfig::Mode::Verify;
    config.auth.adminToken = "s3cret-admin";
    const auto server = startConfiguredServer(config);
    HttpPeer http;
    QVERIFY(http.connectTo(server->port()));
    QCOMPARE(http.exchange(put("/.settings/rules.json?ns=test", ClosedRules)).status, "HTTP/1.1 403 Forbidden"_ba);
    QVERIFY(!server->rules().hasRules(u"test"_s));
    QCOMPARE(http.exchange(put("/.settings/rules.json?ns=test", ClosedRules, "Authorization: Bearer s3cret-admin\r\n"))
                 .status,
        "HTTP/1.1 200 OK"_ba);
    QVERIFY(server->rules().hasRules(u"test"_s));
}

void TestRulesEndpoint::invalidNamespaceIs400()
{
    const Response r = m_http.exchange(put("/.settings/rules.json?ns=Not%20a%20name!", ClosedRules));
    QCOMPARE(r.status, "HTTP/1.1 400 Bad Request"_ba);
    QVERIFY(json(r).contains(u"error"_s));
}

void TestRulesEndpoint::newRulesRevokeListensAndRefuseRequests()
{
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    QCOMPARE(replyStatus(c.call(u"q"_s, {{u"p"_s, u"/notes"_s}, {u"h"_s, u""_s}})), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"o"_s, {{u"p"_s, u"/presence/x"_s}, {u"d"_s, u"gone"_s}})), u"ok"_s);

    QCOMPARE(m_http.exchange(put("/.settings/rules.json?ns=test", ClosedRules)).status, "HTTP/1.1 200 OK"_ba);
    const QJsonObject revoked = c.waitPush([](const QJsonObject &p) { return p.value(u"a"_s) == u"c"_s; }, 5000);
    QCOMPARE(revoked.value(u"b"_s).toObject(), (QJsonObject {{u"p"_s, u"/notes"_s}}));
    // The queued op was checked again at once and dropped; new requests are refused.
    QTRY_VERIFY(m_server->findSession(c.sessionId())->queue().isEmpty());
    QCOMPARE(replyStatus(c.call(u"p"_s, {{u"p"_s, u"/notes"_s}, {u"d"_s, 1}})), u"permission_denied"_s);
    QCOMPARE(replyStatus(c.call(u"g"_s, {{u"p"_s, u"/notes"_s}})), u"permission_denied"_s);
}

QTEST_MAIN(TestRulesEndpoint)
#include "tst_rulesendpoint.moc"
