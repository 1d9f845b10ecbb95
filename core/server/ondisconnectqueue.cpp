// SPDX-License-Identifier: MIT
#include "ondisconnectqueue.h"

#include "db/servervalues.h"

#include <QJsonArray>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{

// A server value ({".sv": ...}) is a leaf until it is resolved at fire time, as in the SDK's nodeFromJSON: it has
// no children to write into or to split.
bool isServerValue(const QJsonValue &json)
{
    return json.isObject() && json.toObject().contains(u".sv"_s);
}

// A queued value's children. Raw `om` values can be arrays, which are objects keyed by index (as in Node).
QJsonObject childrenOf(const QJsonValue &json)
{
    if (isServerValue(json))
        return {};
    if (!json.isArray())
        return json.toObject();
    QJsonObject o;
    const QJsonArray a = json.toArray();
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (!a.at(i).isNull())
            o.insert(QString::number(i), a.at(i));
    }
    return o;
}

// Writes value at rel inside json (a queued value), turning leaves into objects on the way, as the SDK's
// sparse snapshot tree does. Null removes, and an emptied object becomes null.
QJsonValue withChild(const QJsonValue &json, const Path &rel, int i, const QJsonValue &value)
{
    if (i == rel.size())
        return value;
    QJsonObject o = childrenOf(json);
    if (o.contains(u".value"_s)) // a leaf with priority: it becomes an object keeping its priority
        o.remove(u".value"_s);
    const QJsonValue child = withChild(o.value(rel.at(i)), rel, i + 1, value);
    if (child.isNull() || child.isUndefined())
        o.remove(rel.at(i));
    else
        o.insert(rel.at(i), child);
    if (o.isEmpty() || (o.size() == 1 && o.contains(u".priority"_s)))
        return QJsonValue::Null;
    return o;
}

} // namespace

QString OnDisconnectQueue::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Set:
        return u"set"_s;
    case Kind::Update:
        return u"update"_s;
    case Kind::Remove:
        return u"remove"_s;
    }
    return {};
}

void OnDisconnectQueue::setOne(const Path &path, const QJsonValue &value, Kind kind, qint64 now)
{
    for (Op &op : m_ops) {
        if (op.path != path && op.path.contains(path)) {
            op.value = withChild(op.value, path.relativeTo(op.path), 0, value);
            if (op.kind == Kind::Remove && !op.value.isNull())
                op.kind = Kind::Set;
            op.registeredAt = now;
            return;
        }
    }
    m_ops.erase(
        std::remove_if(m_ops.begin(), m_ops.end(), [&](const Op &op) { return path.contains(op.path); }), m_ops.end());
    m_ops.push_back({path, value, kind, now});
}

void OnDisconnectQueue::set(const Path &path, const QJsonValue &value, qint64 now)
{
    setOne(path, value, value.isNull() ? Kind::Remove : Kind::Set, now);
}

void OnDisconnectQueue::update(const Path &path, const std::vector<std::pair<Path, QJsonValue>> &children, qint64 now)
{
    for (const auto &[rel, value] : children)
        setOne(path.child(rel), value, value.isNull() ? Kind::Remove : Kind::Update, now);
}

void OnDisconnectQueue::cancel(const Path &path)
{
    m_ops.erase(
        std::remove_if(m_ops.begin(), m_ops.end(), [&](const Op &op) { return path.contains(op.path); }), m_ops.end());
    // Like the SDK's SparseSnapshotTree::forget: a set queued at an ancestor is split into sets of its children,
    // down to the cancelled path, which is then dropped. A leaf has no children to forget.
    for (size_t i = 0; i < m_ops.size(); ++i) {
        if (!m_ops[i].path.contains(path))
            continue;
        const Op op = m_ops[i];
        const bool leaf = !op.value.isArray()
            && (!op.value.isObject() || op.value.toObject().contains(u".value"_s) || isServerValue(op.value));
        if (!op.value.isNull() && leaf)
            return; // a queued remove (null) has no children either, so it is dropped like in the SDK
        std::vector<Op> split;
        const QJsonObject children = childrenOf(op.value);
        for (auto it = children.constBegin(); it != children.constEnd(); ++it) {
            if (it.key() != u".priority"_s)
                split.push_back({op.path.child(it.key()), it.value(), op.kind, op.registeredAt});
        }
        m_ops.erase(m_ops.begin() + qsizetype(i));
        m_ops.insert(m_ops.begin() + qsizetype(i), split.begin(), split.end());
        cancel(path);
        return;
    }
}

void OnDisconnectQueue::apply(const Registration &r)
{
    switch (r.action) {
    case Registration::Action::Set:
        set(r.path, r.value, r.at);
        return;
    case Registration::Action::Update:
        update(r.path, r.children, r.at);
        return;
    case Registration::Action::Cancel:
        cancel(r.path);
        return;
    }
}

size_t OnDisconnectQueue::sizeAfter(const Registration &r) const
{
    std::vector<Path> paths;
    if (r.action == Registration::Action::Set) {
        paths.push_back(r.path);
    } else if (r.action == Registration::Action::Update) {
        for (const auto &[rel, value] : r.children)
            paths.push_back(r.path.child(rel));
    } else {
        return m_ops.size(); // a cancel can split an ancestor's value: it is never refused, so never counted
    }
    // As setOne(): a path inside a queued op changes that op's value; any other replaces the ops at or below it.
    // An update's paths never overlap each other, so their effects add up.
    size_t size = m_ops.size();
    for (const Path &path : paths) {
        bool inside = false;
        size_t below = 0;
        for (const Op &op : m_ops) {
            if (op.path != path && op.path.contains(path))
                inside = true;
            else if (path.contains(op.path))
                ++below;
        }
        if (!inside)
            size = size - below + 1;
    }
    return size;
}

std::vector<Write> OnDisconnectQueue::resolve(const Node &root, qint64 now, QStringList *errors) const
{
    std::vector<Write> writes;
    writes.reserve(m_ops.size());
    for (const Op &op : m_ops) {
        QJsonValue resolved;
        QString error;
        Node node;
        if (!resolveServerValues(op.value, root.at(op.path), now, &resolved, &error)
            || !Node::fromJson(resolved, &node, &error, Path::MaxDepth - op.path.size())) {
            errors->append(u"%1: %2"_s.arg(op.path.toString(), error));
            continue;
        }
        writes.push_back({op.path, std::move(node)});
    }
    return writes;
}

} // namespace lark
