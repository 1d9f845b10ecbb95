// SPDX-License-Identifier: MIT
// lark::TokenVerifier: signed JWTs checked offline for --auth verify. Keys are made and tokens signed at test time
// with the openssl command line, so the signing side shares no code with the verifier.
#include "server/authenticator.h"
#include "server/requesthandler.h"
#include "server/tokenverifier.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

using Outcome = TokenVerifier::Outcome;

namespace
{

// A fixed "now" for the verifier: 2024-01-01T00:00:00Z.
constexpr qint64 Now = 1704067200;
constexpr qint64 NowMs = Now * 1000;
const QString Project = u"lark-test"_s;
const QString Issuer = u"https://securetoken.google.com/lark-test"_s;

QByteArray b64url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray json(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

/** The claims of a good Firebase ID token for Project, valid at Now; change what a case needs. */
QJsonObject idClaims()
{
    return {{u"iss"_s, Issuer}, {u"aud"_s, Project}, {u"sub"_s, u"alice"_s}, {u"user_id"_s, u"alice"_s},
        {u"iat"_s, double(Now - 60)}, {u"auth_time"_s, double(Now - 60)}, {u"exp"_s, double(Now + 3600)},
        {u"firebase"_s, QJsonObject {{u"sign_in_provider"_s, u"password"_s}}}};
}

/** r || s, 32 bytes each (JWS ES256), from the DER ECDSA-Sig-Value openssl dgst writes. */
QByteArray derToRaw(const QByteArray &der)
{
    // SEQUENCE { INTEGER r, INTEGER s }, each short (P-256 signatures are under 128 bytes).
    QByteArray raw;
    int i = 2;
    for (int n = 0; n < 2; ++n) {
        if (der.at(i) != 0x02)
            qFatal("not a DER ECDSA signature");
        const int length = der.at(i + 1);
        QByteArray value = der.mid(i + 2, length);
        while (value.size() > 32 && value.at(0) == 0)
            value.remove(0, 1);
        raw += QByteArray(32 - value.size(), '\0') + value;
        i += 2 + length;
    }
    return raw;
}

} // namespace

class TestTokenVerifier : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void validHs256();
    void validHs256WithoutTimes();
    void validRs256Jwks();
    void validRs256PemMap();
    void validEs256();
    void expired();
    void notYetValid_data();
    void notYetValid();
    void skew();
    void wrongAudience();
    void wrongIssuer();
    void missingIdClaims_data();
    void missingIdClaims();
    void badSignature_data();
    void badSignature();
    void algNone();
    void hs256AgainstRsaKeySet();
    void algKeyMismatch();
    void kidSelection();
    void malformed_data();
    void malformed();
    void badKeySets_data();
    void badKeySets();
    void secretFile();
    void authenticatorVerifyMode();

private:
    QByteArray openssl(const QStringList &args, const QByteArray &input = {});
    QByteArray signRs256(const QByteArray &header, const QJsonObject &claims, const QString &key = {});
    QByteArray signEs256(const QByteArray &header, const QJsonObject &claims);
    QByteArray signHs256(const QByteArray &header, const QJsonObject &claims, const QByteArray &secret);
    QString path(const QString &name) const { return m_dir.filePath(name); }
    /** An RS256 ID token from the test key "rsa1", valid at Now unless claims say otherwise. */
    QString rsToken(const QJsonObject &claims = idClaims(), const QString &kid = u"rsa1"_s)
    {
        return QString::fromLatin1(
            signRs256(json({{u"alg"_s, u"RS256"_s}, {u"kid"_s, kid}, {u"typ"_s, u"JWT"_s}}), claims));
    }
    Outcome verify(const TokenVerifier &v, const QString &token, TokenVerifier::Verified *out, QString *error)
    {
        return v.verify(token, NowMs, out, error);
    }

    QTemporaryDir m_dir;
    QByteArray m_secret = "lark-hs256-secret-0123456789";
    QByteArray m_rsaJwks; // rsa1 (RS256) and ec1 (ES256)
    QByteArray m_pemMap; // rsa1 as a certificate, rsa2 as a public key
    TokenVerifier m_verifier; // m_secret and m_rsaJwks, for Project
};

