// SPDX-License-Identifier: MIT
#pragma once

#include "expression.h"

#include "db/node.h"

#include <QJsonValue>

#include <map>
#include <memory>
#include <vector>

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
    const Node *oldRoot = nullptr;
    const Overlay::Entry *overlayRoot = nullptr; // null: a snapshot of the old tree
    const Node *node = nullptr; // the old (or replacing) node here, null where there is none
    const Overlay::Entry *entry = nullptr; // pending changes here, null where there are none
    QStringList keys;

    [[nodiscard]] bool exists() const;
    /** The merged node's kind: a leaf (its node), an object, or null. */
    [[nodiscard]] const Node *leaf() const;
    [[nodiscard]] bool isObject() const;
    [[nodiscard]] QJsonValue priority() const;
    [[nodiscard]] Snapshot child(const QString &key) const;
};

/** The query variables of a read (§7); a write has the default: every field null or false. */
struct QueryVars {
    bool orderByKey = false;
    bool orderByPriority = false;
    bool orderByValue = false;
    QJsonValue orderByChild, startAt, endAt, equalTo, limitToFirst, limitToLast; // null when absent
};

/** Everything one evaluation of a rule reads. Steps are shared by all rules of one request. */
struct Env {
    QJsonValue auth;
    qint64 now = 0;
    const Node *oldRoot = nullptr;
    const Overlay::Entry *newRoot = nullptr;
    /** The data path of the rule's node (data and newData are there), and the old and new views of it. */
    const QStringList *keys = nullptr;
    int depth = 0;
    const Node *dataNode = nullptr;
    const Node *newNode = nullptr;
    const Overlay::Entry *newEntry = nullptr;
    const std::vector<QString> *bindings = nullptr; // the $vars, root first
    const QueryVars *query = nullptr;
    int steps = 0;
    int maxSteps = 0;

    [[nodiscard]] bool exhausted() const { return steps > maxSteps; }
};

/** True only when the expression evaluates to true; an error is false (§0.7). */
[[nodiscard]] bool evaluate(const Expr &expr, Env &env);

/** JavaScript's Number → String: "NaN", "Infinity", integers without ".0", otherwise the shortest round trip. */
[[nodiscard]] QString numberToString(double d);

} // namespace lark::rules
