// SPDX-License-Identifier: MIT
// --auth verify on a live connection: a token that expires is revoked with the `ac` push, the connection's requests
// then act as anonymous, and its session (with the ops it queued) keeps the identity they were authorised with.
#include "rawclient.h"
#include "testserver.h"

#include "server/connection.h"
#include "server/session.h"
#include "server/tokenverifier.h"

#include <QDateTime>
#include <QMessageAuthenticationCode>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

namespace
{

const QByteArray Secret = "integration-hs256-secret";

/** Anonymous callers may read but not write (the rules engine has its own tests: this one is about identities). */
class SignedInWrites final : public Authorizer
{
public:
    std::optional<Denied> mayRead(
        const Identity &, const Database &, const Path &, const Query &, qint64) const override
    {
        return std::nullopt;
    }
    std::optional<Denied> mayWrite(
        const Identity &who, const Database &, const Path &, const std::vector<Write> &, qint64) const override
    {
        if (who.kind != Identity::Kind::Anonymous)
            return std::nullopt;
        return Denied {u"anonymous"_s, QString()};
    }
};

QByteArray b64url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

/** An HS256 token for uid that expires inMs from now (Qt's HMAC signs it, not the verifier's OpenSSL). */
QString token(const QString &uid, qint64 inMs)
{
    const double now = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
    const QJsonObject claims {{u"sub"_s, uid}, {u"iat"_s, qint64(now)}, {u"exp"_s, now + double(inMs) / 1000.0}};
    const QByteArray input
        = b64url(R"({"alg":"HS256","typ":"JWT"})") + '.' + b64url(QJsonDocument(claims).toJson(QJsonDocument::Compact));
    const QByteArray mac = QMessageAuthenticationCode::hash(input, Secret, QCryptographicHash::Sha256);
    return QString::fromLatin1(input + '.' + b64url(mac));
}

bool isAuthRevoked(const QJsonObject &push)
{
    return push.value(u"a"_s) == u"ac"_s;
}

} // namespace

class TestAuthVerify : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void expiryRevokesTheConnectionNotTheSession();
    void freshTokenAfterRevocation();
    void noExpiryWithoutExp();
    void resumedConnectionShowsItsTokenAgain();
    void underRulesExpiryRevokesListensNotOps();

private:
    Session *session(const RawClient &c) const { return m_server->findSession(c.sessionId()); }
    std::unique_ptr<Server> m_server;
    SignedInWrites m_rules;
};

void TestAuthVerify::init()
{
    auto verifier = std::make_shared<TokenVerifier>();
    QString error;
    QVERIFY(verifier->setHmacSecret(Secret, &error));
    verifier->setSkewSeconds(0); // the token lapses at its exp, to the millisecond
    ServerConfig config;
    config.port = 0;
    config.pingIntervalMs = 50;
    config.deadAfterMs = 400;
    config.graceMs = 800;
    config.auth = {AuthConfig::Mode::Verify, QByteArray(), verifier};
    m_server = startConfiguredServer(config);
    m_server->setAuthorizer(&m_rules);
}

void TestAuthVerify::cleanup()
{
    m_server.reset();
}

void TestAuthVerify::expiryRevokesTheConnectionNotTheSession()
{
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    const QJsonObject reply = c.call(u"auth"_s, {{u"cred"_s, token(u"alice"_s, 600)}});
    QCOMPARE(replyStatus(reply), u"ok"_s);
    QCOMPARE(reply.value(u"d"_s).toObject().value(u"auth"_s).toObject().value(u"uid"_s).toString(), u"alice"_s);
    Session *s = session(c);
    QVERIFY(s && s->connection());
    QCOMPARE(s->connection()->identity().describe(), u"user:alice"_s);
    QCOMPARE(replyStatus(c.call(u"p"_s, {{u"p"_s, u"/a"_s}, {u"d"_s, 1}})), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"o"_s, {{u"p"_s, u"/status/alice"_s}, {u"d"_s, u"offline"_s}})), u"ok"_s);

    // The protocol's auth-revoked push, with the status the SDK refreshes its token for without backing off.
    const QJsonObject revoked = c.waitPush(isAuthRevoked, 5000);
    QVERIFY2(!revoked.isEmpty(), "no ac push");
    QCOMPARE(revoked.value(u"b"_s).toObject().value(u"s"_s).toString(), u"expired_token"_s);
    QVERIFY(!revoked.value(u"b"_s).toObject().value(u"d"_s).toString().isEmpty());

    // Requests now act as anonymous: the write is refused; reads still go (the stand-in rules allow them).
    QCOMPARE(s->connection()->identity().describe(), u"anonymous"_s);
    const QJsonObject denied = c.call(u"p"_s, {{u"p"_s, u"/a"_s}, {u"d"_s, 2}});
    QCOMPARE(replyStatus(denied), u"permission_denied"_s);
    QCOMPARE(replyStatus(c.call(u"o"_s, {{u"p"_s, u"/status/x"_s}, {u"d"_s, 1}})), u"permission_denied"_s);
    QCOMPARE(replyStatus(c.call(u"g"_s, {{u"p"_s, u"/a"_s}})), u"ok"_s);

    // The session, and the op it queued while signed in, keep alice.
    QCOMPARE(s->identity().describe(), u"user:alice"_s);
    QCOMPARE(s->queue().ops().size(), size_t(1));
}

