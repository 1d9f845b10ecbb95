// SPDX-License-Identifier: MIT
#include "authenticator.h"

#include "requesthandler.h"

using namespace Qt::Literals::StringLiterals;

namespace lark
{

bool Authenticator::Result::isOk() const
{
    return status == status::Ok;
}

Authenticator::Result Authenticator::authenticate(
    Credential credential, const QString &token, AccessPolicy::Admission admission) const
{
    Result result {status::Ok, QString(), Identity()};
    switch (credential) {
    case Credential::Admin:
        if (token != u"owner"_s)
            return {status::InvalidToken, u"gauth: only the emulator admin credential \"owner\" is accepted"_s, {}};
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
        if (QString why; !Identity::fromJwt(token, &result.identity, &why))
            return {status::InvalidToken, why, {}};
        break;
    case Credential::None:
        break;
    }
    return result;
}

} // namespace lark
