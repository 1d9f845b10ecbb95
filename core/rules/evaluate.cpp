// SPDX-License-Identifier: MIT
// Evaluation of a compiled expression (docs/rules.md §6): a walk of the syntax tree over the old tree
// and the batch's overlay. Every runtime error ends the walk with false.
#include "evaluate.h"

#include <QJsonArray>
#include <QJsonObject>

#include <charconv>
#include <cmath>
#include <optional>

using namespace Qt::Literals::StringLiterals;

namespace lark::rules
{

namespace
{

struct Value {
    enum class Kind : quint8 { Null, Bool, Number, String, Object, Json, Snapshot };
    Kind kind = Kind::Null;
    bool b = false;
    double n = 0;
    QString s;
    std::optional<QJsonValue> json; // Json: an object or array of auth (optional: most values never need one)
    Snapshot snap;

    static Value boolean(bool v)
    {
        Value r;
        r.kind = Kind::Bool;
        r.b = v;
        return r;
    }
    static Value number(double v)
    {
        Value r;
        r.kind = Kind::Number;
        r.n = v;
        return r;
    }
    static Value string(QString v)
    {
        Value r;
        r.kind = Kind::String;
        r.s = std::move(v);
        return r;
    }
    static Value fromJson(const QJsonValue &j)
    {
        switch (j.type()) {
        case QJsonValue::Bool:
            return boolean(j.toBool());
        case QJsonValue::Double:
            return number(j.toDouble());
        case QJsonValue::String:
            return string(j.toString());
        case QJsonValue::Object:
        case QJsonValue::Array: {
            Value r;
            r.kind = Kind::Json;
            r.json = j;
            return r;
        }
        default:
            return Value();
        }
    }
    // Set in place: a rule's intermediate values are overwritten many times per request, and building a whole
    // Value (its string, JSON and snapshot members) for each was a measurable part of a write under rules. The
    // members another kind uses are left as they are; nothing reads them for this kind.
    void setNull() { kind = Kind::Null; }
    void setBool(bool v)
    {
        kind = Kind::Bool;
        b = v;
    }
    void setNumber(double v)
    {
        kind = Kind::Number;
        n = v;
    }
    void setString(QString v)
    {
        kind = Kind::String;
        s = std::move(v);
    }
    static Value snapshot(Snapshot s)
    {
        Value r;
        r.kind = Kind::Snapshot;
        r.snap = std::move(s);
        return r;
    }
};

bool equal(const Value &a, const Value &b)
{
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case Value::Kind::Null:
        return true;
    case Value::Kind::Bool:
        return a.b == b.b;
    case Value::Kind::Number:
        return a.n == b.n;
    case Value::Kind::String:
        return a.s == b.s;
    default:
        return false; // objects are opaque: equal to no primitive, and not comparable with each other
    }
}

class Evaluator
{
public:
    explicit Evaluator(Env &env)
        : m_env(env)
    {
    }

