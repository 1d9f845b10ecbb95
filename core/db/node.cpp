// SPDX-License-Identifier: MIT
#include "node.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstring>
#include <optional>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

namespace
{

const QString MinName = u"[MIN_NAME]"_s;
const QString MaxName = u"[MAX_NAME]"_s;

// The SDK's tryParseInt: /^-?(0*)\d{1,10}$/ and within the 32-bit range.
std::optional<qint64> tryParseInt(const QString &s)
{
    const qsizetype n = s.size();
    if (n == 0 || n > 64)
        return std::nullopt;
    qsizetype i = s.at(0) == u'-' ? 1 : 0;
    qsizetype zeros = 0;
    while (i + zeros < n && s.at(i + zeros) == u'0')
        ++zeros;
    // (0*)\d{1,10}: regex backtracking lets the last zero count as the digit.
    qsizetype digits = n - i - zeros;
    if (digits == 0 && zeros > 0) {
        digits = 1;
        --zeros;
    }
    if (digits < 1 || digits > 10)
        return std::nullopt;
    qint64 v = 0;
    for (qsizetype k = i; k < n; ++k) {
        const QChar c = s.at(k);
        if (c < u'0' || c > u'9')
            return std::nullopt;
        v = v * 10 + (c.unicode() - '0');
        if (v > (qint64(1) << 40))
            return std::nullopt;
    }
    if (i == 1)
        v = -v;
    if (v < -2147483648LL || v > 2147483647LL)
        return std::nullopt;
    return v;
}

QString doubleHex(double d)
{
    quint64 bits;
    static_assert(sizeof bits == sizeof d);
    std::memcpy(&bits, &d, sizeof bits);
    return QString::number(bits, 16).rightJustified(16, u'0');
}

int typeRank(const Node *n)
{
    switch (n ? n->type() : Node::Type::Null) {
    case Node::Type::Null:
        return 0;
    case Node::Type::Bool:
        return 1;
    case Node::Type::Number:
        return 2;
    case Node::Type::String:
        return 3;
    case Node::Type::Object:
        return 4;
    }
    return 0;
}

} // namespace

int compareKeys(const QString &a, const QString &b)
{
    if (a == b)
        return 0;
    if (a == MinName || b == MaxName)
        return -1;
    if (b == MinName || a == MaxName)
        return 1;
    const auto ai = tryParseInt(a);
    const auto bi = tryParseInt(b);
    if (ai) {
        if (!bi)
            return -1;
        if (*ai == *bi) {
            if (a.size() != b.size())
                return a.size() < b.size() ? -1 : 1;
            // "-0" and "00": the SDK's nameCompare calls them equal, which made the tree's map keep one of them
            // (and drop the other's data). As text, they stay two keys; no other pair is ordered differently.
            return a < b ? -1 : 1;
        }
        return *ai < *bi ? -1 : 1;
    }
    if (bi)
        return 1;
    return a < b ? -1 : 1;
}

int compareValues(const Node *a, const Node *b)
{
    const int ra = typeRank(a), rb = typeRank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (a ? a->type() : Node::Type::Null) {
    case Node::Type::Bool:
        return int(a->boolValue()) - int(b->boolValue());
    case Node::Type::Number:
        return a->number() < b->number() ? -1 : (a->number() > b->number() ? 1 : 0);
    case Node::Type::String:
        return a->string() < b->string() ? -1 : (a->string() > b->string() ? 1 : 0);
    default:
        return 0; // nulls are equal, and so are objects: the key breaks the tie
    }
}

int comparePriorities(const QJsonValue &a, const QJsonValue &b)
{
    auto rank = [](const QJsonValue &v) { return v.isDouble() ? 1 : (v.isString() ? 2 : 0); };
    const int ra = rank(a), rb = rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (ra == 1)
        return a.toDouble() < b.toDouble() ? -1 : (a.toDouble() > b.toDouble() ? 1 : 0);
    if (ra == 2)
        return a.toString() < b.toString() ? -1 : (a.toString() > b.toString() ? 1 : 0);
    return 0;
}

