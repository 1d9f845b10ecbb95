// SPDX-License-Identifier: MIT
#include "database.h"

#include <QJsonObject>

#include <algorithm>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{
const QString PriorityKey = u".priority"_s;

// A batch's priority writes are applied after its other writes, as the SDK's CompoundWrite applies them: an update
// {"x/.priority": 1, "x/y": 2} to an empty x gives x its priority, and a priority on a node that the batch leaves
// empty is dropped. In key order ".priority" would come first, and be lost on the still empty x.
void priorityWritesLast(std::vector<Write> &writes)
{
    std::stable_partition(
        writes.begin(), writes.end(), [](const Write &w) { return w.path.isRoot() || w.path.back() != PriorityKey; });
}

SharedEvent overwrite(const Path &path, QJsonValue value, qint64 tag, const std::optional<WriteOrigin> &cause)
{
    return std::make_shared<const DataEvent>(
        DataEvent {DataEvent::Kind::Overwrite, path, std::move(value), tag, cause});
}

SharedEvent merge(const Path &path, QJsonObject values, const WriteOrigin &cause)
{
    return std::make_shared<const DataEvent>(DataEvent {DataEvent::Kind::Merge, path, std::move(values), 0, cause});
}
} // namespace

Database::Database(QString name, QObject *parent)
    : QObject(parent)
    , m_name(std::move(name))
{
}

Database::~Database() = default;

QJsonValue Database::jsonAt(const Path &path) const
{
    if (!path.isRoot() && path.back() == PriorityKey) {
        const Node *owner = m_root.at(path.parent());
        return owner ? owner->priority() : QJsonValue(QJsonValue::Null);
    }
    const Node *n = m_root.at(path);
    return n ? n->toJson() : QJsonValue(QJsonValue::Null);
}

QJsonValue Database::valueJson(const Path &path) const
{
    return jsonAt(path);
}

QByteArray Database::hashAt(const Path &path) const
{
    const Node *n = m_root.at(path);
    return n ? n->hash() : QByteArray();
}

Database::ListenNode *Database::findNode(const Path &path) const
{
    auto *node = const_cast<ListenNode *>(&m_listens);
    for (const QString &key : path.keys()) {
        const auto it = node->children.find(key);
        if (it == node->children.end())
            return nullptr;
        node = it->second.get();
    }
    return node;
}

void Database::listen(
    ListenerSink *sink, const Path &path, const Query &query, qint64 tag, const QByteArray &clientHash)
{
    ListenNode *node = &m_listens;
    for (const QString &key : path.keys()) {
        auto &slot = node->children[key];
        if (!slot) {
            slot = std::make_unique<ListenNode>();
            slot->parent = node;
            slot->key = key;
        }
        node = slot.get();
    }
    auto it = std::find_if(node->listens.begin(), node->listens.end(),
        [&](const Listen &l) { return l.sink == sink && l.query.identifier() == query.identifier(); });
    if (it == node->listens.end()) {
        node->listens.push_back({sink, query, tag, {}});
        it = node->listens.end() - 1;
        ++m_listenCount;
    } else {
        it->query = query;
        it->tag = tag;
    }
    const Node *value = m_root.at(path);
    if (tag > 0 || !query.loadsAllData()) {
        it->lastHash = query.resultHash(value);
        if (it->lastHash != clientHash)
            sink->deliver(overwrite(path, query.resultJson(value), tag, std::nullopt));
        return;
    }
    const QByteArray hash = value ? value->hash() : QByteArray();
    if (hash != clientHash)
        sink->deliver(overwrite(path, value ? value->toJson() : QJsonValue(QJsonValue::Null), 0, std::nullopt));
}

bool Database::unlisten(ListenerSink *sink, const Path &path, const QString &queryIdentifier)
{
    ListenNode *node = findNode(path);
    if (!node)
        return false;
    const auto it = std::find_if(node->listens.begin(), node->listens.end(),
        [&](const Listen &l) { return l.sink == sink && l.query.identifier() == queryIdentifier; });
    if (it == node->listens.end())
        return false;
    // The order of a node's listens means nothing (each is a different sink or query), so the last one fills the
    // gap: erase() would move every later listen, and 10 000 connections leaving one path cost O(n²) moves.
    if (it != node->listens.end() - 1)
        *it = std::move(node->listens.back());
    node->listens.pop_back();
    --m_listenCount;
    prune(node);
    return true;
}

void Database::prune(ListenNode *node)
{
    while (node->parent && node->listens.empty() && node->children.empty()) {
        ListenNode *parent = node->parent;
        parent->children.erase(node->key); // destroys node
        node = parent;
    }
}

