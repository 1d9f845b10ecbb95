// SPDX-License-Identifier: MIT
#pragma once

#include <QString>

namespace lark
{

class HttpRouter;

/**
 * The presence page (docs/rest.md §7): `GET /` is a page running the pinned Firebase JS SDK that does presence as
 * the dashboard's tabs do, for `?uid=NAME&ns=NAMESPACE` (defaultNamespace without `ns`), and `GET
 * /.lark/presence.js` its script, bundled at build time. Both are embedded in the binary.
 */
void addPageRoutes(HttpRouter &router, const QString &defaultNamespace);

} // namespace lark
