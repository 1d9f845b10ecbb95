// SPDX-License-Identifier: MIT
// Local-use auth (docs/wire-protocol.md §13): the SDK's mockUserToken is an unsigned, already expired JWT that must be
// accepted; anything that is not a JWT is refused; only the Admin SDK's "owner" (handled by gauth) is an admin.
#include "server/identity.h"

#include <QJsonDocument>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using lark::Identity;

class TestIdentity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sdkMockToken();
    void claims_data();
    void claims();
    void garbage_data();
    void garbage();
    void describeAndAuthJson();
};

static QString b64url(const QByteArray &bytes)
{
    return QString::fromLatin1(bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

// The token connectDatabaseEmulator builds from {sub: "alice"}: header, payload, empty signature.
static QString mockToken(const QJsonObject &payload)
{
    return b64url(R"({"alg":"none","type":"JWT"})") + u'.'
        + b64url(QJsonDocument(payload).toJson(QJsonDocument::Compact)) + u'.';
}

static QJsonObject sdkPayload(const QString &sub)
{
    return {{u"iss"_s, u"https://securetoken.google.com/lark-test"_s}, {u"aud"_s, u"lark-test"_s}, {u"iat"_s, 0},
        {u"exp"_s, 3600}, {u"auth_time"_s, 0}, {u"sub"_s, sub}, {u"user_id"_s, sub},
        {u"firebase"_s, QJsonObject {{u"sign_in_provider"_s, u"custom"_s}, {u"identities"_s, QJsonObject {}}}}};
}

void TestIdentity::sdkMockToken()
{
    Identity id;
    QString error;
    const QJsonObject payload = sdkPayload(u"alice"_s);
    QVERIFY2(Identity::fromJwt(mockToken(payload), &id, &error), qPrintable(error));
    QCOMPARE(id.kind, Identity::Kind::User);
    QVERIFY(!id.isAdmin());
    QCOMPARE(id.uid, u"alice"_s);
    QCOMPARE(id.provider, u"custom"_s);
    QCOMPARE(id.claims, payload); // exp=3600 is long past, and that is fine for unsigned local tokens
}

void TestIdentity::claims_data()
{
    QTest::addColumn<QJsonObject>("payload");
    QTest::addColumn<QString>("uid");
    QTest::addColumn<QString>("provider");

    QJsonObject p = sdkPayload(u"alice"_s);
    p.insert(u"user_id"_s, u"bob"_s);
    QTest::newRow("user_id wins over sub") << p << u"bob"_s << u"custom"_s;
    QTest::newRow("sub only") << QJsonObject {{u"sub"_s, u"carol"_s}} << u"carol"_s << u"custom"_s;
    QTest::newRow("provider") << QJsonObject {{u"sub"_s, u"d"_s},
        {u"firebase"_s, QJsonObject {{u"sign_in_provider"_s, u"password"_s}}}}
                              << u"d"_s << u"password"_s;
    // A client can put anything into an unsigned token: an admin claim must not make it an admin.
    QTest::newRow("admin claim ignored") << QJsonObject {{u"sub"_s, u"eve"_s}, {u"admin"_s, true}} << u"eve"_s
                                         << u"custom"_s;
}

void TestIdentity::claims()
{
    QFETCH(QJsonObject, payload);
    QFETCH(QString, uid);
    QFETCH(QString, provider);
    Identity id;
    QString error;
    QVERIFY2(Identity::fromJwt(mockToken(payload), &id, &error), qPrintable(error));
    QCOMPARE(id.kind, Identity::Kind::User);
    QCOMPARE(id.uid, uid);
    QCOMPARE(id.provider, provider);
}

void TestIdentity::garbage_data()
{
    QTest::addColumn<QString>("token");

    const QString header = b64url(R"({"alg":"none"})");
    QTest::newRow("empty") << QString();
    QTest::newRow("owner is no JWT") << u"owner"_s;
    QTest::newRow("two parts") << header + u"."_s + b64url(R"({"sub":"a"})");
    QTest::newRow("four parts") << header + u"."_s + b64url(R"({"sub":"a"})") + u".."_s;
    QTest::newRow("payload not base64") << header + u".!!!***.sig"_s;
    QTest::newRow("payload not JSON") << header + u"."_s + b64url("not json") + u"."_s;
    QTest::newRow("payload an array") << header + u"."_s + b64url(R"(["sub","a"])") + u"."_s;
    QTest::newRow("payload truncated") << header + u"."_s + b64url(R"({"sub":"a")") + u"."_s;
    QTest::newRow("no sub") << mockToken({{u"iat"_s, 0}});
    QTest::newRow("empty sub") << mockToken({{u"sub"_s, u""_s}});
    QTest::newRow("numeric sub") << mockToken({{u"sub"_s, 42}});
}

void TestIdentity::garbage()
{
    QFETCH(QString, token);
    Identity id;
    id.uid = u"unchanged"_s;
    QString error;
    QVERIFY(!Identity::fromJwt(token, &id, &error));
    QVERIFY(!error.isEmpty());
    QCOMPARE(id.uid, u"unchanged"_s);
    QCOMPARE(id.kind, Identity::Kind::Anonymous);
}

void TestIdentity::describeAndAuthJson()
{
    Identity anonymous;
    QCOMPARE(anonymous.describe(), u"anonymous"_s);
    Identity admin;
    admin.kind = Identity::Kind::Admin;
    admin.uid = u"owner"_s;
    QVERIFY(admin.isAdmin());
    QCOMPARE(admin.describe(), u"admin"_s);
    Identity user;
    QString error;
    QVERIFY(Identity::fromJwt(mockToken(sdkPayload(u"alice"_s)), &user, &error));
    QCOMPARE(user.describe(), u"user:alice"_s);
    const QJsonObject auth = user.toAuthJson();
    QCOMPARE(auth.value(u"uid"_s).toString(), u"alice"_s);
    QCOMPARE(auth.value(u"provider"_s).toString(), u"custom"_s);
    QCOMPARE(auth.value(u"token"_s).toObject().value(u"sub"_s).toString(), u"alice"_s);
    // Equality is who it is, not which token said so.
    Identity again;
    QVERIFY(Identity::fromJwt(mockToken({{u"sub"_s, u"alice"_s}}), &again, &error));
    QVERIFY(again == user);
    QVERIFY(user != anonymous);
    QVERIFY(admin != user);
}

QTEST_GUILESS_MAIN(TestIdentity)
#include "tst_identity.moc"