void Database::pushTagged(Listen &listen, const Path &path, const WriteOrigin &cause)
{
    const Node *value = m_root.at(path);
    QByteArray hash = listen.query.resultHash(value);
    if (hash == listen.lastHash)
        return;
    listen.lastHash = std::move(hash);
    listen.sink->deliver(overwrite(path, listen.query.resultJson(value), listen.tag, cause));
}

bool Database::write(const Path &base, std::vector<Write> writes, const WriteOrigin &origin, QString *error)
{
    QString why;
    if (m_journal && !m_journal->record(*this, base, writes, origin, &why)) {
        if (error)
            *error = why;
        return false;
    }
    if (m_journal && m_journal->appliesLater())
        return true;
    applyRecorded(base, std::move(writes), origin);
    return true;
}

void Database::load(const Path &base, std::vector<Write> writes)
{
    priorityWritesLast(writes);
    for (Write &w : writes)
        m_root.set(base.child(w.path), std::move(w.value));
}

void Database::applyRecorded(const Path &base, std::vector<Write> writes, const WriteOrigin &origin)
{
    priorityWritesLast(writes);
    std::vector<Change> changes;
    changes.reserve(writes.size());
    for (Write &w : writes) {
        Path abs = base.child(w.path);
        m_root.set(abs, std::move(w.value));
        // A priority change is pushed as the new value of its node.
        if (!abs.isRoot() && abs.back() == PriorityKey)
            abs = abs.parent();
        changes.push_back({std::move(abs)});
    }
    if (!changes.empty())
        notifyAncestors(base, changes, origin);

    QList<Path> paths;
    paths.reserve(qsizetype(changes.size()));
    for (Change &c : changes)
        paths.append(std::move(c.path));
    Q_EMIT changed(paths, origin);
}

void Database::notifyAncestors(const Path &base, const std::vector<Change> &changes, const WriteOrigin &cause)
{
    // Every listen at or above the batch's base sees the same event: build it at most once.
    SharedEvent shared;
    auto event = [&]() -> const SharedEvent & {
        if (!shared) {
            if (changes.size() == 1) {
                shared = overwrite(changes.front().path, jsonAt(changes.front().path), 0, cause);
            } else {
                QJsonObject values;
                for (const Change &c : changes) {
                    QString rel = c.path.relativeTo(base).toString().mid(1);
                    values.insert(rel.isEmpty() ? u"/"_s : rel, jsonAt(c.path));
                }
                shared = merge(base, std::move(values), cause);
            }
        }
        return shared;
    };

    ListenNode *node = &m_listens;
    Path at;
    for (int i = 0;; ++i) {
        for (Listen &l : node->listens) {
            if (l.tag > 0 || !l.query.loadsAllData())
                pushTagged(l, at, cause);
            else
                l.sink->deliver(event());
        }
        if (i == base.size())
            break;
        const auto it = node->children.find(base.at(i));
        if (it == node->children.end())
            return;
        node = it->second.get();
        at = at.child(base.at(i));
    }
    std::vector<const Change *> all;
    all.reserve(changes.size());
    for (const Change &c : changes)
        all.push_back(&c);
    for (auto &[key, child] : node->children) {
        const Path childPath = base.child(key);
        std::vector<const Change *> relevant;
        for (const Change *c : all) {
            if (c->path.overlaps(childPath))
                relevant.push_back(c);
        }
        if (!relevant.empty())
            notifyBelow(child.get(), childPath, relevant, cause);
    }
}

void Database::notifyBelow(
    ListenNode *node, const Path &path, const std::vector<const Change *> &changes, const WriteOrigin &cause)
{
    // changes overlap path and not each other: either one covers path, or all lie strictly below it.
    const Change *covering = nullptr;
    for (const Change *c : changes) {
        if (c->path.contains(path)) {
            covering = c;
            break;
        }
    }
    SharedEvent event;
    for (Listen &l : node->listens) {
        if (l.tag > 0 || !l.query.loadsAllData()) {
            pushTagged(l, path, cause);
            continue;
        }
        if (!event) {
            if (covering) {
                event = overwrite(path, jsonAt(path), 0, cause);
            } else if (changes.size() == 1) {
                event = overwrite(changes.front()->path, jsonAt(changes.front()->path), 0, cause);
            } else {
                QJsonObject values;
                for (const Change *c : changes)
                    values.insert(c->path.relativeTo(path).toString().mid(1), jsonAt(c->path));
                event = merge(path, std::move(values), cause);
            }
        }
        l.sink->deliver(event);
    }
    for (auto &[key, child] : node->children) {
        const Path childPath = path.child(key);
        if (covering) {
            notifyBelow(child.get(), childPath, {covering}, cause);
            continue;
        }
        std::vector<const Change *> relevant;
        for (const Change *c : changes) {
            if (c->path.overlaps(childPath))
                relevant.push_back(c);
        }
        if (!relevant.empty())
            notifyBelow(child.get(), childPath, relevant, cause);
    }
}

} // namespace lark
