// SPDX-License-Identifier: MIT
// Shared by the files that implement Database (database.cpp: the connection; databaseviews.cpp: the cache, views
// and events; databasewrites.cpp: writes, gets, onDisconnect, transactions). Not part of the SDK's API.
#pragma once

#include "database.h"

#include <QLoggingCategory>
#include <QPointer>

#include <functional>
#include <memory>

Q_DECLARE_LOGGING_CATEGORY(lcClient)

namespace lark::client::detail
{

[[nodiscard]] inline bool isInfoPath(const Path &p)
{
    return !p.isRoot() && p.front() == QLatin1StringView(".info");
}

/** The children of data that query selects, as a node of their own. */
[[nodiscard]] std::shared_ptr<const Node> nodeFromSelection(const lark::Query &query, const Node *data);
/** The keys of node's children in query's order. */
[[nodiscard]] QStringList orderedKeys(const lark::Query &query, const Node *node);

/**
 * f, made to run only while context lives (the SDK's promise, see Completion). Empty when f is, and when context
 * is null: that is a caller's mistake, warned about, since such a callback could never be guarded.
 */
template<typename... Args>
[[nodiscard]] std::function<void(Args...)> guarded(const QObject *context, std::function<void(Args...)> f)
{
    if (!f)
        return {};
    if (!context) {
        qCWarning(lcClient) << "a callback was given without a context object; it will not run";
        return {};
    }
    return [context = QPointer<const QObject>(context), f = std::move(f)](Args... args) {
        if (context)
            f(args...);
    };
}

} // namespace lark::client::detail
