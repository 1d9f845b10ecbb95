// SPDX-License-Identifier: MIT
#include "snapshot.h"

#include <QJsonObject>

namespace lark::client
{

QJsonValue plainJson(const Node &node)
{
    switch (node.type()) {
    case Node::Type::Null:
        return QJsonValue::Null;
    case Node::Type::Bool:
        return node.boolValue();
    case Node::Type::Number:
        return node.number();
    case Node::Type::String:
        return node.string();
    case Node::Type::Object: {
        QJsonObject o;
        for (const auto &[key, child] : node.children())
            o.insert(key, plainJson(*child));
        return o;
    }
    }
    return QJsonValue::Null;
}

DataSnapshot::DataSnapshot(Path path, std::shared_ptr<const Node> node, QStringList order)
    : m_path(std::move(path))
    , m_node(std::move(node))
    , m_order(std::move(order))
{
}

QJsonValue DataSnapshot::value() const
{
    return m_node ? plainJson(*m_node) : QJsonValue(QJsonValue::Null);
}

QJsonValue DataSnapshot::exportValue() const
{
    return m_node ? m_node->toJson() : QJsonValue(QJsonValue::Null);
}

QJsonValue DataSnapshot::priority() const
{
    return m_node ? m_node->priority() : QJsonValue();
}

DataSnapshot DataSnapshot::child(const QString &relativePath) const
{
    Path rel;
    QString error;
    if (!Path::parse(relativePath, &rel, &error) || !m_node)
        return DataSnapshot(m_path, nullptr);
    const Node *n = m_node->at(rel);
    // Share ownership with the parent snapshot: the child lives as long as the whole tree does.
    return DataSnapshot(m_path.child(rel), n ? std::shared_ptr<const Node>(m_node, n) : nullptr);
}

int DataSnapshot::childCount() const
{
    return m_node ? int(m_node->children().size()) : 0;
}

QStringList DataSnapshot::childKeys() const
{
    if (!m_order.isEmpty() || !m_node)
        return m_order;
    QStringList keys;
    keys.reserve(qsizetype(m_node->children().size()));
    for (const auto &[key, child] : m_node->children())
        keys.append(key);
    return keys;
}

} // namespace lark::client