    bool eval(const Expr &e, Value &out)
    {
        switch (e.op) {
        case Expr::Op::Null:
            out.setNull();
            return true;
        case Expr::Op::Bool:
            out.setBool(e.boolean);
            return true;
        case Expr::Op::Number:
            out.setNumber(e.number);
            return true;
        case Expr::Op::String:
            out.setString(e.text);
            return true;
        case Expr::Op::Auth:
            out = Value::fromJson(m_env.auth);
            return true;
        case Expr::Op::Now:
            out.setNumber(double(m_env.now));
            return true;
        case Expr::Op::Root:
            out = Value::snapshot({m_env.chain->oldRoot(), nullptr, m_env.chain->oldRoot(), nullptr, nullptr, 0, {}});
            return true;
        case Expr::Op::Data: {
            Chain &c = *m_env.chain;
            out = Value::snapshot({c.oldRoot(), nullptr, c.oldAt(m_env.depth), nullptr, &c.keys(), m_env.depth, {}});
            return true;
        }
        case Expr::Op::NewData: {
            Chain &c = *m_env.chain;
            if (!c.newRoot())
                return false;
            out = Value::snapshot({c.oldRoot(), c.newRoot(), c.newNodeAt(m_env.depth), c.entryAt(m_env.depth),
                &c.keys(), m_env.depth, {}});
            return true;
        }
        case Expr::Op::Var:
            out.setString(m_env.bindings->at(e.slot));
            return true;
        case Expr::Op::QueryMember:
            return queryMember(e.field, out);
        case Expr::Op::Member:
            return member(e, out);
        case Expr::Op::Call:
            return call(e, out);
        case Expr::Op::Not:
            if (!eval(*e.args[0], out) || out.kind != Value::Kind::Bool)
                return false;
            out.b = !out.b;
            return true;
        case Expr::Op::Neg:
            if (!eval(*e.args[0], out) || out.kind != Value::Kind::Number)
                return false;
            out.n = -out.n;
            return true;
        case Expr::Op::And:
        case Expr::Op::Or:
            // JavaScript's short circuit: the right side is not evaluated, so it cannot error.
            if (!eval(*e.args[0], out) || out.kind != Value::Kind::Bool)
                return false;
            if (out.b == (e.op == Expr::Op::Or))
                return true;
            return eval(*e.args[1], out) && out.kind == Value::Kind::Bool;
        case Expr::Op::Cond:
            if (!eval(*e.args[0], out) || out.kind != Value::Kind::Bool)
                return false;
            return eval(*e.args[out.b ? 1 : 2], out);
        default:
            return binary(e, out);
        }
    }

private:
    bool step()
    {
        ++m_env.steps;
        return !m_env.exhausted();
    }

    bool queryMember(QueryField field, Value &out)
    {
        const QueryVars &q = *m_env.query;
        switch (field) {
        case QueryField::OrderByKey:
            out.setBool(q.orderByKey);
            return true;
        case QueryField::OrderByPriority:
            out.setBool(q.orderByPriority);
            return true;
        case QueryField::OrderByValue:
            out.setBool(q.orderByValue);
            return true;
        case QueryField::OrderByChild:
            out = Value::fromJson(q.orderByChild);
            return true;
        case QueryField::StartAt:
            out = Value::fromJson(q.startAt);
            return true;
        case QueryField::EndAt:
            out = Value::fromJson(q.endAt);
            return true;
        case QueryField::EqualTo:
            out = Value::fromJson(q.equalTo);
            return true;
        case QueryField::LimitToFirst:
            out = Value::fromJson(q.limitToFirst);
            return true;
        case QueryField::LimitToLast:
            out = Value::fromJson(q.limitToLast);
            return true;
        }
        return false;
    }

    bool member(const Expr &e, Value &out)
    {
        if (e.args[0]->op == Expr::Op::Auth && !e.computed) {
            // auth.x, the most common member: straight from the request's auth object, and auth.uid from beside it.
            if (!m_env.auth.isObject())
                out.setNull();
            else if (!m_env.authUid.isEmpty() && e.text == "uid"_L1)
                out.setString(m_env.authUid);
            else
                out = Value::fromJson(m_env.authObject.value(e.text));
            return true;
        }
        Value target;
        if (!eval(*e.args[0], target))
            return false;
        QString name = e.text;
        if (e.computed) {
            Value key;
            if (!eval(*e.args[1], key))
                return false;
            if (key.kind == Value::Kind::String)
                name = key.s;
            else if (key.kind == Value::Kind::Number)
                name = numberToString(key.n);
            else
                return false;
        }
        switch (target.kind) {
        case Value::Kind::Null:
            out.setNull(); // member access on null is null (§0.10)
            return true;
        case Value::Kind::Json:
            if (target.json->isObject()) {
                out = Value::fromJson(target.json->toObject().value(name));
            } else {
                bool ok = false;
                const int i = name.toInt(&ok);
                out = ok ? Value::fromJson(target.json->toArray().at(i)) : Value();
            }
            return true;
        case Value::Kind::String:
            out = name == u"length"_s ? Value::number(double(target.s.size())) : Value();
            return true;
        default:
            // length of a number, a boolean or an object is an error; other members of them are undefined.
            if (name == u"length"_s)
                return false;
            out.setNull();
            return true;
        }
    }

