// SPDX-License-Identifier: MIT
#pragma once

#include "requesthandler.h"

#include <QJsonObject>
#include <QString>

#include <optional>

namespace lark
{

/**
 * The v5 data actions the request path serves (docs/wire-protocol.md §6): q/l listen, n unlisten, g get, p set (with
 * h: a transaction), m update, o/om/oc the onDisconnect ops. Auth, stats and Lark's admin actions are the
 * connection's own and are not decoded here.
 */
[[nodiscard]] std::optional<Request::Action> v5DataAction(QStringView action);

/**
 * Decodes the body b of a v5 data action (as v5DataAction() named it) into *out, a fresh Request; false with the
 * refusal (status and message) for a malformed one. Checks only the form (paths, children, a query); values are
 * checked by the request path against the tree.
 */
[[nodiscard]] bool decodeV5Request(Request::Action action, const QJsonObject &b, Request *out, Reply *refusal);

} // namespace lark
