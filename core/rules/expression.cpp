// SPDX-License-Identifier: MIT
// The lexer and the recursive-descent parser of rule expressions: a JavaScript expression subset, with JavaScript's
// precedence. What the language does not have (assignment, `;`, `**`, statements) fails here as "Parse error.".
#include "expression.h"

#include "regex.h"

using namespace Qt::Literals::StringLiterals;

namespace lark::rules
{

namespace
{

// Bounds the recursion on hostile input; no real rule comes close.
constexpr int MaxNesting = 200;

struct Token {
    enum class Kind { End, Number, String, Identifier, Regex, Punct };
    Kind kind = Kind::End;
    QString text; // Punct: the operator; String: the decoded text; Regex: the pattern
    QString flags;
    double number = 0;
    int pos = 0;
};

bool isIdentStart(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || c == u'_' || c == u'$';
}

bool isDigit(QChar c)
{
    return c >= u'0' && c <= u'9';
}

int hexDigit(QChar c)
{
    if (isDigit(c))
        return c.unicode() - u'0';
    if (c >= u'a' && c <= u'f')
        return c.unicode() - u'a' + 10;
    if (c >= u'A' && c <= u'F')
        return c.unicode() - u'A' + 10;
    return -1;
}

bool lex(const QString &s, std::vector<Token> *out, QString *error)
{
    static const QStringList puncts {u"==="_s, u"!=="_s, u"=="_s, u"!="_s, u"<="_s, u">="_s, u"&&"_s, u"||"_s, u"("_s,
        u")"_s, u"["_s, u"]"_s, u"."_s, u","_s, u"?"_s, u":"_s, u"!"_s, u"-"_s, u"+"_s, u"*"_s, u"/"_s, u"%"_s, u"<"_s,
        u">"_s};
    qsizetype i = 0;
    const qsizetype n = s.size();
    const auto at = [&](qsizetype k) { return k < n ? s.at(k) : QChar(); };
    while (i < n) {
        const QChar c = s.at(i);
        if (c.isSpace()) {
            ++i;
            continue;
        }
        Token t;
        t.pos = int(i);
        // A '/' starts a regex only where an operand is expected, as in JavaScript.
        const bool operandExpected = out->empty()
            || (out->back().kind == Token::Kind::Punct && out->back().text != u")"_s && out->back().text != u"]"_s);
        if (isDigit(c) || (c == u'.' && isDigit(at(i + 1)))) {
            const qsizetype start = i;
            while (isDigit(at(i)))
                ++i;
            if (at(i) == u'.') {
                ++i;
                while (isDigit(at(i)))
                    ++i;
            }
            if (at(i) == u'e' || at(i) == u'E') {
                qsizetype k = i + 1;
                if (at(k) == u'+' || at(k) == u'-')
                    ++k;
                if (isDigit(at(k))) {
                    i = k;
                    while (isDigit(at(i)))
                        ++i;
                }
            }
            if (isIdentStart(at(i)))
                return (*error = u"Parse error."_s), false;
            t.kind = Token::Kind::Number;
            t.number = QStringView(s).mid(start, i - start).toDouble();
        } else if (isIdentStart(c)) {
            const qsizetype start = i;
            while (isIdentStart(at(i)) || isDigit(at(i)))
                ++i;
            t.kind = Token::Kind::Identifier;
            t.text = s.mid(start, i - start);
        } else if (c == u'\'' || c == u'"') {
            ++i;
            for (;;) {
                if (i >= n)
                    return (*error = u"Parse error."_s), false;
                const QChar d = s.at(i++);
                if (d == c)
                    break;
                if (d != u'\\') {
                    t.text.append(d);
                    continue;
                }
                const QChar e = at(i++);
                switch (e.unicode()) {
                case u'n':
                    t.text.append(u'\n');
                    break;
                case u't':
                    t.text.append(u'\t');
                    break;
                case u'r':
                    t.text.append(u'\r');
                    break;
                case u'b':
                    t.text.append(u'\b');
                    break;
                case u'f':
                    t.text.append(u'\f');
                    break;
                case u'u': {
                    // Exactly four hex digits: a number parser would also take a sign, "0x" or spaces.
                    char16_t code = 0;
                    for (qsizetype k = i; k < i + 4; ++k) {
                        const int digit = k < n ? hexDigit(s.at(k)) : -1;
                        if (digit < 0)
                            return (*error = u"Invalid escape: '\\u'"_s), false;
                        code = char16_t(code * 16 + digit);
                    }
                    i += 4;
                    t.text.append(QChar(code));
                    break;
                }
                case 0:
                    return (*error = u"Parse error."_s), false;
                default:
                    t.text.append(e);
                }
            }
            t.kind = Token::Kind::String;
        } else if (c == u'/' && operandExpected) {
            ++i;
            bool inClass = false;
            for (;;) {
                if (i >= n || s.at(i) == u'\n')
                    return (*error = u"unterminated regular expression literal"_s), false;
                const QChar d = s.at(i++);
                if (d == u'\\') {
                    if (i >= n)
                        return (*error = u"unterminated regular expression literal"_s), false;
                    t.text.append(d);
                    t.text.append(s.at(i++));
                    continue;
                }
                if (d == u'/' && !inClass)
                    break;
                if (d == u'[')
                    inClass = true;
                else if (d == u']')
                    inClass = false;
                t.text.append(d);
            }
            while (isIdentStart(at(i)) || isDigit(at(i)))
                t.flags.append(s.at(i++));
            t.kind = Token::Kind::Regex;
        } else {
            for (const QString &p : puncts) {
                if (QStringView(s).mid(i).startsWith(p)) {
                    t.kind = Token::Kind::Punct;
                    t.text = p;
                    break;
                }
            }
            if (t.kind != Token::Kind::Punct)
                return (*error = u"Parse error."_s), false;
            // `=` alone, `**`, `&`, `|` and the like are not in the language.
            const QChar next = at(i + t.text.size());
            if ((t.text == u"*"_s && next == u'*') || (next == u'=' && (t.text == u"==="_s || t.text == u"!=="_s)))
                return (*error = u"Parse error."_s), false;
            i += t.text.size();
        }
        out->push_back(std::move(t));
    }
    Token end;
    end.pos = int(n);
    out->push_back(end);
    return true;
}

class Parser
{
public:
    Parser(std::vector<Token> tokens, QString *error)
        : m_t(std::move(tokens))
        , m_error(error)
    {
    }

