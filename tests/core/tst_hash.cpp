// SPDX-License-Identifier: MIT
// Lark's Node::hash() must equal the Firebase JS SDK's: clients send it as a listen's `h` (to skip data they
// already have) and as a transaction's `h` (compare-and-set). The expected values were computed by the SDK itself
// (data/gen-hash-vectors.mjs); tests/interop/hash-vectors.test.mjs keeps the file in step with the pinned SDK.
#include "db/node.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using lark::Node;
using lark::Path;

class TestHash : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sdkVectors_data();
    void sdkVectors();
    void nullHashIsEmpty();
    void cachedHashFollowsWrites();

private:
    static Node build(const QJsonObject &vector);
    QJsonArray m_vectors;
};

void TestHash::initTestCase()
{
    QFile file(QStringLiteral(LARK_HASH_VECTORS));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.errorString()));
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &pe);
    QCOMPARE(pe.error, QJsonParseError::NoError);
    QCOMPARE(doc.object().value(u"sdk"_s).toString(), u"@firebase/database 1.1.5"_s);
    m_vectors = doc.object().value(u"vectors"_s).toArray();
    QVERIFY(m_vectors.size() >= 30);
}

Node TestHash::build(const QJsonObject &vector)
{
    // JSON has no -0; the generator marks it instead.
    if (vector.value(u"negativeZero"_s).toBool())
        return Node::fromNumber(-0.0);
    Node n;
    QString error;
    if (!Node::fromJson(vector.value(u"value"_s), &n, &error))
        qWarning("vector %s does not parse: %s", qPrintable(vector.value(u"name"_s).toString()), qPrintable(error));
    return n;
}

void TestHash::sdkVectors_data()
{
    QTest::addColumn<QJsonObject>("vector");
    for (const QJsonValue &v : std::as_const(m_vectors))
        QTest::newRow(qPrintable(v.toObject().value(u"name"_s).toString())) << v.toObject();
}

void TestHash::sdkVectors()
{
    QFETCH(QJsonObject, vector);
    const Node n = build(vector);
    QVERIFY(!n.isNull());
    QCOMPARE(n.hash(), vector.value(u"hash"_s).toString().toLatin1());
}

void TestHash::nullHashIsEmpty()
{
    // The SDK sends "" for an empty location (docs/wire-protocol.md §12b: `"h":""`).
    QVERIFY(Node().hash().isEmpty());
    Node emptied;
    QString error;
    QVERIFY(Node::fromJson(QJsonObject {{u"a"_s, QJsonObject {}}}, &emptied, &error));
    QVERIFY(emptied.hash().isEmpty());
}

void TestHash::cachedHashFollowsWrites()
{
    // Hashes are cached per node; every write must invalidate them along its path, so a tree built up and changed
    // by writes hashes exactly like the same value built in one go.
    Node root;
    for (qsizetype i = 0; i < m_vectors.size(); ++i) {
        const QJsonObject v = m_vectors.at(i).toObject();
        if (v.value(u"negativeZero"_s).toBool())
            continue; // -0 does not survive the JSON round trip below
        const QByteArray before = root.hash();
        root.set(Path(QStringList {u"v"_s, QString::number(i)}), build(v));
        QVERIFY(root.hash() != before);
        QCOMPARE(root.child(u"v"_s)->child(QString::number(i))->hash(), v.value(u"hash"_s).toString().toLatin1());
    }
    const QByteArray full = root.hash();
    Node fresh;
    QString error;
    QVERIFY(Node::fromJson(root.toJson(), &fresh, &error));
    QCOMPARE(fresh.hash(), full);
    // Change one deep value and put it back: the hash changes, then returns.
    const Path deep(QStringList {u"v"_s, u"1"_s});
    const Node saved = root.at(deep)->clone();
    root.set(deep, Node::fromString(u"changed"_s));
    QVERIFY(root.hash() != full);
    root.set(deep, saved.clone());
    QCOMPARE(root.hash(), full);
}

QTEST_GUILESS_MAIN(TestHash)
#include "tst_hash.moc"
