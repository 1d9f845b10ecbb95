// SPDX-License-Identifier: MIT
#include "db/path.h"

#include <QTest>

using namespace Qt::Literals::StringLiterals;
using lark::Path;

class TestPath : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseValid_data();
    void parseValid();
    void parseInvalid_data();
    void parseInvalid();
    void keyLimits_data();
    void keyLimits();
    void pathByteLimit_data();
    void pathByteLimit();
    void depthLimit();
    void parseRelative();
    void navigation();
    void containsAndOverlaps_data();
    void containsAndOverlaps();
    void relativeTo();
};

static Path p(const QString &text)
{
    Path out;
    QString error;
    if (!Path::parse(text, &out, &error))
        qFatal("bad test path %s: %s", qPrintable(text), qPrintable(error));
    return out;
}

void TestPath::parseValid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("keys");
    QTest::addColumn<QString>("wire");

    QTest::newRow("root") << u"/"_s << QStringList {} << u"/"_s;
    QTest::newRow("empty is root") << QString() << QStringList {} << u"/"_s;
    QTest::newRow("leading slash") << u"/a/b"_s << QStringList {u"a"_s, u"b"_s} << u"/a/b"_s;
    QTest::newRow("no leading slash") << u"a/b"_s << QStringList {u"a"_s, u"b"_s} << u"/a/b"_s;
    QTest::newRow("empty segments skipped") << u"//a///b/"_s << QStringList {u"a"_s, u"b"_s} << u"/a/b"_s;
    QTest::newRow("push id") << u"/rooms/-P7E-eezVZA7idPeIFqj"_s << QStringList {u"rooms"_s, u"-P7E-eezVZA7idPeIFqj"_s}
                             << u"/rooms/-P7E-eezVZA7idPeIFqj"_s;
    QTest::newRow("unicode and spaces") << u"/ключ/a b/😀"_s << QStringList {u"ключ"_s, u"a b"_s, u"😀"_s}
                                        << u"/ключ/a b/😀"_s;
    QTest::newRow("punctuation allowed") << u"/a-b_c:d@e!f%g"_s << QStringList {u"a-b_c:d@e!f%g"_s}
                                         << u"/a-b_c:d@e!f%g"_s;
    // The pseudo-keys of the wire format: setPriority writes to <path>/.priority, .info is the client's tree.
    QTest::newRow(".priority last") << u"/a/.priority"_s << QStringList {u"a"_s, u".priority"_s} << u"/a/.priority"_s;
    QTest::newRow(".info first") << u"/.info/connected"_s << QStringList {u".info"_s, u"connected"_s}
                                 << u"/.info/connected"_s;
}

void TestPath::parseValid()
{
    QFETCH(QString, text);
    QFETCH(QStringList, keys);
    QFETCH(QString, wire);
    Path path;
    QString error;
    QVERIFY2(Path::parse(text, &path, &error), qPrintable(error));
    QCOMPARE(path.keys(), keys);
    QCOMPARE(path.size(), keys.size());
    QCOMPARE(path.isRoot(), keys.isEmpty());
    QCOMPARE(path.toString(), wire);
}

void TestPath::parseInvalid_data()
{
    QTest::addColumn<QString>("text");

    for (const QChar c : u".$#[]"_s)
        QTest::addRow("contains %c", c.toLatin1()) << u"/a/b%1c"_s.arg(c);
    QTest::newRow("NUL") << u"/a/b\u0000c"_s;
    QTest::newRow("tab") << u"/a\tb"_s;
    QTest::newRow("newline") << u"/a\nb"_s;
    QTest::newRow("unit separator 31") << u"/a\u001fb"_s;
    QTest::newRow("DEL 127") << u"/a\u007fb"_s;
    QTest::newRow(".priority not last") << u"/a/.priority/b"_s;
    QTest::newRow(".info not first") << u"/a/.info"_s;
    QTest::newRow(".value") << u"/a/.value"_s;
    QTest::newRow(".sv") << u"/a/.sv"_s;
    QTest::newRow("dot key") << u"/."_s;
}

