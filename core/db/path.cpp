// SPDX-License-Identifier: MIT
#include "path.h"

using namespace Qt::Literals::StringLiterals;

namespace lark
{

// UTF-8 size without encoding: every write parses a path, and the two toUtf8() copies per key showed in its
// profile (docs/performance.md). A lone surrogate counts 3, like the U+FFFD that toUtf8() writes for it.
qsizetype Path::keyBytes(QStringView text)
{
    qsizetype bytes = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t u = text[i].unicode();
        if (u < 0x80) {
            bytes += 1;
        } else if (u < 0x800) {
            bytes += 2;
        } else if (QChar::isHighSurrogate(u) && i + 1 < text.size() && QChar::isLowSurrogate(text[i + 1].unicode())) {
            bytes += 4;
            ++i;
        } else {
            bytes += 3;
        }
    }
    return bytes;
}

bool Path::isValidKey(const QString &key, QString *error)
{
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    if (key.isEmpty())
        return fail(u"empty key"_s);
    for (const QChar c : key) {
        const ushort u = c.unicode();
        if (u < 32 || u == 127)
            return fail(u"key contains a control character"_s);
        switch (u) {
        case '.':
        case '$':
        case '#':
        case '[':
        case ']':
        case '/':
            return fail(u"key \"%1\" contains one of . $ # [ ] /"_s.arg(key.left(64)));
        default:
            break;
        }
    }
    if (key.size() * 3 > MaxKeyBytes && keyBytes(key) > MaxKeyBytes)
        return fail(u"key longer than 768 bytes"_s);
    return true;
}

static bool parseImpl(const QString &text, bool relative, Path *out, QString *error)
{
    const auto parts = QStringView(text).split(u'/', Qt::SkipEmptyParts);
    // Counted like the SDK's ValidationPath: the keys' UTF-8 bytes plus one separator per key, whatever slashes
    // the text has, so "a/b", "/a/b" and "/a/b/" get the same verdict.
    qsizetype bytes = std::max<qsizetype>(1, parts.size());
    for (const QStringView part : parts)
        bytes += Path::keyBytes(part);
    if (bytes > Path::MaxPathBytes) {
        *error = u"path longer than 768 bytes"_s;
        return false;
    }
    QStringList keys;
    keys.reserve(parts.size());
    for (qsizetype i = 0; i < parts.size(); ++i) {
        const QString key = parts[i].toString();
        const bool last = i == parts.size() - 1;
        // `.priority` addresses a node's priority (setPriority), `.info` the client-side info tree.
        const bool pseudo = (last && key == u".priority"_s) || (i == 0 && key == u".info"_s);
        QString why;
        if (!pseudo && !Path::isValidKey(key, &why)) {
            *error = u"invalid path \"%1\": %2"_s.arg(text.left(200), why);
            return false;
        }
        keys.append(key);
    }
    if (keys.size() > Path::MaxDepth) {
        *error = u"path deeper than 32 levels"_s;
        return false;
    }
    if (relative && keys.isEmpty()) {
        *error = u"empty key in update"_s;
        return false;
    }
    *out = Path(std::move(keys));
    return true;
}

bool Path::parse(const QString &text, Path *out, QString *error)
{
    return parseImpl(text, false, out, error);
}

bool Path::parseRelative(const Path &base, const QString &text, Path *out, QString *error)
{
    Path rel;
    if (!parseImpl(text, true, &rel, error))
        return false;
    // Checked joined: "/a/.priority" + "b" or "/a" + ".info" are valid apart, not together.
    Path joined;
    if (!parseImpl(base.toString() + u'/' + text, false, &joined, error))
        return false;
    *out = std::move(rel);
    return true;
}

Path Path::child(const QString &key) const
{
    Path p(*this);
    p.m_keys.append(key);
    return p;
}

Path Path::child(const Path &rel) const
{
    Path p(*this);
    p.m_keys.append(rel.m_keys);
    return p;
}

Path Path::parent() const
{
    Path p(*this);
    if (!p.m_keys.isEmpty())
        p.m_keys.removeLast();
    return p;
}

Path Path::mid(int n) const
{
    return Path(m_keys.mid(n));
}

bool Path::contains(const Path &other) const
{
    if (other.m_keys.size() < m_keys.size())
        return false;
    for (qsizetype i = 0; i < m_keys.size(); ++i) {
        if (m_keys[i] != other.m_keys[i])
            return false;
    }
    return true;
}

qsizetype Path::byteSize() const
{
    qsizetype bytes = m_keys.size();
    for (const QString &k : m_keys)
        bytes += keyBytes(k);
    return bytes;
}

QString Path::toString() const
{
    if (m_keys.isEmpty())
        return u"/"_s;
    QString s;
    for (const QString &k : m_keys) {
        s += u'/';
        s += k;
    }
    return s;
}

} // namespace lark
