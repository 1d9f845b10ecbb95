// SPDX-License-Identifier: MIT
#include "fuzzoracle.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QStringView>

#include <cmath>

using namespace Qt::Literals::StringLiterals;

const QStringList KnownActions = {u"q"_s, u"l"_s, u"n"_s, u"p"_s, u"m"_s, u"g"_s, u"o"_s, u"om"_s, u"oc"_s, u"auth"_s,
    u"gauth"_s, u"unauth"_s, u"s"_s, u"appcheck"_s, u"unappeck"_s, u"lark.watch"_s};
const QStringList PathActions = {u"q"_s, u"l"_s, u"n"_s, u"p"_s, u"m"_s, u"g"_s, u"o"_s, u"om"_s, u"oc"_s};
const QStringList WriteActions = {u"p"_s, u"m"_s, u"o"_s, u"om"_s};
const QStringList KnownStatuses = {u"ok"_s, u"invalid_request"_s, u"permission_denied"_s, u"datastale"_s,
    u"invalid_token"_s, u"write_failed"_s, u"too_many_ops"_s, u"too_many_listens"_s};

namespace
{

Fate closeWith(int code, const QString &reason)
{
    Fate f;
    f.kind = Fate::Kind::Close;
    f.closeCode = code;
    f.reason = reason;
    return f;
}

} // namespace

