// SPDX-License-Identifier: MIT
// Query windows as the SDK sends them (docs/wire-protocol.md §9, the `q` bodies it observed), evaluated on the server.
#include "testvalues.h"

#include "db/query.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using lark::Node;
using lark::Query;

class TestQuery : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void select_data();
    void select();
    void sdkWindows_data();
    void sdkWindows();
    void fromWireErrors_data();
    void fromWireErrors();
    void identifier();
    void loadsAllData();
    void leafAndNull();
    void compare();
};

static Query query(const QString &text)
{
    Query q;
    QString error;
    if (!Query::fromWire(json(text).toObject(), &q, &error))
        qFatal("bad test query %s: %s", qPrintable(text), qPrintable(error));
    return q;
}

// Children for orderByChild("age") / ("n/x"), the keys and the priorities. By age: e (none), 2 (true), b (18),
// c (18), 10 (25), a (30), d ("old"). By key: 2, 10, a..e. By priority: 2, c (none), d, e (1), a (2), 10 ("a"),
// b ("z").
static const char People[] = R"({
    "a": {"age": 30, "name": "Ann", "n": {"x": 3}, ".priority": 2},
    "b": {"age": 18, "n": {"x": 1}, ".priority": "z"},
    "c": {"age": 18, "n": {"x": 2}},
    "d": {"age": "old", ".priority": 1},
    "e": {"name": "Eve", ".priority": 1},
    "10": {"age": 25, ".priority": "a"},
    "2": {"age": true}
})";

// Leaves for orderByValue: k7 (false), k3 (true), k2 (3), k6 (3), k8 ("a"), k1 ("b"), k5 (object).
static const char Values[] = R"({"k1": "b", "k2": 3, "k3": true, "k5": {"x": 1}, "k6": 3, "k7": false, "k8": "a"})";

void TestQuery::select_data()
{
    QTest::addColumn<QString>("data");
    QTest::addColumn<QString>("q");
    QTest::addColumn<QStringList>("keys");

    const QString people = QString::fromUtf8(People);
    const QString values = QString::fromUtf8(Values);
    auto row = [&](const char *name, const QString &data, const char *q, const QString &keys) {
        QTest::newRow(name) << data << QString::fromUtf8(q) << (keys.isEmpty() ? QStringList() : keys.split(u' '));
    };

    row("default: priority order", people, "{}", u"2 c d e a 10 b"_s);
    row("orderByChild loads all", people, R"({"i":"age"})", u"e 2 b c 10 a d"_s);
    row("orderByChild startAt endAt", people, R"({"sp":18,"sin":true,"ep":30,"ein":true,"i":"age"})", u"b c 10 a"_s);
    row("orderByChild startAfter", people, R"({"sp":18,"sn":"[MAX_NAME]","sin":false,"i":"age"})", u"10 a d"_s);
    row("orderByChild endBefore", people, R"({"ep":30,"en":"[MIN_NAME]","ein":false,"i":"age"})", u"e 2 b c 10"_s);
    row("orderByChild equalTo", people, R"({"sp":18,"sin":true,"ep":18,"ein":true,"i":"age"})", u"b c"_s);
    row("orderByChild equalTo with key", people,
        R"({"sp":18,"sn":"c","sin":true,"ep":18,"en":"c","ein":true,"i":"age"})", u"c"_s);
    row("orderByChild startAt with key", people, R"({"sp":18,"sn":"c","sin":true,"i":"age"})", u"c 10 a d"_s);
    row("orderByChild endAt with key", people, R"({"ep":18,"en":"b","ein":true,"i":"age"})", u"e 2 b"_s);
    row("orderByChild startAfter with key", people, R"({"sp":18,"sn":"b","sin":false,"i":"age"})", u"c 10 a d"_s);
    row("orderByChild equalTo null", people, R"({"sp":null,"sin":true,"ep":null,"ein":true,"i":"age"})", u"e"_s);
    row("orderByChild equalTo string", people, R"({"sp":"old","sin":true,"ep":"old","ein":true,"i":"age"})", u"d"_s);
    row("orderByChild equalTo bool", people, R"({"sp":true,"sin":true,"ep":true,"ein":true,"i":"age"})", u"2"_s);
    row("orderByChild nested path", people, R"({"sp":2,"sin":true,"i":"n/x"})", u"c a"_s);
    row("orderByChild nested missing first", people, R"({"l":3,"vf":"l","i":"n/x"})", u"2 10 d"_s);
    row("limitToFirst", people, R"({"l":2,"vf":"l","i":"age"})", u"e 2"_s);
    row("limitToLast", people, R"({"l":2,"vf":"r","i":"age"})", u"a d"_s);
    row("startAt + limitToFirst", people, R"({"sp":18,"sin":true,"l":2,"vf":"l","i":"age"})", u"b c"_s);
    row("endAt + limitToLast", people, R"({"ep":30,"ein":true,"l":3,"vf":"r","i":"age"})", u"c 10 a"_s);
    row("limit above count", people, R"({"l":100,"vf":"l","i":"age"})", u"e 2 b c 10 a d"_s);
    row("empty window", people, R"({"sp":31,"sin":true,"ep":99,"ein":true,"i":"age"})", QString());
    row("orderByKey", people, R"({"l":3,"vf":"l","i":".key"})", u"2 10 a"_s);
    row("orderByKey startAt endAt", people, R"({"sp":"a","sin":true,"ep":"c","ein":true,"i":".key"})", u"a b c"_s);
    row("orderByKey integer bound", people, R"({"sp":"3","sin":true,"i":".key"})", u"10 a b c d e"_s);
    row("orderByKey startAfter", people, R"({"sp":"b","sin":false,"i":".key"})", u"c d e"_s);
    row("orderByKey endBefore", people, R"({"ep":"b","ein":false,"i":".key"})", u"2 10 a"_s);
    row("orderByKey limitToLast", people, R"({"l":2,"vf":"r","i":".key"})", u"d e"_s);
    row("orderByValue", values, R"({"l":100,"vf":"l","i":".value"})", u"k7 k3 k2 k6 k8 k1 k5"_s);
    row("orderByValue limitToLast", values, R"({"l":3,"vf":"r","i":".value"})", u"k8 k1 k5"_s);
    row("orderByValue startAt endAt", values, R"({"sp":3,"sin":true,"ep":"a","ein":true,"i":".value"})", u"k2 k6 k8"_s);
    row("orderByValue equalTo with key", values,
        R"({"sp":3,"sn":"k6","sin":true,"ep":3,"en":"k6","ein":true,"i":".value"})", u"k6"_s);
    row("orderByPriority startAt", people, R"({"sp":1,"sin":true})", u"d e a 10 b"_s);
    row("orderByPriority startAt endAt", people, R"({"sp":1,"sin":true,"ep":2,"ein":true})", u"d e a"_s);
    row("orderByPriority string bound", people, R"({"sp":"a","sin":true})", u"10 b"_s);
    row("orderByPriority startAt with key", people, R"({"sp":1,"sn":"e","sin":true})", u"e a 10 b"_s);
    row("orderByPriority endAt null", people, R"({"ep":null,"ein":true})", u"2 c"_s);
    row("limitToFirst on priority", people, R"({"l":3,"vf":"l"})", u"2 c d"_s);
}

