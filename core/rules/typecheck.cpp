// SPDX-License-Identifier: MIT
// The load-time type check of rule expressions (docs/rules.md §2): resolves identifiers, $vars,
// methods and query fields in place, and refuses what production refuses, with its messages.
#include "expression.h"

using namespace Qt::Literals::StringLiterals;

namespace lark::rules
{

namespace
{

// Any: a value only known at runtime that may be a map (auth and its members). Value: what val() or getPriority()
// returns, a primitive or an opaque object; it has the string members but no others.
enum class Type { Bool, Number, String, Null, Any, Value, Snapshot, Query, Regex, Array, Method };

struct Typed {
    Type type = Type::Any;
    Method method = Method::None;
};

bool isPrimitive(Type t)
{
    return t == Type::Bool || t == Type::Number || t == Type::String || t == Type::Null || t == Type::Any
        || t == Type::Value;
}

bool isStringLike(Type t)
{
    return t == Type::String || t == Type::Any || t == Type::Value;
}

struct MethodInfo {
    const char16_t *name;
    Method method;
    bool onSnapshot;
};

constexpr MethodInfo methods[] = {
    {u"val", Method::Val, true},
    {u"child", Method::Child, true},
    {u"parent", Method::Parent, true},
    {u"hasChild", Method::HasChild, true},
    {u"hasChildren", Method::HasChildren, true},
    {u"exists", Method::Exists, true},
    {u"getPriority", Method::GetPriority, true},
    {u"isNumber", Method::IsNumber, true},
    {u"isString", Method::IsString, true},
    {u"isBoolean", Method::IsBoolean, true},
    {u"contains", Method::Contains, false},
    {u"beginsWith", Method::BeginsWith, false},
    {u"endsWith", Method::EndsWith, false},
    {u"replace", Method::Replace, false},
    {u"matches", Method::Matches, false},
    {u"toLowerCase", Method::ToLowerCase, false},
    {u"toUpperCase", Method::ToUpperCase, false},
};

Method findMethod(const QString &name, bool onSnapshot)
{
    for (const MethodInfo &m : methods) {
        if (m.onSnapshot == onSnapshot && name == QStringView(m.name))
            return m.method;
    }
    return Method::None;
}

QString methodName(Method method)
{
    for (const MethodInfo &m : methods) {
        if (m.method == method)
            return QString::fromUtf16(m.name);
    }
    return QString();
}

struct QueryInfo {
    const char16_t *name;
    QueryField field;
    Type type;
};

constexpr QueryInfo queryFields[] = {
    {u"orderByKey", QueryField::OrderByKey, Type::Bool},
    {u"orderByPriority", QueryField::OrderByPriority, Type::Bool},
    {u"orderByValue", QueryField::OrderByValue, Type::Bool},
    {u"orderByChild", QueryField::OrderByChild, Type::Any},
    {u"startAt", QueryField::StartAt, Type::Any},
    {u"endAt", QueryField::EndAt, Type::Any},
    {u"equalTo", QueryField::EqualTo, Type::Any},
    {u"limitToFirst", QueryField::LimitToFirst, Type::Any},
    {u"limitToLast", QueryField::LimitToLast, Type::Any},
};

QString opText(Expr::Op op)
{
    switch (op) {
    case Expr::Op::Eq:
        return u"=="_s;
    case Expr::Op::Ne:
        return u"!="_s;
    case Expr::Op::Add:
        return u"+"_s;
    case Expr::Op::Sub:
    case Expr::Op::Neg:
        return u"-"_s;
    case Expr::Op::Mul:
        return u"*"_s;
    case Expr::Op::Div:
        return u"/"_s;
    case Expr::Op::Mod:
        return u"%"_s;
    case Expr::Op::Lt:
        return u"<"_s;
    case Expr::Op::Le:
        return u"<="_s;
    case Expr::Op::Gt:
        return u">"_s;
    case Expr::Op::Ge:
        return u">="_s;
    default:
        return QString();
    }
}

class Checker
{
public:
    Checker(RuleKind kind, const QStringList &scope, QString *error)
        : m_kind(kind)
        , m_scope(scope)
        , m_error(error)
    {
    }

