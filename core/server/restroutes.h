// SPDX-License-Identifier: MIT
#pragma once

namespace lark
{

class HttpRouter;
class Server;

/**
 * The Firebase REST API on the server's port (docs/rest.md): `GET`, `PUT`, `POST`, `PATCH` and `DELETE` on
 * `/<path>.json`, through the same request path, rules, limits, listeners and data file as the WebSocket. The
 * namespace comes from `?ns=`, else the Host's first label, else the default one; the caller is anonymous, the admin
 * (`Authorization: Bearer owner`, `access_token=owner`, or the --admin-token) or the user of a token given as
 * `auth=`, `access_token=` or Bearer. A write is answered once it is durable, like a WebSocket `ok`. server must
 * outlive the router. Also `GET /.inspect/databases.json`: the namespaces, `[{"name": NS}, …]`, as the emulator lists
 * them.
 */
void addRestRoutes(HttpRouter &router, Server &server);

} // namespace lark
