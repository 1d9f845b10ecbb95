// SPDX-License-Identifier: MIT
// Shared by the fuzz targets: what every stored tree must satisfy, checked after each input. A broken invariant is
// reported and aborts, so libFuzzer keeps the input that broke it, as it does for a crash.
#pragma once

#include "db/node.h"
#include "db/path.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace lark::fuzz
{

[[noreturn]] inline void fail(const char *what, const QString &detail = {})
{
    std::fprintf(stderr, "fuzz invariant broken: %s %s\n", what, qPrintable(detail.left(2000)));
    std::abort();
}

#define LARK_FUZZ_CHECK(cond, detail)                                                                                  \
    do {                                                                                                               \
        if (!(cond))                                                                                                   \
            ::lark::fuzz::fail(#cond, detail);                                                                         \
    } while (false)

/**
 * Where to split an input of size bytes for the targets that check a stream reads the same however it arrives:
 * a small generator seeded by the control byte, from pieces of 1–7 bytes (control & 2) to pieces of up to 64.
 */
inline std::vector<qsizetype> splitPoints(quint8 control, qsizetype size)
{
    std::vector<qsizetype> cuts;
    quint32 state = control | 0x100u;
    for (qsizetype at = 0;;) {
        state = state * 1103515245u + 12345u;
        at += (control & 2) ? 1 + qsizetype((state >> 16) % 7) : 1 + qsizetype((state >> 16) % 64);
        if (at >= size)
            break;
        cuts.push_back(at);
    }
    return cuts;
}

/** A QCoreApplication for the whole run (Qt objects want one), and the server's logging silenced. */
inline void initQt(int *argc, char ***argv)
{
    static QCoreApplication app(*argc, *argv);
    QLoggingCategory::setFilterRules(QStringLiteral("lark.*=false"));
}

/**
 * The limits every stored node keeps (docs/semantics.md §7): valid keys, at most 32 levels, key paths of at most 768
 * bytes, no empty objects (an object without children is null), priorities only on non-null nodes and only numbers
 * or strings.
 */
inline void checkTree(const Node &node, const Path &at)
{
    LARK_FUZZ_CHECK(at.size() <= Path::MaxDepth, at.toString());
    LARK_FUZZ_CHECK(at.byteSize() <= Path::MaxPathBytes, at.toString());
    const QJsonValue &priority = node.priority();
    LARK_FUZZ_CHECK(
        priority.isNull() || priority.isUndefined() || priority.isDouble() || priority.isString(), at.toString());
    if (node.isNull())
        LARK_FUZZ_CHECK(priority.isNull() || priority.isUndefined(), at.toString());
    if (node.isObject()) {
        LARK_FUZZ_CHECK(!node.children().empty(), at.toString());
        for (const auto &[key, child] : node.children()) {
            LARK_FUZZ_CHECK(Path::isValidKey(key), at.toString() + u'/' + key);
            LARK_FUZZ_CHECK(!child->isNull(), at.toString() + u'/' + key);
            checkTree(*child, at.child(key));
        }
    } else {
        LARK_FUZZ_CHECK(node.children().empty(), at.toString());
    }
}

/**
 * The tree exports to JSON text that reads back as an equal tree: the same JSON and the same SDK hash. This is what
 * the data file, a get and the dashboard's export rely on.
 */
inline void checkRoundTrip(const Node &root)
{
    const QJsonValue json = root.toJson();
    // Wrapped, since a document's top level must be an object.
    const QByteArray text = QJsonDocument(QJsonObject {{QStringLiteral("v"), json}}).toJson(QJsonDocument::Compact);
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(text, &pe);
    LARK_FUZZ_CHECK(pe.error == QJsonParseError::NoError, pe.errorString());
    // (Not compared as QJsonValues: a whole number comes back as an integer, which QJsonObject's == tells apart from
    // the same double.)
    const QJsonValue back = doc.object().value(QStringLiteral("v"));
    Node reread;
    QString error;
    LARK_FUZZ_CHECK(Node::fromJson(back, &reread, &error), error);
    LARK_FUZZ_CHECK(reread.hash() == root.hash(), QString::fromUtf8(text));
    const QByteArray again
        = QJsonDocument(QJsonObject {{QStringLiteral("v"), reread.toJson()}}).toJson(QJsonDocument::Compact);
    LARK_FUZZ_CHECK(again == text, QString::fromUtf8(text + " became " + again));
}

} // namespace lark::fuzz
