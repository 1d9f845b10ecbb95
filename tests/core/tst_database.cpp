// SPDX-License-Identifier: MIT
#include "testvalues.h"

#include "db/database.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

namespace
{

Query query(const QString &text)
{
    Query q;
    QString error;
    if (!Query::fromWire(json(text).toObject(), &q, &error))
        qFatal("bad test query: %s", qPrintable(error));
    return q;
}

std::vector<Write> one(const QString &at, const QString &value)
{
    std::vector<Write> w;
    w.push_back({path(at), node(value)});
    return w;
}

/** Records the pushes it gets, decoded. */
class Sink : public ListenerSink
{
public:
    struct Push {
        QString action;
        QString path;
        QJsonValue data;
        qint64 tag;
    };
    void deliver(const SharedEvent &event) override
    {
        // Named as the v5 actions they become: d (overwrite) and m (merge).
        pushes.push_back({event->kind == DataEvent::Kind::Merge ? u"m"_s : u"d"_s, event->path.toString(), event->value,
            event->tag});
        events.push_back(event);
    }
    std::vector<Push> take()
    {
        events.clear();
        return std::exchange(pushes, {});
    }
    std::vector<Push> pushes;
    std::vector<SharedEvent> events;
};

const Query Default;

} // namespace

class TestDatabase : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void writeAndRead();
    void listenSendsCurrentValue();
    void listenSkipsKnownHash();
    void pushesOnlyToOverlappingListens();
    void changeAboveListen();
    void batchIsOneMerge();
    void priorityWrite();
    void priorityAppliedAfterChildren();
    void taggedQueryWindow();
    void unlisten();
    void unlistenAmongManyKeepsTheOthers();
    void relistenReplaces();
    void changedSignal();
    void eventsCarryCauseAndAreShared();
};

void TestDatabase::writeAndRead()
{
    Database db(u"ns"_s);
    QCOMPARE(db.name(), u"ns"_s);
    db.write(path(u"/a/b"_s), one(u""_s, uR"({"c":1,"d":{".value":"x",".priority":2}})"_s), {});
    QCOMPARE(db.valueJson(Path()), json(uR"({"a":{"b":{"c":1,"d":{".value":"x",".priority":2}}}})"_s));
    QCOMPARE(db.valueJson(path(u"/a/b/d/.priority"_s)), json(u"2"_s));
    QCOMPARE(db.valueJson(path(u"/nothing"_s)), QJsonValue(QJsonValue::Null));
    QCOMPARE(db.hashAt(path(u"/a/b"_s)), db.root().at(path(u"/a/b"_s))->hash());
    QVERIFY(db.hashAt(path(u"/nothing"_s)).isEmpty());
    db.write(path(u"/a/b/c"_s), one(u""_s, u"null"_s), {});
    db.write(path(u"/a/b/d"_s), one(u""_s, u"null"_s), {});
    QCOMPARE(db.valueJson(Path()), QJsonValue(QJsonValue::Null)); // emptied parents are gone
}

void TestDatabase::listenSendsCurrentValue()
{
    Database db(u"ns"_s);
    db.write(Path(), one(u"/a"_s, uR"({"b":1})"_s), {});
    Sink sink;
    db.listen(&sink, path(u"/a"_s), Default, 0, {});
    auto pushes = sink.take();
    QCOMPARE(pushes.size(), 1u);
    QCOMPARE(pushes[0].action, u"d"_s);
    QCOMPARE(pushes[0].path, u"/a"_s);
    QCOMPARE(pushes[0].data, json(uR"({"b":1})"_s));
    QCOMPARE(pushes[0].tag, 0);
    // An empty location needs no push: the client treats the ok as null (docs/wire-protocol.md §9).
    db.listen(&sink, path(u"/empty"_s), Default, 0, {});
    QVERIFY(sink.take().empty());
    QCOMPARE(db.listenCount(), 2);
}

void TestDatabase::listenSkipsKnownHash()
{
    Database db(u"ns"_s);
    db.write(Path(), one(u"/a"_s, uR"({"b":1})"_s), {});
    Sink sink;
    db.listen(&sink, path(u"/a"_s), Default, 0, db.hashAt(path(u"/a"_s)));
    QVERIFY(sink.take().empty());
    db.listen(&sink, path(u"/a/b"_s), Default, 0, "stale");
    QCOMPARE(sink.take().size(), 1u);
}

