// SPDX-License-Identifier: MIT
#include "testvalues.h"

#include "db/node.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cmath>

using namespace Qt::Literals::StringLiterals;
using lark::Node;
using lark::Path;

class TestNode : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void exportFormat_data();
    void exportFormat();
    void invalidJson_data();
    void invalidJson();
    void depthLimit();
    void stringLimit();
    void keyPathLimit();
    void importAtPriority();
    void negativeZeroIsZero();
    void setAndPrune();
    void setPriority();
    void valueAt();
    void leafBecomesObject();
    void cloneIsDeep();
    void keyOrder_data();
    void keyOrder();
    void zeroKeysStayApart();
    void childrenIterateInKeyOrder();
    void valueOrder();
    void priorityOrder();
};

void TestNode::exportFormat_data()
{
    QTest::addColumn<QString>("in");
    QTest::addColumn<QString>("out");

    QTest::newRow("null") << u"null"_s << u"null"_s;
    QTest::newRow("string") << u"\"x\""_s << u"\"x\""_s;
    QTest::newRow("number") << u"1.5"_s << u"1.5"_s;
    QTest::newRow("bool") << u"false"_s << u"false"_s;
    QTest::newRow("object") << u"{\"b\":1,\"a\":{\"c\":true}}"_s << u"{\"a\":{\"c\":true},\"b\":1}"_s;
    QTest::newRow("leaf with priority") << u"{\".value\":\"v\",\".priority\":2}"_s
                                        << u"{\".priority\":2,\".value\":\"v\"}"_s;
    QTest::newRow("object with priority") << u"{\"a\":1,\".priority\":\"p\"}"_s << u"{\".priority\":\"p\",\"a\":1}"_s;
    QTest::newRow("null priority dropped") << u"{\"a\":1,\".priority\":null}"_s << u"{\"a\":1}"_s;
    QTest::newRow("leaf with null priority") << u"{\".value\":3,\".priority\":null}"_s << u"3"_s;
    // Arrays are objects keyed by index; null entries are absent.
    QTest::newRow("array") << u"[\"a\",\"b\"]"_s << u"{\"0\":\"a\",\"1\":\"b\"}"_s;
    QTest::newRow("sparse array") << u"[1,null,3]"_s << u"{\"0\":1,\"2\":3}"_s;
    QTest::newRow("empty array") << u"[]"_s << u"null"_s;
    // Empty objects are null, and so are objects whose children are all empty.
    QTest::newRow("empty object") << u"{}"_s << u"null"_s;
    QTest::newRow("nested empties") << u"{\"a\":{\"b\":{}},\"c\":null}"_s << u"null"_s;
    QTest::newRow("empty siblings dropped") << u"{\"a\":{},\"b\":[],\"c\":1}"_s << u"{\"c\":1}"_s;
    // Firebase drops the priority of an empty node.
    QTest::newRow("priority alone") << u"{\".priority\":1}"_s << u"null"_s;
    QTest::newRow("priority of emptied object") << u"{\"a\":null,\".priority\":1}"_s << u"null"_s;
}

void TestNode::exportFormat()
{
    QFETCH(QString, in);
    QFETCH(QString, out);
    const Node n = node(in.toUtf8().constData());
    QCOMPARE(n.isNull(), out == u"null"_s);
    QCOMPARE(n.toJson(), json(out.toUtf8().constData()));
    // The export form parses back to the same thing.
    Node again;
    QString error;
    QVERIFY(Node::fromJson(n.toJson(), &again, &error));
    QCOMPARE(again.toJson(), n.toJson());
    QCOMPARE(again.hash(), n.hash());
}

void TestNode::invalidJson_data()
{
    QTest::addColumn<QString>("in");

    QTest::newRow("key with dot") << u"{\"a.b\":1}"_s;
    QTest::newRow("key with $") << u"{\"$a\":1}"_s;
    QTest::newRow("key with slash") << u"{\"a/b\":1}"_s;
    QTest::newRow("key with [") << u"{\"a\":{\"[\":1}}"_s;
    QTest::newRow("key with control char") << u"{\"a\\u0001\":1}"_s;
    QTest::newRow("empty key") << u"{\"\":1}"_s;
    QTest::newRow("unknown dot key") << u"{\".foo\":1}"_s;
    QTest::newRow("unresolved server value") << u"{\"a\":{\".sv\":\"timestamp\"}}"_s;
    QTest::newRow("object priority") << u"{\"a\":1,\".priority\":{\"x\":1}}"_s;
    QTest::newRow("bool priority") << u"{\"a\":1,\".priority\":true}"_s;
    QTest::newRow("object .value") << u"{\".value\":{\"a\":1}}"_s;
    QTest::newRow("bad key in array element") << u"[{\"a#\":1}]"_s;
}