QByteArray TestTokenVerifier::openssl(const QStringList &args, const QByteArray &input)
{
    QProcess p;
    p.start(u"openssl"_s, args);
    if (!p.waitForStarted()) {
        qWarning("openssl did not start: %s", qPrintable(p.errorString()));
        return {};
    }
    p.write(input);
    p.closeWriteChannel();
    p.waitForFinished(60000);
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        qWarning("openssl %s failed: %s", qPrintable(args.join(u' ')), p.readAllStandardError().constData());
    return p.readAllStandardOutput();
}

QByteArray TestTokenVerifier::signRs256(const QByteArray &header, const QJsonObject &claims, const QString &key)
{
    const QByteArray input = b64url(header) + '.' + b64url(json(claims));
    const QByteArray sig = openssl(
        {u"dgst"_s, u"-sha256"_s, u"-sign"_s, key.isEmpty() ? path(u"rsa1.pem"_s) : key, u"-binary"_s}, input);
    return input + '.' + b64url(sig);
}

QByteArray TestTokenVerifier::signEs256(const QByteArray &header, const QJsonObject &claims)
{
    const QByteArray input = b64url(header) + '.' + b64url(json(claims));
    const QByteArray der = openssl({u"dgst"_s, u"-sha256"_s, u"-sign"_s, path(u"ec1.pem"_s), u"-binary"_s}, input);
    return input + '.' + b64url(derToRaw(der));
}

QByteArray TestTokenVerifier::signHs256(const QByteArray &header, const QJsonObject &claims, const QByteArray &secret)
{
    const QByteArray input = b64url(header) + '.' + b64url(json(claims));
    const QByteArray mac = openssl({u"dgst"_s, u"-sha256"_s, u"-mac"_s, u"HMAC"_s, u"-macopt"_s,
                                       u"hexkey:"_s + QString::fromLatin1(secret.toHex()), u"-binary"_s},
        input);
    return input + '.' + b64url(mac);
}

void TestTokenVerifier::initTestCase()
{
    QVERIFY(m_dir.isValid());
    openssl({u"genpkey"_s, u"-algorithm"_s, u"RSA"_s, u"-pkeyopt"_s, u"rsa_keygen_bits:2048"_s, u"-out"_s,
        path(u"rsa1.pem"_s)});
    openssl({u"genpkey"_s, u"-algorithm"_s, u"RSA"_s, u"-pkeyopt"_s, u"rsa_keygen_bits:2048"_s, u"-out"_s,
        path(u"rsa2.pem"_s)});
    openssl({u"genpkey"_s, u"-algorithm"_s, u"EC"_s, u"-pkeyopt"_s, u"ec_paramgen_curve:P-256"_s, u"-out"_s,
        path(u"ec1.pem"_s)});
    QVERIFY(QFile::exists(path(u"rsa1.pem"_s)) && QFile::exists(path(u"rsa2.pem"_s)));
    QVERIFY(QFile::exists(path(u"ec1.pem"_s)));

    // The JWK of rsa1 from its modulus and exponent as openssl prints them.
    const QByteArray modulus = openssl({u"rsa"_s, u"-in"_s, path(u"rsa1.pem"_s), u"-noout"_s, u"-modulus"_s}).trimmed();
    QVERIFY(modulus.startsWith("Modulus="));
    const QByteArray n = QByteArray::fromHex(modulus.mid(8));
    QCOMPARE(n.size(), 256);
    const QString text
        = QString::fromLatin1(openssl({u"pkey"_s, u"-in"_s, path(u"rsa1.pem"_s), u"-noout"_s, u"-text"_s}));
    const auto exponent = QRegularExpression(u"publicExponent: (\\d+)"_s).match(text);
    QVERIFY2(exponent.hasMatch(), qPrintable(text.left(200)));
    qulonglong e = exponent.captured(1).toULongLong();
    QByteArray eBytes;
    for (; e; e >>= 8)
        eBytes.prepend(char(e & 0xff));
    // The JWK of ec1: its SubjectPublicKeyInfo (DER) ends in the uncompressed point 04 || x || y.
    const QByteArray spki = openssl({u"pkey"_s, u"-in"_s, path(u"ec1.pem"_s), u"-pubout"_s, u"-outform"_s, u"DER"_s});
    QCOMPARE(spki.size(), 91);
    const QByteArray point = spki.right(65);
    QCOMPARE(point.at(0), '\x04');
    m_rsaJwks = json({{u"keys"_s,
        QJsonArray {
            QJsonObject {{u"kty"_s, u"RSA"_s}, {u"kid"_s, u"rsa1"_s}, {u"alg"_s, u"RS256"_s}, {u"use"_s, u"sig"_s},
                {u"n"_s, QString::fromLatin1(b64url(n))}, {u"e"_s, QString::fromLatin1(b64url(eBytes))}},
            QJsonObject {{u"kty"_s, u"EC"_s}, {u"kid"_s, u"ec1"_s}, {u"crv"_s, u"P-256"_s},
                {u"x"_s, QString::fromLatin1(b64url(point.mid(1, 32)))},
                {u"y"_s, QString::fromLatin1(b64url(point.mid(33, 32)))}}}}});

    // Google's x509 form: rsa1 as a self-signed certificate; rsa2 as a bare public key.
    const QByteArray cert = openssl({u"req"_s, u"-new"_s, u"-x509"_s, u"-key"_s, path(u"rsa1.pem"_s), u"-subj"_s,
        u"/CN=securetoken.system.gserviceaccount.com"_s, u"-days"_s, u"2"_s});
    QVERIFY(cert.startsWith("-----BEGIN CERTIFICATE-----"));
    const QByteArray pub2 = openssl({u"pkey"_s, u"-in"_s, path(u"rsa2.pem"_s), u"-pubout"_s});
    QVERIFY(pub2.startsWith("-----BEGIN PUBLIC KEY-----"));
    m_pemMap = json({{u"rsa1"_s, QString::fromLatin1(cert)}, {u"rsa2"_s, QString::fromLatin1(pub2)}});

    QString error;
    QVERIFY2(m_verifier.setHmacSecret(m_secret, &error), qPrintable(error));
    QVERIFY2(m_verifier.loadKeySet(m_rsaJwks, &error), qPrintable(error));
    m_verifier.setProject(Project);
    QCOMPARE(m_verifier.keyCount(), 2);
}