void TestQuery::select()
{
    QFETCH(QString, data);
    QFETCH(QString, q);
    QFETCH(QStringList, keys);
    const Node n = node(data);
    const Query query = ::query(q);
    QStringList actual;
    for (const auto &[key, child] : query.select(&n))
        actual.append(*key);
    QCOMPARE(actual, keys);

    // The pushed result holds exactly those children, in export format.
    const QJsonValue result = query.resultJson(&n);
    if (keys.isEmpty()) {
        QVERIFY(result.isNull());
        QVERIFY(query.resultHash(&n).isEmpty());
        return;
    }
    QCOMPARE(result.toObject().keys().size(), keys.size());
    for (const QString &k : std::as_const(keys))
        QCOMPARE(result.toObject().value(k), n.child(k)->toJson());
    // The SDK hashes a query's view as the node of its children without the parent's priority.
    Node view;
    QString error;
    QVERIFY(Node::fromJson(result, &view, &error));
    QCOMPARE(query.resultHash(&n), view.hash());
}

void TestQuery::sdkWindows_data()
{
    // The wire `q`, the children in order and the view's hash, all from the SDK itself (data/gen-hash-vectors.mjs).
    QTest::addColumn<QJsonObject>("vector");
    QFile file(QStringLiteral(LARK_HASH_VECTORS));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.errorString()));
    const QJsonArray queries = QJsonDocument::fromJson(file.readAll()).object().value(u"queries"_s).toArray();
    QVERIFY(queries.size() >= 20);
    for (const QJsonValue &v : queries)
        QTest::newRow(qPrintable(v.toObject().value(u"name"_s).toString())) << v.toObject();
}

void TestQuery::sdkWindows()
{
    QFETCH(QJsonObject, vector);
    Node n;
    QString error;
    QVERIFY2(Node::fromJson(vector.value(u"value"_s), &n, &error), qPrintable(error));
    Query q;
    QVERIFY2(Query::fromWire(vector.value(u"q"_s).toObject(), &q, &error), qPrintable(error));
    QVERIFY(!q.loadsAllData());
    QStringList keys;
    for (const auto &[key, child] : q.select(&n))
        keys.append(*key);
    QStringList expected;
    for (const QJsonValue &k : vector.value(u"keys"_s).toArray())
        expected.append(k.toString());
    QCOMPARE(keys, expected);
    QCOMPARE(q.resultHash(&n), vector.value(u"hash"_s).toString().toLatin1());
}

