// SPDX-License-Identifier: MIT
#pragma once

#include "db/node.h"
#include "db/path.h"

#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <QVarLengthArray>

#include <map>
#include <memory>

namespace lark::rules
{

/**
 * The would-be tree of a write batch as a trie of its writes over the old tree, so newData is answered without
 * copying the tree. The written Nodes are borrowed from the batch.
 */
struct Overlay {
    struct Entry {
        const Node *value = nullptr; // the replacement, when replaced
        bool replaced = false;
        bool hasPriority = false;
        QJsonValue priority; // a `.priority` write here
        std::map<QString, std::unique_ptr<Entry>> children;
    };
    Entry root;

    /** Records value at the absolute path (a trailing `.priority` sets the priority of the node above). */
    void add(const Path &path, const Node *value);
};

/** A position in the old tree (entry null) or in the would-be tree, and how to get there from the root. */
struct Snapshot {
    /** What the node is once the overlay is applied. */
    enum class Kind { Null, Leaf, Object };

    const Node *oldRoot = nullptr;
    const Overlay::Entry *overlayRoot = nullptr; // null: a snapshot of the old tree
    const Node *node = nullptr; // the old node here (unused where entry replaces it), null where there is none
    const Overlay::Entry *entry = nullptr; // pending changes here, null where there are none
    // The path: the first prefixLength keys of *prefix, then tail. Borrowed, so taking `data` allocates nothing.
    const QStringList *prefix = nullptr;
    int prefixLength = 0;
    QStringList tail;

    [[nodiscard]] Kind kind() const;
    [[nodiscard]] bool exists() const;
    /** The merged node's kind: a leaf (its node), an object, or null. */
    [[nodiscard]] const Node *leaf() const;
    [[nodiscard]] bool isObject() const;
    [[nodiscard]] QJsonValue priority() const;
    [[nodiscard]] Snapshot child(const QString &key) const;
    [[nodiscard]] QStringList keys() const;
};

/**
 * The data positions of a rule walk, root first: the overlay entries are followed as the walk descends, the old
 * tree's nodes only when a rule asks for them (a lookup among many children is the costly step of a walk).
 */
class Chain
{
public:
    Chain(const Node *oldRoot, const Overlay::Entry *newRoot, const QStringList &keys);

    [[nodiscard]] int depth() const { return m_depth; }
    [[nodiscard]] const QStringList &keys() const { return m_keys; }
    [[nodiscard]] const Node *oldRoot() const { return m_levels[0].old; }
    [[nodiscard]] const Overlay::Entry *newRoot() const { return m_levels[0].entry; }
    /** One level down, to keys()[depth()], or to key (appended) with the new node known (inside a written value). */
    void descend();
    void descendInto(const QString &key, const Node *newNode);
    /** Back up after descendInto(). */
    void ascend();

    [[nodiscard]] const Node *oldAt(int depth);
    [[nodiscard]] const Overlay::Entry *entryAt(int depth) const { return m_levels[depth].entry; }
    [[nodiscard]] const Node *newNodeAt(int depth);
    /** Whether the would-be tree has a value at depth. */
    [[nodiscard]] bool newExistsAt(int depth);

private:
    struct Level {
        const Node *old = nullptr;
        const Overlay::Entry *entry = nullptr;
        const Node *under = nullptr; // the new node inside a written value
        bool inWritten = false;
    };
    QStringList m_keys;
    QVarLengthArray<Level, 34> m_levels; // a data path has at most 32 keys: no allocation
    int m_depth = 0;
    int m_oldResolved = 0;
};

/** A leaf's value (a number, a string or a boolean); null for anything else. */
[[nodiscard]] QJsonValue leafJson(const Node *n);

} // namespace lark::rules
