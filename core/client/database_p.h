// SPDX-License-Identifier: MIT
// Shared by the files that implement Database (database.cpp: the connection; databaseviews.cpp: the cache, views
// and events; databasewrites.cpp: writes, gets, onDisconnect, transactions). Not part of the SDK's API.
#pragma once

#include "database.h"

#include <QLoggingCategory>

#include <memory>

Q_DECLARE_LOGGING_CATEGORY(lcClient)

namespace lark::client::detail
{

[[nodiscard]] inline bool isInfoPath(const Path &p)
{
    return !p.isRoot() && p.front() == QLatin1StringView(".info");
}

[[nodiscard]] inline bool isOkStatus(const QString &status)
{
    return status == QLatin1StringView("ok");
}

/** The children of data that query selects, as a node of their own. */
[[nodiscard]] std::shared_ptr<const Node> nodeFromSelection(const lark::Query &query, const Node *data);
/** The keys of node's children in query's order. */
[[nodiscard]] QStringList orderedKeys(const lark::Query &query, const Node *node);

} // namespace lark::client::detail