void TestNode::invalidJson()
{
    QFETCH(QString, in);
    Node n = Node::fromString(u"old"_s);
    QString error;
    QVERIFY(!Node::fromJson(json(in.toUtf8().constData()), &n, &error));
    QVERIFY(!error.isEmpty());
}

void TestNode::depthLimit()
{
    // A leaf 32 keys below the root is allowed (docs/semantics.md §7), one more level is not.
    auto nested = [](int levels) {
        QJsonValue v = u"leaf"_s;
        for (int i = 0; i < levels; ++i)
            v = QJsonObject {{u"k"_s, v}};
        return v;
    };
    Node n;
    QString error;
    QVERIFY2(Node::fromJson(nested(32), &n, &error), qPrintable(error));
    QCOMPARE(n.at(Path(QStringList(32, u"k"_s)))->string(), u"leaf"_s);
    QVERIFY(!Node::fromJson(nested(33), &n, &error));
    // Written below a/b, two levels fewer are left.
    QVERIFY(Node::fromJson(nested(30), &n, &error, Path::MaxDepth - 2));
    QVERIFY(!Node::fromJson(nested(31), &n, &error, Path::MaxDepth - 2));
}

void TestNode::stringLimit()
{
    Node n;
    QString error;
    QVERIFY(Node::fromJson(QString(Node::MaxStringBytes, u'x'), &n, &error));
    QCOMPARE(n.string().size(), Node::MaxStringBytes);
    QVERIFY(!Node::fromJson(QString(Node::MaxStringBytes + 1, u'x'), &n, &error));
    // The limit is in UTF-8 bytes: 4 MiB of é is 8 MiB and fits, 6 MiB of é is 12 MiB and does not.
    QVERIFY(Node::fromJson(QString(4 * 1024 * 1024, QChar(0xe9)), &n, &error));
    QVERIFY(!Node::fromJson(QString(6 * 1024 * 1024, QChar(0xe9)), &n, &error));
}

void TestNode::keyPathLimit()
{
    // A stored key must stay addressable: "/a/b/..." down to it within 768 UTF-8 bytes, as the SDK checks.
    Node n;
    QString error;
    const Path at(QStringList {u"data"_s, u"c"_s}); // "/data/c": 7 bytes
    const QJsonObject fits {{QString(700, u'k'), QJsonObject {{QString(59, u'k'), 1}}}}; // 7 + 701 + 60 = 768
    QVERIFY2(Node::fromJsonAt(fits, at, &n, &error), qPrintable(error));
    const QJsonObject over {{QString(700, u'k'), QJsonObject {{QString(60, u'k'), 1}}}};
    QVERIFY(!Node::fromJsonAt(over, at, &n, &error));
    QVERIFY2(error.contains(u"768 bytes"_s), qPrintable(error));
    // Bytes, not characters: é is two.
    QVERIFY(Node::fromJsonAt(QJsonObject {{QString(380, QChar(0xe9)), 1}}, at, &n, &error)); // 7 + 1 + 760
    QVERIFY(!Node::fromJsonAt(QJsonObject {{QString(381, QChar(0xe9)), 1}}, at, &n, &error));
    // Array indexes are keys too.
    QVERIFY(!Node::fromJsonAt(QJsonObject {{QString(760, u'k'), QJsonArray {1}}}, at, &n, &error));
    // At the root: "/" and the key.
    QVERIFY(Node::fromJsonAt(QJsonObject {{QString(767, u'k'), 1}}, Path(), &n, &error));
    QVERIFY(!Node::fromJsonAt(QJsonObject {{QString(768, u'k'), 1}}, Path(), &n, &error));
    // Data already stored (or from a server) is read without this check.
    QVERIFY(Node::fromJson(over, &n, &error));
}

