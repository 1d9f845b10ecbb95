// SPDX-License-Identifier: MIT
// The per-session sparse tree of onDisconnect ops (docs/semantics.md §4), which follows the SDK's own local model
// (SparseSnapshotTree): the client applies the same ops to its cache when it goes offline, so both must agree.
#include "testvalues.h"

#include "server/ondisconnectqueue.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TestOnDisconnectQueue : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void setReplacesBelow();
    void setBelowMergesIntoAncestor();
    void setBelowLeafAncestor();
    void setBelowQueuedRemove();
    void removeBelowAncestorEmptiesIt();
    void updateIsSetPerChild();
    void updateMergesIntoQueuedSet();
    void cancelRemovesAtAndBelow();
    void cancelInsideAncestorValue();
    void cancelBelowLeafOrRemove();
    void cancelInsideArray();
    void cancelRoot();
    void fireOrderAndServerValues();
    void fireMatchesSdkModel();
    void fireSkipsInvalid();
    void kindNames();
    void sizeAfterMatchesApply();
};

namespace
{

/** "path=value" per op, in order: compact enough to compare whole queues. */
QStringList dump(const OnDisconnectQueue &q)
{
    QStringList out;
    for (const auto &op : q.ops()) {
        const QByteArray v = op.value.isObject() ? QJsonDocument(op.value.toObject()).toJson(QJsonDocument::Compact)
            : op.value.isArray()
            ? QJsonDocument(op.value.toArray()).toJson(QJsonDocument::Compact)
            : QJsonDocument(QJsonArray {op.value}).toJson(QJsonDocument::Compact).mid(1).chopped(1);
        out.append(op.path.toString() + u'=' + QString::fromUtf8(v));
    }
    return out;
}

/** Fires q against data at `now` and returns the resulting tree as JSON. */
QJsonValue fire(const OnDisconnectQueue &q, const QString &data, qint64 now = 1000)
{
    Node root;
    QString error;
    if (!Node::fromJson(json(data), &root, &error))
        qFatal("bad test data: %s", qPrintable(error));
    QStringList errors;
    for (Write &w : q.resolve(root, now, &errors))
        root.set(w.path, std::move(w.value));
    if (!errors.isEmpty())
        qWarning("errors: %s", qPrintable(errors.join(u"; "_s)));
    return root.toJson();
}

} // namespace

void TestOnDisconnectQueue::setReplacesBelow()
{
    OnDisconnectQueue q;
    q.set(path(u"/a/b"_s), json(u"1"_s), 1);
    q.set(path(u"/a/c/d"_s), json(u"2"_s), 2);
    q.set(path(u"/x"_s), json(u"3"_s), 3);
    q.set(path(u"/a"_s), json(uR"({"z":true})"_s), 4);
    QCOMPARE(dump(q), (QStringList {u"/x=3"_s, uR"(/a={"z":true})"_s}));
    // The same path again replaces too.
    q.set(path(u"/x"_s), json(u"4"_s), 5);
    QCOMPARE(dump(q), (QStringList {uR"(/a={"z":true})"_s, u"/x=4"_s}));
    QCOMPARE(q.ops().back().registeredAt, 5);
    QCOMPARE(q.ops().back().kind, OnDisconnectQueue::Kind::Set);
}

void TestOnDisconnectQueue::setBelowMergesIntoAncestor()
{
    OnDisconnectQueue q;
    q.set(path(u"/a"_s), json(uR"({"x":1,"b":{"old":true}})"_s), 1);
    q.set(path(u"/a/b"_s), json(u"2"_s), 2);
    q.set(path(u"/a/n/e/w"_s), json(u"\"deep\""_s), 3);
    QCOMPARE(dump(q), QStringList {uR"(/a={"b":2,"n":{"e":{"w":"deep"}},"x":1})"_s});
    QCOMPARE(q.ops().front().registeredAt, 3);
    // The ancestor's value still replaces all of /a when it fires.
    QCOMPARE(fire(q, uR"({"a":{"keep":"no"},"other":1})"_s),
        json(uR"({"a":{"b":2,"n":{"e":{"w":"deep"}},"x":1},"other":1})"_s));
}