    bool stringArg(const Expr &e, QString *out)
    {
        Value v;
        if (!eval(e, v) || v.kind != Value::Kind::String)
            return false;
        *out = std::move(v.s);
        return true;
    }

    bool child(const Snapshot &from, const QString &path, Snapshot *out)
    {
        *out = from;
        for (const QStringView key : QStringView(path).split(u'/', Qt::SkipEmptyParts)) {
            if (!step())
                return false;
            *out = out->child(key.toString());
        }
        return true;
    }

    bool call(const Expr &e, Value &out)
    {
        Value target;
        if (!eval(*e.args[0]->args[0], target))
            return false;
        if (e.method >= Method::Contains)
            return stringMethod(e, target.kind == Value::Kind::String ? &target.s : nullptr, out);
        if (target.kind != Value::Kind::Snapshot)
            return false;
        const Snapshot &s = target.snap;
        switch (e.method) {
        case Method::Val:
            switch (s.kind()) {
            case Snapshot::Kind::Object:
                out.setNull();
                out.kind = Value::Kind::Object;
                break;
            case Snapshot::Kind::Leaf:
                out = Value::fromJson(leafJson(s.leaf()));
                break;
            case Snapshot::Kind::Null:
                out.setNull();
                break;
            }
            return true;
        case Method::Child:
        case Method::HasChild: {
            QString path;
            Snapshot c;
            if (!stringArg(*e.args[1], &path) || !child(s, path, &c))
                return false;
            out = e.method == Method::Child ? Value::snapshot(std::move(c)) : Value::boolean(c.exists());
            return true;
        }
        case Method::Parent: {
            const QStringList keys = s.keys();
            if (keys.isEmpty() || !step())
                return false;
            Snapshot p {s.oldRoot, s.overlayRoot, s.oldRoot, s.overlayRoot, nullptr, 0, {}};
            for (qsizetype i = 0; i + 1 < keys.size(); ++i)
                p = p.child(keys.at(i));
            out = Value::snapshot(std::move(p));
            return true;
        }
        case Method::HasChildren:
            if (e.args.size() == 1) {
                out.setBool(s.isObject());
                return true;
            }
            for (const auto &item : e.args[1]->args) {
                QString path;
                Snapshot c;
                if (!stringArg(*item, &path) || !child(s, path, &c))
                    return false;
                if (!c.exists()) {
                    out.setBool(false);
                    return true;
                }
            }
            out.setBool(true);
            return true;
        case Method::Exists:
            out.setBool(s.exists());
            return true;
        case Method::GetPriority:
            out = Value::fromJson(s.priority());
            return true;
        case Method::IsNumber:
        case Method::IsString:
        case Method::IsBoolean: {
            const Node *leaf = s.leaf();
            const Node::Type want = e.method == Method::IsNumber ? Node::Type::Number
                : e.method == Method::IsString                   ? Node::Type::String
                                                                 : Node::Type::Bool;
            out.setBool(leaf && leaf->type() == want);
            return true;
        }
        default:
            return false;
        }
    }

    bool stringMethod(const Expr &e, const QString *s, Value &out)
    {
        if (!s)
            return false; // a string method on null or a non-string (§6)
        QString a, b;
        switch (e.method) {
        case Method::Contains:
        case Method::BeginsWith:
        case Method::EndsWith:
            if (!stringArg(*e.args[1], &a))
                return false;
            out.setBool(e.method == Method::Contains ? s->contains(a)
                    : e.method == Method::BeginsWith ? s->startsWith(a)
                                                     : s->endsWith(a));
            return true;
        case Method::Replace:
            if (!stringArg(*e.args[1], &a) || !stringArg(*e.args[2], &b))
                return false;
            out.setString(QString(*s).replace(a, b)); // every occurrence, a plain substring
            return true;
        case Method::Matches:
            out.setBool(e.args[1]->regex->match(*s).hasMatch());
            return true;
        case Method::ToLowerCase:
            out.setString(s->toLower());
            return true;
        case Method::ToUpperCase:
            out.setString(s->toUpper());
            return true;
        default:
            return false;
        }
    }

