// SPDX-License-Identifier: MIT
#pragma once

#include <QRegularExpression>
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

namespace lark::rules
{

/** Which rule an expression belongs to: newData exists only for writes. */
enum class RuleKind { Read, Write, Validate };

/** The built-in methods, resolved when the expression is type-checked. */
enum class Method : quint8 {
    None,
    // RuleDataSnapshot
    Val,
    Child,
    Parent,
    HasChild,
    HasChildren,
    Exists,
    GetPriority,
    IsNumber,
    IsString,
    IsBoolean,
    // String
    Contains,
    BeginsWith,
    EndsWith,
    Replace,
    Matches,
    ToLowerCase,
    ToUpperCase,
};

enum class QueryField : quint8 {
    OrderByKey,
    OrderByPriority,
    OrderByValue,
    OrderByChild,
    StartAt,
    EndAt,
    EqualTo,
    LimitToFirst,
    LimitToLast,
};

/** One node of a compiled expression's syntax tree. */
struct Expr {
    enum class Op : quint8 {
        Null,
        Bool,
        Number,
        String,
        Regex,
        Array,
        Identifier, // before the type check; afterwards one of the variables below
        Auth,
        Now,
        Root,
        Data,
        NewData,
        Query,
        Var,
        Member, // args: object, then the key expression when computed
        QueryMember, // args: query; field
        Call, // args: the callee (a Member), then the arguments; method
        Not,
        Neg,
        Add,
        Sub,
        Mul,
        Div,
        Mod,
        Eq,
        Ne,
        Lt,
        Le,
        Gt,
        Ge,
        And,
        Or,
        Cond,
    };

    Op op = Op::Null;
    bool computed = false; // Member written as [key]
    Method method = Method::None;
    QueryField field = QueryField::OrderByKey;
    int slot = -1; // Var: index of the $var among the path's wildcards, root first
    int pos = 0; // offset in the expression source
    bool boolean = false;
    double number = 0;
    QString text; // string literal, member name, identifier, regex pattern
    QStringList strings; // array literal
    std::shared_ptr<const QRegularExpression> regex; // compiled once at load
    std::vector<std::unique_ptr<Expr>> args;
};

/**
 * Parses and type-checks one rule expression (docs/rules.md §2, §6) in the scope of the $vars
 * declared on its path (root first). Returns nullptr with the production message in *error.
 */
[[nodiscard]] std::unique_ptr<Expr> compileExpression(
    const QString &source, RuleKind kind, const QStringList &scope, QString *error);

// Internals shared by the parser and the type checker.
namespace detail
{
[[nodiscard]] std::unique_ptr<Expr> parseExpression(const QString &source, QString *error);
[[nodiscard]] bool typeCheck(Expr *root, RuleKind kind, const QStringList &scope, QString *error);
} // namespace detail

} // namespace lark::rules
