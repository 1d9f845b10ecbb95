// SPDX-License-Identifier: MIT
#include "query.h"

#include <QCryptographicHash>
#include <QJsonDocument>

#include <algorithm>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{

bool parseBound(const QJsonObject &q, const QString &valueKey, const QString &nameKey, const QString &inclusiveKey,
    const QString &defaultName, std::shared_ptr<const Node> *value, QString *name, bool *inclusive, QString *error)
{
    const QJsonValue v = q.value(valueKey);
    if (v.isObject() || v.isArray()) {
        *error = u"query bound must be a leaf value"_s;
        return false;
    }
    Node node;
    if (!Node::fromJson(v, &node, error))
        return false;
    *value = std::make_shared<const Node>(std::move(node));
    const QJsonValue n = q.value(nameKey);
    if (!n.isUndefined() && !n.isNull() && !n.isString()) {
        *error = u"query key bound must be a string"_s;
        return false;
    }
    *name = n.isString() ? n.toString() : defaultName;
    const QJsonValue inc = q.value(inclusiveKey);
    *inclusive = inc.isBool() ? inc.toBool() : true;
    return true;
}

} // namespace

bool Query::fromWire(const QJsonObject &q, Query *out, QString *error)
{
    Query r;
    r.m_identifier = QString::fromUtf8(QJsonDocument(q).toJson(QJsonDocument::Compact));
    const QJsonValue index = q.value(u"i"_s);
    if (index.isUndefined() || index.isNull() || index == u".priority"_s) {
        r.m_index = Index::Priority;
    } else if (index == u".key"_s) {
        r.m_index = Index::Key;
    } else if (index == u".value"_s) {
        r.m_index = Index::Value;
    } else if (index.isString()) {
        r.m_index = Index::Child;
        if (!Path::parse(index.toString(), &r.m_childPath, error))
            return false;
        if (r.m_childPath.isRoot()) {
            *error = u"empty child index"_s;
            return false;
        }
    } else {
        *error = u"query index must be a string"_s;
        return false;
    }
    r.m_hasStart = q.contains(u"sp"_s);
    r.m_hasEnd = q.contains(u"ep"_s);
    if (r.m_hasStart
        && !parseBound(q, u"sp"_s, u"sn"_s, u"sin"_s, u"[MIN_NAME]"_s, &r.m_startValue, &r.m_startName,
            &r.m_startInclusive, error))
        return false;
    if (r.m_hasEnd
        && !parseBound(
            q, u"ep"_s, u"en"_s, u"ein"_s, u"[MAX_NAME]"_s, &r.m_endValue, &r.m_endName, &r.m_endInclusive, error))
        return false;
    if (r.m_index == Index::Key
        && ((r.m_hasStart && r.m_startValue->type() != Node::Type::String)
            || (r.m_hasEnd && r.m_endValue->type() != Node::Type::String))) {
        *error = u"orderByKey bounds must be strings"_s;
        return false;
    }
    if (q.contains(u"l"_s)) {
        const QJsonValue l = q.value(u"l"_s);
        const double d = l.toDouble(-1);
        if (!l.isDouble() || d < 1 || d > 1e9 || d != double(qint64(d))) {
            *error = u"query limit must be a positive integer"_s;
            return false;
        }
        r.m_limit = int(d);
        const QString vf = q.value(u"vf"_s).toString(u"l"_s);
        if (vf != u"l"_s && vf != u"r"_s) {
            *error = u"query vf must be \"l\" or \"r\""_s;
            return false;
        }
        r.m_limitFromEnd = vf == u"r"_s;
    }
    *out = std::move(r);
    return true;
}

int Query::compare(const Entry &a, const Entry &b) const
{
    int c = 0;
    switch (m_index) {
    case Index::Key:
        break;
    case Index::Priority:
        c = comparePriorities(a.second->priority(), b.second->priority());
        break;
    case Index::Value:
        c = compareValues(a.second, b.second);
        break;
    case Index::Child:
        c = compareValues(a.second->at(m_childPath), b.second->at(m_childPath));
        break;
    }
    return c != 0 ? c : compareKeys(*a.first, *b.first);
}

// Compares a child with a bound the way the SDK compares it with index.makePost(value, name).
int Query::compareToBound(const Entry &e, const Node &value, const QString &name) const
{
    int c = 0;
    switch (m_index) {
    case Index::Key:
        return compareKeys(*e.first, value.string());
    case Index::Priority: {
        QJsonValue p;
        if (value.type() == Node::Type::Number)
            p = value.number();
        else if (value.type() == Node::Type::String)
            p = value.string();
        c = comparePriorities(e.second->priority(), p);
        break;
    }
    case Index::Value:
        c = compareValues(e.second, value.isNull() ? nullptr : &value);
        break;
    case Index::Child:
        c = compareValues(e.second->at(m_childPath), value.isNull() ? nullptr : &value);
        break;
    }
    return c != 0 ? c : compareKeys(*e.first, name);
}

bool Query::afterStart(const Entry &e) const
{
    if (!m_hasStart)
        return true;
    const int c = compareToBound(e, *m_startValue, m_startName);
    return m_startInclusive ? c >= 0 : c > 0;
}

bool Query::beforeEnd(const Entry &e) const
{
    if (!m_hasEnd)
        return true;
    const int c = compareToBound(e, *m_endValue, m_endName);
    return m_endInclusive ? c <= 0 : c < 0;
}

std::vector<Query::Entry> Query::select(const Node *node) const
{
    std::vector<Entry> out;
    if (!node || !node->isObject())
        return out;
    out.reserve(node->children().size());
    for (const auto &[key, child] : node->children()) {
        Entry e {&key, child.get()};
        if (afterStart(e) && beforeEnd(e))
            out.push_back(e);
    }
    // Children are stored in key order, which is already the key index's order.
    if (m_index != Index::Key)
        std::sort(out.begin(), out.end(), [this](const Entry &a, const Entry &b) { return compare(a, b) < 0; });
    if (m_limit > 0 && out.size() > size_t(m_limit)) {
        if (m_limitFromEnd)
            out.erase(out.begin(), out.end() - m_limit);
        else
            out.resize(size_t(m_limit));
    }
    return out;
}

QJsonValue Query::resultJson(const Node *node) const
{
    const auto entries = select(node);
    if (entries.empty())
        return QJsonValue::Null;
    QJsonObject o;
    for (const auto &[key, child] : entries)
        o.insert(*key, child->toJson());
    return o;
}

QByteArray Query::resultHash(const Node *node) const
{
    auto entries = select(node);
    // The hash walks children in priority order, whatever the query's index.
    std::stable_sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
        const int c = comparePriorities(a.second->priority(), b.second->priority());
        return c != 0 ? c < 0 : compareKeys(*a.first, *b.first) < 0;
    });
    QString text;
    for (const auto &[key, child] : entries) {
        const QByteArray &h = child->hash();
        if (!h.isEmpty())
            text += u':' + *key + u':' + QString::fromLatin1(h);
    }
    if (text.isEmpty())
        return {};
    return QCryptographicHash::hash(text.toUtf8(), QCryptographicHash::Sha1).toBase64();
}

} // namespace lark