void TestTokenVerifier::validHs256()
{
    const QJsonObject claims {
        {u"sub"_s, u"bob"_s}, {u"iat"_s, double(Now)}, {u"exp"_s, double(Now + 600)}, {u"admin"_s, true}};
    const QString token = QString::fromLatin1(signHs256(R"({"alg":"HS256","typ":"JWT"})", claims, m_secret));
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, token, &v, &error), Outcome::Valid);
    QVERIFY(error.isEmpty());
    QCOMPARE(v.claims, claims);
    QCOMPARE(v.header.value(u"alg"_s).toString(), u"HS256"_s);
    // The connection loses the token when the verifier would stop accepting it: exp plus the skew.
    QCOMPARE(v.expiresAtMs, (Now + 600 + TokenVerifier::DefaultSkewSeconds) * 1000);
}

void TestTokenVerifier::validHs256WithoutTimes()
{
    // A custom token needs no exp, iss or aud; without exp it never expires.
    const QString token
        = QString::fromLatin1(signHs256(R"({"alg":"HS256"})", {{u"sub"_s, u"svc"_s}, {u"aud"_s, u"x"_s}}, m_secret));
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, token, &v, &error), Outcome::Valid);
    QCOMPARE(v.expiresAtMs, qint64(0));
}

void TestTokenVerifier::validRs256Jwks()
{
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, rsToken(), &v, &error), Outcome::Valid);
    QVERIFY(error.isEmpty());
    QCOMPARE(v.claims.value(u"sub"_s).toString(), u"alice"_s);
    QCOMPARE(v.expiresAtMs, (Now + 3600 + TokenVerifier::DefaultSkewSeconds) * 1000);
}

