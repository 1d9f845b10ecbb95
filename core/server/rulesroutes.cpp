// SPDX-License-Identifier: MIT
#include "rulesroutes.h"

#include "authenticator.h"
#include "httprouter.h"
#include "logging.h"
#include "namespaces.h"
#include "securityrules.h"

#include "rules/ruleset.h"

#include <QJsonObject>

#include <optional>

using namespace Qt::Literals::StringLiterals;
using lark::protocol::HttpResponse;

namespace lark
{

namespace
{

const QString RulesPath = u"/.settings/rules.json"_s;

/** The refusal for a caller that is not the admin, or nothing when it is. */
std::optional<HttpResponse> refuseUnlessAdmin(const HttpCall &call, const Authenticator &authenticator)
{
    const QString token = call.bearerToken();
    if (token.isEmpty()) {
        HttpResponse r = HttpResponse::error(401,
            u"the rules endpoint needs the admin credential: Authorization: Bearer owner (or the --admin-token)"_s);
        r.extraHeaders = "WWW-Authenticate: Bearer\r\n";
        return r;
    }
    const Authenticator::Result who
        = authenticator.authenticate(Authenticator::Credential::Admin, token, call.admission);
    if (!who.isOk() || !who.identity.isAdmin())
        return HttpResponse::error(
            403, u"this credential is not the admin's: %1"_s.arg(QString(who.message).remove(u"gauth: "_s)));
    return std::nullopt;
}

/** The namespace of ?ns= (the default one without it), or a refusal. */
std::optional<HttpResponse> resolveNamespace(const HttpCall &call, const Namespaces &namespaces, QString *ns)
{
    const QString asked = call.query.queryItemValue(u"ns"_s, QUrl::FullyDecoded);
    QString reason;
    if (!namespaces.admits(asked, &reason))
        return HttpResponse::error(400, reason);
    *ns = namespaces.resolve(asked);
    return std::nullopt;
}

} // namespace

void addRulesRoutes(
    HttpRouter &router, SecurityRules &rules, const Authenticator &authenticator, const Namespaces &namespaces)
{
    router.add("GET", RulesPath, [&rules, &authenticator, &namespaces](const HttpCall &call) {
        if (auto refusal = refuseUnlessAdmin(call, authenticator))
            return *refusal;
        QString ns;
        if (auto refusal = resolveNamespace(call, namespaces, &ns))
            return *refusal;
        const auto ruleset = rules.ruleset(ns);
        HttpResponse r;
        r.body = call.query.queryItemValue(u"format"_s) == u"strict"_s ? ruleset->strictJson() : ruleset->source();
        return r;
    });
    router.add("PUT", RulesPath, [&rules, &authenticator, &namespaces](const HttpCall &call) {
        if (auto refusal = refuseUnlessAdmin(call, authenticator))
            return *refusal;
        QString ns;
        if (auto refusal = resolveNamespace(call, namespaces, &ns))
            return *refusal;
        const bool dryRun = call.isTrue(u"dryRun"_s);
        const SecurityRules::Result result = rules.set(ns, call.request.body, dryRun);
        if (!result.ok) {
            qCInfo(lcRules).noquote() << "refused rules for namespace" << ns << "from" << call.peer.toString() << ":"
                                      << result.error;
            // The emulator's body, trailing newline included: firebase-tools prints it as it is.
            return HttpResponse::error(400, result.error + u'\n');
        }
        if (!dryRun)
            qCInfo(lcRules).noquote() << "rules loaded for namespace" << ns << "over HTTP from" << call.peer.toString();
        return HttpResponse::json(200, QJsonObject {{u"status"_s, u"ok"_s}});
    });
}

} // namespace lark
