// SPDX-License-Identifier: MIT
#pragma once

#include "db/node.h"

#include <QJsonValue>
#include <QStringList>

#include <memory>

namespace lark::client
{

/** An immutable view of the data at a location, as delivered to listeners and get(). Cheap to copy. */
class DataSnapshot
{
public:
    DataSnapshot() = default;
    DataSnapshot(Path path, std::shared_ptr<const Node> node, QStringList order = {});

    [[nodiscard]] const Path &path() const { return m_path; }
    /** The last key of the path; empty at the root. */
    [[nodiscard]] QString key() const { return m_path.isRoot() ? QString() : m_path.back(); }
    [[nodiscard]] bool exists() const { return m_node && !m_node->isNull(); }
    /** Plain JSON, priorities left out; null when empty. */
    [[nodiscard]] QJsonValue value() const;
    /** Export format, with ".priority" and ".value" where set. */
    [[nodiscard]] QJsonValue exportValue() const;
    [[nodiscard]] QJsonValue priority() const;
    [[nodiscard]] DataSnapshot child(const QString &relativePath) const;
    [[nodiscard]] bool hasChildren() const { return exists() && m_node->isObject(); }
    [[nodiscard]] int childCount() const;
    /** Child keys in the query's order (key order for plain references). */
    [[nodiscard]] QStringList childKeys() const;
    [[nodiscard]] const Node *node() const { return m_node.get(); }

private:
    Path m_path;
    std::shared_ptr<const Node> m_node;
    QStringList m_order; // empty: key order
};

/** Plain JSON of a node, priorities dropped. */
[[nodiscard]] QJsonValue plainJson(const Node &node);

} // namespace lark::client
