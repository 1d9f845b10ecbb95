// SPDX-License-Identifier: MIT
// libFuzzer target: a rules file (the emulator's dialect) through Ruleset::compile, and when it compiles, reads and
// writes evaluated on a small fixed tree as an authenticated and an anonymous caller.
//
// Checked: nothing crashes or hangs on any source; a compiled file's strictJson() compiles again to the same
// strictJson() (the parsed form round-trips); a refusal has a 1-based position and a message.

#include "fuzzcheck.h"
#include "rules/ruleset.h"

#include <QJsonDocument>
#include <QJsonObject>

using namespace lark;
using namespace lark::rules;
using namespace Qt::Literals::StringLiterals;

namespace
{
Node *tree = nullptr;
std::vector<Path> *paths = nullptr;
} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz::initQt(argc, argv);
    tree = new Node();
    QString error;
    const QByteArray json = R"({"users":{"alice":{"name":"Alice","age":30,"tags":{"a":true}},"bob":{"name":"Bob"}},
        "presence":{"alice":true},"counter":{".value":5,".priority":1},"s":"text"})";
    if (!Node::fromJson(QJsonDocument::fromJson(json).object(), tree, &error))
        fuzz::fail("fixed tree", error);
    paths = new std::vector<Path>;
    for (const QString &text : {u"/"_s, u"/users/alice"_s, u"/users/carol/name"_s, u"/presence/alice"_s, u"/s"_s}) {
        Path p;
        (void)Path::parse(text, &p, &error);
        paths->push_back(p);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray source(reinterpret_cast<const char *>(data), qsizetype(size));
    LoadError error;
    Limits limits;
    limits.maxEvaluationSteps = 2000; // keeps each input fast; the limit itself is part of what is fuzzed
    const auto rules = Ruleset::compile(source, &error, limits);
    if (!rules) {
        LARK_FUZZ_CHECK(error.line >= 1 && error.column >= 1 && !error.message.isEmpty(), error.toString());
        return 0;
    }
    const QByteArray strict = rules->strictJson();
    const auto again = Ruleset::compile(strict, &error, limits);
    LARK_FUZZ_CHECK(again && again->strictJson() == strict, QString::fromUtf8(strict) + u" "_s + error.toString());

    Context anonymous;
    anonymous.now = 1700000000000;
    Context alice = anonymous;
    alice.auth = QJsonObject {{u"uid"_s, u"alice"_s}, {u"provider"_s, u"custom"_s},
        {u"token"_s, QJsonObject {{u"sub"_s, u"alice"_s}, {u"admin"_s, true}}}};
    Query query;
    QString queryError;
    (void)Query::fromWire(
        QJsonObject {{u"i"_s, u"name"_s}, {u"sp"_s, u"A"_s}, {u"ep"_s, u"A"_s}, {u"l"_s, 10}}, &query, &queryError);
    for (const Context *ctx : {&anonymous, &alice}) {
        for (const Path &p : *paths) {
            Denial why;
            (void)rules->canRead(*ctx, *tree, p, Query(), &why);
            (void)rules->canRead(*ctx, *tree, p, query, &why);
            (void)rules->indexOn(p);
            std::vector<Write> set;
            Node value;
            (void)Node::fromJson(QJsonObject {{u"name"_s, u"Carol"_s}, {u"age"_s, 7}}, &value, &queryError);
            set.push_back({Path(), std::move(value)});
            (void)rules->canWrite(*ctx, *tree, p, set, &why);
            // An update: a child, a deep path, a delete and a priority, all in one batch.
            std::vector<Write> update;
            update.push_back({Path(QStringList {u"name"_s}), Node::fromString(u"x"_s)});
            update.push_back({Path(QStringList {u"tags"_s, u"b"_s}), Node::fromBool(true)});
            update.push_back({Path(QStringList {u"age"_s}), Node()});
            update.push_back({Path(QStringList {u"n"_s, u".priority"_s}), Node::fromNumber(2)});
            (void)rules->canWrite(*ctx, *tree, p, update, &why);
        }
    }
    return 0;
}