    bool check(Expr *e, Typed *out)
    {
        switch (e->op) {
        case Expr::Op::Null:
            return set(out, Type::Null);
        case Expr::Op::Bool:
            return set(out, Type::Bool);
        case Expr::Op::Number:
            return set(out, Type::Number);
        case Expr::Op::String:
            return set(out, Type::String);
        case Expr::Op::Regex:
            return set(out, Type::Regex);
        case Expr::Op::Array:
            return fail(u"Unexpected array literal."_s);
        case Expr::Op::Identifier:
            return identifier(e, out);
        case Expr::Op::Member:
            return member(e, out);
        case Expr::Op::Call:
            return call(e, out);
        case Expr::Op::Not: {
            Typed t;
            if (!check(e->args[0].get(), &t))
                return false;
            if (t.type != Type::Bool)
                return fail(u"! only operates on booleans."_s);
            return set(out, Type::Bool);
        }
        case Expr::Op::Neg: {
            Typed t;
            if (!check(e->args[0].get(), &t))
                return false;
            if (!isPrimitive(t.type))
                return fail(u"Invalid - expression: operand is not a number."_s);
            return set(out, Type::Number);
        }
        case Expr::Op::And:
        case Expr::Op::Or: {
            const QString op = e->op == Expr::Op::And ? u"&&"_s : u"||"_s;
            Typed l, r;
            if (!check(e->args[0].get(), &l))
                return false;
            if (l.type != Type::Bool)
                return fail(u"Left operand of "_s + op + u" must be boolean."_s);
            if (!check(e->args[1].get(), &r))
                return false;
            if (r.type != Type::Bool)
                return fail(u"Right operand of "_s + op + u" must be boolean."_s);
            return set(out, Type::Bool);
        }
        case Expr::Op::Cond: {
            Typed c, a, b;
            if (!check(e->args[0].get(), &c))
                return false;
            if (c.type != Type::Bool)
                return fail(u"Condition of ?: must be boolean."_s);
            if (!check(e->args[1].get(), &a) || !check(e->args[2].get(), &b))
                return false;
            return set(out, a.type == b.type ? a.type : Type::Any);
        }
        default:
            return binary(e, out);
        }
    }

    bool fail(const QString &message)
    {
        if (m_error->isEmpty())
            *m_error = message;
        return false;
    }

private:
    static bool set(Typed *out, Type t, Method m = Method::None)
    {
        *out = {t, m};
        return true;
    }

    bool identifier(Expr *e, Typed *out)
    {
        const QString &name = e->text;
        if (name == u"auth"_s)
            return e->op = Expr::Op::Auth, set(out, Type::Any);
        if (name == u"now"_s)
            return e->op = Expr::Op::Now, set(out, Type::Number);
        if (name == u"root"_s)
            return e->op = Expr::Op::Root, set(out, Type::Snapshot);
        if (name == u"data"_s)
            return e->op = Expr::Op::Data, set(out, Type::Snapshot);
        if (name == u"query"_s)
            return e->op = Expr::Op::Query, set(out, Type::Query);
        if (name == u"newData"_s) {
            if (m_kind == RuleKind::Read)
                return fail(u"newData is invalid in .read expressions."_s);
            return e->op = Expr::Op::NewData, set(out, Type::Snapshot);
        }
        const qsizetype slot = name.startsWith(u'$') ? m_scope.lastIndexOf(name.mid(1)) : -1;
        if (slot < 0)
            return fail(u"Unknown variable '"_s + name + u"'."_s);
        e->op = Expr::Op::Var;
        e->slot = int(slot);
        return set(out, Type::String);
    }

    bool member(Expr *e, Typed *out)
    {
        Typed target;
        if (!check(e->args[0].get(), &target))
            return false;
        if (e->computed) {
            Expr *key = e->args[1].get();
            if (key->op == Expr::Op::String) {
                // A literal name is the same as `.name`: root["exists"]() is accepted.
                e->text = key->text;
                e->computed = false;
                e->args.pop_back();
            } else if (target.type == Type::Any) {
                Typed k;
                if (!check(key, &k))
                    return false;
                if (!isPrimitive(k.type))
                    return fail(u"Invalid property access: the property name is not a string."_s);
                return set(out, Type::Any);
            } else if (target.type == Type::Snapshot || target.type == Type::String || target.type == Type::Value
                || target.type == Type::Query) {
                return fail(u"Invalid property access: the property name must be a string literal."_s);
            }
        }
        const QString &name = e->text;
        const QString noSuch = u"No such method/property '"_s + name + u"'."_s;
        switch (target.type) {
        case Type::Any: {
            const Method m = findMethod(name, false);
            return m != Method::None ? set(out, Type::Method, m) : set(out, Type::Any);
        }
        case Type::String:
        case Type::Value: {
            if (name == u"length"_s)
                return set(out, Type::Number);
            const Method m = findMethod(name, false);
            return m != Method::None ? set(out, Type::Method, m) : fail(noSuch);
        }
        case Type::Snapshot: {
            const Method m = findMethod(name, true);
            return m != Method::None ? set(out, Type::Method, m) : fail(noSuch);
        }
        case Type::Query:
            for (const QueryInfo &q : queryFields) {
                if (name == QStringView(q.name)) {
                    e->op = Expr::Op::QueryMember;
                    e->field = q.field;
                    return set(out, q.type);
                }
            }
            return fail(noSuch);
        default:
            return fail(u"Invalid property access: target is not an object."_s);
        }
    }

    bool stringArg(Expr *arg, const QString &message)
    {
        Typed t;
        if (!check(arg, &t))
            return false;
        return isStringLike(t.type) || fail(message);
    }

