// SPDX-License-Identifier: MIT
// The envelopes the SDK parses (docs/wire-protocol.md §0, §4, §6, §7): a wrong key or a missing `d` makes it hang
// or ignore the message.
#include "protocol/messages.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <limits>

using namespace Qt::Literals::StringLiterals;
namespace protocol = lark::protocol;

class TestMessages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hello();
    void pong();
    void reply();
    void pushes();
    void compact();
    void toInt64_data();
    void toInt64();
    void parseEnvelope_data();
    void parseEnvelope();
};

static QJsonObject parse(const QByteArray &message)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(message, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        qFatal("not a JSON object: %s", message.constData());
    return doc.object();
}

void TestMessages::hello()
{
    const QJsonObject m = parse(protocol::hello(1795548417204, u"127.0.0.1:5057"_s, u"sid"_s));
    QCOMPARE(m.value(u"t"_s).toString(), u"c"_s);
    const QJsonObject inner = m.value(u"d"_s).toObject();
    QCOMPARE(inner.value(u"t"_s).toString(), u"h"_s);
    const QJsonObject h = inner.value(u"d"_s).toObject();
    QCOMPARE(h.value(u"ts"_s).toDouble(), 1795548417204.0);
    QCOMPARE(h.value(u"v"_s).toString(), u"5"_s); // a string, not a number
    QCOMPARE(h.value(u"h"_s).toString(), u"127.0.0.1:5057"_s);
    QCOMPARE(h.value(u"s"_s).toString(), u"sid"_s);
}

void TestMessages::pong()
{
    const QJsonObject m = parse(protocol::pong());
    QCOMPARE(m.value(u"t"_s).toString(), u"c"_s);
    const QJsonObject inner = m.value(u"d"_s).toObject();
    QCOMPARE(inner.value(u"t"_s).toString(), u"o"_s);
    QVERIFY(inner.contains(u"d"_s)); // without it the SDK ignores the message
}

void TestMessages::reply()
{
    QJsonObject m = parse(protocol::reply(7, u"ok"_s));
    QCOMPARE(m.value(u"t"_s).toString(), u"d"_s);
    QJsonObject d = m.value(u"d"_s).toObject();
    QCOMPARE(d.value(u"r"_s).toInt(), 7);
    QVERIFY(!d.contains(u"a"_s));
    QCOMPARE(d.value(u"b"_s).toObject(), (QJsonObject {{u"s"_s, u"ok"_s}, {u"d"_s, u""_s}}));
    m = parse(protocol::reply(8, u"datastale"_s, u"Transaction hash does not match"_s));
    d = m.value(u"d"_s).toObject();
    QCOMPARE(d.value(u"b"_s).toObject().value(u"s"_s).toString(), u"datastale"_s);
    QCOMPARE(d.value(u"b"_s).toObject().value(u"d"_s).toString(), u"Transaction hash does not match"_s);
    // A listen's ok carries an object, a get's the value; never an `error` key (the SDK throws on it).
    m = parse(protocol::reply(9, u"ok"_s, QJsonObject {}));
    QVERIFY(m.value(u"d"_s).toObject().value(u"b"_s).toObject().value(u"d"_s).isObject());
    QVERIFY(!m.contains(u"error"_s));
}

void TestMessages::pushes()
{
    // Listen revoked: untagged without q; tagged with the query object inside an array (the SDK's query id).
    QCOMPARE(protocol::listenRevoked(u"/a"_s, {}), QByteArray(R"({"d":{"a":"c","b":{"p":"/a"}},"t":"d"})"));
    const QJsonObject q {{u"i"_s, u"age"_s}, {u"l"_s, 2}, {u"vf"_s, u"l"_s}};
    const QJsonObject revoked = parse(protocol::listenRevoked(u"/a"_s, q)).value(u"d"_s).toObject();
    QCOMPARE(revoked.value(u"a"_s).toString(), u"c"_s);
    QCOMPARE(revoked.value(u"b"_s).toObject().value(u"q"_s).toArray(), QJsonArray {q});

    QJsonObject m = parse(protocol::dataPush(u"/a/b"_s, QJsonObject {{u"c"_s, 1}}));
    QCOMPARE(m.value(u"t"_s).toString(), u"d"_s);
    QJsonObject d = m.value(u"d"_s).toObject();
    QCOMPARE(d.value(u"a"_s).toString(), u"d"_s);
    QVERIFY(!d.contains(u"r"_s));
    QJsonObject b = d.value(u"b"_s).toObject();
    QCOMPARE(b.value(u"p"_s).toString(), u"/a/b"_s);
    QCOMPARE(b.value(u"d"_s).toObject(), (QJsonObject {{u"c"_s, 1}}));
    QVERIFY(!b.contains(u"t"_s)); // untagged: a default listen

    m = parse(protocol::dataPush(u"/q"_s, QJsonValue::Null, 4));
    b = m.value(u"d"_s).toObject().value(u"b"_s).toObject();
    QCOMPARE(b.value(u"t"_s).toInt(), 4);
    QVERIFY(b.contains(u"d"_s));
    QVERIFY(b.value(u"d"_s).isNull());

    m = parse(protocol::mergePush(u"/st"_s, QJsonObject {{u"b/c"_s, 20}}));
    d = m.value(u"d"_s).toObject();
    QCOMPARE(d.value(u"a"_s).toString(), u"m"_s);
    QCOMPARE(d.value(u"b"_s).toObject().value(u"d"_s).toObject().value(u"b/c"_s).toInt(), 20);

    m = parse(protocol::extensionPush(u"lark.session"_s, QJsonObject {{u"handle"_s, u"S1"_s}}));
    d = m.value(u"d"_s).toObject();
    QCOMPARE(d.value(u"a"_s).toString(), u"lark.session"_s);
    QCOMPARE(d.value(u"b"_s).toObject().value(u"handle"_s).toString(), u"S1"_s);
}