void TestTokenVerifier::validRs256PemMap()
{
    TokenVerifier pem;
    QString error;
    QVERIFY2(pem.loadKeySet(m_pemMap, &error), qPrintable(error));
    pem.setProject(Project);
    QCOMPARE(pem.keyCount(), 2);
    TokenVerifier::Verified v;
    QCOMPARE(verify(pem, rsToken(), &v, &error), Outcome::Valid); // the certificate's key
    const QString token2 = QString::fromLatin1(
        signRs256(R"({"alg":"RS256","kid":"rsa2"})", idClaims(), path(u"rsa2.pem"_s))); // the bare public key
    QCOMPARE(verify(pem, token2, &v, &error), Outcome::Valid);
    // Signed by rsa2 but naming rsa1: the key the kid names does not verify it.
    const QString swapped
        = QString::fromLatin1(signRs256(R"({"alg":"RS256","kid":"rsa1"})", idClaims(), path(u"rsa2.pem"_s)));
    QCOMPARE(verify(pem, swapped, &v, &error), Outcome::Invalid);
    QCOMPARE(error, u"bad signature"_s);
}

void TestTokenVerifier::validEs256()
{
    const QString token = QString::fromLatin1(signEs256(R"({"alg":"ES256","kid":"ec1"})", idClaims()));
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, token, &v, &error), Outcome::Valid);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(v.claims.value(u"user_id"_s).toString(), u"alice"_s);
}

void TestTokenVerifier::expired()
{
    QJsonObject claims = idClaims();
    claims[u"iat"_s] = double(Now - 7200);
    claims[u"exp"_s] = double(Now - 3600);
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, rsToken(claims), &v, &error), Outcome::Expired);
    QCOMPARE(error, u"token expired at 2023-12-31T23:00:00Z"_s);
    const QString hs = QString::fromLatin1(
        signHs256(R"({"alg":"HS256"})", {{u"sub"_s, u"bob"_s}, {u"exp"_s, double(Now - 3600)}}, m_secret));
    QCOMPARE(verify(m_verifier, hs, &v, &error), Outcome::Expired);
    // The emulator's mock token (exp 3600 s after the epoch), signed: long expired.
    claims[u"iat"_s] = 0;
    claims[u"exp"_s] = 3600;
    QCOMPARE(verify(m_verifier, rsToken(claims), &v, &error), Outcome::Expired);
}

void TestTokenVerifier::notYetValid_data()
{
    QTest::addColumn<QString>("claim");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("iat") << u"iat"_s << u"token issued in the future (iat 2024-01-01T01:00:00Z)"_s;
    QTest::newRow("auth_time") << u"auth_time"_s << u"auth_time 2024-01-01T01:00:00Z is in the future"_s;
    QTest::newRow("nbf") << u"nbf"_s << u"token not valid before 2024-01-01T01:00:00Z"_s;
}

void TestTokenVerifier::notYetValid()
{
    QFETCH(QString, claim);
    QFETCH(QString, mentions);
    QJsonObject claims = idClaims();
    claims[claim] = double(Now + 3600);
    claims[u"exp"_s] = double(Now + 7200);
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, rsToken(claims), &v, &error), Outcome::Invalid);
    QCOMPARE(error, mentions);
}

void TestTokenVerifier::skew()
{
    // Within the skew either way: accepted; beyond it: refused.
    QJsonObject claims = idClaims();
    claims[u"iat"_s] = double(Now + TokenVerifier::DefaultSkewSeconds - 5);
    claims[u"exp"_s] = double(Now - TokenVerifier::DefaultSkewSeconds + 5);
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, rsToken(claims), &v, &error), Outcome::Valid);
    claims[u"exp"_s] = double(Now - TokenVerifier::DefaultSkewSeconds - 5);
    QCOMPARE(verify(m_verifier, rsToken(claims), &v, &error), Outcome::Expired);
}

void TestTokenVerifier::wrongAudience()
{
    QJsonObject claims = idClaims();
    claims[u"aud"_s] = u"someone-else"_s;
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, rsToken(claims), &v, &error), Outcome::Invalid);
    QCOMPARE(error, u"aud is 'someone-else', expected 'lark-test'"_s);
}

void TestTokenVerifier::wrongIssuer()
{
    QJsonObject claims = idClaims();
    claims[u"iss"_s] = u"https://securetoken.google.com/someone-else"_s;
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, rsToken(claims), &v, &error), Outcome::Invalid);
    QCOMPARE(error,
        u"iss is 'https://securetoken.google.com/someone-else', expected 'https://securetoken.google.com/lark-test'"_s);
}

