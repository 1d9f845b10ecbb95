// SPDX-License-Identifier: MIT
#pragma once

#include <QJsonObject>
#include <QString>

namespace lark
{

/**
 * Who a session acts for (docs/wire-protocol.md §13). With `--auth emulator`, unsigned JWTs are accepted without a
 * signature or expiry check and the Admin SDK's `gauth "owner"` is the admin; with `--auth verify`, the Authenticator
 * checks tokens with a TokenVerifier first. Security rules plug in at the request handlers, which see the identity.
 */
struct Identity {
    enum class Kind { Anonymous, User, Admin };
    Kind kind = Kind::Anonymous;
    QString uid;
    QString provider;
    QJsonObject claims;
    /**
     * toAuthJson(), built once when the identity is made (fromClaims()), because rules need it for every request
     * and building a QJsonObject costs more than evaluating a typical rule. Empty: authJson() builds it.
     */
    QJsonObject authCache;

    [[nodiscard]] bool isAdmin() const { return kind == Kind::Admin; }
    [[nodiscard]] bool operator==(const Identity &o) const { return kind == o.kind && uid == o.uid; }
    [[nodiscard]] bool operator!=(const Identity &o) const { return !(*this == o); }
    /** "anonymous", "admin" or "user:<uid>", for logs and the admin feed. */
    [[nodiscard]] QString describe() const;
    /** The `auth` variable of rules / the `auth` reply payload. */
    [[nodiscard]] QJsonObject toAuthJson() const;
    /** toAuthJson(), from authCache when it is there. */
    [[nodiscard]] QJsonObject authJson() const { return authCache.isEmpty() ? toAuthJson() : authCache; }

    /** Decodes a JWT credential (`auth`). Returns false with a reason for anything that is not a JWT. */
    [[nodiscard]] static bool fromJwt(const QString &token, Identity *out, QString *error);
    /** The user a JWT's (verified or not) claims name: uid from user_id, else sub. False with a reason if none. */
    [[nodiscard]] static bool fromClaims(const QJsonObject &claims, Identity *out, QString *error);
};

} // namespace lark