void TestDatabase::pushesOnlyToOverlappingListens()
{
    Database db(u"ns"_s);
    Sink root, a, ab, abc, ay, x;
    db.listen(&root, Path(), Default, 0, {});
    db.listen(&a, path(u"/a"_s), Default, 0, {});
    db.listen(&ab, path(u"/a/b"_s), Default, 0, {});
    db.listen(&abc, path(u"/a/b/c"_s), Default, 0, {});
    db.listen(&ay, path(u"/a/y"_s), Default, 0, {});
    db.listen(&x, path(u"/x"_s), Default, 0, {});

    db.write(path(u"/a/b"_s), one(u""_s, uR"({"c":{"d":1},"e":2})"_s), {});
    // Ancestors get the change at its own path; the listen at the path gets it too.
    for (Sink *s : {&root, &a, &ab}) {
        const auto pushes = s->take();
        QCOMPARE(pushes.size(), 1u);
        QCOMPARE(pushes[0].path, u"/a/b"_s);
        QCOMPARE(pushes[0].data, json(uR"({"c":{"d":1},"e":2})"_s));
    }
    // A descendant gets its own new value.
    const auto below = abc.take();
    QCOMPARE(below.size(), 1u);
    QCOMPARE(below[0].path, u"/a/b/c"_s);
    QCOMPARE(below[0].data, json(uR"({"d":1})"_s));
    // Siblings and unrelated paths hear nothing.
    QVERIFY(ay.take().empty());
    QVERIFY(x.take().empty());

    // A write below a listen's sibling reaches only the ancestors.
    db.write(path(u"/a/z/q"_s), one(u""_s, u"true"_s), {});
    QCOMPARE(root.take().size(), 1u);
    QCOMPARE(a.take().size(), 1u);
    QVERIFY(ab.take().empty());
    QVERIFY(abc.take().empty());
    QVERIFY(ay.take().empty());
}

void TestDatabase::changeAboveListen()
{
    Database db(u"ns"_s);
    db.write(Path(), one(u"/a/b/c"_s, u"1"_s), {});
    Sink deep;
    db.listen(&deep, path(u"/a/b/c"_s), Default, 0, {});
    deep.take();
    db.write(path(u"/a"_s), one(u""_s, u"null"_s), {}); // deleting an ancestor deletes the listened value
    const auto pushes = deep.take();
    QCOMPARE(pushes.size(), 1u);
    QCOMPARE(pushes[0].path, u"/a/b/c"_s);
    QVERIFY(pushes[0].data.isNull());
}

void TestDatabase::batchIsOneMerge()
{
    Database db(u"ns"_s);
    Sink root, a, ab, ade;
    db.listen(&root, Path(), Default, 0, {});
    db.listen(&a, path(u"/a"_s), Default, 0, {});
    db.listen(&ab, path(u"/a/b"_s), Default, 0, {});
    db.listen(&ade, path(u"/a/d/e"_s), Default, 0, {});
    // An update at /a: {"b/c": 1, "d": {"e": 2}}.
    std::vector<Write> writes;
    writes.push_back({path(u"b/c"_s), node(u"1"_s)});
    writes.push_back({path(u"d"_s), node(uR"({"e":2})"_s)});
    db.write(path(u"/a"_s), std::move(writes), {});
    QCOMPARE(db.valueJson(path(u"/a"_s)), json(uR"({"b":{"c":1},"d":{"e":2}})"_s));
    // At and above the base: one merge with both changes, relative to the base.
    for (Sink *s : {&root, &a}) {
        const auto pushes = s->take();
        QCOMPARE(pushes.size(), 1u);
        QCOMPARE(pushes[0].action, u"m"_s);
        QCOMPARE(pushes[0].path, u"/a"_s);
        QCOMPARE(pushes[0].data, json(uR"({"b/c":1,"d":{"e":2}})"_s));
    }
    // Below the base each listen sees only the change that concerns it.
    auto pushes = ab.take();
    QCOMPARE(pushes.size(), 1u);
    QCOMPARE(pushes[0].path, u"/a/b/c"_s);
    QCOMPARE(pushes[0].data, json(u"1"_s));
    pushes = ade.take();
    QCOMPARE(pushes.size(), 1u);
    QCOMPARE(pushes[0].path, u"/a/d/e"_s);
    QCOMPARE(pushes[0].data, json(u"2"_s));
}

void TestDatabase::priorityWrite()
{
    Database db(u"ns"_s);
    db.write(Path(), one(u"/a"_s, uR"({"b":1})"_s), {});
    Sink a;
    db.listen(&a, path(u"/a"_s), Default, 0, {});
    a.take();
    QSignalSpy changed(&db, &Database::changed);
    db.write(path(u"/a/.priority"_s), one(u""_s, u"3"_s), {});
    // A priority change is the new value of its node.
    const auto pushes = a.take();
    QCOMPARE(pushes.size(), 1u);
    QCOMPARE(pushes[0].path, u"/a"_s);
    QCOMPARE(pushes[0].data, json(uR"({"b":1,".priority":3})"_s));
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.at(0).at(0).value<QList<Path>>(), QList<Path> {path(u"/a"_s)});
}