void TestTokenVerifier::missingIdClaims_data()
{
    QTest::addColumn<QString>("claim");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("exp") << u"exp"_s << u"token has no exp claim"_s;
    QTest::newRow("iat") << u"iat"_s << u"token has no iat claim"_s;
    QTest::newRow("sub") << u"sub"_s << u"sub is missing or empty"_s;
}

void TestTokenVerifier::missingIdClaims()
{
    QFETCH(QString, claim);
    QFETCH(QString, mentions);
    QJsonObject claims = idClaims();
    claims.remove(claim);
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, rsToken(claims), &v, &error), Outcome::Invalid);
    QCOMPARE(error, mentions);
}

void TestTokenVerifier::badSignature_data()
{
    QTest::addColumn<QString>("alg");
    QTest::addColumn<bool>("inPayload"); // change a claim instead of flipping a byte of the signature
    for (const QString &alg : {u"HS256"_s, u"RS256"_s, u"ES256"_s}) {
        QTest::addRow("%s signature", qPrintable(alg)) << alg << false;
        QTest::addRow("%s payload", qPrintable(alg)) << alg << true;
    }
}

void TestTokenVerifier::badSignature()
{
    QFETCH(QString, alg);
    QFETCH(bool, inPayload);
    QByteArray token;
    if (alg == u"HS256"_s)
        token = signHs256(R"({"alg":"HS256"})", idClaims(), m_secret);
    else if (alg == u"RS256"_s)
        token = rsToken().toLatin1();
    else
        token = signEs256(R"({"alg":"ES256","kid":"ec1"})", idClaims());
    QList<QByteArray> parts = token.split('.');
    const int part = inPayload ? 1 : 2;
    QByteArray bytes = QByteArray::fromBase64(parts[part], QByteArray::Base64UrlEncoding);
    if (inPayload)
        bytes.replace("\"alice\"", "\"mallory\""); // a tampered claim, still JSON
    else
        bytes[bytes.size() / 2] = char(bytes[bytes.size() / 2] ^ 0x01);
    parts[part] = b64url(bytes);
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, QString::fromLatin1(parts.join('.')), &v, &error), Outcome::Invalid);
    QCOMPARE(error, u"bad signature"_s);
}

void TestTokenVerifier::algNone()
{
    // The emulator's own token shape: refused however the alg is spelt, even with a signature part.
    for (const QByteArray &header : {QByteArray(R"({"alg":"none","type":"JWT"})"), QByteArray(R"({"alg":"None"})")}) {
        const QString token = QString::fromLatin1(b64url(header) + '.' + b64url(json(idClaims())) + '.');
        TokenVerifier::Verified v;
        QString error;
        QCOMPARE(verify(m_verifier, token, &v, &error), Outcome::Invalid);
        QCOMPARE(error, u"alg none is not accepted with --auth verify"_s);
        QCOMPARE(verify(m_verifier, token + u"c2ln"_s, &v, &error), Outcome::Invalid);
        QCOMPARE(error, u"alg none is not accepted with --auth verify"_s);
    }
}

void TestTokenVerifier::hs256AgainstRsaKeySet()
{
    // The classic confusion: HMAC-sign with the RSA public key's bytes, hoping the verifier keys HMAC with them.
    const QByteArray pub = openssl({u"pkey"_s, u"-in"_s, path(u"rsa1.pem"_s), u"-pubout"_s});
    QVERIFY(!pub.isEmpty());
    const QString forged = QString::fromLatin1(signHs256(R"({"alg":"HS256","kid":"rsa1"})", idClaims(), pub));
    TokenVerifier keysOnly;
    QString error;
    QVERIFY(keysOnly.loadKeySet(m_pemMap, &error));
    keysOnly.setProject(Project);
    TokenVerifier::Verified v;
    QCOMPARE(verify(keysOnly, forged, &v, &error), Outcome::Invalid);
    QVERIFY2(error.startsWith(u"alg HS256 is not accepted: lark-server has no --jwt-secret"_s), qPrintable(error));
    // With a secret too, only the secret keys HMAC.
    QCOMPARE(verify(m_verifier, forged, &v, &error), Outcome::Invalid);
    QCOMPARE(error, u"bad signature"_s);
}

