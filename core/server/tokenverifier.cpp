// SPDX-License-Identifier: MIT
#include "tokenverifier.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cmath>
#include <optional>
#include <vector>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{

// OpenSSL objects owned the C++ way: each freed by its own function.
template<auto Free> struct Deleter {
    template<typename T> void operator()(T *p) const { Free(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PKeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO_free>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;

constexpr int MinRsaBits = 2048;
constexpr int P256CoordinateBytes = 32;

QString issuerFor(const QString &project)
{
    return u"https://securetoken.google.com/"_s + project;
}

std::optional<QByteArray> base64url(QStringView text)
{
    auto r = QByteArray::fromBase64Encoding(
        text.toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!r)
        return std::nullopt;
    return std::move(*r);
}

std::optional<QByteArray> base64url(const QJsonValue &v)
{
    if (!v.isString() || v.toString().isEmpty())
        return std::nullopt;
    return base64url(QStringView(v.toString()));
}

QString utc(double seconds)
{
    return QDateTime::fromSecsSinceEpoch(qint64(seconds), Qt::UTC).toString(Qt::ISODate);
}

/** The public key params describe, through EVP_PKEY_fromdata; null when OpenSSL refuses them. */
PKey fromData(const char *type, OSSL_PARAM_BLD *bld)
{
    const Params params(OSSL_PARAM_BLD_to_param(bld));
    const PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY *key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1
        || EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        return nullptr;
    return PKey(key);
}

} // namespace

struct TokenVerifier::Keys {
    enum class Type { Rsa, EcP256 };
    struct Key {
        QString kid;
        QString alg; /**< the JWK's alg when it names one: the token's must be the same */
        Type type;
        PKey pkey;
    };
    std::optional<QByteArray> secret;
    std::vector<Key> keys;

    /** Sorts a loaded key into RSA (of at least MinRsaBits) or EC P-256; false for anything else. */
    static bool classify(EVP_PKEY *key, Type *type, QString *error)
    {
        if (EVP_PKEY_is_a(key, "RSA")) {
            if (EVP_PKEY_get_bits(key) < MinRsaBits) {
                *error = u"RSA key of %1 bits, fewer than %2"_s.arg(EVP_PKEY_get_bits(key)).arg(MinRsaBits);
                return false;
            }
            *type = Type::Rsa;
            return true;
        }
        if (EVP_PKEY_is_a(key, "EC")) {
            char group[64] = {};
            size_t length = 0;
            if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) == 1
                && (qstrcmp(group, "prime256v1") == 0 || qstrcmp(group, "P-256") == 0)) {
                *type = Type::EcP256;
                return true;
            }
            *error = u"EC key on curve %1; only P-256 (ES256) is supported"_s.arg(QString::fromLatin1(group));
            return false;
        }
        *error = u"neither an RSA nor an EC P-256 key"_s;
        return false;
    }

    static PKey fromJwk(const QJsonObject &jwk, QString *error)
    {
        const QString kty = jwk.value(u"kty"_s).toString();
        const ParamBld bld(OSSL_PARAM_BLD_new());
        if (!bld) {
            *error = u"out of memory"_s;
            return nullptr;
        }
        if (kty == u"RSA"_s) {
            const auto n = base64url(jwk.value(u"n"_s));
            const auto e = base64url(jwk.value(u"e"_s));
            if (!n || !e) {
                *error = u"an RSA key needs base64url n and e"_s;
                return nullptr;
            }
            const Bignum bn(
                BN_bin2bn(reinterpret_cast<const unsigned char *>(n->constData()), int(n->size()), nullptr));
            const Bignum be(
                BN_bin2bn(reinterpret_cast<const unsigned char *>(e->constData()), int(e->size()), nullptr));
            if (!bn || !be || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) != 1
                || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()) != 1) {
                *error = u"cannot build the RSA key"_s;
                return nullptr;
            }
            PKey key = fromData("RSA", bld.get());
            if (!key)
                *error = u"OpenSSL refuses the RSA key's n and e"_s;
            return key;
        }
        if (kty == u"EC"_s) {
            if (jwk.value(u"crv"_s).toString() != u"P-256"_s) {
                *error = u"EC key on curve '%1'; only P-256 (ES256) is supported"_s.arg(jwk.value(u"crv"_s).toString());
                return nullptr;
            }
            const auto x = base64url(jwk.value(u"x"_s));
            const auto y = base64url(jwk.value(u"y"_s));
            if (!x || !y || x->size() != P256CoordinateBytes || y->size() != P256CoordinateBytes) {
                *error = u"a P-256 key needs base64url x and y of 32 bytes each"_s;
                return nullptr;
            }
            // The uncompressed point encoding (SEC 1 §2.3.3): 0x04 || x || y.
            const QByteArray point = QByteArray(1, '\x04') + *x + *y;
            if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1
                || OSSL_PARAM_BLD_push_octet_string(
                       bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.constData(), size_t(point.size()))
                    != 1) {
                *error = u"cannot build the EC key"_s;
                return nullptr;
            }
            PKey key = fromData("EC", bld.get());
            // fromdata does not promise that the point is on the curve; a point off it is an invalid-curve attack.
            const PKeyCtx check(key ? EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr) : nullptr);
            if (!key || !check || EVP_PKEY_public_check(check.get()) != 1) {
                *error = u"x and y are not a point of P-256"_s;
                return nullptr;
            }
            return key;
        }
        *error = u"kty '%1' is not supported (RSA or EC)"_s.arg(kty);
        return nullptr;
    }

    static PKey fromPem(const QByteArray &pem, QString *error)
    {
        const Bio bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
        if (!bio) {
            *error = u"out of memory"_s;
            return nullptr;
        }
        PKey key;
        if (pem.contains("-----BEGIN CERTIFICATE-----")) {
            const X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
            if (cert)
                key.reset(X509_get_pubkey(cert.get()));
        } else {
            key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
        }
        if (!key)
            *error = u"not a PEM certificate or public key"_s;
        return key;
    }
};