QString priorityHashText(const QJsonValue &priority)
{
    if (priority.isDouble())
        return u"number:"_s + doubleHex(priority.toDouble());
    return u"string:"_s + priority.toString();
}

Node Node::fromBool(bool b)
{
    Node n;
    n.m_type = Type::Bool;
    n.m_bool = b;
    return n;
}

Node Node::fromNumber(double d)
{
    Node n;
    n.m_type = Type::Number;
    n.m_number = d;
    return n;
}

Node Node::fromString(QString s)
{
    Node n;
    n.m_type = Type::String;
    n.m_string = std::move(s);
    return n;
}

Node Node::clone() const
{
    Node n;
    n.m_type = m_type;
    n.m_bool = m_bool;
    n.m_number = m_number;
    n.m_string = m_string;
    n.m_priority = m_priority;
    for (const auto &[key, child] : m_children)
        n.m_children.emplace(key, std::make_unique<Node>(child->clone()));
    n.m_hash = m_hash;
    n.m_hashValid = m_hashValid;
    return n;
}

void Node::setPriority(const QJsonValue &priority)
{
    if (m_type == Type::Null)
        return;
    m_priority = (priority.isDouble() || priority.isString()) ? priority : QJsonValue();
    if (priority.isDouble() && priority.toDouble() == 0)
        m_priority = 0.0; // not -0, as for numbers read from JSON
    invalidateHash();
}

const Node *Node::child(const QString &key) const
{
    const auto it = m_children.find(key);
    return it == m_children.end() ? nullptr : it->second.get();
}

const Node *Node::at(const Path &rel) const
{
    const Node *n = this;
    for (const QString &key : rel.keys()) {
        n = n->child(key);
        if (!n)
            return nullptr;
    }
    return n->isNull() ? nullptr : n;
}

Node Node::valueAt(const Path &rel) const
{
    if (!rel.isRoot() && rel.back() == u".priority"_s) {
        const Node *owner = at(rel.parent());
        if (!owner || owner->priority().isNull())
            return {};
        return owner->priority().isDouble() ? fromNumber(owner->priority().toDouble())
                                            : fromString(owner->priority().toString());
    }
    const Node *n = at(rel);
    return n ? n->clone() : Node();
}

void Node::pruneIfEmpty()
{
    if (m_type == Type::Object && m_children.empty()) {
        m_type = Type::Null;
        m_priority = QJsonValue();
    }
}

void Node::set(const Path &rel, Node value)
{
    invalidateHash();
    if (rel.isRoot()) {
        *this = std::move(value);
        return;
    }
    const QString &key = rel.front();
    if (rel.size() == 1 && key == u".priority"_s) {
        QJsonValue p;
        if (value.type() == Type::Number)
            p = value.number();
        else if (value.type() == Type::String)
            p = value.string();
        setPriority(p);
        return;
    }
    if (m_type != Type::Object) {
        if (value.isNull())
            return; // deleting below a leaf or null changes nothing
        // A leaf becomes an object; like the SDK, it keeps its priority.
        m_type = Type::Object;
        m_string.clear();
    }
    auto it = m_children.find(key);
    if (it == m_children.end()) {
        if (value.isNull())
            return;
        it = m_children.emplace(key, std::make_unique<Node>()).first;
    }
    it->second->set(rel.mid(1), std::move(value));
    if (it->second->isNull())
        m_children.erase(it);
    pruneIfEmpty();
}