void TestTokenVerifier::algKeyMismatch()
{
    TokenVerifier::Verified v;
    QString error;
    // RS256 naming the EC key, ES256 naming the RSA key.
    QCOMPARE(verify(m_verifier, rsToken(idClaims(), u"ec1"_s), &v, &error), Outcome::Invalid);
    QCOMPARE(error, u"alg RS256 does not match the key with kid 'ec1' (ES256)"_s);
    const QString es = QString::fromLatin1(signEs256(R"({"alg":"ES256","kid":"rsa1"})", idClaims()));
    QCOMPARE(verify(m_verifier, es, &v, &error), Outcome::Invalid);
    QCOMPARE(error, u"alg ES256 does not match the key with kid 'rsa1' (RS256)"_s);
    // Algorithms lark does not take at all.
    const QString rs512 = QString::fromLatin1(signRs256(R"({"alg":"RS512","kid":"rsa1"})", idClaims()));
    QCOMPARE(verify(m_verifier, rs512, &v, &error), Outcome::Invalid);
    QCOMPARE(error, u"alg 'RS512' is not supported; lark-server accepts HS256, RS256 and ES256"_s);
    // A secret only: RS256 has no key.
    TokenVerifier secretOnly;
    QVERIFY(secretOnly.setHmacSecret(m_secret, &error));
    QCOMPARE(verify(secretOnly, rsToken(), &v, &error), Outcome::Invalid);
    QCOMPARE(error, u"alg RS256 is not accepted: lark-server has no --jwks"_s);
}

void TestTokenVerifier::kidSelection()
{
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, rsToken(idClaims(), u"rotated-away"_s), &v, &error), Outcome::Invalid);
    QCOMPARE(error, u"no key with kid 'rotated-away'"_s);
    const QString noKid = QString::fromLatin1(signRs256(R"({"alg":"RS256"})", idClaims()));
    QCOMPARE(verify(m_verifier, noKid, &v, &error), Outcome::Invalid);
    QCOMPARE(error, u"token has no kid, and the key set holds 2 keys"_s);
    // A set of one key without a kid: a token without a kid uses it.
    QJsonObject jwk = QJsonDocument::fromJson(m_rsaJwks).object().value(u"keys"_s).toArray().at(0).toObject();
    jwk.remove(u"kid"_s);
    TokenVerifier single;
    QVERIFY2(single.loadKeySet(json({{u"keys"_s, QJsonArray {jwk}}}), &error), qPrintable(error));
    single.setProject(Project);
    QCOMPARE(verify(single, noKid, &v, &error), Outcome::Valid);
}

void TestTokenVerifier::malformed_data()
{
    QTest::addColumn<QString>("token");
    QTest::addColumn<QString>("mentions");
    const QString payload = QString::fromLatin1(b64url(json(idClaims())));
    const QString header = QString::fromLatin1(b64url(R"({"alg":"RS256","kid":"rsa1"})"));
    QTest::newRow("empty") << QString() << u"three dot-separated parts"_s;
    QTest::newRow("owner") << u"owner"_s << u"three dot-separated parts"_s;
    QTest::newRow("two parts") << header + u'.' + payload << u"three dot-separated parts"_s;
    QTest::newRow("four parts") << header + u'.' + payload + u".c2ln.c2ln"_s << u"three dot-separated parts"_s;
    QTest::newRow("header not base64url") << u"e30+."_s + payload + u".c2ln"_s << u"not base64url"_s;
    QTest::newRow("signature not base64url") << header + u'.' + payload + u".c2l/"_s << u"not base64url"_s;
    QTest::newRow("header not json") << u"bm9wZQ."_s + payload + u".c2ln"_s << u"not a JSON object"_s;
    QTest::newRow("payload an array") << header + u".W10.c2ln"_s << u"not a JSON object"_s;
    QTest::newRow("no alg") << u"e30."_s + payload + u".c2ln"_s << u"alg '' is not supported"_s;
    QTest::newRow("crit") << QString::fromLatin1(b64url(R"({"alg":"RS256","crit":["b64"],"b64":false})")) + u'.'
            + payload
            + u".c2ln"_s << u"crit header"_s;
}