void TestMessages::compact()
{
    // One line, no spaces: every byte counts towards the 16384-byte frames.
    const QByteArray m = protocol::dataPush(u"/a"_s, QJsonObject {{u"k"_s, u"v"_s}});
    QVERIFY(!m.contains(' '));
    QVERIFY(!m.contains('\n'));
    QCOMPARE(protocol::encode(QJsonObject {{u"t"_s, u"c"_s}}), QByteArray(R"({"t":"c"})"));
}

void TestMessages::toInt64_data()
{
    QTest::addColumn<QJsonValue>("value");
    QTest::addColumn<bool>("whole");
    QTest::addColumn<qint64>("expected");
    QTest::newRow("small") << QJsonValue(5) << true << qint64(5);
    QTest::newRow("negative") << QJsonValue(-7) << true << qint64(-7);
    QTest::newRow("2^53") << QJsonValue(9007199254740992.0) << true << qint64(9007199254740992);
    QTest::newRow("-2^63") << QJsonValue(-9223372036854775808.0) << true << std::numeric_limits<qint64>::min();
    // Casting these would be undefined behaviour: they are not request numbers.
    QTest::newRow("2^63") << QJsonValue(9223372036854775808.0) << false << qint64(0);
    QTest::newRow("1e20") << QJsonValue(1e20) << false << qint64(0);
    QTest::newRow("-1e300") << QJsonValue(-1e300) << false << qint64(0);
    QTest::newRow("fraction") << QJsonValue(1.5) << false << qint64(0);
    QTest::newRow("string") << QJsonValue(u"5"_s) << false << qint64(0);
    QTest::newRow("null") << QJsonValue(QJsonValue::Null) << false << qint64(0);
}

void TestMessages::toInt64()
{
    QFETCH(QJsonValue, value);
    QFETCH(bool, whole);
    QFETCH(qint64, expected);
    qint64 out = 0;
    QCOMPARE(lark::protocol::toInt64(value, &out), whole);
    QCOMPARE(out, expected);
}

void TestMessages::parseEnvelope_data()
{
    using lark::protocol::EnvelopeError;
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<EnvelopeError>("result");
    QTest::addColumn<QString>("parsed"); // kind and fields, or the error text

    QTest::newRow("ping") << R"({"t":"c","d":{"t":"p","d":{}}})"_ba << EnvelopeError::None << u"control p"_s;
    QTest::newRow("other control") << R"({"t":"c","d":{"t":"n"}})"_ba << EnvelopeError::None << u"control n"_s;
    QTest::newRow("request") << R"({"t":"d","d":{"r":7,"a":"p","b":{"p":"/a","d":1}}})"_ba << EnvelopeError::None
                             << u"data 7 p {\"d\":1,\"p\":\"/a\"}"_s;
    QTest::newRow("no action, no body") << R"({"t":"d","d":{"r":1}})"_ba << EnvelopeError::None
                                        << u"data 1  undefined"_s;
    QTest::newRow("not JSON") << "{\"t\":"_ba << EnvelopeError::NotJson << u"invalid JSON: unterminated object"_s;
    const QString notEnvelope = u"not a v5 envelope {\"t\":\"c\"|\"d\",\"d\":{}}"_s;
    QTest::newRow("array") << "[1]"_ba << EnvelopeError::NotEnvelope << notEnvelope;
    QTest::newRow("other t") << R"({"t":"x","d":{}})"_ba << EnvelopeError::NotEnvelope << notEnvelope;
    QTest::newRow("d not an object") << R"({"t":"d","d":[]})"_ba << EnvelopeError::NotEnvelope << notEnvelope;
    const QString noR = u"data message without a request number r"_s;
    QTest::newRow("no r") << R"({"t":"d","d":{"a":"s"}})"_ba << EnvelopeError::NoRequestNumber << noR;
    QTest::newRow("r a fraction") << R"({"t":"d","d":{"r":1.5}})"_ba << EnvelopeError::NoRequestNumber << noR;
    QTest::newRow("r a string") << R"({"t":"d","d":{"r":"1"}})"_ba << EnvelopeError::NoRequestNumber << noR;
    QTest::newRow("r out of range") << R"({"t":"d","d":{"r":1e20}})"_ba << EnvelopeError::NoRequestNumber << noR;
}

void TestMessages::parseEnvelope()
{
    QFETCH(QByteArray, message);
    QFETCH(lark::protocol::EnvelopeError, result);
    QFETCH(QString, parsed);
    lark::protocol::Envelope envelope;
    QString error;
    QCOMPARE(lark::protocol::parseEnvelope(message, &envelope, &error), result);
    if (result != lark::protocol::EnvelopeError::None) {
        QCOMPARE(error, parsed);
        return;
    }
    QString got;
    if (envelope.kind == lark::protocol::Envelope::Kind::Control) {
        got = u"control "_s + envelope.type;
    } else {
        const QString body = envelope.body.isUndefined()
            ? u"undefined"_s
            : QString::fromUtf8(QJsonDocument(envelope.body.toObject()).toJson(QJsonDocument::Compact));
        got = u"data %1 %2 %3"_s.arg(envelope.r).arg(envelope.action, body);
    }
    QCOMPARE(got, parsed);
}

QTEST_GUILESS_MAIN(TestMessages)
#include "tst_messages.moc"