void TestDatabase::priorityAppliedAfterChildren()
{
    // Found by fuzz_tree: in key order "x/.priority" came before "x/y", so the priority landed on the still empty x
    // and was dropped. The SDK's CompoundWrite applies a batch's priorities last, on the nodes the batch leaves.
    Database db(u"ns"_s);
    std::vector<Write> writes;
    writes.push_back({path(u"x/.priority"_s), node(u"1"_s)});
    writes.push_back({path(u"x/y"_s), node(u"2"_s)});
    writes.push_back({path(u"z/.priority"_s), node(u"3"_s)});
    writes.push_back({path(u"z/y"_s), node(u"null"_s)});
    db.write(Path(), std::move(writes), {});
    QCOMPARE(db.valueJson(path(u"/x"_s)), json(uR"({"y":2,".priority":1})"_s));
    QCOMPARE(db.valueJson(path(u"/z"_s)), QJsonValue(QJsonValue::Null)); // left empty: no priority to keep
    // Loading the same batch from a data file gives the same tree.
    Database loaded(u"ns"_s);
    std::vector<Write> again;
    again.push_back({path(u"x/.priority"_s), node(u"1"_s)});
    again.push_back({path(u"x/y"_s), node(u"2"_s)});
    loaded.load(Path(), std::move(again));
    QCOMPARE(loaded.root().hash(), db.root().hash());
}

void TestDatabase::taggedQueryWindow()
{
    Database db(u"ns"_s);
    db.write(Path(), one(u"/s"_s, uR"({"a":{"n":1},"b":{"n":2},"c":{"n":3}})"_s), {});
    Sink sink;
    const Query top2 = query(uR"({"l":2,"vf":"r","i":"n"})"_s);
    db.listen(&sink, path(u"/s"_s), top2, 7, {});
    auto pushes = sink.take();
    QCOMPARE(pushes.size(), 1u);
    QCOMPARE(pushes[0].tag, 7);
    QCOMPARE(pushes[0].path, u"/s"_s);
    QCOMPARE(pushes[0].data, json(uR"({"b":{"n":2},"c":{"n":3}})"_s));

    // Outside the window: nothing changes for this query, nothing is pushed.
    db.write(path(u"/s/a/n"_s), one(u""_s, u"0"_s), {});
    QVERIFY(sink.take().empty());
    // A child enters the window: the whole filtered result is pushed again, tagged.
    db.write(path(u"/s/a/n"_s), one(u""_s, u"9"_s), {});
    pushes = sink.take();
    QCOMPARE(pushes.size(), 1u);
    QCOMPARE(pushes[0].tag, 7);
    QCOMPARE(pushes[0].action, u"d"_s);
    QCOMPARE(pushes[0].data, json(uR"({"a":{"n":9},"c":{"n":3}})"_s));

    // A known hash of the window skips the first push, like a default listen.
    Sink other;
    db.listen(&other, path(u"/s"_s), top2, 1, top2.resultHash(db.root().at(path(u"/s"_s))));
    QVERIFY(other.take().empty());
}

void TestDatabase::unlisten()
{
    Database db(u"ns"_s);
    Sink sink;
    const Query q = query(uR"({"l":1,"vf":"l"})"_s);
    db.listen(&sink, path(u"/a"_s), Default, 0, {});
    db.listen(&sink, path(u"/a"_s), q, 3, {});
    QCOMPARE(db.listenCount(), 2);
    QVERIFY(!db.unlisten(&sink, path(u"/b"_s), Default.identifier()));
    QVERIFY(!db.unlisten(&sink, path(u"/a/b"_s), Default.identifier()));
    Sink stranger;
    QVERIFY(!db.unlisten(&stranger, path(u"/a"_s), Default.identifier()));
    QVERIFY(db.unlisten(&sink, path(u"/a"_s), Default.identifier()));
    QCOMPARE(db.listenCount(), 1);
    QVERIFY(!db.unlisten(&sink, path(u"/a"_s), Default.identifier()));
    sink.take();
    db.write(path(u"/a/x"_s), one(u""_s, u"1"_s), {});
    const auto pushes = sink.take();
    QCOMPARE(pushes.size(), 1u); // only the tagged listen is left
    QCOMPARE(pushes[0].tag, 3);
    QVERIFY(db.unlisten(&sink, path(u"/a"_s), q.identifier()));
    QCOMPARE(db.listenCount(), 0);
    db.write(path(u"/a/x"_s), one(u""_s, u"2"_s), {});
    QVERIFY(sink.take().empty());
}