void TestNode::importAtPriority()
{
    // Found by fuzz_import: a document imported at /a/.priority reported success and cleared the priority.
    Node n;
    QString error;
    QVERIFY(!Node::fromJsonText(R"({"x":1})", path(u"/a/.priority"_s), &n, &error));
    QCOMPARE(error, u".priority must be a number, a string or null"_s);
    QVERIFY(!Node::fromJsonText("[1]", path(u"/a/.priority"_s), &n, &error));
    QVERIFY(Node::fromJsonText(R"({".value":3})", path(u"/a/.priority"_s), &n, &error));
    QCOMPARE(n.number(), 3.0);
    QVERIFY(Node::fromJsonText("{}", path(u"/a/.priority"_s), &n, &error));
    QVERIFY(n.isNull());
    QVERIFY(Node::fromJsonText(R"({"x":1})", path(u"/a/x"_s), &n, &error));
    // Found by fuzz_import too: an import below .info stored keys there, in the tree no client may write to.
    QVERIFY(!Node::fromJsonText(R"({"x":1})", path(u"/.info/a"_s), &n, &error));
    QCOMPARE(error, u".info is read-only"_s);
}

void TestNode::negativeZeroIsZero()
{
    // Found by fuzz_import: -0 was kept, hashed as 8000000000000000, and exported as 0, which reads back with
    // another hash.
    Node zero, negative;
    QString error;
    QVERIFY(Node::fromJsonText(R"({"a":0,"b":{".value":1,".priority":0}})", Path(), &zero, &error));
    QVERIFY(Node::fromJsonText(R"({"a":-0,"b":{".value":1,".priority":-0}})", Path(), &negative, &error));
    QVERIFY(!std::signbit(negative.child(u"a"_s)->number()));
    QVERIFY(!std::signbit(negative.child(u"b"_s)->priority().toDouble()));
    QCOMPARE(negative.hash(), zero.hash());
}

void TestNode::setAndPrune()
{
    Node root;
    root.set(path(u"a/b/c"_s), Node::fromNumber(1));
    QCOMPARE(root.toJson(), json(R"({"a":{"b":{"c":1}}})"));
    root.set(path(u"a/x"_s), Node::fromBool(true));
    QCOMPARE(root.toJson(), json(R"({"a":{"b":{"c":1},"x":true}})"));

    // Deleting the last child of b prunes b; a keeps x.
    root.set(path(u"a/b/c"_s), Node());
    QCOMPARE(root.toJson(), json(R"({"a":{"x":true}})"));
    QCOMPARE(root.at(path(u"a/b"_s)), nullptr);

    // Deleting what is not there changes nothing, also below a leaf.
    root.set(path(u"nope/deeper"_s), Node());
    root.set(path(u"a/x/below"_s), Node());
    QCOMPARE(root.toJson(), json(R"({"a":{"x":true}})"));

    // Writing an empty object is a delete, and empties prune all the way up.
    root.set(path(u"a/x"_s), node("{}"));
    QVERIFY(root.isNull());
    QCOMPARE(root.toJson(), QJsonValue(QJsonValue::Null));

    // A set replaces the whole subtree.
    root.set(path(u"a"_s), node(R"({"p":1,"q":2})"));
    root.set(path(u"a"_s), node(R"({"r":3})"));
    QCOMPARE(root.toJson(), json(R"({"a":{"r":3}})"));
    root.set(Path(), Node::fromString(u"leaf"_s));
    QCOMPARE(root.toJson(), json("\"leaf\""));
}

void TestNode::setPriority()
{
    Node root = node(R"({"a":{"b":1}})");
    const QByteArray before = root.hash();
    root.set(path(u"a/.priority"_s), Node::fromNumber(5));
    QCOMPARE(root.toJson(), json(R"({"a":{"b":1,".priority":5}})"));
    QVERIFY(root.hash() != before); // the cached hash was invalidated along the path
    root.set(path(u"a/b/.priority"_s), Node::fromString(u"s"_s));
    QCOMPARE(root.at(path(u"a/b"_s))->toJson(), json(R"({".value":1,".priority":"s"})"));
    // Null removes the priority.
    root.set(path(u"a/.priority"_s), Node());
    QCOMPARE(root.toJson(), json(R"({"a":{"b":{".value":1,".priority":"s"}}})"));
    // A priority on nothing is dropped: there is no node to carry it.
    root.set(path(u"missing/.priority"_s), Node::fromNumber(1));
    QCOMPARE(root.at(path(u"missing"_s)), nullptr);
    Node empty;
    empty.setPriority(1);
    QVERIFY(empty.priority().isNull());
    // Priorities are numbers or strings only.
    Node leaf = Node::fromBool(true);
    leaf.setPriority(true);
    QVERIFY(leaf.priority().isNull());
}

