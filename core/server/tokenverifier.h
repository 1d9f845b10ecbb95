// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <memory>

namespace lark
{

/**
 * Verifies signed JWTs (compact JWS) offline, for `lark-server --auth verify` (docs/wire-protocol.md §13): HS256
 * custom tokens with a shared secret (--jwt-secret), and RS256/ES256 Firebase ID tokens against a key set (--jwks),
 * either a JWKS or Google's `{"<kid>": "-----BEGIN CERTIFICATE-----…"}` map. Signatures go through OpenSSL's EVP;
 * nothing here is hand-written crypto. Immutable once loaded, so one instance can be shared.
 *
 * Claims checked: `exp` later than now - skew, `iat`/`auth_time`/`nbf` no later than now + skew; for ID tokens also
 * `iss` = https://securetoken.google.com/<project>, `aud` = <project>, `sub` non-empty, and `exp`/`iat` required.
 * HS256 tokens need neither `iss` nor `aud`, and `exp` only when they have one. `alg` must match the key (an HS256
 * token is never checked with a public key's bytes), and `alg: none` is refused.
 */
class TokenVerifier
{
public:
    /** Clock skew allowed on every time claim, in seconds. */
    static constexpr int DefaultSkewSeconds = 60;

    TokenVerifier();
    ~TokenVerifier();
    TokenVerifier(const TokenVerifier &) = delete;
    TokenVerifier &operator=(const TokenVerifier &) = delete;

    /** HS256 tokens are accepted, signed with secret (must not be empty). */
    [[nodiscard]] bool setHmacSecret(const QByteArray &secret, QString *error);
    /** RS256/ES256 tokens are accepted, signed by a key of this set (JWKS or kid → PEM map). */
    [[nodiscard]] bool loadKeySet(const QByteArray &json, QString *error);
    /** The Firebase project ID tokens must be issued for (`aud`, and the end of `iss`). */
    void setProject(const QString &project) { m_project = project; }
    void setSkewSeconds(int seconds) { m_skewSeconds = seconds; }

    [[nodiscard]] bool hasHmacSecret() const;
    [[nodiscard]] int keyCount() const;
    [[nodiscard]] const QString &project() const { return m_project; }

    struct Verified {
        QJsonObject header;
        QJsonObject claims;
        qint64 expiresAtMs = 0; /**< epoch ms of `exp`, 0 when the token has none */
    };
    enum class Outcome {
        Valid,
        Invalid, /**< malformed, wrong signature, key, alg, iss, aud, sub, or a time claim in the future */
        Expired, /**< well signed, but past its exp: the client may get a fresh one */
    };
    /** Checks token's signature and claims at nowMs (epoch ms); with a reason for the client unless Valid. */
    [[nodiscard]] Outcome verify(const QString &token, qint64 nowMs, Verified *out, QString *error) const;

    /** A file's bytes with one trailing newline (\n or \r\n) removed: secrets and tokens written by `echo`. */
    [[nodiscard]] static bool readSecretFile(const QString &fileName, QByteArray *out, QString *error);
    /** Compares without leaking, through timing, how much of a secret matched. */
    [[nodiscard]] static bool constantTimeEquals(const QByteArray &a, const QByteArray &b);

private:
    struct Keys;
    std::unique_ptr<Keys> d;
    QString m_project;
    int m_skewSeconds = DefaultSkewSeconds;
};

} // namespace lark