void TestDatabase::unlistenAmongManyKeepsTheOthers()
{
    // A removed listen's place is taken by the last one of its path: every other listen must still be found, and
    // still pushed to, whichever one goes first.
    Database db(u"ns"_s);
    std::vector<Sink> sinks(5);
    for (Sink &s : sinks)
        db.listen(&s, path(u"/p"_s), Default, 0, {});
    QVERIFY(db.unlisten(&sinks[0], path(u"/p"_s), Default.identifier()));
    QVERIFY(db.unlisten(&sinks[2], path(u"/p"_s), Default.identifier()));
    QCOMPARE(db.listenCount(), 3);
    for (Sink &s : sinks)
        s.take();
    db.write(path(u"/p"_s), one(u""_s, u"1"_s), {});
    for (size_t i = 0; i < sinks.size(); ++i)
        QCOMPARE(sinks[i].take().size(), (i == 0 || i == 2) ? 0u : 1u);
    for (size_t i : {4, 1, 3})
        QVERIFY(db.unlisten(&sinks[i], path(u"/p"_s), Default.identifier()));
    QCOMPARE(db.listenCount(), 0);
}

void TestDatabase::relistenReplaces()
{
    Database db(u"ns"_s);
    Sink sink;
    db.listen(&sink, path(u"/a"_s), Default, 0, {});
    db.listen(&sink, path(u"/a"_s), Default, 0, {});
    QCOMPARE(db.listenCount(), 1);
    db.write(path(u"/a"_s), one(u""_s, u"1"_s), {});
    QCOMPARE(sink.take().size(), 1u); // one listen, one push
    // Another sink on the same path and query is another listen.
    Sink other;
    db.listen(&other, path(u"/a"_s), Default, 0, {});
    QCOMPARE(db.listenCount(), 2);
}

void TestDatabase::changedSignal()
{
    Database db(u"ns"_s);
    QSignalSpy changed(&db, &Database::changed);
    std::vector<Write> writes;
    writes.push_back({path(u"x"_s), node(u"1"_s)});
    writes.push_back({path(u"y/z"_s), node(u"2"_s)});
    db.write(path(u"/base"_s), std::move(writes), {WriteOrigin::Kind::OnDisconnect, u"S7"_s});
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.at(0).at(0).value<QList<Path>>(), (QList<Path> {path(u"/base/x"_s), path(u"/base/y/z"_s)}));
    const auto origin = changed.at(0).at(1).value<WriteOrigin>();
    QCOMPARE(origin.kind, WriteOrigin::Kind::OnDisconnect);
    QCOMPARE(origin.session, u"S7"_s);
}

void TestDatabase::eventsCarryCauseAndAreShared()
{
    Database db(u"ns"_s);
    Sink first;
    Sink second;
    Sink below;
    db.listen(&first, path(u"/a"_s), Default, 0, {});
    db.listen(&second, path(u"/a"_s), Default, 0, {});
    db.listen(&below, path(u"/a/b/c"_s), Default, 0, {});
    first.take();
    second.take();
    below.take();
    QCOMPARE(first.events.size(), 0u);

    // A listen's first value has no cause; an existing value sent on listen is not a change.
    db.write(Path(), one(u"/z"_s, u"1"_s), {});
    Sink late;
    db.listen(&late, path(u"/z"_s), Default, 0, {});
    QCOMPARE(late.events.size(), 1u);
    QVERIFY(!late.events[0]->cause);

    db.write(path(u"/a/b"_s), one(u""_s, uR"({"c":5})"_s), {WriteOrigin::Kind::OnDisconnect, u"S3"_s});
    QCOMPARE(first.events.size(), 1u);
    QCOMPARE(second.events.size(), 1u);
    // Both listens of /a get the very same event object: a transport encodes it once for all of them.
    QCOMPARE(first.events[0].get(), second.events[0].get());
    const DataEvent &e = *first.events[0];
    QCOMPARE(e.kind, DataEvent::Kind::Overwrite);
    QCOMPARE(e.path, path(u"/a/b"_s));
    QCOMPARE(e.value, json(uR"({"c":5})"_s));
    QVERIFY(e.cause);
    QCOMPARE(e.cause->kind, WriteOrigin::Kind::OnDisconnect);
    QCOMPARE(e.cause->session, u"S3"_s);
    // The listen below the write is told of its own location only, with the same cause.
    QCOMPARE(below.events.size(), 1u);
    QCOMPARE(below.events[0]->path, path(u"/a/b/c"_s));
    QCOMPARE(below.events[0]->value, json(u"5"_s));
    QCOMPARE(below.events[0]->cause->session, u"S3"_s);
}

QTEST_GUILESS_MAIN(TestDatabase)
#include "tst_database.moc"