void TestQuery::fromWireErrors_data()
{
    QTest::addColumn<QString>("q");

    QTest::newRow("index not a string") << u"{\"i\":5}"_s;
    QTest::newRow("invalid child path") << u"{\"i\":\"a/$b\"}"_s;
    QTest::newRow("empty child path") << u"{\"i\":\"/\"}"_s;
    QTest::newRow("object start") << u"{\"sp\":{\"a\":1}}"_s;
    QTest::newRow("array end") << u"{\"ep\":[1]}"_s;
    QTest::newRow("name not a string") << u"{\"sp\":1,\"sn\":5}"_s;
    QTest::newRow("orderByKey number bound") << u"{\"sp\":1,\"i\":\".key\"}"_s;
    QTest::newRow("orderByKey null bound") << u"{\"ep\":null,\"i\":\".key\"}"_s;
    QTest::newRow("limit 0") << u"{\"l\":0}"_s;
    QTest::newRow("limit negative") << u"{\"l\":-1}"_s;
    QTest::newRow("limit fraction") << u"{\"l\":1.5}"_s;
    QTest::newRow("limit string") << u"{\"l\":\"3\"}"_s;
    QTest::newRow("limit huge") << u"{\"l\":1e12}"_s;
    QTest::newRow("bad vf") << u"{\"l\":1,\"vf\":\"x\"}"_s;
}

void TestQuery::fromWireErrors()
{
    QFETCH(QString, q);
    Query out;
    QString error;
    QVERIFY(!Query::fromWire(json(q).toObject(), &out, &error));
    QVERIFY(!error.isEmpty());
}

void TestQuery::identifier()
{
    // The same query in another key order is the same listen; any difference is another listen.
    QCOMPARE(query(uR"({"sp":1,"i":"a","sin":true})"_s).identifier(),
        query(uR"({"i":"a","sin":true,"sp":1})"_s).identifier());
    QVERIFY(query(uR"({"sp":1,"i":"a"})"_s).identifier() != query(uR"({"sp":2,"i":"a"})"_s).identifier());
    QVERIFY(query(uR"({"i":"a"})"_s).identifier() != query(uR"({"i":"b"})"_s).identifier());
}

void TestQuery::loadsAllData()
{
    QVERIFY(query(u"{}"_s).loadsAllData());
    QVERIFY(query(uR"({"i":"age"})"_s).loadsAllData());
    QVERIFY(query(uR"({"i":".value"})"_s).loadsAllData());
    QVERIFY(!query(uR"({"l":1,"vf":"l"})"_s).loadsAllData());
    QVERIFY(!query(uR"({"sp":1,"sin":true})"_s).loadsAllData());
    QVERIFY(!query(uR"({"ep":1,"ein":true})"_s).loadsAllData());
    QCOMPARE(query(uR"({"i":".key"})"_s).index(), Query::Index::Key);
    QCOMPARE(query(uR"({"i":".value"})"_s).index(), Query::Index::Value);
    QCOMPARE(query(uR"({"i":".priority"})"_s).index(), Query::Index::Priority);
    QCOMPARE(query(uR"({"i":"a/b"})"_s).index(), Query::Index::Child);
}

void TestQuery::leafAndNull()
{
    const Query q = query(uR"({"l":2,"vf":"l"})"_s);
    const Node leaf = Node::fromNumber(1);
    QVERIFY(q.select(&leaf).empty());
    QVERIFY(q.select(nullptr).empty());
    QVERIFY(q.resultJson(nullptr).isNull());
    QVERIFY(q.resultHash(&leaf).isEmpty());
}

void TestQuery::compare()
{
    // Ties on the index value are broken by key order (integers first).
    const Node n = node(uR"({"b":{"v":1},"10":{"v":1},"9":{"v":1},"a":{"v":0}})"_s);
    const Query q = query(uR"({"i":"v"})"_s);
    QStringList order;
    for (const auto &[key, child] : q.select(&n))
        order.append(*key);
    QCOMPARE(order, (QStringList {u"a"_s, u"9"_s, u"10"_s, u"b"_s}));
    const QString ka = u"a"_s, kb = u"b"_s;
    QVERIFY(q.compare({&ka, n.child(ka)}, {&kb, n.child(kb)}) < 0);
    QVERIFY(q.compare({&kb, n.child(kb)}, {&ka, n.child(ka)}) > 0);
    QCOMPARE(q.compare({&kb, n.child(kb)}, {&kb, n.child(kb)}), 0);
}

QTEST_GUILESS_MAIN(TestQuery)
#include "tst_query.moc"