TokenVerifier::TokenVerifier()
    : d(std::make_unique<Keys>())
{
}

TokenVerifier::~TokenVerifier() = default;

bool TokenVerifier::hasHmacSecret() const
{
    return d->secret.has_value();
}

int TokenVerifier::keyCount() const
{
    return int(d->keys.size());
}

bool TokenVerifier::setHmacSecret(const QByteArray &secret, QString *error)
{
    if (secret.isEmpty()) {
        *error = u"the HS256 secret is empty"_s;
        return false;
    }
    d->secret = secret;
    return true;
}

bool TokenVerifier::loadKeySet(const QByteArray &json, QString *error)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (!doc.isObject()) {
        *error = pe.error != QJsonParseError::NoError ? u"not JSON: "_s + pe.errorString()
                                                      : u"not a JSON object (a JWKS or a kid → PEM map)"_s;
        return false;
    }
    const QJsonObject root = doc.object();
    std::vector<Keys::Key> keys;
    auto add = [&](const QString &kid, const QString &alg, PKey pkey, QString *why) {
        Keys::Type type;
        if (!Keys::classify(pkey.get(), &type, why))
            return false;
        for (const Keys::Key &k : keys) {
            if (k.kid == kid) {
                *why = u"a second key with the same kid"_s;
                return false;
            }
        }
        keys.push_back({kid, alg, type, std::move(pkey)});
        return true;
    };
    if (root.contains(u"keys"_s)) {
        const QJsonValue list = root.value(u"keys"_s);
        if (!list.isArray()) {
            *error = u"JWKS \"keys\" is not an array"_s;
            return false;
        }
        const QJsonArray array = list.toArray();
        for (qsizetype i = 0; i < array.size(); ++i) {
            const QJsonObject jwk = array.at(i).toObject();
            const QString kid = jwk.value(u"kid"_s).toString();
            const QString name = kid.isEmpty() ? u"key %1"_s.arg(i) : u"key '%1'"_s.arg(kid);
            if (jwk.value(u"use"_s).toString(u"sig"_s) != u"sig"_s)
                continue; // an encryption key of the same set signs nothing
            const QString alg = jwk.value(u"alg"_s).toString();
            if (!alg.isEmpty() && alg != u"RS256"_s && alg != u"ES256"_s) {
                *error = u"%1: alg '%2' is not supported (RS256 or ES256)"_s.arg(name, alg);
                return false;
            }
            QString why;
            PKey pkey = Keys::fromJwk(jwk, &why);
            if (!pkey || !add(kid, alg, std::move(pkey), &why)) {
                *error = name + u": "_s + why;
                return false;
            }
        }
    } else {
        // Google's https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com form.
        for (auto it = root.begin(); it != root.end(); ++it) {
            const QString name = u"key '%1'"_s.arg(it.key());
            if (!it.value().isString()) {
                *error = name + u": not a PEM string (the file is neither a JWKS nor a kid → PEM map)"_s;
                return false;
            }
            QString why;
            PKey pkey = Keys::fromPem(it.value().toString().toUtf8(), &why);
            if (!pkey || !add(it.key(), QString(), std::move(pkey), &why)) {
                *error = name + u": "_s + why;
                return false;
            }
        }
    }
    ERR_clear_error();
    if (keys.empty()) {
        *error = u"the key set holds no signing key"_s;
        return false;
    }
    if (keys.size() > 1) {
        for (const Keys::Key &k : keys) {
            if (k.kid.isEmpty()) {
                *error = u"every key needs a kid when the set holds more than one"_s;
                return false;
            }
        }
    }
    d->keys = std::move(keys);
    return true;
}

