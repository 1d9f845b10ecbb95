// SPDX-License-Identifier: MIT
#pragma once

namespace lark
{

class Authenticator;
class HttpRouter;
class Namespaces;
class SecurityRules;

/**
 * `GET` and `PUT /.settings/rules.json?ns=NS` (docs/rules.md §1): how the Firebase emulator is given rules, by
 * firebase-tools and @firebase/rules-unit-testing. Only the admin may use them (`Authorization: Bearer owner`, or the
 * --admin-token): 401 without a credential, 403 with another. `PUT` answers 200 `{"status":"ok"}` or 400
 * `{"error":"L:C: message\n"}`; `?dryRun=true` checks without installing. `GET` returns the source as loaded, or
 * with `?format=strict` as plain JSON. All references must outlive the router.
 */
void addRulesRoutes(
    HttpRouter &router, SecurityRules &rules, const Authenticator &authenticator, const Namespaces &namespaces);

} // namespace lark