void TestTokenVerifier::malformed()
{
    QFETCH(QString, token);
    QFETCH(QString, mentions);
    TokenVerifier::Verified v;
    QString error;
    QCOMPARE(verify(m_verifier, token, &v, &error), Outcome::Invalid);
    QVERIFY2(error.contains(mentions), qPrintable(error));
}

void TestTokenVerifier::badKeySets_data()
{
    QTest::addColumn<QByteArray>("keySet");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("not json") << QByteArray("keys") << u"not JSON"_s;
    QTest::newRow("array") << QByteArray("[]") << u"not a JSON object"_s;
    QTest::newRow("no keys") << QByteArray(R"({"keys":[]})") << u"no signing key"_s;
    QTest::newRow("empty map") << QByteArray("{}") << u"no signing key"_s;
    QTest::newRow("keys not array") << QByteArray(R"({"keys":{}})") << u"not an array"_s;
    QTest::newRow("oct key") << QByteArray(R"({"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"}]})")
                             << u"key 's': kty 'oct' is not supported"_s;
    QTest::newRow("P-384") << QByteArray(R"({"keys":[{"kty":"EC","crv":"P-384","kid":"e","x":"AA","y":"AA"}]})")
                           << u"only P-256"_s;
    QTest::newRow("point off the curve") << QByteArray(
        R"({"keys":[{"kty":"EC","crv":"P-256","kid":"e",)"
        R"("x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]})")
                                         << u"not a point of P-256"_s;
    QTest::newRow("rsa without e") << QByteArray(R"({"keys":[{"kty":"RSA","kid":"r","n":"AQAB"}]})")
                                   << u"needs base64url n and e"_s;
    QTest::newRow("small rsa") << QByteArray(R"({"keys":[{"kty":"RSA","kid":"r","n":"wQ","e":"AQAB"}]})")
                               << u"fewer than 2048"_s;
    QTest::newRow("HS256 jwk") << QByteArray(R"({"keys":[{"kty":"RSA","kid":"r","alg":"HS256"}]})")
                               << u"alg 'HS256' is not supported"_s;
    QTest::newRow("pem map number") << QByteArray(R"({"k":1})") << u"not a PEM string"_s;
    QTest::newRow("pem garbage") << QByteArray(R"({"k":"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"})")
                                 << u"not a PEM certificate or public key"_s;
}

void TestTokenVerifier::badKeySets()
{
    QFETCH(QByteArray, keySet);
    QFETCH(QString, mentions);
    TokenVerifier v;
    QString error;
    QVERIFY(!v.loadKeySet(keySet, &error));
    QVERIFY2(error.contains(mentions), qPrintable(error));
    QCOMPARE(v.keyCount(), 0);

    // Two keys, one without a kid, and duplicates: which key a token means would be a guess.
    QJsonArray keys = QJsonDocument::fromJson(m_rsaJwks).object().value(u"keys"_s).toArray();
    QJsonObject first = keys.at(0).toObject();
    first.remove(u"kid"_s);
    keys.replace(0, first);
    QVERIFY(!v.loadKeySet(json({{u"keys"_s, keys}}), &error));
    QVERIFY2(error.contains(u"every key needs a kid"_s), qPrintable(error));
    QJsonArray twice = QJsonDocument::fromJson(m_rsaJwks).object().value(u"keys"_s).toArray();
    twice.append(twice.at(0));
    QVERIFY(!v.loadKeySet(json({{u"keys"_s, twice}}), &error));
    QVERIFY2(error.contains(u"same kid"_s), qPrintable(error));
}

void TestTokenVerifier::secretFile()
{
    const QString name = path(u"secret.txt"_s);
    QFile f(name);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(m_secret + "\n");
    f.close();
    QByteArray secret;
    QString error;
    QVERIFY(TokenVerifier::readSecretFile(name, &secret, &error));
    QCOMPARE(secret, m_secret); // echo's newline is not part of the secret
    QVERIFY(!TokenVerifier::readSecretFile(path(u"missing"_s), &secret, &error));
    QVERIFY(error.startsWith(u"cannot read"_s));
    TokenVerifier v;
    QVERIFY(!v.setHmacSecret({}, &error));
    QVERIFY(TokenVerifier::constantTimeEquals("abc", "abc"));
    QVERIFY(!TokenVerifier::constantTimeEquals("abc", "abd"));
    QVERIFY(!TokenVerifier::constantTimeEquals("abc", "abcd"));
}

