// SPDX-License-Identifier: MIT
#include "testvalues.h"

#include "db/node.h"
#include "db/servervalues.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <limits>

using namespace Qt::Literals::StringLiterals;
using lark::Node;

class TestServerValues : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void resolve_data();
    void resolve();
    void invalid_data();
    void invalid();
    void incrementOverflow();
    void contains_data();
    void contains();
};

static constexpr qint64 Now = 1795548162235;

void TestServerValues::resolve_data()
{
    QTest::addColumn<QString>("current"); // the stored value at the write's location
    QTest::addColumn<QString>("in");
    QTest::addColumn<QString>("out");

    const QString ts = u"{\".sv\":\"timestamp\"}"_s;
    const QString now = QString::number(Now);
    QTest::newRow("plain value untouched") << u"null"_s << u"{\"a\":[1,\"x\"]}"_s << u"{\"a\":[1,\"x\"]}"_s;
    QTest::newRow("timestamp") << u"null"_s << ts << now;
    QTest::newRow("timestamp replaces a value") << u"{\"a\":1}"_s << ts << now;
    QTest::newRow("increment a number") << u"5"_s << u"{\".sv\":{\"increment\":2}}"_s << u"7"_s;
    QTest::newRow("increment by a fraction") << u"1"_s << u"{\".sv\":{\"increment\":0.5}}"_s << u"1.5"_s;
    QTest::newRow("decrement") << u"5"_s << u"{\".sv\":{\"increment\":-8}}"_s << u"-3"_s;
    // Nothing there, or not a number: the result is the delta itself.
    QTest::newRow("increment missing") << u"null"_s << u"{\".sv\":{\"increment\":3}}"_s << u"3"_s;
    QTest::newRow("increment a string") << u"\"10\""_s << u"{\".sv\":{\"increment\":3}}"_s << u"3"_s;
    QTest::newRow("increment a bool") << u"true"_s << u"{\".sv\":{\"increment\":3}}"_s << u"3"_s;
    QTest::newRow("increment an object") << u"{\"n\":1}"_s << u"{\".sv\":{\"increment\":3}}"_s << u"3"_s;
    QTest::newRow("increment a number with priority")
        << u"{\".value\":4,\".priority\":1}"_s << u"{\".sv\":{\"increment\":1}}"_s << u"5"_s;
    // Nested placeholders resolve against the stored value at their own place.
    QTest::newRow("nested") << u"{\"count\":10,\"other\":{\"n\":1}}"_s
                            << u"{\"count\":{\".sv\":{\"increment\":1}},\"other\":{\"n\":{\".sv\":{\"increment\":1}},"
                               "\"m\":{\".sv\":{\"increment\":1}}},\"at\":"_s
            + ts + u"}"_s << u"{\"count\":11,\"other\":{\"n\":2,\"m\":1},\"at\":"_s + now + u"}"_s;
    QTest::newRow("in arrays") << u"{\"0\":4,\"1\":\"x\"}"_s
                               << u"[{\".sv\":{\"increment\":1}},{\".sv\":{\"increment\":1}},"_s + ts + u"]"_s
                               << u"[5,1,"_s + now + u"]"_s;
    QTest::newRow("in .priority") << u"null"_s << u"{\"a\":1,\".priority\":"_s + ts + u"}"_s
                                  << u"{\"a\":1,\".priority\":"_s + now + u"}"_s;
    QTest::newRow("in .value") << u"{\".value\":2,\".priority\":\"p\"}"_s
                               << u"{\".value\":{\".sv\":{\"increment\":2}},\".priority\":\"p\"}"_s
                               << u"{\".value\":4,\".priority\":\"p\"}"_s;
}

void TestServerValues::resolve()
{
    QFETCH(QString, current);
    QFETCH(QString, in);
    QFETCH(QString, out);
    Node stored;
    QString error;
    QVERIFY(Node::fromJson(json(current), &stored, &error));
    QJsonValue resolved;
    QVERIFY2(lark::resolveServerValues(json(in), stored.isNull() ? nullptr : &stored, Now, &resolved, &error),
        qPrintable(error));
    QCOMPARE(resolved, json(out));
    QVERIFY(!lark::containsServerValues(resolved));
}

void TestServerValues::invalid_data()
{
    QTest::addColumn<QString>("in");

    QTest::newRow("unknown name") << u"{\".sv\":\"now\"}"_s;
    QTest::newRow("number") << u"{\".sv\":5}"_s;
    QTest::newRow("null") << u"{\".sv\":null}"_s;
    QTest::newRow("unknown op") << u"{\".sv\":{\"multiply\":2}}"_s;
    QTest::newRow("string delta") << u"{\".sv\":{\"increment\":\"2\"}}"_s;
    QTest::newRow("extra key") << u"{\".sv\":{\"increment\":1,\"x\":2}}"_s;
    QTest::newRow("empty object") << u"{\".sv\":{}}"_s;
    QTest::newRow("nested invalid") << u"{\"a\":{\"b\":[1,{\".sv\":\"bogus\"}]}}"_s;
}

void TestServerValues::invalid()
{
    QFETCH(QString, in);
    QJsonValue out;
    QString error;
    QVERIFY(!lark::resolveServerValues(json(in), nullptr, Now, &out, &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(lark::containsServerValues(json(in)));
}

void TestServerValues::incrementOverflow()
{
    // JSON has no infinity: a sum past the largest double would be stored as something that reads back as null.
    const double max = std::numeric_limits<double>::max();
    const auto increment = [](double delta) {
        return QJsonValue(QJsonObject {{u".sv"_s, QJsonObject {{u"increment"_s, delta}}}});
    };
    Node stored;
    QString error;
    QVERIFY(Node::fromJson(max, &stored, &error));
    QJsonValue out;
    QVERIFY(!lark::resolveServerValues(increment(max), &stored, Now, &out, &error));
    QVERIFY2(error.contains(u"overflow"_s), qPrintable(error));
    QVERIFY(Node::fromJson(-max, &stored, &error));
    QVERIFY(!lark::resolveServerValues(increment(-max), &stored, Now, &out, &error));
    // Up to the largest double is fine.
    QVERIFY(lark::resolveServerValues(increment(max), nullptr, Now, &out, &error));
    QCOMPARE(out.toDouble(), max);
}

void TestServerValues::contains_data()
{
    QTest::addColumn<QString>("in");
    QTest::addColumn<bool>("contains");

    QTest::newRow("leaf") << u"1"_s << false;
    QTest::newRow("plain object") << u"{\"a\":{\"sv\":1}}"_s << false;
    QTest::newRow("top") << u"{\".sv\":\"timestamp\"}"_s << true;
    QTest::newRow("deep") << u"{\"a\":{\"b\":{\".sv\":\"timestamp\"}}}"_s << true;
    QTest::newRow("in array") << u"[1,[2,{\".sv\":\"timestamp\"}]]"_s << true;
    QTest::newRow("string that looks like one") << u"\"{\\\".sv\\\":1}\""_s << false;
}

void TestServerValues::contains()
{
    QFETCH(QString, in);
    QFETCH(bool, contains);
    QCOMPARE(lark::containsServerValues(json(in)), contains);
}

QTEST_GUILESS_MAIN(TestServerValues)
#include "tst_servervalues.moc"
