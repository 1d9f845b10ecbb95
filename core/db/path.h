// SPDX-License-Identifier: MIT
#pragma once

#include <QString>
#include <QStringList>

namespace lark
{

/**
 * A validated database location: a list of keys, the root being the empty list.
 *
 * Paths follow the Firebase limits (docs/semantics.md §7): at most 32 keys and 768 UTF-8 bytes, keys without
 * `. $ # [ ] /` or control characters. The pseudo-keys `.priority` (last segment only) and `.info` (first segment,
 * never stored) are allowed where the wire format uses them.
 */
class Path
{
public:
    static constexpr int MaxDepth = 32;
    static constexpr int MaxKeyBytes = 768;
    static constexpr int MaxPathBytes = 768;

    Path() = default;
    explicit Path(QStringList keys)
        : m_keys(std::move(keys))
    {
    }

    /** Parses a wire path such as "/a/b" or "a/b/"; empty segments are skipped. Returns false with a reason. */
    [[nodiscard]] static bool parse(const QString &text, Path *out, QString *error);
    /**
     * Parses a multi-segment key of an update below base, e.g. "b/c", into *out (relative to base). It must not be
     * empty, and base plus it must be a valid path as a whole: `.priority` only last, `.info` only first, at most
     * 32 keys and 768 bytes.
     */
    [[nodiscard]] static bool parseRelative(const Path &base, const QString &text, Path *out, QString *error);
    /** Whether a single key is valid for storage. */
    [[nodiscard]] static bool isValidKey(const QString &key, QString *error = nullptr);
    /** The UTF-8 size of a key, without encoding it. */
    [[nodiscard]] static qsizetype keyBytes(QStringView key);

    [[nodiscard]] bool isRoot() const { return m_keys.isEmpty(); }
    [[nodiscard]] int size() const { return int(m_keys.size()); }
    [[nodiscard]] const QStringList &keys() const { return m_keys; }
    [[nodiscard]] const QString &at(int i) const { return m_keys.at(i); }
    [[nodiscard]] const QString &front() const { return m_keys.front(); }
    [[nodiscard]] const QString &back() const { return m_keys.back(); }

    [[nodiscard]] Path child(const QString &key) const;
    [[nodiscard]] Path child(const Path &rel) const;
    [[nodiscard]] Path parent() const;
    /** The path with the first n keys removed. */
    [[nodiscard]] Path mid(int n) const;

    /** True when this is an ancestor of other or equal to it. */
    [[nodiscard]] bool contains(const Path &other) const;
    /** True when one contains the other. */
    [[nodiscard]] bool overlaps(const Path &other) const { return contains(other) || other.contains(*this); }
    /** other relative to this; requires contains(other). */
    [[nodiscard]] Path relativeTo(const Path &ancestor) const { return mid(ancestor.size()); }

    /** "/a/b", or "/" for the root: the wire form. */
    [[nodiscard]] QString toString() const;
    /** UTF-8 bytes of "/a/b" (0 for the root): what the 768-byte limit counts, as the SDK's ValidationPath does. */
    [[nodiscard]] qsizetype byteSize() const;

    bool operator==(const Path &o) const { return m_keys == o.m_keys; }
    bool operator!=(const Path &o) const { return m_keys != o.m_keys; }

private:
    QStringList m_keys;
};

} // namespace lark
