// SPDX-License-Identifier: MIT
#pragma once

#include "accesspolicy.h"
#include "identity.h"

#include <QString>

namespace lark
{

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
        Admin, /**< the Admin SDK's `gauth`: only the emulator admin credential "owner" */
        Token, /**< `auth`: a JWT, unsigned emulator tokens included */
        None, /**< `unauth`: back to anonymous */
    };

    struct Result {
        QString status; /**< status::Ok, or why the credential is refused */
        QString message; /**< the refusal's reason; empty when accepted */
        Identity identity; /**< when accepted */
        [[nodiscard]] bool isOk() const;
    };

    /** The identity credential (token unused for Credential::None) stands for, from a caller let in as admission. */
    [[nodiscard]] Result authenticate(
        Credential credential, const QString &token, AccessPolicy::Admission admission) const;
};

} // namespace lark
