// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QString>

#include <utility>
#include <vector>

namespace lark::rules
{

struct LoadError;

/** A position in the rules source, 1-based, columns in UTF-16 units of the decoded text. */
struct SourcePos {
    int line = 1;
    int column = 1;
};

/** One value of the rules file as parsed, with where it started; objects keep their keys in file order. */
struct FileValue {
    enum class Type { Null, Bool, Number, String, Array, Object };
    struct Member;

    Type type = Type::Null;
    SourcePos pos;
    bool boolean = false;
    /** Number: the literal as written (re-serialised as is). String: the decoded text. */
    QString text;
    std::vector<FileValue> items;
    std::vector<Member> members;
};

struct FileValue::Member {
    QString key;
    SourcePos keyPos;
    FileValue value;
};

/**
 * Parses the emulator's rules dialect (docs/rules.md §2): JSON with comments, trailing commas and raw
 * line breaks or tabs inside strings. The top level is not checked here. False with the first error.
 */
[[nodiscard]] bool parseRulesFile(const QString &source, FileValue *out, LoadError *error);

/** value as compact strict JSON, keys in file order. */
[[nodiscard]] QByteArray toStrictJson(const FileValue &value);

} // namespace lark::rules