QString compact(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

QString shown(const QString &text)
{
    QString s = text.size() > 320 ? text.left(260) + u" …(%1 chars)… "_s.arg(text.size()) + text.right(40) : text;
    for (QChar &c : s) {
        if (c.unicode() < 32)
            c = QChar(0x2400 + c.unicode());
    }
    return s;
}

Fate predict(const QByteArray &utf8)
{
    if (utf8.size() > Cap)
        return closeWith(1009, u"larger than"_s);
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(utf8, &pe);
    if (pe.error != QJsonParseError::NoError)
        return closeWith(1007, u"invalid JSON"_s);
    const QJsonObject msg = doc.object();
    const QJsonValue t = msg.value(u"t"_s);
    if (!doc.isObject() || !msg.value(u"d"_s).isObject() || (t != QJsonValue(u"c"_s) && t != QJsonValue(u"d"_s)))
        return closeWith(1002, u"envelope"_s);
    const QJsonObject d = msg.value(u"d"_s).toObject();
    Fate f;
    if (t == QJsonValue(u"c"_s)) {
        f.kind = d.value(u"t"_s) == QJsonValue(u"p"_s) ? Fate::Kind::Pong : Fate::Kind::Nothing;
        return f;
    }
    // A request number is an integer a 64-bit counter can hold.
    const QJsonValue r = d.value(u"r"_s);
    const double v = r.toDouble();
    if (!r.isDouble() || std::trunc(v) != v || v < -0x1p63 || v >= 0x1p63)
        return closeWith(1002, u"request number"_s);
    f.kind = Fate::Kind::Reply;
    f.r = v;
    f.action = d.value(u"a"_s);
    f.body = d.value(u"b"_s);
    return f;
}

QString statusFor(const Fate &f)
{
    if (!f.body.isObject() && !f.body.isUndefined() && !f.body.isNull())
        return u"invalid_request"_s;
    const QString action = f.action.toString();
    if (!f.action.isString() || !KnownActions.contains(action))
        return u"invalid_request"_s;
    const QJsonObject b = f.body.toObject();
    if (action == u"s"_s || action == u"appcheck"_s || action == u"unappeck"_s || action == u"unauth"_s)
        return u"ok"_s;
    if (action == u"gauth"_s)
        return b.value(u"cred"_s) == QJsonValue(u"owner"_s) ? u"ok"_s : u"invalid_token"_s;
    if (PathActions.contains(action) && !b.value(u"p"_s).isString())
        return u"invalid_request"_s;
    return {};
}

QString keyProblem(const QString &key)
{
    if (key.isEmpty())
        return u"an empty key"_s;
    for (const QChar c : key) {
        if (c.unicode() < 32 || c.unicode() == 127 || QStringView(u".$#[]/").contains(c))
            return u"key \"%1\" has a forbidden character"_s.arg(shown(key));
    }
    if (key.toUtf8().size() > 768)
        return u"key longer than 768 bytes"_s;
    return {};
}

QString childPath(const QString &path, const QString &key)
{
    return path == u"/"_s ? u"/"_s + key : path + u'/' + key;
}

QString exportProblem(const QJsonValue &v, const QString &path, int depth)
{
    if (depth > 32)
        return path + u": deeper than 32 levels"_s;
    switch (v.type()) {
    case QJsonValue::Bool:
    case QJsonValue::Double:
    case QJsonValue::String:
        return {};
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return path + u": a null leaf"_s;
    case QJsonValue::Array:
        return path + u": an array"_s;
    case QJsonValue::Object:
        break;
    }
    const QJsonObject o = v.toObject();
    if (o.isEmpty())
        return path + u": an empty object"_s;
    if (o.contains(u".priority"_s)) {
        const QJsonValue p = o.value(u".priority"_s);
        if (!p.isDouble() && !p.isString())
            return path + u": a priority that is not a number or a string: "_s
                + shown(QString::fromUtf8(QJsonDocument(QJsonArray {p}).toJson(QJsonDocument::Compact)));
    }
    if (o.contains(u".value"_s)) {
        const QJsonValue leaf = o.value(u".value"_s);
        if (o.size() != 2 || !o.contains(u".priority"_s))
            return path + u": .value without a priority, or with siblings"_s;
        if (!leaf.isBool() && !leaf.isDouble() && !leaf.isString())
            return path + u": .value that is not a leaf"_s;
        return {};
    }
    int children = 0;
    for (auto it = o.constBegin(); it != o.constEnd(); ++it) {
        if (it.key() == u".priority"_s)
            continue;
        ++children;
        const QString at = childPath(path, it.key());
        if (const QString why = keyProblem(it.key()); !why.isEmpty())
            return at + u": "_s + why;
        if (const QString why = exportProblem(it.value(), at, depth + 1); !why.isEmpty())
            return why;
    }
    return children == 0 ? path + u": an object with only a priority"_s : QString();
}

QString nodeProblem(const lark::Node &n, const QString &path, int depth)
{
    if (depth > 32)
        return path + u": deeper than 32 levels"_s;
    const QJsonValue &p = n.priority();
    if (!p.isNull() && !p.isString() && !(p.isDouble() && std::isfinite(p.toDouble())))
        return path + u": a stored priority that is not a finite number or a string"_s;
    switch (n.type()) {
    case lark::Node::Type::Null:
        return path + u": a stored null node"_s;
    case lark::Node::Type::Bool:
    case lark::Node::Type::String:
        return {};
    case lark::Node::Type::Number:
        return std::isfinite(n.number()) ? QString()
                                         : path
                + u": stored number %1 is not finite (JSON cannot carry it: it reads back as null)"_s.arg(n.number());
    case lark::Node::Type::Object:
        break;
    }
    if (n.children().empty())
        return path + u": a stored empty object"_s;
    for (const auto &[key, child] : n.children()) {
        const QString at = childPath(path, key);
        if (const QString why = keyProblem(key); !why.isEmpty())
            return at + u": "_s + why;
        if (const QString why = nodeProblem(*child, at, depth + 1); !why.isEmpty())
            return why;
    }
    return {};
}

bool sameJson(const QJsonValue &a, const QJsonValue &b)
{
    if (a.isObject() && b.isObject()) {
        const QJsonObject x = a.toObject(), y = b.toObject();
        if (x.size() != y.size())
            return false;
        for (auto it = x.constBegin(); it != x.constEnd(); ++it) {
            if (!y.contains(it.key()) || !sameJson(it.value(), y.value(it.key())))
                return false;
        }
        return true;
    }
    if (a.isArray() && b.isArray()) {
        const QJsonArray x = a.toArray(), y = b.toArray();
        if (x.size() != y.size())
            return false;
        for (qsizetype i = 0; i < x.size(); ++i) {
            if (!sameJson(x.at(i), y.at(i)))
                return false;
        }
        return true;
    }
    return a == b; // numbers compare as doubles here
}

QString firstDifference(const QJsonValue &a, const QJsonValue &b, const QString &path)
{
    if (a.isObject() && b.isObject()) {
        const QJsonObject x = a.toObject(), y = b.toObject();
        QStringList keys = x.keys() + y.keys();
        keys.removeDuplicates();
        for (const QString &k : std::as_const(keys)) {
            if (!sameJson(x.value(k), y.value(k)))
                return firstDifference(x.value(k), y.value(k), childPath(path, k));
        }
    }
    const auto text = [](const QJsonValue &v) {
        return shown(QString::fromUtf8(QJsonDocument(QJsonArray {v}).toJson(QJsonDocument::Compact)));
    };
    return u"%1: %2 vs %3"_s.arg(path, text(a), text(b));
}