void TestOnDisconnectQueue::setBelowLeafAncestor()
{
    OnDisconnectQueue q;
    q.set(path(u"/a"_s), json(u"\"leaf\""_s), 1);
    q.set(path(u"/a/b"_s), json(u"1"_s), 2);
    QCOMPARE(dump(q), QStringList {uR"(/a={"b":1})"_s});
    // A leaf with a priority keeps the priority when it becomes an object, like in the SDK.
    OnDisconnectQueue p;
    p.set(path(u"/a"_s), json(uR"({".value":"leaf",".priority":5})"_s), 1);
    p.set(path(u"/a/b"_s), json(u"1"_s), 2);
    QCOMPARE(dump(p), QStringList {uR"(/a={".priority":5,"b":1})"_s});
    // A server value is a leaf too (resolved only at fire time): it gives way, it does not gain a child.
    OnDisconnectQueue s;
    s.set(path(u"/a"_s), json(uR"({"t":{".sv":"timestamp"}})"_s), 1);
    s.set(path(u"/a/t/b"_s), json(u"1"_s), 2);
    QCOMPARE(dump(s), QStringList {uR"(/a={"t":{"b":1}})"_s});
}

void TestOnDisconnectQueue::setBelowQueuedRemove()
{
    // remove() at /a, then set at /a/b: /a becomes {b: ...}, replacing all of /a when fired.
    OnDisconnectQueue q;
    q.set(path(u"/a"_s), QJsonValue::Null, 1);
    QCOMPARE(q.ops().front().kind, OnDisconnectQueue::Kind::Remove);
    q.set(path(u"/a/b"_s), json(u"1"_s), 2);
    QCOMPARE(dump(q), QStringList {uR"(/a={"b":1})"_s});
    QCOMPARE(q.ops().front().kind, OnDisconnectQueue::Kind::Set);
    QCOMPARE(fire(q, uR"({"a":{"c":2}})"_s), json(uR"({"a":{"b":1}})"_s));
}

void TestOnDisconnectQueue::removeBelowAncestorEmptiesIt()
{
    OnDisconnectQueue q;
    q.set(path(u"/a"_s), json(uR"({"x":1,".priority":2})"_s), 1);
    q.set(path(u"/a/x"_s), QJsonValue::Null, 2);
    // Nothing is left of the queued value (a lone priority is no value), so /a is deleted when it fires.
    QCOMPARE(dump(q), QStringList {u"/a=null"_s});
    QCOMPARE(fire(q, uR"({"a":{"y":1},"b":2})"_s), json(uR"({"b":2})"_s));
}

void TestOnDisconnectQueue::updateIsSetPerChild()
{
    OnDisconnectQueue q;
    q.set(path(u"/s/x/deep"_s), json(u"0"_s), 1);
    q.update(path(u"/s"_s), {{path(u"x"_s), json(u"1"_s)}, {path(u"y/z"_s), json(u"2"_s)}, {path(u"w"_s), {}}}, 2);
    QCOMPARE(dump(q), (QStringList {u"/s/x=1"_s, u"/s/y/z=2"_s, u"/s/w=null"_s}));
    QCOMPARE(q.ops().at(0).kind, OnDisconnectQueue::Kind::Update);
    QCOMPARE(q.ops().at(2).kind, OnDisconnectQueue::Kind::Remove);
    // Siblings that the update does not name are kept.
    QCOMPARE(fire(q, uR"({"s":{"keep":1,"w":5,"y":{"other":3}}})"_s),
        json(uR"({"s":{"keep":1,"x":1,"y":{"other":3,"z":2}}})"_s));
}

void TestOnDisconnectQueue::updateMergesIntoQueuedSet()
{
    OnDisconnectQueue q;
    q.set(path(u"/s"_s), json(uR"({"a":1,"b":2})"_s), 1);
    q.update(path(u"/s"_s), {{path(u"b"_s), json(u"3"_s)}, {path(u"c"_s), json(u"4"_s)}}, 2);
    QCOMPARE(dump(q), QStringList {uR"(/s={"a":1,"b":3,"c":4})"_s});
}

void TestOnDisconnectQueue::cancelRemovesAtAndBelow()
{
    OnDisconnectQueue q;
    q.set(path(u"/a/b"_s), json(u"1"_s), 1);
    q.set(path(u"/a/c/d"_s), json(u"2"_s), 2);
    q.set(path(u"/ab"_s), json(u"3"_s), 3);
    q.set(path(u"/x"_s), json(u"4"_s), 4);
    q.cancel(path(u"/a"_s));
    QCOMPARE(dump(q), (QStringList {u"/ab=3"_s, u"/x=4"_s}));
    q.cancel(path(u"/x"_s));
    q.cancel(path(u"/nothing/here"_s));
    QCOMPARE(dump(q), QStringList {u"/ab=3"_s});
}