void TestPath::parseInvalid()
{
    QFETCH(QString, text);
    Path path(QStringList {u"untouched"_s});
    QString error;
    QVERIFY(!Path::parse(text, &path, &error));
    QVERIFY(!error.isEmpty());
    QCOMPARE(path.toString(), u"/untouched"_s);
}

void TestPath::keyLimits_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<bool>("valid");

    QTest::newRow("empty") << QString() << false;
    QTest::newRow("one byte") << u"a"_s << true;
    QTest::newRow("768 ASCII bytes") << QString(768, u'k') << true;
    QTest::newRow("769 ASCII bytes") << QString(769, u'k') << false;
    // The limit is in UTF-8 bytes, not characters: é is two bytes, 😀 four.
    QTest::newRow("384 x é = 768 bytes") << QString(384, QChar(0xe9)) << true;
    QTest::newRow("385 x é = 770 bytes") << QString(385, QChar(0xe9)) << false;
    QTest::newRow("192 x 😀 = 768 bytes") << u"😀"_s.repeated(192) << true;
    QTest::newRow("193 x 😀 = 772 bytes") << u"😀"_s.repeated(193) << false;
    QTest::newRow("slash") << u"a/b"_s << false;
    QTest::newRow(".priority is not a storable key") << u".priority"_s << false;
}

void TestPath::keyLimits()
{
    QFETCH(QString, key);
    QFETCH(bool, valid);
    QString error;
    QCOMPARE(Path::isValidKey(key, &error), valid);
    QCOMPARE(error.isEmpty(), valid);
}

void TestPath::pathByteLimit_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");

    // The SDK counts a path's bytes as its keys' UTF-8 bytes plus one separator per key ("/a/b" = 4), so a single
    // key can be at most 767 bytes long as a path, whatever slashes the text has.
    const QString k767(767, u'k');
    const QString k768(768, u'k');
    QTest::newRow("/767") << u"/"_s + k767 << true;
    QTest::newRow("767 without slash") << k767 << true;
    QTest::newRow("/767/ trailing slash") << u"/"_s + k767 + u"/"_s << true;
    QTest::newRow("//767 double slash") << u"//"_s + k767 << true;
    QTest::newRow("/768") << u"/"_s + k768 << false;
    QTest::newRow("768 without slash") << k768 << false;
    QTest::newRow("/a/765 = 768") << u"/a/"_s + QString(765, u'k') << true;
    QTest::newRow("/a/766 = 769") << u"/a/"_s + QString(766, u'k') << false;
    QTest::newRow("/383 x é = 767 bytes") << u"/"_s + QString(383, QChar(0xe9)) << true;
    QTest::newRow("/384 x é = 769 bytes") << u"/"_s + QString(384, QChar(0xe9)) << false;
}

void TestPath::pathByteLimit()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    Path path;
    QString error;
    QCOMPARE(Path::parse(text, &path, &error), valid);
    if (!valid)
        QVERIFY(error.contains(u"768"_s));
}

void TestPath::depthLimit()
{
    QStringList keys;
    for (int i = 0; i < Path::MaxDepth; ++i)
        keys.append(u"k%1"_s.arg(i));
    Path path;
    QString error;
    QVERIFY2(Path::parse(keys.join(u'/'), &path, &error), qPrintable(error));
    QCOMPARE(path.size(), 32);

    keys.append(u"one-too-many"_s);
    QVERIFY(!Path::parse(keys.join(u'/'), &path, &error));
    QVERIFY(error.contains(u"32"_s));
}

