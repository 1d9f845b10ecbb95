// SPDX-License-Identifier: MIT
// libFuzzer target: what the server does with a text message before it touches any data. Frames (one per input
// line) go through protocol::FrameAssembler, each joined message through protocol::parseEnvelope, and a request's
// body through the same parsers Connection uses: the path p (Path::parse), the query q (Query::fromWire), an
// update's keys (parseUpdateChildren, so Path::parseRelative and the overlap check), the tag t and r
// (protocol::toInt64). Checked: what these accept is within the limits and reads back the same.

#include "db/query.h"
#include "db/validation.h"
#include "fuzzcheck.h"
#include "protocol/framing.h"
#include "protocol/messages.h"

#include <QJsonArray>

using namespace lark;
using namespace Qt::Literals::StringLiterals;

namespace
{

constexpr qsizetype Cap = 64 * 1024;

void checkPath(const Path &p)
{
    LARK_FUZZ_CHECK(p.size() <= Path::MaxDepth, p.toString());
    LARK_FUZZ_CHECK(p.byteSize() <= Path::MaxPathBytes, p.toString());
    // The wire form parses back to the same path (the server sends it in every push).
    Path again;
    QString error;
    LARK_FUZZ_CHECK(Path::parse(p.toString(), &again, &error), p.toString() + u' ' + error);
    LARK_FUZZ_CHECK(again == p, p.toString());
    for (int i = 0; i < p.size(); ++i) {
        const QString &key = p.at(i);
        const bool pseudo = (i == p.size() - 1 && key == u".priority"_s) || (i == 0 && key == u".info"_s);
        LARK_FUZZ_CHECK(pseudo || Path::isValidKey(key), p.toString());
        // Key order is a strict order: antisymmetric, and equal only for equal keys.
        const QString &other = p.at(0);
        const int ab = compareKeys(key, other), ba = compareKeys(other, key);
        LARK_FUZZ_CHECK((ab > 0) == (ba < 0) && (ab == 0) == (key == other), key + u" vs "_s + other);
    }
}

/** A small tree for queries to run on: numeric, string and mixed keys, with priorities and nested children. */
const Node &sampleTree()
{
    static const Node tree = [] {
        Node n;
        QString error;
        const QByteArray json = R"({"1":{"a":1,".priority":2},"2":"x","10":{"a":"b"},"-1":true,"a":{"a":null,"b":3},
            "b":{".value":4,".priority":"p"},"c":{"a":{"b":1}},"01":2.5,"z":false})";
        if (!Node::fromJsonText(json, Path(), &n, &error))
            fuzz::fail("sample tree", error);
        return n;
    }();
    return tree;
}

void checkQuery(const QJsonObject &q)
{
    Query query;
    QString error;
    if (!Query::fromWire(q, &query, &error))
        return;
    Query again;
    LARK_FUZZ_CHECK(Query::fromWire(q, &again, &error), error);
    LARK_FUZZ_CHECK(again.identifier() == query.identifier(), query.identifier());
    const std::vector<Query::Entry> window = query.select(&sampleTree());
    for (size_t i = 1; i < window.size(); ++i)
        LARK_FUZZ_CHECK(query.compare(window[i - 1], window[i]) < 0, query.identifier());
    const QJsonValue result = query.resultJson(&sampleTree());
    LARK_FUZZ_CHECK(result.isNull() || result.isObject(), query.identifier());
    LARK_FUZZ_CHECK(qsizetype(window.size()) == (result.isObject() ? result.toObject().size() : 0), query.identifier());
    (void)query.resultHash(&sampleTree());
}

void checkInt(const QJsonValue &v)
{
    qint64 n = 0;
    if (protocol::toInt64(v, &n))
        LARK_FUZZ_CHECK(double(n) == v.toDouble(), QString::number(v.toDouble()));
}

void checkRequest(const protocol::Envelope &envelope)
{
    LARK_FUZZ_CHECK(envelope.kind == protocol::Envelope::Kind::Data, QString());
    const QJsonObject b = envelope.body.toObject();
    checkInt(b.value(u"t"_s));
    Path path;
    Refusal refusal;
    for (const bool forWrite : {false, true}) {
        if (!parseRequestPath(b, forWrite, &path, &refusal)) {
            LARK_FUZZ_CHECK(!refusal.status.isEmpty() && !refusal.message.isEmpty(), QString());
            continue;
        }
        checkPath(path);
        if (forWrite)
            LARK_FUZZ_CHECK(path.isRoot() || path.front() != u".info"_s, path.toString());
    }
    if (b.value(u"q"_s).isObject())
        checkQuery(b.value(u"q"_s).toObject());
    if (!parseRequestPath(b, true, &path, &refusal))
        return;
    std::vector<std::pair<Path, QJsonValue>> children;
    if (!parseUpdateChildren(b, path, &children, &refusal)) {
        LARK_FUZZ_CHECK(!refusal.status.isEmpty() && !refusal.message.isEmpty(), QString());
        return;
    }
    for (size_t i = 0; i < children.size(); ++i) {
        const Path &rel = children[i].first;
        LARK_FUZZ_CHECK(!rel.isRoot(), path.toString());
        checkPath(path.child(rel));
        for (size_t j = 0; j < i; ++j)
            LARK_FUZZ_CHECK(!children[j].first.overlaps(rel), rel.toString());
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz::initQt(argc, argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    protocol::FrameAssembler frames(Cap);
    for (const QByteArray &frame : input.split('\n')) {
        QByteArray message;
        const auto result = frames.feed(frame, &message);
        if (result != protocol::FrameAssembler::Result::Message)
            continue;
        LARK_FUZZ_CHECK(message.size() <= Cap, QString::number(message.size()));
        protocol::Envelope envelope;
        QString error;
        const protocol::EnvelopeError e = protocol::parseEnvelope(message, &envelope, &error);
        if (e != protocol::EnvelopeError::None) {
            LARK_FUZZ_CHECK(!error.isEmpty(), QString());
            continue;
        }
        if (envelope.kind == protocol::Envelope::Kind::Data)
            checkRequest(envelope);
    }
    return 0;
}