void TestOnDisconnectQueue::cancelInsideAncestorValue()
{
    // Like SparseSnapshotTree.forget: the ancestor's queued value is split into sets of its children down to the
    // cancelled path, which is dropped. The ancestor's other existing children are then no longer replaced.
    OnDisconnectQueue q;
    q.set(path(u"/a"_s), json(uR"({"b":{"c":1,"d":2},"e":3,".priority":9})"_s), 1);
    q.cancel(path(u"/a/b/c"_s));
    QCOMPARE(dump(q), (QStringList {u"/a/b/d=2"_s, u"/a/e=3"_s}));
    QCOMPARE(fire(q, uR"({"a":{"b":{"c":"kept"},"f":"kept"}})"_s),
        json(uR"({"a":{"b":{"c":"kept","d":2},"e":3,"f":"kept"}})"_s));
}

void TestOnDisconnectQueue::cancelBelowLeafOrRemove()
{
    // A leaf has no children to forget: the op stays.
    OnDisconnectQueue q;
    q.set(path(u"/a"_s), json(u"\"leaf\""_s), 1);
    q.cancel(path(u"/a/b"_s));
    QCOMPARE(dump(q), QStringList {u"/a=\"leaf\""_s});
    OnDisconnectQueue p;
    p.set(path(u"/a"_s), json(uR"({".value":1,".priority":2})"_s), 1);
    p.cancel(path(u"/a/b"_s));
    QCOMPARE(p.ops().size(), 1u);
    // A server value is a leaf: it is not split into a child named .sv (which would be written at fire time).
    OnDisconnectQueue s;
    s.set(path(u"/a"_s), json(uR"({".sv":"timestamp"})"_s), 1);
    s.cancel(path(u"/a/b"_s));
    QCOMPARE(dump(s), QStringList {uR"(/a={".sv":"timestamp"})"_s});
    // A queued remove has no children either; the SDK's model drops it, and so does the queue.
    OnDisconnectQueue r;
    r.set(path(u"/a"_s), QJsonValue::Null, 1);
    r.cancel(path(u"/a/b"_s));
    QVERIFY(r.isEmpty());
}

void TestOnDisconnectQueue::cancelInsideArray()
{
    // `om` carries raw JSON, so a queued value can be an array: it is an object keyed by index.
    OnDisconnectQueue q;
    q.set(path(u"/l"_s), json(uR"([1,{".sv":"timestamp"},3])"_s), 1);
    q.set(path(u"/l/0"_s), json(u"5"_s), 2);
    QCOMPARE(fire(q, u"null"_s, 1000), json(uR"({"l":{"0":5,"1":1000,"2":3}})"_s));
    q.cancel(path(u"/l/2"_s));
    QCOMPARE(fire(q, u"null"_s, 1000), json(uR"({"l":{"0":5,"1":1000}})"_s));
}

void TestOnDisconnectQueue::cancelRoot()
{
    OnDisconnectQueue q;
    q.set(path(u"/a"_s), json(u"1"_s), 1);
    q.set(path(u"/b/c"_s), json(u"2"_s), 2);
    q.cancel(Path());
    QVERIFY(q.isEmpty());
    q.set(path(u"/a"_s), json(u"1"_s), 1);
    q.clear();
    QVERIFY(q.isEmpty());
}

void TestOnDisconnectQueue::fireOrderAndServerValues()
{
    OnDisconnectQueue q;
    q.set(path(u"/presence/alice/lastSeen"_s), json(uR"({".sv":"timestamp"})"_s), 1);
    q.set(path(u"/presence/alice/connections/c1"_s), QJsonValue::Null, 2);
    q.update(path(u"/stats"_s), {{path(u"online"_s), json(uR"({".sv":{"increment":-1}})"_s)}}, 3);
    // Values are kept unresolved until they fire.
    QCOMPARE(q.ops().front().value, json(uR"({".sv":"timestamp"})"_s));

    Node root;
    QString error;
    QVERIFY(Node::fromJson(
        json(uR"({"presence":{"alice":{"connections":{"c1":true}}},"stats":{"online":3}})"_s), &root, &error));
    QStringList errors;
    std::vector<Write> writes = q.resolve(root, 1795548164779, &errors);
    QVERIFY(errors.isEmpty());
    // Registration order, each resolved at fire time against the data then.
    QCOMPARE(writes.size(), 3u);
    QCOMPARE(writes[0].path, path(u"/presence/alice/lastSeen"_s));
    QCOMPARE(writes[0].value.number(), 1795548164779.0);
    QCOMPARE(writes[1].path, path(u"/presence/alice/connections/c1"_s));
    QVERIFY(writes[1].value.isNull());
    QCOMPARE(writes[2].path, path(u"/stats/online"_s));
    QCOMPARE(writes[2].value.number(), 2.0);
}

