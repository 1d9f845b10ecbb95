// SPDX-License-Identifier: MIT
// lark::Authenticator: which credential stands for which identity (docs/wire-protocol.md §13), and that the admin
// credential is refused to a page let in only by --allow-origin '*' (docs/semantics.md §7).
#include "server/authenticator.h"
#include "server/requesthandler.h"

#include <QJsonDocument>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

using Admission = AccessPolicy::Admission;
using Credential = Authenticator::Credential;

Q_DECLARE_METATYPE(lark::AccessPolicy::Admission)

class TestAuthenticator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void adminCredential_data();
    void adminCredential();
    void adminRefusedToAnyOrigin();
    void wrongAdminCredential_data();
    void wrongAdminCredential();
    void token();
    void badToken_data();
    void badToken();
    void none();
};

namespace
{

QString b64url(const QByteArray &bytes)
{
    return QString::fromLatin1(bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

/** An unsigned emulator token, as connectDatabaseEmulator's mockUserToken builds it. */
QString mockToken(const QJsonObject &payload)
{
    return b64url(R"({"alg":"none","type":"JWT"})") + u'.'
        + b64url(QJsonDocument(payload).toJson(QJsonDocument::Compact)) + u'.';
}

} // namespace

void TestAuthenticator::adminCredential_data()
{
    QTest::addColumn<Admission>("admission");
    QTest::newRow("no origin") << Admission::NoOrigin;
    QTest::newRow("loopback origin") << Admission::LoopbackOrigin;
    QTest::newRow("listed origin") << Admission::ListedOrigin;
}

void TestAuthenticator::adminCredential()
{
    QFETCH(Admission, admission);
    const Authenticator::Result r = Authenticator().authenticate(Credential::Admin, u"owner"_s, admission);
    QVERIFY(r.isOk());
    QCOMPARE(r.status, status::Ok);
    QVERIFY(r.message.isEmpty());
    QVERIFY(r.identity.isAdmin());
    QCOMPARE(r.identity.uid, u"owner"_s);
    QCOMPARE(r.identity.provider, u"admin"_s);
    QCOMPARE(r.identity.describe(), u"admin"_s);
}

void TestAuthenticator::adminRefusedToAnyOrigin()
{
    const Authenticator::Result r = Authenticator().authenticate(Credential::Admin, u"owner"_s, Admission::AnyOrigin);
    QVERIFY(!r.isOk());
    QCOMPARE(r.status, status::PermissionDenied);
    QCOMPARE(r.message,
        u"the admin credential is not accepted from a web page admitted only by --allow-origin '*'; "
        "list its origin with --allow-origin"_s);
    QVERIFY(!r.identity.isAdmin());
}

void TestAuthenticator::wrongAdminCredential_data()
{
    QTest::addColumn<QString>("credential");
    QTest::addColumn<Admission>("admission");
    QTest::newRow("empty") << QString() << Admission::NoOrigin;
    QTest::newRow("another word") << u"admin"_s << Admission::NoOrigin;
    QTest::newRow("case differs") << u"Owner"_s << Admission::NoOrigin;
    // The credential is judged first: a wrong one from any origin is an invalid token, not a denial.
    QTest::newRow("from any origin") << u"nobody"_s << Admission::AnyOrigin;
}

void TestAuthenticator::wrongAdminCredential()
{
    QFETCH(QString, credential);
    QFETCH(Admission, admission);
    const Authenticator::Result r = Authenticator().authenticate(Credential::Admin, credential, admission);
    QCOMPARE(r.status, status::InvalidToken);
    QCOMPARE(r.message, u"gauth: only the emulator admin credential \"owner\" is accepted"_s);
    QVERIFY(!r.identity.isAdmin());
}

void TestAuthenticator::token()
{
    const QJsonObject payload {{u"sub"_s, u"alice"_s}, {u"user_id"_s, u"alice"_s}, {u"exp"_s, 3600},
        {u"firebase"_s, QJsonObject {{u"sign_in_provider"_s, u"custom"_s}}}};
    // Any admission: a user token grants nothing a page could abuse.
    for (const Admission admission : {Admission::NoOrigin, Admission::AnyOrigin}) {
        const Authenticator::Result r = Authenticator().authenticate(Credential::Token, mockToken(payload), admission);
        QVERIFY2(r.isOk(), qPrintable(r.message));
        QCOMPARE(r.identity.kind, Identity::Kind::User);
        QCOMPARE(r.identity.uid, u"alice"_s);
        QCOMPARE(r.identity.claims, payload);
    }
    // "owner" as a JWT is no admin: only gauth makes one.
    const Authenticator::Result owner
        = Authenticator().authenticate(Credential::Token, mockToken({{u"sub"_s, u"owner"_s}}), Admission::NoOrigin);
    QVERIFY(owner.isOk());
    QVERIFY(!owner.identity.isAdmin());
}

void TestAuthenticator::badToken_data()
{
    QTest::addColumn<QString>("token");
    QTest::newRow("empty") << QString();
    QTest::newRow("the admin credential") << u"owner"_s;
    QTest::newRow("not base64 JSON") << u"a.b.c"_s;
}

void TestAuthenticator::badToken()
{
    QFETCH(QString, token);
    QString why;
    Identity unused;
    QVERIFY(!Identity::fromJwt(token, &unused, &why));
    const Authenticator::Result r = Authenticator().authenticate(Credential::Token, token, Admission::NoOrigin);
    QCOMPARE(r.status, status::InvalidToken);
    QCOMPARE(r.message, why); // the decoder's reason, as the client sees it
    QCOMPARE(r.identity.kind, Identity::Kind::Anonymous);
}

void TestAuthenticator::none()
{
    // unauth takes no credential: whatever comes with it, the caller is anonymous again.
    for (const QString &token : {QString(), u"owner"_s, mockToken({{u"sub"_s, u"alice"_s}})}) {
        const Authenticator::Result r = Authenticator().authenticate(Credential::None, token, Admission::AnyOrigin);
        QVERIFY(r.isOk());
        QCOMPARE(r.identity.kind, Identity::Kind::Anonymous);
        QVERIFY(r.identity.uid.isEmpty());
    }
}

QTEST_GUILESS_MAIN(TestAuthenticator)
#include "tst_authenticator.moc"