QJsonValue Node::toJson() const
{
    QJsonValue v;
    switch (m_type) {
    case Type::Null:
        return QJsonValue::Null;
    case Type::Bool:
        v = m_bool;
        break;
    case Type::Number:
        v = m_number;
        break;
    case Type::String:
        v = m_string;
        break;
    case Type::Object: {
        QJsonObject o;
        for (const auto &[key, child] : m_children)
            o.insert(key, child->toJson());
        if (!m_priority.isNull())
            o.insert(u".priority"_s, m_priority);
        return o;
    }
    }
    if (m_priority.isNull())
        return v;
    return QJsonObject {{u".value"_s, v}, {u".priority"_s, m_priority}};
}

bool Node::fromJson(const QJsonValue &json, Node *out, QString *error, int maxDepth)
{
    *out = Node();
    return fromJsonImpl(json, out, error, maxDepth, -1);
}

bool Node::fromJsonAt(const QJsonValue &json, const Path &at, Node *out, QString *error)
{
    *out = Node();
    return fromJsonImpl(json, out, error, Path::MaxDepth - at.size(), at.byteSize());
}

bool Node::fromJsonText(const QByteArray &json, const Path &at, Node *out, QString *error)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (pe.error != QJsonParseError::NoError) {
        *error = QStringLiteral("invalid JSON at offset %1: %2").arg(pe.offset).arg(pe.errorString());
        return false;
    }
    // .info is the client's own tree, never stored (docs/semantics.md §7); writes refuse it, and so does an import.
    if (!at.isRoot() && at.front() == u".info"_s) {
        *error = u".info is read-only"_s;
        return false;
    }
    const QJsonValue value = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());
    if (!fromJsonAt(value, at, out, error))
        return false;
    // At a .priority path only a priority may be imported ({".value": 3}): an object would silently clear it.
    if (!at.isRoot() && at.back() == u".priority"_s && out->type() != Type::Null && out->type() != Type::Number
        && out->type() != Type::String) {
        *error = u".priority must be a number, a string or null"_s;
        return false;
    }
    return true;
}

bool Node::fromJsonImpl(const QJsonValue &json, Node *out, QString *error, int depthLeft, qsizetype pathBytes)
{
    switch (json.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return true;
    case QJsonValue::Bool:
        *out = fromBool(json.toBool());
        return true;
    case QJsonValue::Double:
        // -0 from JSON is stored as 0: JSON text (Qt's writer, like JSON.stringify) drops the sign, so a stored -0
        // would read back from an export or the data file as 0, with another hash. (hash() itself keeps the SDK's
        // hash of -0: tst_hash.)
        *out = fromNumber(json.toDouble() == 0 ? 0.0 : json.toDouble());
        return true;
    case QJsonValue::String: {
        QString s = json.toString();
        // Cheap bound first: UTF-8 needs at most 3 bytes per UTF-16 unit.
        if (s.size() * 3 > MaxStringBytes && s.toUtf8().size() > MaxStringBytes) {
            *error = u"string value larger than 10 MiB"_s;
            return false;
        }
        *out = fromString(std::move(s));
        return true;
    }
    case QJsonValue::Array:
    case QJsonValue::Object:
        break;
    }
    if (depthLeft <= 0) {
        *error = u"data nested deeper than 32 levels"_s;
        return false;
    }
    // "/" plus the key, as Path::byteSize() counts: a stored key must stay addressable by a valid path.
    const auto childBytes = [&](QStringView key) -> qsizetype {
        if (pathBytes < 0)
            return -1; // not checked
        const qsizetype bytes = pathBytes + 1 + Path::keyBytes(key);
        if (bytes > Path::MaxPathBytes)
            *error = u"data has a key path longer than 768 bytes"_s;
        return bytes;
    };
    if (json.isArray()) {
        const QJsonArray a = json.toArray();
        Node n;
        n.m_type = Type::Object;
        for (qsizetype i = 0; i < a.size(); ++i) {
            const QString key = QString::number(i);
            const qsizetype bytes = childBytes(key);
            Node c;
            if (bytes > Path::MaxPathBytes || !fromJsonImpl(a.at(i), &c, error, depthLeft - 1, bytes))
                return false;
            if (!c.isNull())
                n.m_children.emplace(key, std::make_unique<Node>(std::move(c)));
        }
        n.pruneIfEmpty();
        *out = std::move(n);
        return true;
    }
    const QJsonObject o = json.toObject();
    QJsonValue priority;
    if (const auto it = o.constFind(u".priority"_s); it != o.constEnd()) {
        priority = it.value();
        if (!priority.isNull() && !priority.isDouble() && !priority.isString()) {
            *error = u".priority must be a number, a string or null"_s;
            return false;
        }
    }
    if (const auto it = o.constFind(u".value"_s); it != o.constEnd()) {
        if (it.value().isObject() || it.value().isArray()) {
            *error = u".value must be a leaf value"_s;
            return false;
        }
        if (!fromJsonImpl(it.value(), out, error, depthLeft, pathBytes))
            return false;
        out->setPriority(priority);
        return true;
    }
    Node n;
    n.m_type = Type::Object;
    for (auto it = o.constBegin(); it != o.constEnd(); ++it) {
        const QString key = it.key();
        if (key == u".priority"_s)
            continue;
        if (key == u".sv"_s) {
            *error = u"unresolved server value"_s;
            return false;
        }
        QString why;
        if (!Path::isValidKey(key, &why)) {
            *error = u"invalid key: "_s + why;
            return false;
        }
        const qsizetype bytes = childBytes(key);
        Node c;
        if (bytes > Path::MaxPathBytes || !fromJsonImpl(it.value(), &c, error, depthLeft - 1, bytes))
            return false;
        if (!c.isNull())
            n.m_children.emplace(key, std::make_unique<Node>(std::move(c)));
    }
    n.pruneIfEmpty();
    n.setPriority(priority);
    *out = std::move(n);
    return true;
}