void TestPath::parseRelative()
{
    Path path;
    QString error;
    const Path a = p(u"/a"_s);
    QVERIFY(Path::parseRelative(a, u"b/c"_s, &path, &error));
    QCOMPARE(path.keys(), (QStringList {u"b"_s, u"c"_s}));
    QVERIFY(Path::parseRelative(a, u"x/.priority"_s, &path, &error));
    QCOMPARE(path.back(), u".priority"_s);
    // An update key must name something below the update's location.
    QVERIFY(!Path::parseRelative(a, QString(), &path, &error));
    QVERIFY(!Path::parseRelative(a, u"/"_s, &path, &error));
    QVERIFY(!Path::parseRelative(a, u"a/b$"_s, &path, &error));
    // Checked joined to the base: each is valid alone, not together.
    QVERIFY(!Path::parseRelative(p(u"/a/.priority"_s), u"b"_s, &path, &error)); // .priority only last
    QVERIFY(!Path::parseRelative(a, u".info"_s, &path, &error)); // .info only first
    QVERIFY(Path::parseRelative(Path(), u".info/connected"_s, &path, &error)); // first: the caller refuses writes
    const QString key(700, u'k');
    QVERIFY(Path::parseRelative(Path(), key, &path, &error));
    QVERIFY(!Path::parseRelative(p(u"/"_s + QString(100, u'b')), key, &path, &error)); // 768 bytes in all
    QVERIFY2(error.contains(u"768"_s), qPrintable(error));
    QStringList deep;
    for (int i = 0; i < 30; ++i)
        deep.append(u"k"_s);
    QVERIFY(Path::parseRelative(p(u"/a/b"_s), deep.join(u'/'), &path, &error));
    QVERIFY(!Path::parseRelative(p(u"/a/b/c"_s), deep.join(u'/'), &path, &error)); // 32 keys in all
}

void TestPath::navigation()
{
    const Path a = p(u"/a"_s);
    const Path abc = p(u"/a/b/c"_s);
    QCOMPARE(a.child(u"b"_s).child(u"c"_s), abc);
    QCOMPARE(a.child(p(u"b/c"_s)), abc);
    QCOMPARE(abc.parent(), p(u"/a/b"_s));
    QCOMPARE(abc.parent().parent().parent(), Path());
    QCOMPARE(Path().parent(), Path()); // the root has no parent but itself
    QCOMPARE(abc.mid(1), p(u"b/c"_s));
    QCOMPARE(abc.mid(3), Path());
    QCOMPARE(abc.front(), u"a"_s);
    QCOMPARE(abc.back(), u"c"_s);
    QCOMPARE(abc.at(1), u"b"_s);
    QVERIFY(abc != a);
}

void TestPath::containsAndOverlaps_data()
{
    QTest::addColumn<QString>("outer");
    QTest::addColumn<QString>("inner");
    QTest::addColumn<bool>("contains");
    QTest::addColumn<bool>("overlaps");

    QTest::newRow("root contains all") << u"/"_s << u"/a/b"_s << true << true;
    QTest::newRow("equal") << u"/a/b"_s << u"/a/b"_s << true << true;
    QTest::newRow("ancestor") << u"/a"_s << u"/a/b/c"_s << true << true;
    QTest::newRow("descendant") << u"/a/b/c"_s << u"/a"_s << false << true;
    QTest::newRow("siblings") << u"/a/b"_s << u"/a/c"_s << false << false;
    // Keys are compared whole: /ab is no child of /a.
    QTest::newRow("prefix of a key") << u"/a"_s << u"/ab"_s << false << false;
    QTest::newRow("different roots") << u"/x/a"_s << u"/y/a"_s << false << false;
}

void TestPath::containsAndOverlaps()
{
    QFETCH(QString, outer);
    QFETCH(QString, inner);
    QFETCH(bool, contains);
    QFETCH(bool, overlaps);
    QCOMPARE(p(outer).contains(p(inner)), contains);
    QCOMPARE(p(outer).overlaps(p(inner)), overlaps);
    QCOMPARE(p(inner).overlaps(p(outer)), overlaps);
}

void TestPath::relativeTo()
{
    QCOMPARE(p(u"/a/b/c"_s).relativeTo(p(u"/a"_s)), p(u"b/c"_s));
    QCOMPARE(p(u"/a/b/c"_s).relativeTo(Path()), p(u"/a/b/c"_s));
    QCOMPARE(p(u"/a/b"_s).relativeTo(p(u"/a/b"_s)), Path());
    QCOMPARE(p(u"/a/b/c"_s).relativeTo(p(u"/a"_s)).toString(), u"/b/c"_s);
}

QTEST_GUILESS_MAIN(TestPath)
#include "tst_path.moc"
