// SPDX-License-Identifier: MIT
#include "rulesfile.h"

#include "ruleset.h"

using namespace Qt::Literals::StringLiterals;

namespace lark::rules
{

namespace
{

// Deeper than any data path (32 keys) can use, shallow enough that the recursion cannot exhaust the stack.
constexpr int MaxNesting = 128;

int hexDigit(QChar c)
{
    const char16_t u = c.unicode();
    if (u >= u'0' && u <= u'9')
        return u - u'0';
    if (u >= u'a' && u <= u'f')
        return u - u'a' + 10;
    if (u >= u'A' && u <= u'F')
        return u - u'A' + 10;
    return -1;
}

class FileParser
{
public:
    explicit FileParser(const QString &source)
        : m_s(source)
    {
    }

    bool parse(FileValue *out, LoadError *error)
    {
        if (!skipSpace() || !value(out, 0) || !skipSpace())
            return report(error);
        if (m_i < m_s.size()) {
            fail(u"Parse error."_s);
            return report(error);
        }
        return true;
    }

private:
    bool report(LoadError *error) const
    {
        if (error)
            *error = LoadError {m_errorPos.line, m_errorPos.column, m_error};
        return false;
    }

    bool fail(const QString &message) { return failAt(pos(), message); }
    bool failAt(SourcePos at, const QString &message)
    {
        if (m_error.isEmpty()) {
            m_error = message;
            m_errorPos = at;
        }
        return false;
    }

    [[nodiscard]] SourcePos pos() const { return {m_line, int(m_i - m_lineStart) + 1}; }
    [[nodiscard]] QChar peek(qsizetype ahead = 0) const
    {
        return m_i + ahead < m_s.size() ? m_s.at(m_i + ahead) : QChar();
    }
    void advance()
    {
        if (m_s.at(m_i) == u'\n') {
            ++m_line;
            m_lineStart = m_i + 1;
        }
        ++m_i;
    }

    // Whitespace and comments between tokens.
    bool skipSpace()
    {
        while (m_i < m_s.size()) {
            const QChar c = peek();
            if (c == u' ' || c == u'\t' || c == u'\n' || c == u'\r') {
                advance();
            } else if (c == u'/' && peek(1) == u'/') {
                while (m_i < m_s.size() && peek() != u'\n')
                    advance();
            } else if (c == u'/' && peek(1) == u'*') {
                const SourcePos start = pos();
                advance();
                advance();
                while (m_i < m_s.size() && !(peek() == u'*' && peek(1) == u'/'))
                    advance();
                if (m_i >= m_s.size())
                    return failAt(start, u"Parse error."_s);
                advance();
                advance();
            } else {
                break;
            }
        }
        return true;
    }

    bool value(FileValue *out, int depth)
    {
        if (depth > MaxNesting)
            return fail(u"Rules are nested too deeply."_s);
        out->pos = pos();
        if (m_i >= m_s.size())
            return fail(u"Parse error."_s);
        const QChar c = peek();
        if (c == u'{')
            return object(out, depth);
        if (c == u'[')
            return array(out, depth);
        if (c == u'"') {
            out->type = FileValue::Type::String;
            return string(&out->text);
        }
        if (c == u',')
            return fail(u"Unexpected ','."_s);
        if (c == u'-' || c.isDigit())
            return number(out);
        for (const auto &[word, type, b] :
            {std::tuple {u"true"_s, FileValue::Type::Bool, true}, std::tuple {u"false"_s, FileValue::Type::Bool, false},
                std::tuple {u"null"_s, FileValue::Type::Null, false}}) {
            if (QStringView(m_s).mid(m_i).startsWith(word)) {
                out->type = type;
                out->boolean = b;
                for (qsizetype k = 0; k < word.size(); ++k)
                    advance();
                return true;
            }
        }
        return fail(u"Parse error."_s);
    }

    bool object(FileValue *out, int depth)
    {
        out->type = FileValue::Type::Object;
        advance(); // {
        bool afterComma = false;
        for (;;) {
            if (!skipSpace())
                return false;
            const QChar c = peek();
            if (c == u'}') {
                advance();
                return true;
            }
            if (c == u',')
                return fail(afterComma ? u"Expected '\"'."_s : u"Unexpected ','."_s);
            if (c != u'"')
                return fail(u"Expected '\"'."_s);
            FileValue::Member m;
            m.keyPos = pos();
            if (!string(&m.key) || !skipSpace())
                return false;
            if (peek() != u':')
                return fail(u"Expected ':'."_s);
            advance();
            if (!skipSpace() || !value(&m.value, depth + 1) || !skipSpace())
                return false;
            out->members.push_back(std::move(m));
            if (peek() == u',') {
                advance();
                afterComma = true;
            } else if (peek() != u'}') {
                return fail(u"Expected ',' or '}'."_s);
            }
        }
    }

    bool array(FileValue *out, int depth)
    {
        out->type = FileValue::Type::Array;
        advance(); // [
        for (;;) {
            if (!skipSpace())
                return false;
            if (peek() == u']') {
                advance();
                return true;
            }
            FileValue item;
            if (!value(&item, depth + 1) || !skipSpace())
                return false;
            out->items.push_back(std::move(item));
            if (peek() == u',')
                advance();
            else if (peek() != u']')
                return fail(u"Expected ',' or ']'."_s);
        }
    }