TokenVerifier::Outcome TokenVerifier::verify(const QString &token, qint64 nowMs, Verified *out, QString *error) const
{
    const auto parts = QStringView(token).split(u'.');
    if (parts.size() != 3) {
        *error = u"token is not a JWS: it needs three dot-separated parts"_s;
        return Outcome::Invalid;
    }
    const auto headerBytes = base64url(parts[0]);
    const auto payloadBytes = base64url(parts[1]);
    const auto signature = base64url(parts[2]);
    if (!headerBytes || !payloadBytes || !signature) {
        *error = u"token parts are not base64url"_s;
        return Outcome::Invalid;
    }
    const QJsonDocument headerDoc = QJsonDocument::fromJson(*headerBytes);
    const QJsonDocument payloadDoc = QJsonDocument::fromJson(*payloadBytes);
    if (!headerDoc.isObject() || !payloadDoc.isObject()) {
        *error = u"token header or payload is not a JSON object"_s;
        return Outcome::Invalid;
    }
    const QJsonObject header = headerDoc.object();
    const QJsonObject claims = payloadDoc.object();
    const QString alg = header.value(u"alg"_s).toString();
    if (alg.compare(u"none"_s, Qt::CaseInsensitive) == 0) {
        *error = u"alg none is not accepted with --auth verify"_s;
        return Outcome::Invalid;
    }
    if (header.contains(u"crit"_s)) {
        // RFC 7515 §4.1.11: extensions the verifier does not know must make it refuse.
        *error = u"the token's crit header names extensions lark-server does not know"_s;
        return Outcome::Invalid;
    }
    // What is signed: the first two parts exactly as sent (RFC 7515 §5.2).
    const QByteArray signingInput = token.left(parts[0].size() + 1 + parts[1].size()).toLatin1();
    const auto *input = reinterpret_cast<const unsigned char *>(signingInput.constData());
    const auto inputSize = size_t(signingInput.size());

    if (alg == u"HS256"_s) {
        if (!d->secret) {
            // Never an HMAC keyed with a public key's bytes: the classic RS256 → HS256 confusion attack.
            *error = d->keys.empty() ? u"alg HS256 is not accepted: lark-server has no --jwt-secret"_s
                                     : u"alg HS256 is not accepted: lark-server has no --jwt-secret, and the key "
                                       "set's public keys only verify RS256/ES256"_s;
            return Outcome::Invalid;
        }
        unsigned char mac[EVP_MAX_MD_SIZE];
        size_t macSize = 0;
        if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, d->secret->constData(), size_t(d->secret->size()),
                input, inputSize, mac, sizeof mac, &macSize)) {
            ERR_clear_error();
            *error = u"HMAC failed"_s;
            return Outcome::Invalid;
        }
        if (!constantTimeEquals(QByteArray(reinterpret_cast<const char *>(mac), qsizetype(macSize)), *signature)) {
            *error = u"bad signature"_s;
            return Outcome::Invalid;
        }
    } else if (alg == u"RS256"_s || alg == u"ES256"_s) {
        if (d->keys.empty()) {
            *error = u"alg %1 is not accepted: lark-server has no --jwks"_s.arg(alg);
            return Outcome::Invalid;
        }
        const QString kid = header.value(u"kid"_s).toString();
        const Keys::Key *key = nullptr;
        if (kid.isEmpty() && d->keys.size() == 1) {
            key = &d->keys.front();
        } else if (kid.isEmpty()) {
            *error = u"token has no kid, and the key set holds %1 keys"_s.arg(d->keys.size());
            return Outcome::Invalid;
        } else {
            for (const Keys::Key &k : d->keys) {
                if (k.kid == kid)
                    key = &k;
            }
            if (!key) {
                *error = u"no key with kid '%1'"_s.arg(kid.left(64));
                return Outcome::Invalid;
            }
        }
        const Keys::Type wanted = alg == u"RS256"_s ? Keys::Type::Rsa : Keys::Type::EcP256;
        if (key->type != wanted || (!key->alg.isEmpty() && key->alg != alg)) {
            *error = u"alg %1 does not match the key with kid '%2' (%3)"_s.arg(
                alg, key->kid, key->type == Keys::Type::Rsa ? u"RS256"_s : u"ES256"_s);
            return Outcome::Invalid;
        }
        QByteArray der = *signature;
        if (wanted == Keys::Type::EcP256) {
            // JWS carries ECDSA as r || s, 32 bytes each (RFC 7518 §3.4); EVP wants the DER of ECDSA-Sig-Value.
            if (signature->size() != 2 * P256CoordinateBytes) {
                *error = u"bad signature"_s;
                return Outcome::Invalid;
            }
            const auto *raw = reinterpret_cast<const unsigned char *>(signature->constData());
            EcdsaSig sig(ECDSA_SIG_new());
            BIGNUM *r = BN_bin2bn(raw, P256CoordinateBytes, nullptr);
            BIGNUM *s = BN_bin2bn(raw + P256CoordinateBytes, P256CoordinateBytes, nullptr);
            if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
                BN_free(r);
                BN_free(s);
                *error = u"out of memory"_s;
                return Outcome::Invalid;
            }
            unsigned char *encoded = nullptr;
            const int size = i2d_ECDSA_SIG(sig.get(), &encoded);
            if (size <= 0) {
                *error = u"bad signature"_s;
                return Outcome::Invalid;
            }
            der = QByteArray(reinterpret_cast<const char *>(encoded), size);
            OPENSSL_free(encoded);
        }
        const MdCtx ctx(EVP_MD_CTX_new());
        const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key->pkey.get()) == 1
            && EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char *>(der.constData()), size_t(der.size()),
                   input, inputSize)
                == 1;
        ERR_clear_error();
        if (!ok) {
            *error = u"bad signature"_s;
            return Outcome::Invalid;
        }
    } else {
        *error = u"alg '%1' is not supported; lark-server accepts HS256, RS256 and ES256"_s.arg(alg.left(32));
        return Outcome::Invalid;
    }

    // The claims, only once the signature says they are the issuer's.
    const bool idToken = alg != u"HS256"_s;
    const double now = double(nowMs) / 1000.0;
    const double skew = m_skewSeconds;
    auto time = [&](const QString &name, bool required, std::optional<double> *value) {
        const QJsonValue v = claims.value(name);
        if (v.isUndefined()) {
            if (required)
                *error = u"token has no %1 claim"_s.arg(name);
            return !required;
        }
        if (!v.isDouble() || !std::isfinite(v.toDouble()) || std::abs(v.toDouble()) > 1e12) {
            *error = u"%1 is not a time in seconds"_s.arg(name);
            return false;
        }
        *value = v.toDouble();
        return true;
    };
    std::optional<double> exp, iat, authTime, nbf;
    if (!time(u"exp"_s, idToken, &exp) || !time(u"iat"_s, idToken, &iat) || !time(u"auth_time"_s, false, &authTime)
        || !time(u"nbf"_s, false, &nbf))
        return Outcome::Invalid;
    if (exp && *exp <= now - skew) {
        *error = u"token expired at %1"_s.arg(utc(*exp));
        return Outcome::Expired;
    }
    if (iat && *iat > now + skew) {
        *error = u"token issued in the future (iat %1)"_s.arg(utc(*iat));
        return Outcome::Invalid;
    }
    if (authTime && *authTime > now + skew) {
        *error = u"auth_time %1 is in the future"_s.arg(utc(*authTime));
        return Outcome::Invalid;
    }
    if (nbf && *nbf > now + skew) {
        *error = u"token not valid before %1"_s.arg(utc(*nbf));
        return Outcome::Invalid;
    }
    if (idToken) {
        // Firebase ID tokens (firebase.google.com/docs/auth/admin/verify-id-tokens): issued for this project only.
        const QString aud = claims.value(u"aud"_s).toString();
        const QString iss = claims.value(u"iss"_s).toString();
        if (aud != m_project) {
            *error = u"aud is '%1', expected '%2'"_s.arg(aud.left(128), m_project);
            return Outcome::Invalid;
        }
        if (iss != issuerFor(m_project)) {
            *error = u"iss is '%1', expected '%2'"_s.arg(iss.left(128), issuerFor(m_project));
            return Outcome::Invalid;
        }
        if (claims.value(u"sub"_s).toString().isEmpty()) {
            *error = u"sub is missing or empty"_s;
            return Outcome::Invalid;
        }
    }
    out->header = header;
    out->claims = claims;
    // A live connection loses the token when the verifier would stop accepting it.
    out->expiresAtMs = exp ? qint64((*exp + skew) * 1000.0) : 0;
    return Outcome::Valid;
}

bool TokenVerifier::readSecretFile(const QString &fileName, QByteArray *out, QString *error)
{
    QFile f(fileName);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = u"cannot read %1: %2"_s.arg(fileName, f.errorString());
        return false;
    }
    QByteArray bytes = f.readAll();
    if (bytes.endsWith("\r\n"))
        bytes.chop(2);
    else if (bytes.endsWith('\n'))
        bytes.chop(1);
    if (bytes.isEmpty()) {
        *error = u"%1 is empty"_s.arg(fileName);
        return false;
    }
    *out = bytes;
    return true;
}

bool TokenVerifier::constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    // The lengths are not secret (a MAC's is fixed); the bytes are.
    return a.size() == b.size() && CRYPTO_memcmp(a.constData(), b.constData(), size_t(a.size())) == 0;
}

} // namespace lark
