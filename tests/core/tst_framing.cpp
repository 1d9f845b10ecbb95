// SPDX-License-Identifier: MIT
// Frame-count framing of the v5 protocol (docs/wire-protocol.md §3) in both directions.
#include "protocol/framing.h"

#include <QTest>

using namespace Qt::Literals::StringLiterals;
using lark::protocol::FrameAssembler;
using lark::protocol::MaxFrameBytes;
using lark::protocol::splitFrames;
using Result = FrameAssembler::Result;

class TestFraming : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void smallMessageIsOneFrame();
    void splitSizes_data();
    void splitSizes();
    void splitOnCodePoints_data();
    void splitOnCodePoints();
    void reassemble();
    void keepAlive();
    void countFrames_data();
    void countFrames();
    void badCount();
    void tooBig();
    void joinedCapCountsBytes();
    void serverTextFrameHeader_data();
    void serverTextFrameHeader();
};

static QByteArray joined(const QList<QByteArray> &frames)
{
    QByteArray s;
    for (qsizetype i = 1; i < frames.size(); ++i)
        s += frames.at(i);
    return s;
}

void TestFraming::smallMessageIsOneFrame()
{
    // Like the SDK: no count prefix unless the message is split.
    const QByteArray msg = R"({"t":"d","d":{"r":1,"b":{"s":"ok","d":""}}})";
    QCOMPARE(splitFrames(msg), QList<QByteArray> {msg});
    const QByteArray exact(MaxFrameBytes, 'x');
    QCOMPARE(splitFrames(exact).size(), 1);
}

void TestFraming::splitSizes_data()
{
    QTest::addColumn<int>("size");
    QTest::addColumn<QList<int>>("pieces");

    QTest::newRow("16385") << 16385 << QList<int> {16384, 1};
    QTest::newRow("32768") << 32768 << QList<int> {16384, 16384};
    QTest::newRow("40000") << 40000 << QList<int> {16384, 16384, 7232};
}

void TestFraming::splitSizes()
{
    QFETCH(int, size);
    QFETCH(QList<int>, pieces);
    QByteArray msg(size, 'x');
    msg[0] = '{';
    const QList<QByteArray> frames = splitFrames(msg);
    QCOMPARE(frames.size(), pieces.size() + 1);
    QCOMPARE(frames.first(), QByteArray::number(pieces.size()));
    for (qsizetype i = 0; i < pieces.size(); ++i)
        QCOMPARE(frames.at(i + 1).size(), pieces.at(i));
    QCOMPARE(joined(frames), msg);
}

void TestFraming::splitOnCodePoints_data()
{
    QTest::addColumn<QString>("character");
    QTest::addColumn<int>("offset"); // where the multi-byte character starts, relative to the 16384 boundary

    const QString chars[] = {u"é"_s, u"€"_s, u"😀"_s};
    for (const QString &c : chars) {
        const int bytes = int(c.toUtf8().size());
        for (int offset = -bytes; offset <= 0; ++offset)
            QTest::addRow("%d-byte char at boundary%+d", bytes, offset) << c << offset;
    }
}

void TestFraming::splitOnCodePoints()
{
    QFETCH(QString, character);
    QFETCH(int, offset);
    // Plenty of the character around the boundary, starting exactly at 16384 + offset.
    QByteArray msg(MaxFrameBytes + offset, 'a');
    for (int i = 0; i < 200; ++i)
        msg += character.toUtf8();
    msg += QByteArray(MaxFrameBytes, 'z');
    const QList<QByteArray> frames = splitFrames(msg);
    QVERIFY(frames.size() >= 3);
    for (qsizetype i = 1; i < frames.size(); ++i) {
        const QByteArray &f = frames.at(i);
        QVERIFY(f.size() <= MaxFrameBytes);
        // Each piece is a text frame on its own: it must be valid UTF-8, so no code point is cut.
        QVERIFY(QByteArrayView(f).isValidUtf8());
    }
    QCOMPARE(joined(frames), msg);
}

void TestFraming::reassemble()
{
    QByteArray msg = R"({"t":"d","d":{"r":21,"a":"p","b":{"p":"/big","d":")";
    msg += QByteArray(30000, 'x');
    msg += QString(5000, QChar(0x20ac)).toUtf8() + u"🦆"_s.repeated(3000).toUtf8() + R"("}}})";
    FrameAssembler assembler(16 * 1024 * 1024);
    const QList<QByteArray> frames = splitFrames(msg);
    QByteArray message;
    for (qsizetype i = 0; i < frames.size() - 1; ++i) {
        QCOMPARE(assembler.feed(frames.at(i), &message), Result::Pending);
        QVERIFY(assembler.isBuffering());
    }
    QCOMPARE(assembler.feed(frames.back(), &message), Result::Message);
    QVERIFY(!assembler.isBuffering());
    QCOMPARE(message, msg);
    // The next message starts from a clean state.
    QCOMPARE(assembler.feed(R"({"t":"c"})"_ba, &message), Result::Message);
    QCOMPARE(message, R"({"t":"c"})"_ba);
}

void TestFraming::keepAlive()
{
    FrameAssembler assembler(1024);
    QByteArray message = "unchanged"_ba;
    QCOMPARE(assembler.feed("0"_ba, &message), Result::KeepAlive);
    QCOMPARE(message, "unchanged"_ba);
    QVERIFY(!assembler.isBuffering());
}