void TestAuthVerify::freshTokenAfterRevocation()
{
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    QCOMPARE(replyStatus(c.call(u"auth"_s, {{u"cred"_s, token(u"alice"_s, 300)}})), u"ok"_s);
    QVERIFY(!c.waitPush(isAuthRevoked, 5000).isEmpty());
    // An expired token is refused with the same status; a fresh one brings the identity back.
    const QJsonObject stale = c.call(u"auth"_s, {{u"cred"_s, token(u"alice"_s, -60000)}});
    QCOMPARE(replyStatus(stale), u"expired_token"_s);
    QCOMPARE(replyStatus(c.call(u"p"_s, {{u"p"_s, u"/a"_s}, {u"d"_s, 1}})), u"permission_denied"_s);
    QCOMPARE(replyStatus(c.call(u"auth"_s, {{u"cred"_s, token(u"alice"_s, 3600000)}})), u"ok"_s);
    QCOMPARE(session(c)->connection()->identity().describe(), u"user:alice"_s);
    QCOMPARE(replyStatus(c.call(u"p"_s, {{u"p"_s, u"/a"_s}, {u"d"_s, 1}})), u"ok"_s);
    // The earlier token's timer is gone: no second push.
    QTest::qWait(500);
    int acs = 0;
    for (const QJsonObject &p : std::as_const(c.pushes))
        acs += isAuthRevoked(p);
    QCOMPARE(acs, 1);
}

void TestAuthVerify::underRulesExpiryRevokesListensNotOps()
{
    m_server->setAuthorizer(nullptr); // the server's own security rules
    QVERIFY(m_server->rules()
                .set(u"test"_s,
                    R"({"rules": {"status": {"$uid": {".read": "auth != null", ".write": "$uid === auth.uid"}}}})")
                .ok);
    QSignalSpy dropped(m_server->adminFeed(), &AdminFeed::opDropped);
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    QCOMPARE(replyStatus(c.call(u"auth"_s, {{u"cred"_s, token(u"alice"_s, 400)}})), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"q"_s, {{u"p"_s, u"/status/alice"_s}, {u"h"_s, u""_s}})), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"o"_s, {{u"p"_s, u"/status/alice"_s}, {u"d"_s, u"offline"_s}})), u"ok"_s);
    // The connection now acts as anonymous: its listen is revoked, but the session keeps alice and her op.
    const QJsonObject revoked = c.waitPush([](const QJsonObject &p) { return p.value(u"a"_s) == u"c"_s; }, 5000);
    QCOMPARE(revoked.value(u"b"_s).toObject().value(u"p"_s).toString(), u"/status/alice"_s);
    QVERIFY(!c.waitPush(isAuthRevoked, 5000).isEmpty());
    QCOMPARE(session(c)->queue().ops().size(), 1u);
    QCOMPARE(dropped.count(), 0);
    c.socket.close();
    Path at;
    QString error;
    QVERIFY(Path::parse(u"/status/alice"_s, &at, &error));
    QTRY_COMPARE(m_server->database(u"test"_s)->valueJson(at), QJsonValue(u"offline"_s));
}

void TestAuthVerify::noExpiryWithoutExp()
{
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    // unauth after a short token: nothing is left to expire.
    QCOMPARE(replyStatus(c.call(u"auth"_s, {{u"cred"_s, token(u"alice"_s, 300)}})), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"unauth"_s, {})), u"ok"_s);
    QVERIFY(c.waitPush(isAuthRevoked, 800).isEmpty());
    // The emulator's unsigned token is refused outright.
    const QString mock = QString::fromLatin1(
        b64url(R"({"alg":"none","type":"JWT"})") + '.' + b64url(R"({"sub":"alice","iat":0,"exp":3600})") + '.');
    const QJsonObject reply = c.call(u"auth"_s, {{u"cred"_s, mock}});
    QCOMPARE(replyStatus(reply), u"invalid_token"_s);
    QCOMPARE(reply.value(u"d"_s).toString(), u"alg none is not accepted with --auth verify"_s);
    QCOMPARE(replyStatus(c.call(u"gauth"_s, {{u"cred"_s, u"owner"_s}})), u"invalid_token"_s);
}

void TestAuthVerify::resumedConnectionShowsItsTokenAgain()
{
    RawClient first;
    QVERIFY(first.open(m_server->port()));
    QCOMPARE(replyStatus(first.call(u"auth"_s, {{u"cred"_s, token(u"alice"_s, 3600000)}})), u"ok"_s);
    const QString id = first.sessionId();
    first.socket.abort();
    QTRY_VERIFY(!m_server->findSession(id)->connection());

    // Back within the grace: the same session, but its token may have lapsed meanwhile, so the connection is
    // anonymous until it presents one again, as the SDK does first thing after the hello.
    RawClient again;
    QVERIFY(again.open(m_server->port(), u"test"_s, id));
    QCOMPARE(again.sessionId(), id);
    Session *s = m_server->findSession(id);
    QCOMPARE(s->identity().describe(), u"user:alice"_s);
    QCOMPARE(s->connection()->identity().describe(), u"anonymous"_s);
    QCOMPARE(replyStatus(again.call(u"p"_s, {{u"p"_s, u"/a"_s}, {u"d"_s, 1}})), u"permission_denied"_s);
    QCOMPARE(replyStatus(again.call(u"auth"_s, {{u"cred"_s, token(u"alice"_s, 3600000)}})), u"ok"_s);
    QCOMPARE(m_server->findSession(id), s); // resumed, not restarted
    QCOMPARE(s->connection()->identity().describe(), u"user:alice"_s);
    QCOMPARE(replyStatus(again.call(u"p"_s, {{u"p"_s, u"/a"_s}, {u"d"_s, 1}})), u"ok"_s);
}

QTEST_GUILESS_MAIN(TestAuthVerify)
#include "tst_authverify.moc"