void TestNode::valueAt()
{
    const Node root = node(R"({"a":{"b":{".value":"x",".priority":3}},"c":{"d":1,".priority":"p"}})");
    QCOMPARE(root.valueAt(path(u"a/b"_s)).toJson(), json(R"({".value":"x",".priority":3})"));
    QCOMPARE(root.valueAt(path(u"a/b/.priority"_s)).toJson(), json("3"));
    QCOMPARE(root.valueAt(path(u"c/.priority"_s)).toJson(), json("\"p\""));
    QVERIFY(root.valueAt(path(u"a/.priority"_s)).isNull());
    QVERIFY(root.valueAt(path(u"zzz/y"_s)).isNull());
    QCOMPARE(root.at(path(u"a/b/.priority"_s)), nullptr);
    QCOMPARE(root.child(u"a"_s), root.at(path(u"a"_s)));
    QCOMPARE(root.child(u"zzz"_s), nullptr);
    QCOMPARE(root.countNodes(), 5); // root, a, b, c, d
}

void TestNode::leafBecomesObject()
{
    Node root = node(R"({"a":{".value":"leaf",".priority":7}})");
    root.set(path(u"a/b"_s), Node::fromNumber(1));
    // Like the SDK, the new object keeps the leaf's priority.
    QCOMPARE(root.toJson(), json(R"({"a":{"b":1,".priority":7}})"));
    QCOMPARE(root.at(path(u"a"_s))->type(), Node::Type::Object);
}

void TestNode::cloneIsDeep()
{
    const Node original = node(R"({"a":{"b":1},"c":2})");
    Node copy = original.clone();
    QCOMPARE(copy.hash(), original.hash());
    copy.set(path(u"a/b"_s), Node::fromNumber(2));
    QCOMPARE(original.toJson(), json(R"({"a":{"b":1},"c":2})"));
    QCOMPARE(copy.toJson(), json(R"({"a":{"b":2},"c":2})"));
    QVERIFY(copy.hash() != original.hash());
}

void TestNode::keyOrder_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");

    // Each row is a < b in the SDK's nameCompare.
    QTest::newRow("integers numerically") << u"2"_s << u"10"_s;
    QTest::newRow("negative integers") << u"-10"_s << u"-2"_s;
    QTest::newRow("negative before zero") << u"-1"_s << u"0"_s;
    QTest::newRow("integer before string") << u"99"_s << u"a"_s;
    QTest::newRow("integer before digit-string") << u"2147483647"_s << u"1a"_s;
    QTest::newRow("beyond int32 is a string") << u"5"_s << u"2147483648"_s;
    QTest::newRow("beyond int32 sorts as text") << u"2147483648"_s << u"3"_s.repeated(11);
    QTest::newRow("int32 min is an integer") << u"-2147483648"_s << u"-1"_s;
    QTest::newRow("equal value: shorter first") << u"1"_s << u"01"_s;
    QTest::newRow("-0 equals 0: shorter first") << u"0"_s << u"-0"_s;
    // Found by fuzz_envelope: the SDK calls these equal (same value, same length), and the tree kept only one.
    QTest::newRow("-0 and 00 by text") << u"-0"_s << u"00"_s;
    QTest::newRow("-00 and 000 by text") << u"-00"_s << u"000"_s;
    QTest::newRow("ten digits after zeros") << u"01234567890"_s << u"12345678901"_s;
    QTest::newRow("eleven digits is a string") << u"99"_s << u"12345678901"_s;
    QTest::newRow("leading zeros are integers") << u"007"_s << u"8"_s;
    QTest::newRow("plus sign is a string") << u"3"_s << u"+1"_s;
    QTest::newRow("strings by code unit") << u"B"_s << u"a"_s;
    QTest::newRow("prefix first") << u"ab"_s << u"abc"_s;
    QTest::newRow("push ids by time") << u"-P7E-eezVZA7idPeIFqj"_s << u"-P7E-ef5XlUXkhD3wYzX"_s;
    // The SDK compares JS strings, i.e. UTF-16 code units: a surrogate (0xD83D) sorts before U+E000.
    QTest::newRow("UTF-16 order") << u"😀"_s << u"\ue000"_s;
    QTest::newRow("MIN_NAME first") << u"[MIN_NAME]"_s << u"-5"_s;
    QTest::newRow("MAX_NAME last") << u"zzz"_s << u"[MAX_NAME]"_s;
}

