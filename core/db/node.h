// SPDX-License-Identifier: MIT
#pragma once

#include "path.h"

#include <QByteArray>
#include <QJsonValue>
#include <QString>

#include <map>
#include <memory>

namespace lark
{

/**
 * Firebase key order: keys that are 32-bit integers first, numerically, then the rest as strings.
 * "[MIN_NAME]" and "[MAX_NAME]" sort before and after every key (the wire uses them in query bounds).
 */
[[nodiscard]] int compareKeys(const QString &a, const QString &b);

struct KeyLess {
    bool operator()(const QString &a, const QString &b) const { return compareKeys(a, b) < 0; }
};

/**
 * One node of the data tree: null, a leaf (bool, number, string) or an object of children, each with an optional
 * priority (number or string). An object without children is null, as in Firebase.
 *
 * The tree is mutable and owned top-down; hashes are cached per node and invalidated along the write path, so a
 * listen with an up-to-date hash costs one lookup.
 */
class Node
{
public:
    enum class Type : quint8 { Null, Bool, Number, String, Object };
    using Children = std::map<QString, std::unique_ptr<Node>, KeyLess>;

    static constexpr qsizetype MaxStringBytes = 10 * 1024 * 1024;

    Node() = default;
    Node(Node &&) noexcept = default;
    Node &operator=(Node &&) noexcept = default;
    Node(const Node &) = delete;
    Node &operator=(const Node &) = delete;

    static Node fromBool(bool b);
    static Node fromNumber(double d);
    static Node fromString(QString s);

    [[nodiscard]] Node clone() const;

    [[nodiscard]] Type type() const { return m_type; }
    [[nodiscard]] bool isNull() const { return m_type == Type::Null; }
    [[nodiscard]] bool isLeaf() const { return m_type != Type::Null && m_type != Type::Object; }
    [[nodiscard]] bool isObject() const { return m_type == Type::Object; }
    [[nodiscard]] bool boolValue() const { return m_bool; }
    [[nodiscard]] double number() const { return m_number; }
    [[nodiscard]] const QString &string() const { return m_string; }

    /** Null, a number or a string. */
    [[nodiscard]] const QJsonValue &priority() const { return m_priority; }
    /** Ignored on a null node: Firebase drops priorities of empty nodes. */
    void setPriority(const QJsonValue &priority);

    [[nodiscard]] const Children &children() const { return m_children; }
    [[nodiscard]] const Node *child(const QString &key) const;
    /** The node at rel below this one, or nullptr where there is nothing. `.priority` as last key is not a node. */
    [[nodiscard]] const Node *at(const Path &rel) const;
    /** Like at(), but yields the priority as a leaf for a trailing `.priority`; a null node where empty. */
    [[nodiscard]] Node valueAt(const Path &rel) const;

    /** Replaces the value at rel (empty rel: this node). A null value deletes; emptied objects are pruned. */
    void set(const Path &rel, Node value);

    /** Export-format JSON: leaves with priority as {".value",".priority"}, objects with a ".priority" key. */
    [[nodiscard]] QJsonValue toJson() const;
    /**
     * Parses export-format JSON (or raw user JSON: arrays become objects keyed "0", "1", ...). Validates keys,
     * depth (maxDepth levels of nesting) and string sizes. Server values must have been resolved before. The length
     * of key paths is not checked: this reads data that is stored already or comes from a server; a new value to
     * store goes through fromJsonAt().
     */
    [[nodiscard]] static bool fromJson(
        const QJsonValue &json, Node *out, QString *error, int maxDepth = Path::MaxDepth);
    /**
     * fromJson() of a value to be stored at `at`: the 32 levels and the 768 bytes of a key path (the SDK's
     * "Data has a key path longer than 768 bytes") count from the root, through at, down to the deepest key.
     */
    [[nodiscard]] static bool fromJsonAt(const QJsonValue &json, const Path &at, Node *out, QString *error);
    /**
     * fromJsonAt() of a JSON document's text (an import file), with the parse error's offset when it is not JSON. At a
     * `.priority` path the value must be a priority (a number or a string) or null; below `.info`, nothing is imported.
     */
    [[nodiscard]] static bool fromJsonText(const QByteArray &json, const Path &at, Node *out, QString *error);

    /** base64(SHA-1) as the Firebase SDK computes it; empty for null. */
    [[nodiscard]] const QByteArray &hash() const;

    /** Number of nodes in this subtree, for statistics. */
    [[nodiscard]] qint64 countNodes() const;

private:
    void invalidateHash() const { m_hashValid = false; }
    void pruneIfEmpty();
    /**
     * pathBytes: the UTF-8 bytes of "/a/b" where json goes (Path::byteSize()); the keys below must keep that within
     * 768. -1: not checked.
     */
    static bool fromJsonImpl(const QJsonValue &json, Node *out, QString *error, int depthLeft, qsizetype pathBytes);

    Type m_type = Type::Null;
    bool m_bool = false;
    mutable bool m_hashValid = false;
    double m_number = 0;
    QString m_string;
    QJsonValue m_priority;
    Children m_children;
    mutable QByteArray m_hash;
};

/** Value order of Firebase (orderByValue/orderByChild): null < false < true < numbers < strings < objects. */
[[nodiscard]] int compareValues(const Node *a, const Node *b);
/** Priority order: none < numbers < strings. */
[[nodiscard]] int comparePriorities(const QJsonValue &a, const QJsonValue &b);

/** The text fed to SHA-1 for a priority, as the SDK writes it (e.g. "number:3ff0000000000000"). */
[[nodiscard]] QString priorityHashText(const QJsonValue &priority);

/** Export-format JSON (Node::toJson()) without its priorities: the value as a plain REST read or a stream gives it. */
[[nodiscard]] QJsonValue withoutPriorities(const QJsonValue &exported);

} // namespace lark