void TestOnDisconnectQueue::fireMatchesSdkModel()
{
    // The sequence of the presence pattern plus re-registration after a reconnect: the last word wins.
    OnDisconnectQueue q;
    q.set(path(u"/status/alice"_s), json(uR"({"state":"offline"})"_s), 1);
    q.set(path(u"/status/alice"_s), json(uR"({"state":"offline","n":2})"_s), 2);
    q.update(path(u"/status"_s), {{path(u"alice/since"_s), json(u"5"_s)}}, 3);
    q.set(path(u"/scratch"_s), json(u"\"bye\""_s), 4);
    q.cancel(path(u"/scratch"_s));
    QCOMPARE(fire(q, uR"({"status":{"alice":{"state":"online","x":1}},"scratch":"here"})"_s),
        json(uR"({"status":{"alice":{"n":2,"since":5,"state":"offline"}},"scratch":"here"})"_s));
}

void TestOnDisconnectQueue::fireSkipsInvalid()
{
    OnDisconnectQueue q;
    q.set(path(u"/bad"_s), json(uR"({".sv":"bogus"})"_s), 1);
    q.set(path(u"/good"_s), json(u"1"_s), 2);
    Node root;
    QStringList errors;
    const std::vector<Write> writes = q.resolve(root, 1, &errors);
    QCOMPARE(writes.size(), 1u);
    QCOMPARE(writes[0].path, path(u"/good"_s));
    QCOMPARE(errors.size(), 1);
    QVERIFY(errors.front().startsWith(u"/bad"_s));
}

void TestOnDisconnectQueue::kindNames()
{
    QCOMPARE(OnDisconnectQueue::kindName(OnDisconnectQueue::Kind::Set), u"set"_s);
    QCOMPARE(OnDisconnectQueue::kindName(OnDisconnectQueue::Kind::Update), u"update"_s);
    QCOMPARE(OnDisconnectQueue::kindName(OnDisconnectQueue::Kind::Remove), u"remove"_s);
}

void TestOnDisconnectQueue::sizeAfterMatchesApply()
{
    // The cap on queued ops is checked before an op is applied: sizeAfter() must predict apply() exactly, for sets
    // into, over and beside queued ops, and for updates with several children. Paths from a small tree collide often.
    const QStringList keys {u"a"_s, u"b"_s, u"c"_s};
    QRandomGenerator gen(12);
    auto randomPath = [&](int minDepth) {
        QStringList parts;
        const int depth = minDepth + int(gen.bounded(3));
        for (int i = 0; i < depth; ++i)
            parts.append(keys.at(int(gen.bounded(3))));
        return Path(parts);
    };
    auto randomValue = [&]() -> QJsonValue {
        switch (gen.bounded(3)) {
        case 0:
            return QJsonValue::Null;
        case 1:
            return 1;
        default:
            return QJsonObject {{u"a"_s, 1}, {u"b"_s, QJsonObject {{u"c"_s, 2}}}};
        }
    };
    OnDisconnectQueue q;
    size_t largest = 0;
    for (int i = 0; i < 2000; ++i) {
        OnDisconnectQueue::Registration r {OnDisconnectQueue::Registration::Action::Set, randomPath(0), {}, {}, i};
        const quint32 kind = gen.bounded(10);
        if (kind < 5) {
            r.value = randomValue();
        } else if (kind < 8) {
            r.action = OnDisconnectQueue::Registration::Action::Update;
            // Distinct first keys: the children of an update never overlap.
            for (const QString &key : keys) {
                if (gen.bounded(2))
                    r.children.emplace_back(Path(QStringList {key}).child(randomPath(0)), randomValue());
            }
        } else {
            r.action = OnDisconnectQueue::Registration::Action::Cancel;
        }
        const size_t predicted = q.sizeAfter(r);
        q.apply(r);
        if (r.action != OnDisconnectQueue::Registration::Action::Cancel)
            QCOMPARE(q.ops().size(), predicted);
        largest = std::max(largest, q.ops().size());
    }
    QVERIFY(largest >= 5); // the queue really grew and shrank, not one op replaced over and over
}

QTEST_GUILESS_MAIN(TestOnDisconnectQueue)
#include "tst_ondisconnectqueue.moc"