    std::unique_ptr<Expr> parse()
    {
        auto e = conditional(0);
        if (e && peek().kind != Token::Kind::End)
            return fail();
        return e;
    }

private:
    [[nodiscard]] const Token &peek() const { return m_t[m_i]; }
    [[nodiscard]] bool isPunct(const char16_t *p) const
    {
        return peek().kind == Token::Kind::Punct && peek().text == QStringView(p);
    }
    bool accept(const char16_t *p)
    {
        if (!isPunct(p))
            return false;
        ++m_i;
        return true;
    }
    std::unique_ptr<Expr> fail(const QString &message = u"Parse error."_s)
    {
        if (m_error->isEmpty())
            *m_error = message;
        return nullptr;
    }
    static std::unique_ptr<Expr> make(Expr::Op op, int pos)
    {
        auto e = std::make_unique<Expr>();
        e->op = op;
        e->pos = pos;
        return e;
    }
    static std::unique_ptr<Expr> binary(Expr::Op op, std::unique_ptr<Expr> l, std::unique_ptr<Expr> r)
    {
        auto e = make(op, l->pos);
        e->args.push_back(std::move(l));
        e->args.push_back(std::move(r));
        return e;
    }

    std::unique_ptr<Expr> conditional(int depth)
    {
        if (depth > MaxNesting)
            return fail(u"Expression is nested too deeply."_s);
        auto c = logicalOr(depth);
        if (!c || !accept(u"?"))
            return c;
        auto a = conditional(depth + 1);
        if (!a || !accept(u":"))
            return a ? fail() : nullptr;
        auto b = conditional(depth + 1);
        if (!b)
            return nullptr;
        auto e = make(Expr::Op::Cond, c->pos);
        e->args.push_back(std::move(c));
        e->args.push_back(std::move(a));
        e->args.push_back(std::move(b));
        return e;
    }

    // One left-associative level: operands from next, joined by the operators of ops.
    template<typename Next>
    std::unique_ptr<Expr> level(std::initializer_list<std::pair<const char16_t *, Expr::Op>> ops, int depth, Next next)
    {
        auto l = (this->*next)(depth);
        while (l) {
            bool matched = false;
            for (const auto &[text, op] : ops) {
                if (accept(text)) {
                    auto r = (this->*next)(depth);
                    if (!r)
                        return nullptr;
                    l = binary(op, std::move(l), std::move(r));
                    matched = true;
                    break;
                }
            }
            if (!matched)
                break;
        }
        return l;
    }

    std::unique_ptr<Expr> logicalOr(int d) { return level({{u"||", Expr::Op::Or}}, d, &Parser::logicalAnd); }
    std::unique_ptr<Expr> logicalAnd(int d) { return level({{u"&&", Expr::Op::And}}, d, &Parser::equality); }
    std::unique_ptr<Expr> equality(int d)
    {
        return level({{u"===", Expr::Op::Eq}, {u"!==", Expr::Op::Ne}, {u"==", Expr::Op::Eq}, {u"!=", Expr::Op::Ne}}, d,
            &Parser::relational);
    }
    std::unique_ptr<Expr> relational(int d)
    {
        return level({{u"<=", Expr::Op::Le}, {u">=", Expr::Op::Ge}, {u"<", Expr::Op::Lt}, {u">", Expr::Op::Gt}}, d,
            &Parser::additive);
    }
    std::unique_ptr<Expr> additive(int d)
    {
        return level({{u"+", Expr::Op::Add}, {u"-", Expr::Op::Sub}}, d, &Parser::multiplicative);
    }
    std::unique_ptr<Expr> multiplicative(int d)
    {
        return level({{u"*", Expr::Op::Mul}, {u"/", Expr::Op::Div}, {u"%", Expr::Op::Mod}}, d, &Parser::unary);
    }

