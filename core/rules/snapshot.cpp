// SPDX-License-Identifier: MIT
// The trees rules look at (docs/rules.md §5): the old tree, and the would-be tree as the old one under the batch's
// overlay, read in place so that evaluating a write copies no data.
#include "snapshot.h"

#include <algorithm>

using namespace Qt::Literals::StringLiterals;

namespace lark::rules
{

namespace
{

using Kind = Snapshot::Kind;

Kind kindOf(const Node *n)
{
    if (!n || n->isNull())
        return Kind::Null;
    return n->isObject() ? Kind::Object : Kind::Leaf;
}

const Node *baseOf(const Node *n, const Overlay::Entry *e)
{
    return e && e->replaced ? e->value : n;
}

// What the node is once the pending writes below it are applied, without applying them.
Kind mergedKind(const Node *n, const Overlay::Entry *e)
{
    const Node *base = baseOf(n, e);
    if (!e || e->children.empty())
        return kindOf(base);
    size_t overridden = 0;
    for (const auto &[key, entry] : e->children) {
        const Node *old = base ? base->child(key) : nullptr;
        if (old)
            ++overridden;
        if (mergedKind(old, entry.get()) != Kind::Null)
            return Kind::Object;
    }
    switch (kindOf(base)) {
    case Kind::Object:
        return base->children().size() > overridden ? Kind::Object : Kind::Null;
    case Kind::Leaf:
        return Kind::Leaf; // deletes below a leaf leave it as it is
    case Kind::Null:
        break;
    }
    return Kind::Null;
}

} // namespace

QJsonValue leafJson(const Node *n)
{
    switch (n ? n->type() : Node::Type::Null) {
    case Node::Type::Number:
        return n->number();
    case Node::Type::String:
        return n->string();
    case Node::Type::Bool:
        return n->boolValue();
    default:
        return QJsonValue();
    }
}

void Overlay::add(const Path &path, const Node *value)
{
    const bool priority = !path.isRoot() && path.back() == u".priority"_s;
    Entry *e = &root;
    for (int i = 0; i < path.size() - (priority ? 1 : 0); ++i) {
        auto &slot = e->children[path.at(i)];
        if (!slot)
            slot = std::make_unique<Entry>();
        e = slot.get();
    }
    if (priority) {
        e->hasPriority = true;
        const QJsonValue p = leafJson(value);
        e->priority = p.isDouble() || p.isString() ? p : QJsonValue();
    } else {
        e->replaced = true;
        e->value = value;
    }
}

Snapshot::Kind Snapshot::kind() const
{
    return mergedKind(node, entry);
}

bool Snapshot::exists() const
{
    return mergedKind(node, entry) != Kind::Null;
}

const Node *Snapshot::leaf() const
{
    return mergedKind(node, entry) == Kind::Leaf ? baseOf(node, entry) : nullptr;
}

bool Snapshot::isObject() const
{
    return mergedKind(node, entry) == Kind::Object;
}

QJsonValue Snapshot::priority() const
{
    if (!exists())
        return QJsonValue();
    if (entry && entry->hasPriority)
        return entry->priority;
    const Node *base = baseOf(node, entry);
    return base ? base->priority() : QJsonValue();
}

Snapshot Snapshot::child(const QString &key) const
{
    Snapshot s {oldRoot, overlayRoot, nullptr, nullptr, prefix, prefixLength, tail};
    s.tail.append(key);
    // Below a replaced node the old tree no longer shows through: the replacement is the old side from here on.
    const Node *base = baseOf(node, entry);
    s.node = base ? base->child(key) : nullptr;
    if (entry) {
        const auto it = entry->children.find(key);
        if (it != entry->children.end())
            s.entry = it->second.get();
    }
    return s;
}

QStringList Snapshot::keys() const
{
    if (!prefix)
        return tail;
    return prefix->mid(0, prefixLength) + tail;
}

Chain::Chain(const Node *oldRoot, const Overlay::Entry *newRoot, const QStringList &keys)
    : m_keys(keys)
{
    m_levels.push_back({oldRoot, newRoot, nullptr, false});
}

void Chain::descend()
{
    const QString &key = m_keys.at(m_depth);
    const Level &up = m_levels[m_depth];
    Level next;
    if (up.entry) {
        const auto it = up.entry->children.find(key);
        next.entry = it != up.entry->children.end() ? it->second.get() : nullptr;
    }
    // Below a replaced node the replacement is what is there; the old tree no longer shows through.
    if (up.inWritten || (up.entry && up.entry->replaced)) {
        const Node *base = up.inWritten ? up.under : up.entry->value;
        next.under = base ? base->child(key) : nullptr;
        next.inWritten = true;
    }
    m_levels.resize(++m_depth);
    m_levels.push_back(next);
}

void Chain::descendInto(const QString &key, const Node *newNode)
{
    m_keys.append(key);
    m_levels.resize(++m_depth);
    m_levels.push_back({nullptr, nullptr, newNode, true});
}

void Chain::ascend()
{
    m_keys.removeLast();
    m_levels.pop_back();
    --m_depth;
    m_oldResolved = std::min(m_oldResolved, m_depth);
}

const Node *Chain::oldAt(int depth)
{
    for (; m_oldResolved < depth; ++m_oldResolved) {
        const Node *up = m_levels[m_oldResolved].old;
        m_levels[m_oldResolved + 1].old = up ? up->child(m_keys.at(m_oldResolved)) : nullptr;
    }
    return m_levels[depth].old;
}

const Node *Chain::newNodeAt(int depth)
{
    const Level &l = m_levels[depth];
    if (l.entry && l.entry->replaced)
        return nullptr; // never read: the entry's value replaces it
    return l.inWritten ? l.under : oldAt(depth);
}

bool Chain::newExistsAt(int depth)
{
    const Level &l = m_levels[depth];
    if (l.entry && l.entry->replaced && l.entry->children.empty())
        return l.entry->value && !l.entry->value->isNull();
    return mergedKind(newNodeAt(depth), l.entry) != Kind::Null;
}

} // namespace lark::rules
