// SPDX-License-Identifier: MIT
#include "regex.h"

using namespace Qt::Literals::StringLiterals;

namespace lark::rules
{

namespace
{

bool isEscapable(QChar c)
{
    if (c == u's' || c == u'w' || c == u'd' || c == u'S' || c == u'W' || c == u'D')
        return true;
    // Escaped punctuation stands for itself; letters and digits would be PCRE features the dialect lacks.
    return c.unicode() < 128 && c.isPrint() && !c.isLetterOrNumber() && c != u' ';
}

} // namespace

std::shared_ptr<const QRegularExpression> compileRegex(const QString &pattern, const QString &flags, QString *error)
{
    QRegularExpression::PatternOptions options = QRegularExpression::NoPatternOption;
    for (const QChar f : flags) {
        if (f != u'i') {
            *error = u"regular expressions do not support flags other than i"_s;
            return nullptr;
        }
        options |= QRegularExpression::CaseInsensitiveOption;
    }
    QString out;
    out.reserve(pattern.size() + 2);
    bool inClass = false;
    const qsizetype n = pattern.size();
    for (qsizetype i = 0; i < n; ++i) {
        const QChar c = pattern.at(i);
        if (c == u'\\') {
            if (i + 1 >= n || !isEscapable(pattern.at(i + 1))) {
                *error = u"Invalid regular expression: unsupported escape."_s;
                return nullptr;
            }
            out.append(c);
            out.append(pattern.at(++i));
            continue;
        }
        if (inClass) {
            if (c == u']')
                inClass = false;
            out.append(c);
            continue;
        }
        switch (c.unicode()) {
        case u'[':
            inClass = true;
            out.append(c);
            if (i + 1 < n && pattern.at(i + 1) == u'^')
                out.append(pattern.at(++i));
            // A ']' first in a set is a literal in PCRE but an empty set in JavaScript: keep the two apart.
            if (i + 1 < n && pattern.at(i + 1) == u']') {
                *error = u"Invalid regular expression: empty character set."_s;
                return nullptr;
            }
            break;
        case u'^':
            if (i != 0) {
                *error = u"Invalid regular expression: ^ is only allowed at the start."_s;
                return nullptr;
            }
            out.append(c);
            break;
        case u'$':
            if (i != n - 1) {
                *error = u"Invalid regular expression: $ is only allowed at the end."_s;
                return nullptr;
            }
            out.append(u"\\z"_s); // PCRE's $ would also match before a final newline
            break;
        case u'(':
            if (i + 1 < n && pattern.at(i + 1) == u'?') {
                *error = u"Invalid regular expression: groups with (? are not supported."_s;
                return nullptr;
            }
            [[fallthrough]];
        case u'|':
            // Empty alternatives and groups are refused by production (/^(foo|)$/).
            if (c == u'|' && (i == 0 || (i == 1 && pattern.at(0) == u'^') || pattern.at(i - 1) == u'(')) {
                *error = u"Invalid regular expression: empty alternative."_s;
                return nullptr;
            }
            if (i + 1 >= n || pattern.at(i + 1) == u'|' || pattern.at(i + 1) == u')'
                || (pattern.at(i + 1) == u'$' && i + 2 == n)) {
                *error = u"Invalid regular expression: empty alternative."_s;
                return nullptr;
            }
            out.append(c);
            break;
        default:
            out.append(c);
        }
    }
    if (inClass) {
        *error = u"unterminated regular expression literal"_s;
        return nullptr;
    }
    auto re = std::make_shared<QRegularExpression>(out, options);
    if (!re->isValid()) {
        *error = u"Invalid regular expression: "_s + re->errorString() + u'.';
        return nullptr;
    }
    re->optimize();
    return re;
}

} // namespace lark::rules
