// SPDX-License-Identifier: MIT
#pragma once

#include <QRegularExpression>
#include <QString>

#include <memory>

namespace lark::rules
{

/**
 * Checks a regex literal against the rules dialect (docs/rules.md §6: `^` only first, `$` only last,
 * flag `i` only, the escapes `\s \w \d \S \W \D` and escaped punctuation, no lookarounds or back references) and
 * compiles it. Unanchored unless `^`/`$`; a final `$` means the end of the string, not before a trailing newline.
 * nullptr with the message otherwise.
 */
[[nodiscard]] std::shared_ptr<const QRegularExpression> compileRegex(
    const QString &pattern, const QString &flags, QString *error);

} // namespace lark::rules
