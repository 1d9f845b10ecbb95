// SPDX-License-Identifier: MIT
#pragma once

#include "node.h"
#include "path.h"

#include <QJsonObject>

#include <vector>

namespace lark
{

/**
 * A Firebase query as sent in a listen's `q` (docs/wire-protocol.md §9): an index (priority, key, value or a child
 * path), an optional start and end bound each with a key tie-break and inclusiveness, and an optional limit from the
 * front or back. Evaluates to the selected children of a node, in index order.
 */
class Query
{
public:
    enum class Index { Priority, Key, Value, Child };
    using Entry = std::pair<const QString *, const Node *>;

    /** Parses a wire `q` object; an empty object is the default query. */
    [[nodiscard]] static bool fromWire(const QJsonObject &q, Query *out, QString *error);

    /** No bounds and no limit: the whole node (the SDK sends such queries as default listens). */
    [[nodiscard]] bool loadsAllData() const { return !m_hasStart && !m_hasEnd && m_limit == 0; }
    [[nodiscard]] Index index() const { return m_index; }
    /** Canonical text of the wire object, to tell listens on one path apart. */
    [[nodiscard]] const QString &identifier() const { return m_identifier; }
    /** For Index::Child: the child path ordered by. */
    [[nodiscard]] const Path &childPath() const { return m_childPath; }
    /** The bounds as sent: the value (a leaf or null), the key tie-break and whether the bound itself is included. */
    [[nodiscard]] bool hasStart() const { return m_hasStart; }
    [[nodiscard]] const Node *startValue() const { return m_startValue.get(); }
    [[nodiscard]] bool startInclusive() const { return m_startInclusive; }
    [[nodiscard]] bool hasEnd() const { return m_hasEnd; }
    [[nodiscard]] const Node *endValue() const { return m_endValue.get(); }
    [[nodiscard]] bool endInclusive() const { return m_endInclusive; }
    /** The limit (0: none) and whether it counts from the end (limitToLast). */
    [[nodiscard]] int limit() const { return m_limit; }
    [[nodiscard]] bool limitFromEnd() const { return m_limitFromEnd; }

    /** Orders two children by this query's index, ties broken by key. */
    [[nodiscard]] int compare(const Entry &a, const Entry &b) const;
    /** The children of node in the window, in index order; none for a leaf or null. */
    [[nodiscard]] std::vector<Entry> select(const Node *node) const;
    /** The filtered value as export JSON: an object of the selected children (no priority), or null. */
    [[nodiscard]] QJsonValue resultJson(const Node *node) const;
    /** The SDK's hash of the filtered value, to honour a listen's `h`. */
    [[nodiscard]] QByteArray resultHash(const Node *node) const;

private:
    [[nodiscard]] bool afterStart(const Entry &e) const;
    [[nodiscard]] bool beforeEnd(const Entry &e) const;
    [[nodiscard]] int compareToBound(const Entry &e, const Node &value, const QString &name) const;

    Index m_index = Index::Priority;
    Path m_childPath;
    bool m_hasStart = false;
    bool m_hasEnd = false;
    bool m_startInclusive = true;
    bool m_endInclusive = true;
    std::shared_ptr<const Node> m_startValue; // leaves, shared so queries stay copyable
    std::shared_ptr<const Node> m_endValue;
    QString m_startName;
    QString m_endName;
    int m_limit = 0;
    bool m_limitFromEnd = false;
    QString m_identifier;
};

} // namespace lark