const QByteArray &Node::hash() const
{
    if (m_hashValid)
        return m_hash;
    QString text;
    if (!m_priority.isNull() && m_type != Type::Null)
        text = u"priority:"_s + priorityHashText(m_priority) + u':';
    switch (m_type) {
    case Type::Null:
        break;
    case Type::Bool:
        text += m_bool ? u"boolean:true"_s : u"boolean:false"_s;
        break;
    case Type::Number:
        text += u"number:"_s + doubleHex(m_number);
        break;
    case Type::String:
        text += u"string:"_s + m_string;
        break;
    case Type::Object: {
        // Children in priority-index order: by priority, then by key.
        std::vector<std::pair<const QString *, const Node *>> order;
        order.reserve(m_children.size());
        for (const auto &[key, child] : m_children)
            order.emplace_back(&key, child.get());
        std::stable_sort(order.begin(), order.end(), [](const auto &a, const auto &b) {
            return comparePriorities(a.second->priority(), b.second->priority()) < 0;
        });
        for (const auto &[key, child] : order) {
            const QByteArray &h = child->hash();
            if (!h.isEmpty())
                text += u':' + *key + u':' + QString::fromLatin1(h);
        }
        break;
    }
    }
    m_hash
        = text.isEmpty() ? QByteArray() : QCryptographicHash::hash(text.toUtf8(), QCryptographicHash::Sha1).toBase64();
    m_hashValid = true;
    return m_hash;
}

qint64 Node::countNodes() const
{
    qint64 n = 1;
    for (const auto &[key, child] : m_children)
        n += child->countNodes();
    return n;
}

QJsonValue withoutPriorities(const QJsonValue &exported)
{
    if (!exported.isObject())
        return exported;
    QJsonObject o = exported.toObject();
    if (o.contains(u".value"_s))
        return o.value(u".value"_s); // a leaf with a priority
    o.remove(u".priority"_s);
    for (auto it = o.begin(); it != o.end(); ++it)
        *it = withoutPriorities(*it);
    return o;
}

} // namespace lark