void TestTokenVerifier::authenticatorVerifyMode()
{
    // Real time here: the Authenticator reads the clock itself.
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    auto verifier = std::make_shared<TokenVerifier>();
    QString error;
    QVERIFY(verifier->loadKeySet(m_rsaJwks, &error));
    QVERIFY(verifier->setHmacSecret(m_secret, &error));
    verifier->setProject(Project);
    const Authenticator auth(AuthConfig {AuthConfig::Mode::Verify, QByteArray(), verifier});
    QVERIFY(auth.verifiesTokens());
    using Credential = Authenticator::Credential;
    using Admission = AccessPolicy::Admission;

    QJsonObject claims = idClaims();
    claims[u"iat"_s] = double(now - 10);
    claims[u"auth_time"_s] = double(now - 10);
    claims[u"exp"_s] = double(now + 3600);
    Authenticator::Result r = auth.authenticate(Credential::Token, rsToken(claims), Admission::NoOrigin);
    QVERIFY2(r.isOk(), qPrintable(r.message));
    QCOMPARE(r.identity.kind, Identity::Kind::User);
    QCOMPARE(r.identity.uid, u"alice"_s);
    QCOMPARE(r.identity.provider, u"password"_s);
    QCOMPARE(r.expiresAtMs, (now + 3600 + TokenVerifier::DefaultSkewSeconds) * 1000);

    claims[u"exp"_s] = double(now - 3600);
    r = auth.authenticate(Credential::Token, rsToken(claims), Admission::NoOrigin);
    QCOMPARE(r.status, status::ExpiredToken);
    QVERIFY(r.message.startsWith(u"token expired at"_s));

    // The emulator's unsigned mock token.
    const QString mock
        = QString::fromLatin1(b64url(R"({"alg":"none","type":"JWT"})") + '.' + b64url(json(claims)) + '.');
    r = auth.authenticate(Credential::Token, mock, Admission::NoOrigin);
    QCOMPARE(r.status, status::InvalidToken);
    QCOMPARE(r.message, u"alg none is not accepted with --auth verify"_s);

    // No admin in verify mode without --admin-token: "owner" is the emulator's well-known credential.
    r = auth.authenticate(Credential::Admin, u"owner"_s, Admission::NoOrigin);
    QCOMPARE(r.status, status::InvalidToken);
    const Authenticator withAdmin(AuthConfig {AuthConfig::Mode::Verify, "s3cret-admin", verifier});
    QVERIFY(withAdmin.authenticate(Credential::Admin, u"s3cret-admin"_s, Admission::NoOrigin).identity.isAdmin());
    QCOMPARE(withAdmin.authenticate(Credential::Admin, u"owner"_s, Admission::NoOrigin).status, status::InvalidToken);
    QCOMPARE(withAdmin.authenticate(Credential::Admin, u"s3cret-admin"_s, Admission::AnyOrigin).status,
        status::PermissionDenied);

    // Emulator mode takes the same mock token, and never sets an expiry.
    const Authenticator emulator;
    r = emulator.authenticate(Credential::Token, mock, Admission::NoOrigin);
    QVERIFY(r.isOk());
    QCOMPARE(r.expiresAtMs, qint64(0));
    // --admin-token replaces "owner" in emulator mode too.
    const Authenticator emulatorAdmin(AuthConfig {AuthConfig::Mode::Emulator, "s3cret-admin", nullptr});
    QVERIFY(emulatorAdmin.authenticate(Credential::Admin, u"s3cret-admin"_s, Admission::NoOrigin).identity.isAdmin());
    QCOMPARE(
        emulatorAdmin.authenticate(Credential::Admin, u"owner"_s, Admission::NoOrigin).status, status::InvalidToken);
}

QTEST_GUILESS_MAIN(TestTokenVerifier)
#include "tst_tokenverifier.moc"