    bool string(QString *out)
    {
        const SourcePos start = pos();
        advance(); // "
        out->clear();
        for (;;) {
            if (m_i >= m_s.size())
                return failAt(start, u"Parse error."_s);
            const QChar c = peek();
            if (c == u'"') {
                advance();
                return true;
            }
            if (c != u'\\') {
                // Raw line breaks and tabs are part of the dialect: long rules span lines.
                out->append(c);
                advance();
                continue;
            }
            const SourcePos escape = pos();
            advance();
            if (m_i >= m_s.size())
                return failAt(start, u"Parse error."_s);
            const QChar e = peek();
            advance();
            switch (e.unicode()) {
            case u'"':
            case u'\\':
            case u'/':
                out->append(e);
                break;
            case u'b':
                out->append(u'\b');
                break;
            case u'f':
                out->append(u'\f');
                break;
            case u'n':
                out->append(u'\n');
                break;
            case u'r':
                out->append(u'\r');
                break;
            case u't':
                out->append(u'\t');
                break;
            case u'u': {
                uint code = 0;
                bool ok = m_i + 4 <= m_s.size();
                for (qsizetype k = 0; ok && k < 4; ++k) {
                    const int digit = hexDigit(m_s.at(m_i + k));
                    ok = digit >= 0;
                    code = code * 16 + uint(digit);
                }
                if (!ok)
                    return failAt(escape, u"Invalid escape: '\\u'"_s);
                for (int k = 0; k < 4; ++k)
                    advance();
                out->append(QChar(char16_t(code)));
                break;
            }
            default:
                return failAt(escape, u"Invalid escape: '\\"_s + e + u"'"_s);
            }
        }
    }

    bool number(FileValue *out)
    {
        const qsizetype start = m_i;
        if (peek() == u'-')
            advance();
        const auto digits = [this] {
            qsizetype n = 0;
            for (; peek().isDigit() && peek().unicode() < 128; ++n)
                advance();
            return n;
        };
        const bool leadingZero = peek() == u'0';
        const qsizetype intDigits = digits();
        if (intDigits == 0 || (leadingZero && intDigits > 1))
            return fail(u"Parse error."_s);
        if (peek() == u'.') {
            advance();
            if (digits() == 0)
                return fail(u"Parse error."_s);
        }
        if (peek() == u'e' || peek() == u'E') {
            advance();
            if (peek() == u'+' || peek() == u'-')
                advance();
            if (digits() == 0)
                return fail(u"Parse error."_s);
        }
        out->type = FileValue::Type::Number;
        out->text = m_s.mid(start, m_i - start);
        return true;
    }

    const QString &m_s;
    qsizetype m_i = 0;
    qsizetype m_lineStart = 0;
    int m_line = 1;
    QString m_error;
    SourcePos m_errorPos;
};

void appendJsonString(QByteArray *out, const QString &s)
{
    out->append('"');
    for (const QChar c : s) {
        const char16_t u = c.unicode();
        switch (u) {
        case u'"':
            out->append("\\\"");
            break;
        case u'\\':
            out->append("\\\\");
            break;
        case u'\n':
            out->append("\\n");
            break;
        case u'\r':
            out->append("\\r");
            break;
        case u'\t':
            out->append("\\t");
            break;
        default:
            // Surrogates are escaped one by one, so a lone one survives the round trip too.
            if (u < 0x20 || c.isSurrogate())
                out->append(QStringLiteral("\\u%1").arg(uint(u), 4, 16, QChar(u'0')).toLatin1());
            else
                out->append(QString(c).toUtf8());
        }
    }
    out->append('"');
}

void appendJson(QByteArray *out, const FileValue &v)
{
    switch (v.type) {
    case FileValue::Type::Null:
        out->append("null");
        break;
    case FileValue::Type::Bool:
        out->append(v.boolean ? "true" : "false");
        break;
    case FileValue::Type::Number:
        out->append(v.text.toLatin1());
        break;
    case FileValue::Type::String:
        appendJsonString(out, v.text);
        break;
    case FileValue::Type::Array:
        out->append('[');
        for (size_t i = 0; i < v.items.size(); ++i) {
            if (i)
                out->append(',');
            appendJson(out, v.items[i]);
        }
        out->append(']');
        break;
    case FileValue::Type::Object:
        out->append('{');
        for (size_t i = 0; i < v.members.size(); ++i) {
            if (i)
                out->append(',');
            appendJsonString(out, v.members[i].key);
            out->append(':');
            appendJson(out, v.members[i].value);
        }
        out->append('}');
        break;
    }
}

} // namespace

bool parseRulesFile(const QString &source, FileValue *out, LoadError *error)
{
    return FileParser(source).parse(out, error);
}

QByteArray toStrictJson(const FileValue &value)
{
    QByteArray out;
    appendJson(&out, value);
    return out;
}

} // namespace lark::rules