    bool call(Expr *e, Typed *out)
    {
        Typed callee;
        if (!check(e->args[0].get(), &callee))
            return false;
        if (callee.type != Type::Method)
            return fail(u"Type error: Function call on target that is not a function."_s);
        e->method = callee.method;
        const QString name = methodName(callee.method);
        const size_t argc = e->args.size() - 1;
        Expr *arg0 = argc > 0 ? e->args[1].get() : nullptr;
        const auto noArgs
            = [&](Type result) { return argc == 0 ? set(out, result) : fail(name + u"() expects no arguments."_s); };
        const auto oneString = [&](Type result) {
            if (argc != 1)
                return fail(name + u"() expects 1 argument."_s);
            return stringArg(arg0, name + u"() expects a string argument."_s) && set(out, result);
        };
        switch (callee.method) {
        case Method::Val:
        case Method::GetPriority:
            return noArgs(Type::Value);
        case Method::Parent:
            return noArgs(Type::Snapshot);
        case Method::Exists:
        case Method::IsNumber:
        case Method::IsString:
        case Method::IsBoolean:
            return noArgs(Type::Bool);
        case Method::ToLowerCase:
        case Method::ToUpperCase:
            return noArgs(Type::String);
        case Method::Child:
            return oneString(Type::Snapshot);
        case Method::HasChild:
        case Method::Contains:
        case Method::BeginsWith:
        case Method::EndsWith:
            return oneString(Type::Bool);
        case Method::HasChildren: {
            if (argc == 0)
                return set(out, Type::Bool);
            if (argc != 1 || arg0->op != Expr::Op::Array)
                return fail(u"hasChildren() expects only a single argument (containing an array of child names)."_s);
            for (auto &item : arg0->args) {
                Typed t;
                if (item->op == Expr::Op::Array || !check(item.get(), &t) || t.type != Type::String)
                    return fail(u"hasChildren() expects an array of strings."_s);
            }
            return set(out, Type::Bool);
        }
        case Method::Replace:
            if (argc != 2)
                return fail(u"replace() expects two arguments."_s);
            for (size_t i = 1; i <= 2; ++i) {
                Typed t;
                if (e->args[i]->op == Expr::Op::Regex || !check(e->args[i].get(), &t) || !isStringLike(t.type))
                    return fail(u"Argument "_s + QString::number(i) + u" of replace() must be a string."_s);
            }
            return set(out, Type::String);
        case Method::Matches:
            if (argc != 1 || arg0->op != Expr::Op::Regex)
                return fail(u"matches() expects a regular expression literal argument."_s);
            return set(out, Type::Bool);
        case Method::None:
            break;
        }
        return fail(u"Type error: Function call on target that is not a function."_s);
    }

    bool binary(Expr *e, Typed *out)
    {
        Typed l, r;
        if (!check(e->args[0].get(), &l) || !check(e->args[1].get(), &r))
            return false;
        const QString op = opText(e->op);
        switch (e->op) {
        case Expr::Op::Eq:
        case Expr::Op::Ne:
            for (const auto &[t, side] : {std::pair {l.type, u"left"_s}, std::pair {r.type, u"right"_s}}) {
                if (!isPrimitive(t))
                    return fail(u"Invalid "_s + op + u" expression: "_s + side
                        + u" operand is not a number, boolean, string, null."_s);
            }
            return set(out, Type::Bool);
        case Expr::Op::Add:
            for (const auto &[t, side] : {std::pair {l.type, u"left"_s}, std::pair {r.type, u"right"_s}}) {
                if (!isPrimitive(t))
                    return fail(u"Invalid + expression: "_s + side + u" operand is not a number or string."_s);
            }
            if (l.type == Type::Number && r.type == Type::Number)
                return set(out, Type::Number);
            if (l.type == Type::String || r.type == Type::String)
                return set(out, Type::String);
            return set(out, Type::Any);
        case Expr::Op::Lt:
        case Expr::Op::Le:
        case Expr::Op::Gt:
        case Expr::Op::Ge:
            for (const auto &[t, side] : {std::pair {l.type, u"left"_s}, std::pair {r.type, u"right"_s}}) {
                if (!isPrimitive(t))
                    return fail(
                        u"Invalid "_s + op + u" expression: "_s + side + u" operand must be a number or string."_s);
            }
            return set(out, Type::Bool);
        default: // - * / %
            for (const auto &[t, side] : {std::pair {l.type, u"left"_s}, std::pair {r.type, u"right"_s}}) {
                if (!isPrimitive(t))
                    return fail(u"Invalid "_s + op + u" expression: "_s + side + u" operand is not a number."_s);
            }
            return set(out, Type::Number);
        }
    }

    RuleKind m_kind;
    const QStringList &m_scope;
    QString *m_error;
};

} // namespace

namespace detail
{
bool typeCheck(Expr *root, RuleKind kind, const QStringList &scope, QString *error)
{
    Checker checker(kind, scope, error);
    Typed t;
    if (!checker.check(root, &t))
        return false;
    return t.type == Type::Bool || checker.fail(u"Expression must evaluate to a boolean."_s);
}
} // namespace detail

} // namespace lark::rules