void TestNode::keyOrder()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QVERIFY(lark::compareKeys(a, b) < 0);
    QVERIFY(lark::compareKeys(b, a) > 0);
    QCOMPARE(lark::compareKeys(a, a), 0);
}

void TestNode::zeroKeysStayApart()
{
    // Keys equal as integers and in length were one key of the children map: the second write replaced the first.
    Node root = node(R"({"-0":1,"00":2,"0":3,"-00":4,"000":5})");
    QCOMPARE(root.children().size(), size_t(5));
    QCOMPARE(root.child(u"-0"_s)->number(), 1.0);
    QCOMPARE(root.child(u"00"_s)->number(), 2.0);
}

void TestNode::childrenIterateInKeyOrder()
{
    const Node n = node(R"({"b":1,"10":1,"a":1,"2":1,"-1":1,"1b":1,"01":1,"1":1})");
    QStringList keys;
    for (const auto &[key, child] : n.children())
        keys.append(key);
    QCOMPARE(keys, (QStringList {u"-1"_s, u"1"_s, u"01"_s, u"2"_s, u"10"_s, u"1b"_s, u"a"_s, u"b"_s}));
}

void TestNode::valueOrder()
{
    // orderByValue / orderByChild: null < false < true < numbers < strings < objects.
    const Node values[] = {Node(), Node::fromBool(false), Node::fromBool(true), Node::fromNumber(-1e9),
        Node::fromNumber(-1), Node::fromNumber(0), Node::fromNumber(0.5), Node::fromNumber(1e21),
        Node::fromString(u""_s), Node::fromString(u"1"_s), Node::fromString(u"A"_s), Node::fromString(u"a"_s),
        Node::fromString(u"ab"_s), node(R"({"a":1})")};
    const int n = int(std::size(values));
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            const int c = lark::compareValues(&values[i], &values[j]);
            const int expected = i < j ? -1 : (i > j ? 1 : 0);
            if ((c > 0) - (c < 0) != expected)
                QFAIL(qPrintable(u"compareValues(%1, %2) = %3"_s.arg(i).arg(j).arg(c)));
        }
    }
    // A missing child (nullptr) orders like null; objects tie (the key breaks the tie).
    QCOMPARE(lark::compareValues(nullptr, &values[0]), 0);
    QVERIFY(lark::compareValues(nullptr, &values[1]) < 0);
    const Node other = node(R"({"z":0})");
    QCOMPARE(lark::compareValues(&values[n - 1], &other), 0);
}

void TestNode::priorityOrder()
{
    // No priority < numbers < strings.
    const QJsonValue order[] = {QJsonValue(), QJsonValue(-5), QJsonValue(0), QJsonValue(2.5), QJsonValue(u"10"_s),
        QJsonValue(u"2"_s), QJsonValue(u"a"_s)};
    const int n = int(std::size(order));
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            const int c = lark::comparePriorities(order[i], order[j]);
            const int expected = i < j ? -1 : (i > j ? 1 : 0);
            if ((c > 0) - (c < 0) != expected)
                QFAIL(qPrintable(u"comparePriorities(%1, %2) = %3"_s.arg(i).arg(j).arg(c)));
        }
    }
    QCOMPARE(lark::priorityHashText(1.0), u"number:3ff0000000000000"_s);
    QCOMPARE(lark::priorityHashText(u"x"_s), u"string:x"_s);
}

QTEST_GUILESS_MAIN(TestNode)
#include "tst_node.moc"