    bool binary(const Expr &e, Value &out)
    {
        Value l, r;
        if (!eval(*e.args[0], l) || !eval(*e.args[1], r))
            return false;
        const bool numbers = l.kind == Value::Kind::Number && r.kind == Value::Kind::Number;
        switch (e.op) {
        case Expr::Op::Eq:
        case Expr::Op::Ne:
            out.setBool(equal(l, r) == (e.op == Expr::Op::Eq));
            return true;
        case Expr::Op::Add: {
            if (numbers) {
                out.setNumber(l.n + r.n);
                return true;
            }
            const auto text = [](const Value &v, QString *t) {
                if (v.kind == Value::Kind::String)
                    *t = v.s;
                else if (v.kind == Value::Kind::Number)
                    *t = numberToString(v.n);
                else
                    return false;
                return true;
            };
            QString a, b;
            if ((l.kind != Value::Kind::String && r.kind != Value::Kind::String) || !text(l, &a) || !text(r, &b))
                return false;
            out.setString(a + b);
            return true;
        }
        case Expr::Op::Sub:
        case Expr::Op::Mul:
        case Expr::Op::Div:
        case Expr::Op::Mod:
            if (!numbers)
                return false;
            if (e.op == Expr::Op::Sub)
                out.setNumber(l.n - r.n);
            else if (e.op == Expr::Op::Mul)
                out.setNumber(l.n * r.n);
            else if (r.n == 0)
                out.setNumber(std::nan("")); // production: x / 0 is NaN, not Infinity
            else
                out.setNumber(e.op == Expr::Op::Div ? l.n / r.n : std::fmod(l.n, r.n));
            return true;
        default: {
            int c = 0;
            if (numbers) {
                if (std::isnan(l.n) || std::isnan(r.n)) {
                    out.setBool(false);
                    return true;
                }
                c = l.n < r.n ? -1 : (l.n > r.n ? 1 : 0);
            } else if (l.kind == Value::Kind::String && r.kind == Value::Kind::String) {
                c = l.s.compare(r.s); // UTF-16 code units, as JavaScript
            } else {
                return false;
            }
            bool v = false;
            switch (e.op) {
            case Expr::Op::Lt:
                v = c < 0;
                break;
            case Expr::Op::Le:
                v = c <= 0;
                break;
            case Expr::Op::Gt:
                v = c > 0;
                break;
            default:
                v = c >= 0;
            }
            out.setBool(v);
            return true;
        }
        }
    }

    Env &m_env;
};

} // namespace

bool evaluate(const Expr &expr, Env &env)
{
    Value v;
    return Evaluator(env).eval(expr, v) && v.kind == Value::Kind::Bool && v.b;
}

QString numberToString(double d)
{
    if (std::isnan(d))
        return u"NaN"_s;
    if (std::isinf(d))
        return d > 0 ? u"Infinity"_s : u"-Infinity"_s;
    if (d == 0)
        return u"0"_s;
    // Shortest round-trip digits and exponent, then laid out as ECMAScript's Number::toString does.
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(d), std::chars_format::scientific);
    const std::string_view sci(buf, size_t(res.ptr - buf));
    const size_t ePos = sci.find('e');
    std::string digits;
    for (const char c : sci.substr(0, ePos)) {
        if (c != '.')
            digits.push_back(c);
    }
    const int k = int(digits.size());
    const int n = std::atoi(std::string(sci.substr(ePos + 1)).c_str()) + 1;
    std::string out = d < 0 ? "-" : "";
    if (k <= n && n <= 21) {
        out += digits + std::string(size_t(n - k), '0');
    } else if (0 < n && n <= 21) {
        out += digits.substr(0, size_t(n)) + '.' + digits.substr(size_t(n));
    } else if (-6 < n && n <= 0) {
        out += "0." + std::string(size_t(-n), '0') + digits;
    } else {
        out += digits.substr(0, 1);
        if (k > 1)
            out += '.' + digits.substr(1);
        out += 'e';
        out += n - 1 >= 0 ? '+' : '-';
        out += std::to_string(std::abs(n - 1));
    }
    return QString::fromLatin1(out.data(), qsizetype(out.size()));
}

} // namespace lark::rules
