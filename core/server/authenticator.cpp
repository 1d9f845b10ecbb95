// SPDX-License-Identifier: MIT
#include "authenticator.h"

#include "requesthandler.h"
#include "tokenverifier.h"

#include <QDateTime>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

bool Authenticator::Result::isOk() const
{
    return status == status::Ok;
}

Authenticator::Authenticator(AuthConfig config)
    : m_config(std::move(config))
{
}

Authenticator::Result Authenticator::authenticate(
    Credential credential, const QString &token, AccessPolicy::Admission admission) const
{
    const bool verify = m_config.mode == AuthConfig::Mode::Verify;
    Result result {status::Ok, QString(), Identity()};
    switch (credential) {
    case Credential::Admin:
        if (!m_config.adminToken.isEmpty()) {
            if (!TokenVerifier::constantTimeEquals(token.toUtf8(), m_config.adminToken))
                return {status::InvalidToken, u"gauth: the credential is not the server's --admin-token"_s, {}};
        } else if (verify) {
            // "owner" is the emulator's well-known admin: a server that checks tokens must not take it from anyone.
            return {status::InvalidToken, u"gauth: lark-server --auth verify has no admin without --admin-token"_s, {}};
        } else if (token != u"owner"_s) {
            return {status::InvalidToken, u"gauth: only the emulator admin credential \"owner\" is accepted"_s, {}};
        }
        // docs/semantics.md §7: the admin only from what the access policy let in by name, never from any page
        // that --allow-origin '*' admits (it could read every session id off the admin feed).
        if (admission == AccessPolicy::Admission::AnyOrigin)
            return {status::PermissionDenied,
                u"the admin credential is not accepted from a web page admitted only by --allow-origin '*'; "
                "list its origin with --allow-origin"_s,
                {}};
        result.identity.kind = Identity::Kind::Admin;
        result.identity.uid = u"owner"_s;
        result.identity.provider = u"admin"_s;
        break;
    case Credential::Token:
        if (verify && !m_config.verifier) {
            return {status::InvalidToken, u"lark-server --auth verify has no key to check tokens with"_s, {}};
        } else if (verify) {
            TokenVerifier::Verified verified;
            QString why;
            switch (m_config.verifier->verify(token, QDateTime::currentMSecsSinceEpoch(), &verified, &why)) {
            case TokenVerifier::Outcome::Valid:
                break;
            case TokenVerifier::Outcome::Expired:
                return {status::ExpiredToken, why, {}};
            case TokenVerifier::Outcome::Invalid:
                return {status::InvalidToken, why, {}};
            }
            if (!Identity::fromClaims(verified.claims, &result.identity, &why))
                return {status::InvalidToken, why, {}};
            result.expiresAtMs = verified.expiresAtMs;
        } else if (QString why; !Identity::fromJwt(token, &result.identity, &why)) {
            return {status::InvalidToken, why, {}};
        }
        break;
    case Credential::None:
        break;
    }
    return result;
}

} // namespace lark
