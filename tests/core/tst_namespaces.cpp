// SPDX-License-Identifier: MIT
// lark::Namespaces: one database per namespace, created on first use; clients are admitted to those that exist, to
// the default one, and to new ones only while under the cap (docs/semantics.md §7).
#include "db/database.h"
#include "server/namespaces.h"

#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TestNamespaces : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void createdOnFirstUse();
    void emptyNamesTheDefault();
    void capRefusesOnlyNewOnes();
    void capCountsNamespacesCreatedAnyway();
    void validNames_data();
    void validNames();
    void invalidNameRefused();
    void sortedNames();
};

void TestNamespaces::createdOnFirstUse()
{
    QObject owner;
    Namespaces ns(u"lark"_s, 10, &owner);
    QCOMPARE(ns.size(), 0);
    QCOMPARE(ns.find(u"a"_s), nullptr);
    bool created = false;
    Database *a = ns.database(u"a"_s, &created);
    QVERIFY(created);
    QCOMPARE(a->name(), u"a"_s);
    QCOMPARE(a->parent(), &owner);
    QCOMPARE(ns.database(u"a"_s, &created), a);
    QVERIFY(!created);
    QCOMPARE(ns.find(u"a"_s), a);
    QCOMPARE(ns.size(), 1);
    QCOMPARE(ns.databases(), QList<Database *> {a});
}

void TestNamespaces::emptyNamesTheDefault()
{
    QObject owner;
    Namespaces ns(u"lark"_s, 10, &owner);
    QCOMPARE(ns.resolve(QString()), u"lark"_s);
    QCOMPARE(ns.resolve(u"other"_s), u"other"_s);
    Database *db = ns.database(QString());
    QCOMPARE(db->name(), u"lark"_s);
    QCOMPARE(ns.database(u"lark"_s), db);
    QCOMPARE(ns.find(QString()), db);
    QCOMPARE(ns.size(), 1);
}

void TestNamespaces::capRefusesOnlyNewOnes()
{
    QObject owner;
    Namespaces ns(u"lark"_s, 2, &owner);
    QString reason;
    QVERIFY(ns.admits(u"one"_s, &reason));
    ns.database(u"one"_s);
    QVERIFY(ns.admits(u"two"_s, &reason));
    ns.database(u"two"_s);

    QVERIFY(!ns.admits(u"three"_s, &reason));
    QCOMPARE(reason, u"too many namespaces: this server holds at most 2 (lark-server --max-namespaces)"_s);
    // Those that exist still work, and so does the default one, named or not, though it is not created yet.
    QVERIFY(ns.admits(u"one"_s, &reason));
    QVERIFY(ns.admits(u"lark"_s, &reason));
    QVERIFY(ns.admits(QString(), &reason));
    QCOMPARE(ns.find(u"lark"_s), nullptr);
}

void TestNamespaces::capCountsNamespacesCreatedAnyway()
{
    // Namespaces loaded from a data file exist whatever the cap: a lower cap refuses only new ones.
    QObject owner;
    Namespaces ns(u"lark"_s, 1, &owner);
    ns.database(u"a"_s);
    ns.database(u"b"_s);
    ns.database(u"c"_s);
    QCOMPARE(ns.size(), 3);
    QString reason;
    QVERIFY(ns.admits(u"b"_s, &reason));
    QVERIFY(!ns.admits(u"d"_s, &reason));
    QVERIFY(ns.admits(u"lark"_s, &reason));
}

void TestNamespaces::validNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");
    QTest::newRow("empty: the default") << QString() << true;
    QTest::newRow("letters and digits") << u"App42"_s << true;
    QTest::newRow("dash, underscore, dot") << u"my-app_v2.test"_s << true;
    QTest::newRow("128 characters") << QString(128, u'a') << true;
    QTest::newRow("129 characters") << QString(129, u'a') << false;
    QTest::newRow("bang") << u"bad!ns"_s << false;
    QTest::newRow("slash") << u"a/b"_s << false;
    QTest::newRow("space") << u"a b"_s << false;
    QTest::newRow("non-ASCII letter") << u"caf\u00e9"_s << false;
    QTest::newRow("non-ASCII digit") << u"\u0663"_s << false;
}

void TestNamespaces::validNames()
{
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QCOMPARE(Namespaces::isValidName(name), valid);
}

void TestNamespaces::invalidNameRefused()
{
    QObject owner;
    Namespaces ns(u"lark"_s, 10, &owner);
    QString reason;
    QVERIFY(!ns.admits(u"bad!ns"_s, &reason));
    QCOMPARE(reason, u"invalid namespace"_s);
    QCOMPARE(ns.size(), 0);
}

void TestNamespaces::sortedNames()
{
    QObject owner;
    Namespaces ns(u"lark"_s, 10, &owner);
    for (const QString &name : {u"zeta"_s, u"alpha"_s, u"mid"_s})
        ns.database(name);
    QCOMPARE(ns.names(), (QStringList {u"alpha"_s, u"mid"_s, u"zeta"_s}));
}

QTEST_GUILESS_MAIN(TestNamespaces)
#include "tst_namespaces.moc"
