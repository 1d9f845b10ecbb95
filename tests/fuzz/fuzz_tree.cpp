// SPDX-License-Identifier: MIT
// libFuzzer target: writes to the data tree through the server's own validation, with listens watching. Each input
// line is one request: "p <body>" a set, "m <body>" an update, "q <body>" a listen, "n <body>" an unlisten, bodies
// as the SDK sends them ({"p":"/a","d":...}, {"p":"/a","q":{...}}). Writes go through parseRequestPath,
// parseUpdateChildren and buildWriteValue into Database::write, as Connection::handlePut/handleMerge do.
//
// After every accepted write: the written paths read back what was written; the tree keeps the storage limits
// (keys, 32 levels, 768-byte key paths, no empty objects); it exports to JSON text that reads back as an equal tree;
// and every push a listen got is a valid v5 data message.

#include "db/database.h"
#include "db/validation.h"
#include "fuzzcheck.h"
#include "protocol/framing.h"
#include "protocol/messages.h"
#include "server/pushencoder.h"

#include <QJsonArray>

using namespace lark;
using namespace Qt::Literals::StringLiterals;

namespace
{

constexpr qint64 Now = 1700000000000; // server values resolve to a fixed time, so every run is the same

/** The payloads of unmasked, final text frames as a server writes them (RFC 6455 §5.2). */
protocol::Frames unframe(const QList<QByteArray> &wire)
{
    protocol::Frames payloads;
    for (const QByteArray &frame : wire) {
        LARK_FUZZ_CHECK(frame.size() >= 2 && quint8(frame[0]) == 0x81 && !(quint8(frame[1]) & 0x80), QString());
        qsizetype at = 2;
        quint64 length = quint8(frame[1]) & 0x7f;
        const int extra = length == 126 ? 2 : length == 127 ? 8 : 0;
        if (extra) {
            length = 0;
            for (int i = 0; i < extra; ++i)
                length = (length << 8) | quint8(frame[at++]);
        }
        LARK_FUZZ_CHECK(quint64(frame.size() - at) == length, QString());
        payloads.append(frame.mid(at));
    }
    return payloads;
}

class Sink : public ListenerSink
{
public:
    int pushes = 0;
    PushEncoder encoder;
    void deliver(const SharedEvent &event) override
    {
        ++pushes;
        // Encoded as the server sends it; the split must join back to one message the SDK can read.
        const protocol::Frames frames = unframe(encoder.wireFrames(event));
        LARK_FUZZ_CHECK(!frames.isEmpty(), QString());
        QByteArray message;
        if (frames.size() == 1) {
            message = frames.first();
        } else {
            LARK_FUZZ_CHECK(frames.first().toInt() == frames.size() - 1, QString::fromUtf8(frames.first()));
            for (qsizetype i = 1; i < frames.size(); ++i) {
                LARK_FUZZ_CHECK(frames[i].size() <= protocol::MaxFrameBytes, QString());
                message += frames[i];
            }
        }
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(message, &pe);
        LARK_FUZZ_CHECK(pe.error == QJsonParseError::NoError, QString::fromUtf8(message));
        const QJsonObject d = doc.object().value(u"d"_s).toObject();
        const QString action = d.value(u"a"_s).toString();
        LARK_FUZZ_CHECK(
            doc.object().value(u"t"_s) == u"d"_s && (action == u"d"_s || action == u"m"_s), QString::fromUtf8(message));
        Path path;
        QString error;
        LARK_FUZZ_CHECK(Path::parse(d.value(u"b"_s).toObject().value(u"p"_s).toString(), &path, &error),
            QString::fromUtf8(message));
    }
};

/** What reading abs gives after the batch: the value, or for a trailing .priority the priority as a leaf. */
QByteArray readBack(const Database &db, const Path &abs)
{
    return db.root().valueAt(abs).hash();
}

void write(Database &db, bool update, const QJsonObject &b)
{
    Path path;
    Refusal refusal;
    if (!parseRequestPath(b, true, &path, &refusal))
        return;
    std::vector<std::pair<Path, QJsonValue>> children;
    if (update) {
        if (!parseUpdateChildren(b, path, &children, &refusal))
            return;
    } else {
        if (!b.contains(u"d"_s))
            return;
        children.emplace_back(Path(), b.value(u"d"_s));
    }
    std::vector<Write> writes;
    std::vector<std::pair<Path, QByteArray>> expected; // absolute path, hash it must read back
    for (const auto &[rel, json] : children) {
        Node node;
        QString error;
        if (!buildWriteValue(json, path.child(rel), db.root(), Now, &node, &error))
            return; // the whole request is refused, as Connection refuses it
        const Path abs = path.child(rel);
        if (!abs.isRoot() && abs.back() == u".priority"_s) {
            // Only the number or string is kept as the priority (a priority has no priority of its own).
            const Node leaf = node.type() == Node::Type::Number
                ? Node::fromNumber(node.number())
                : (node.type() == Node::Type::String ? Node::fromString(node.string()) : Node());
            expected.emplace_back(abs, leaf.hash());
        } else {
            expected.emplace_back(abs, node.hash());
        }
        writes.push_back({rel, std::move(node)});
    }
    if (writes.empty())
        return;
    QString error;
    LARK_FUZZ_CHECK(db.write(path, std::move(writes), {WriteOrigin::Kind::Client, QString()}, &error), error);
    for (const auto &[abs, hash] : expected) {
        if (!abs.isRoot() && abs.back() == u".priority"_s) {
            // A priority sticks to a node that exists after the batch; on an empty one it is dropped (as the SDK's
            // CompoundWrite applies it: after the batch's other writes, and only where the node is not empty).
            const Node *owner = db.root().at(abs.parent());
            LARK_FUZZ_CHECK(!owner || readBack(db, abs) == hash, abs.toString());
            continue;
        }
        LARK_FUZZ_CHECK(readBack(db, abs) == hash, abs.toString());
    }
    fuzz::checkTree(db.root(), Path());
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
    Database db(u"fuzz"_s);
    Sink sink;
    // A default listen at the root and one below: every write is pushed somewhere.
    Query all;
    QString error;
    (void)Query::fromWire({}, &all, &error);
    db.listen(&sink, Path(), all, 0, {});
    db.listen(&sink, Path({u"a"_s}), all, 0, {});
    for (const QByteArray &line : input.split('\n')) {
        if (line.size() < 2 || line.at(1) != ' ')
            continue;
        const QJsonObject b = QJsonDocument::fromJson(line.mid(2)).object();
        switch (line.at(0)) {
        case 'p':
        case 'm':
            write(db, line.at(0) == 'm', b);
            break;
        case 'q':
        case 'n': {
            Path path;
            Refusal refusal;
            Query query;
            if (!parseRequestPath(b, false, &path, &refusal)
                || !Query::fromWire(b.value(u"q"_s).toObject(), &query, &error))
                break;
            if (line.at(0) == 'n') {
                (void)db.unlisten(&sink, path, query.identifier());
                break;
            }
            qint64 tag = 0;
            (void)protocol::toInt64(b.value(u"t"_s), &tag);
            db.listen(&sink, path, query, tag, b.value(u"h"_s).toString().toLatin1());
            break;
        }
        default:
            break;
        }
    }
    fuzz::checkTree(db.root(), Path());
    fuzz::checkRoundTrip(db.root());
    return 0;
}