void TestFraming::countFrames_data()
{
    QTest::addColumn<QByteArray>("first");
    QTest::addColumn<int>("pieces"); // -1: the first frame is a whole message, not a count

    QTest::newRow("1") << "1"_ba << 1;
    QTest::newRow("leading zeros") << "0002"_ba << 2;
    QTest::newRow("six digits") << "000003"_ba << 3;
    QTest::newRow("seven digits is no count") << "0000003"_ba << -1;
    QTest::newRow("negative is no count") << "-1"_ba << -1;
    QTest::newRow("space is no count") << " 2"_ba << -1;
    QTest::newRow("plus is no count") << "+2"_ba << -1;
    QTest::newRow("json number") << "2.0"_ba << -1;
}

void TestFraming::countFrames()
{
    QFETCH(QByteArray, first);
    QFETCH(int, pieces);
    FrameAssembler assembler(1024);
    QByteArray message;
    if (pieces < 0) {
        // Not a count: handed on as a message (it then fails JSON parsing as a protocol error).
        QCOMPARE(assembler.feed(first, &message), Result::Message);
        QCOMPARE(message, first);
        return;
    }
    QCOMPARE(assembler.feed(first, &message), Result::Pending);
    QByteArray expected;
    for (int i = 0; i < pieces; ++i) {
        // While buffering, even a digit-only frame is a piece, not a count.
        const QByteArray piece = QByteArray::number(i + 7);
        expected += piece;
        QCOMPARE(assembler.feed(piece, &message), i + 1 < pieces ? Result::Pending : Result::Message);
    }
    QCOMPARE(message, expected);
}

void TestFraming::badCount()
{
    FrameAssembler assembler(16 * 1024 * 1024);
    QByteArray message;
    QCOMPARE(assembler.feed(QByteArray::number(lark::protocol::MaxFrameCount + 1), &message), Result::BadCount);
    QCOMPARE(assembler.feed("999999"_ba, &message), Result::BadCount);
    QVERIFY(!assembler.isBuffering());
    QCOMPARE(assembler.feed(QByteArray::number(lark::protocol::MaxFrameCount), &message), Result::Pending);
}

void TestFraming::tooBig()
{
    FrameAssembler assembler(1024);
    QByteArray message;
    QCOMPARE(assembler.feed(QByteArray(1024, 'x'), &message), Result::Message);
    QCOMPARE(assembler.feed(QByteArray(1025, 'x'), &message), Result::TooBig);
    // Joined pieces are capped too, and the assembler does not stay stuck in the oversized message.
    QCOMPARE(assembler.feed("3"_ba, &message), Result::Pending);
    QCOMPARE(assembler.feed(QByteArray(600, 'x'), &message), Result::Pending);
    QCOMPARE(assembler.feed(QByteArray(600, 'x'), &message), Result::TooBig);
    QVERIFY(!assembler.isBuffering());
    QCOMPARE(assembler.feed("{}"_ba, &message), Result::Message);
}

void TestFraming::joinedCapCountsBytes()
{
    // The cap is in UTF-8 bytes (docs/semantics.md §7, --max-message): 800 x é is 1600 bytes.
    FrameAssembler assembler(1024);
    QByteArray message;
    QCOMPARE(assembler.feed(QString(800, QChar(0xe9)).toUtf8(), &message), Result::TooBig);
    QCOMPARE(assembler.feed("2"_ba, &message), Result::Pending);
    QCOMPARE(assembler.feed(QString(400, QChar(0xe9)).toUtf8(), &message), Result::Pending);
    QCOMPARE(assembler.feed(QString(400, QChar(0xe9)).toUtf8(), &message), Result::TooBig);
    // 512 x é is exactly 1024 bytes.
    QCOMPARE(assembler.feed("2"_ba, &message), Result::Pending);
    QCOMPARE(assembler.feed(QString(256, QChar(0xe9)).toUtf8(), &message), Result::Pending);
    QCOMPARE(assembler.feed(QString(256, QChar(0xe9)).toUtf8(), &message), Result::Message);
    QCOMPARE(message.size(), 1024);
    QCOMPARE(QString::fromUtf8(message), QString(512, QChar(0xe9)));
}

void TestFraming::serverTextFrameHeader_data()
{
    QTest::addColumn<int>("size");
    QTest::addColumn<QByteArray>("header");
    // RFC 6455 §5.2: FIN + text opcode, no mask; 7-bit length, then 126 + 16-bit, then 127 + 64-bit, big-endian.
    QTest::newRow("empty") << 0 << QByteArray::fromHex("8100");
    QTest::newRow("125") << 125 << QByteArray::fromHex("817d");
    QTest::newRow("126") << 126 << QByteArray::fromHex("817e007e");
    QTest::newRow("16384") << 16384 << QByteArray::fromHex("817e4000");
    QTest::newRow("65535") << 65535 << QByteArray::fromHex("817effff");
    QTest::newRow("65536") << 65536 << QByteArray::fromHex("817f0000000000010000");
}

void TestFraming::serverTextFrameHeader()
{
    QFETCH(int, size);
    QFETCH(QByteArray, header);
    const QByteArray payload(size, 'x');
    const QByteArray frame = lark::protocol::serverTextFrame(payload);
    QCOMPARE(frame.left(header.size()).toHex(), header.toHex());
    QCOMPARE(frame.mid(header.size()), payload);
}

QTEST_GUILESS_MAIN(TestFraming)
#include "tst_framing.moc"