    std::unique_ptr<Expr> unary(int depth)
    {
        if (depth > MaxNesting)
            return fail(u"Expression is nested too deeply."_s);
        const int pos = peek().pos;
        for (const auto &[text, op] : {std::pair {u"!", Expr::Op::Not}, std::pair {u"-", Expr::Op::Neg}}) {
            if (accept(text)) {
                auto operand = unary(depth + 1);
                if (!operand)
                    return nullptr;
                auto e = make(op, pos);
                e->args.push_back(std::move(operand));
                return e;
            }
        }
        return postfix(depth);
    }

    std::unique_ptr<Expr> postfix(int depth)
    {
        auto e = primary(depth);
        while (e) {
            const int pos = peek().pos;
            if (accept(u".")) {
                if (peek().kind != Token::Kind::Identifier)
                    return fail();
                auto m = make(Expr::Op::Member, e->pos);
                m->text = peek().text;
                ++m_i;
                m->args.push_back(std::move(e));
                e = std::move(m);
            } else if (accept(u"[")) {
                auto key = conditional(depth + 1);
                if (!key || !accept(u"]"))
                    return key ? fail() : nullptr;
                auto m = make(Expr::Op::Member, e->pos);
                m->computed = true;
                m->args.push_back(std::move(e));
                m->args.push_back(std::move(key));
                e = std::move(m);
            } else if (accept(u"(")) {
                auto call = make(Expr::Op::Call, pos);
                call->args.push_back(std::move(e));
                if (!accept(u")")) {
                    do {
                        auto arg = conditional(depth + 1);
                        if (!arg)
                            return nullptr;
                        call->args.push_back(std::move(arg));
                    } while (accept(u","));
                    if (!accept(u")"))
                        return fail();
                }
                e = std::move(call);
            } else {
                break;
            }
        }
        return e;
    }

    std::unique_ptr<Expr> primary(int depth)
    {
        const Token &t = peek();
        std::unique_ptr<Expr> e;
        switch (t.kind) {
        case Token::Kind::End:
            return fail();
        case Token::Kind::Number:
            e = make(Expr::Op::Number, t.pos);
            e->number = t.number;
            break;
        case Token::Kind::String:
            e = make(Expr::Op::String, t.pos);
            e->text = t.text;
            break;
        case Token::Kind::Regex: {
            e = make(Expr::Op::Regex, t.pos);
            e->text = t.text;
            QString error;
            e->regex = compileRegex(t.text, t.flags, &error);
            if (!e->regex)
                return fail(error);
            break;
        }
        case Token::Kind::Identifier:
            if (t.text == u"true"_s || t.text == u"false"_s) {
                e = make(Expr::Op::Bool, t.pos);
                e->boolean = t.text == u"true"_s;
            } else if (t.text == u"null"_s) {
                e = make(Expr::Op::Null, t.pos);
            } else {
                e = make(Expr::Op::Identifier, t.pos);
                e->text = t.text;
            }
            break;
        case Token::Kind::Punct:
            if (accept(u"(")) {
                auto inner = conditional(depth + 1);
                if (!inner || !accept(u")"))
                    return inner ? fail() : nullptr;
                return inner;
            }
            if (accept(u"[")) {
                // Only hasChildren() takes one; the type check refuses it anywhere else.
                e = make(Expr::Op::Array, t.pos);
                if (!accept(u"]")) {
                    do {
                        auto item = conditional(depth + 1);
                        if (!item)
                            return nullptr;
                        e->args.push_back(std::move(item));
                    } while (accept(u","));
                    if (!accept(u"]"))
                        return fail();
                }
                return e;
            }
            return fail();
        }
        ++m_i;
        return e;
    }

    std::vector<Token> m_t;
    size_t m_i = 0;
    QString *m_error;
};

} // namespace

namespace detail
{
std::unique_ptr<Expr> parseExpression(const QString &source, QString *error)
{
    std::vector<Token> tokens;
    if (!lex(source, &tokens, error))
        return nullptr;
    return Parser(std::move(tokens), error).parse();
}
} // namespace detail

std::unique_ptr<Expr> compileExpression(const QString &source, RuleKind kind, const QStringList &scope, QString *error)
{
    error->clear();
    auto e = detail::parseExpression(source, error);
    if (!e) {
        if (error->isEmpty())
            *error = u"Parse error."_s;
        return nullptr;
    }
    if (!detail::typeCheck(e.get(), kind, scope, error))
        return nullptr;
    return e;
}

} // namespace lark::rules
