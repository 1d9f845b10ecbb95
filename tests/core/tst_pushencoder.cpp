// SPDX-License-Identifier: MIT
#include "testvalues.h"

#include "protocol/framing.h"
#include "server/pushencoder.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

namespace
{

SharedEvent makeEvent(DataEvent::Kind kind, const QString &at, const QString &value, qint64 tag = 0)
{
    return std::make_shared<const DataEvent>(DataEvent {kind, path(at), json(value), tag, WriteOrigin {}});
}

/** The payload of an unmasked final text frame, as the server writes it. */
QByteArray payload(const QByteArray &frame)
{
    if (frame.size() < 2 || quint8(frame[0]) != 0x81 || (quint8(frame[1]) & 0x80))
        return "not a server text frame";
    const int length = quint8(frame[1]) & 0x7f;
    const int header = length == 126 ? 4 : length == 127 ? 10 : 2;
    return frame.mid(header);
}

QJsonObject body(const QByteArray &message)
{
    return QJsonDocument::fromJson(message).object().value(u"d"_s).toObject().value(u"b"_s).toObject();
}

} // namespace

class TestPushEncoder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void overwriteAndMerge();
    void encodesOncePerEvent();
    void largePushIsSplit();
};

void TestPushEncoder::overwriteAndMerge()
{
    PushEncoder encoder;
    const QList<QByteArray> d = encoder.wireFrames(makeEvent(DataEvent::Kind::Overwrite, u"/a/b"_s, u"{\"c\":1}"_s, 4));
    QCOMPARE(d.size(), 1);
    const QJsonObject push = QJsonDocument::fromJson(payload(d[0])).object();
    QCOMPARE(push.value(u"t"_s).toString(), u"d"_s);
    QCOMPARE(push.value(u"d"_s).toObject().value(u"a"_s).toString(), u"d"_s);
    QCOMPARE(body(payload(d[0])).value(u"p"_s).toString(), u"/a/b"_s);
    QCOMPARE(body(payload(d[0])).value(u"d"_s), json(u"{\"c\":1}"_s));
    QCOMPARE(body(payload(d[0])).value(u"t"_s).toInt(), 4);

    const QList<QByteArray> m = encoder.wireFrames(makeEvent(DataEvent::Kind::Merge, u"/s"_s, u"{\"x/y\":2}"_s));
    QCOMPARE(m.size(), 1);
    QCOMPARE(QJsonDocument::fromJson(payload(m[0])).object().value(u"d"_s).toObject().value(u"a"_s).toString(), u"m"_s);
    QCOMPARE(body(payload(m[0])).value(u"d"_s), json(u"{\"x/y\":2}"_s));
    QVERIFY(!body(payload(m[0])).contains(u"t"_s)); // untagged
}

void TestPushEncoder::encodesOncePerEvent()
{
    PushEncoder encoder;
    const SharedEvent e = makeEvent(DataEvent::Kind::Overwrite, u"/a"_s, u"1"_s);
    const QByteArray first = encoder.wireFrames(e).constFirst();
    // The next recipient of the same event gets the same bytes, not a new encoding (shared storage).
    QCOMPARE(encoder.wireFrames(e).constFirst().constData(), first.constData());
    // An equal but distinct event is encoded anew: events are told apart by identity, never by content.
    const SharedEvent other = makeEvent(DataEvent::Kind::Overwrite, u"/a"_s, u"2"_s);
    QCOMPARE(body(payload(encoder.wireFrames(other).constFirst())).value(u"d"_s), json(u"2"_s));
}

void TestPushEncoder::largePushIsSplit()
{
    PushEncoder encoder;
    const QString big = QString(40000, u'x');
    const QList<QByteArray> frames
        = encoder.wireFrames(makeEvent(DataEvent::Kind::Overwrite, u"/big"_s, u"\""_s + big + u"\""_s));
    QVERIFY(frames.size() > 2);
    // A count frame, then pieces that join back to the message.
    QCOMPARE(payload(frames[0]).toInt(), frames.size() - 1);
    QByteArray joined;
    for (qsizetype i = 1; i < frames.size(); ++i) {
        QVERIFY(payload(frames[i]).size() <= protocol::MaxFrameBytes);
        joined += payload(frames[i]);
    }
    QCOMPARE(body(joined).value(u"d"_s).toString(), big);
}

QTEST_GUILESS_MAIN(TestPushEncoder)
#include "tst_pushencoder.moc"
