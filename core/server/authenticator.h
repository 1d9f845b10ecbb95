// SPDX-License-Identifier: MIT
#pragma once

#include "accesspolicy.h"
#include "identity.h"

#include <QByteArray>
#include <QString>

#include <memory>

namespace lark
{

class TokenVerifier;

/** How lark-server checks credentials (--auth, --jwt-secret, --jwks, --admin-token, --project). */
struct AuthConfig {
    enum class Mode {
        Emulator, /**< unsigned tokens taken at their word, as the Firebase emulator does: for local use only */
        Verify, /**< tokens must be signed (TokenVerifier); alg none is refused */
    };
    Mode mode = Mode::Emulator;
    /**
     * The credential `gauth` must present to be the admin. Empty: the literal "owner" in emulator mode (what the
     * Admin SDK sends to an emulator), and no admin at all in verify mode.
     */
    QByteArray adminToken;
    /** Verify: the secret and key set, loaded and checked at start-up; shared because ServerConfig is copied. */
    std::shared_ptr<const TokenVerifier> verifier;
};

/**
 * Which credentials are valid, for every transport (docs/wire-protocol.md §13, docs/semantics.md §7): the transport
 * says what the caller presented and how its access policy admitted it, and gets the Identity to act as, or the
 * status (requesthandler.h, namespace status) and message to refuse with. What a session does with the identity
 * (ending a resumed one that comes back as someone else, recording the change) is the transport's.
 */
class Authenticator
{
public:
    enum class Credential {
        Admin, /**< the Admin SDK's `gauth`: "owner", or the --admin-token */
        Token, /**< `auth`: a JWT; unsigned ones in emulator mode only */
        None, /**< `unauth`: back to anonymous */
    };

    struct Result {
        QString status; /**< status::Ok, or why the credential is refused */
        QString message; /**< the refusal's reason; empty when accepted */
        Identity identity; /**< when accepted */
        /** Epoch ms from which the token is no longer valid (verify mode, tokens with exp); 0: never. */
        qint64 expiresAtMs = 0;
        [[nodiscard]] bool isOk() const;
    };

    explicit Authenticator(AuthConfig config = {});

    /** Whether tokens are checked (verify mode): only then do identities expire on a live connection. */
    [[nodiscard]] bool verifiesTokens() const { return m_config.mode == AuthConfig::Mode::Verify; }

    /** The identity credential (token unused for Credential::None) stands for, from a caller let in as admission. */
    [[nodiscard]] Result authenticate(
        Credential credential, const QString &token, AccessPolicy::Admission admission) const;

private:
    AuthConfig m_config;
};

} // namespace lark
