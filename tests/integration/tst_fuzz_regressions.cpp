// SPDX-License-Identifier: MIT
// What the protocol fuzz (tst_fuzz) found, each reduced to the fewest requests and kept as a row: written, or queued
// and fired, they must either be refused or leave a tree a Firebase database can hold (docs/semantics.md §7: bad
// input never corrupts data). Checked on the server's own tree and on the tree read back over the wire.

#include "fuzzfixture.h"
#include "fuzzoracle.h"

using namespace Qt::Literals::StringLiterals;

class TstFuzzRegressions : public FuzzFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init() { startServer({}); }
    void cleanup() { stopServer(); }

    void corruptingWrites_data();
    void corruptingWrites();
};

void TstFuzzRegressions::corruptingWrites_data()
{
    // What the fuzz found, each reduced to the fewest requests: written, or queued and fired, they must either be
    // refused or leave a tree a Firebase database can hold (docs/semantics.md §7: bad input never corrupts data).
    QTest::addColumn<QJsonArray>("requests"); // {"a": action, "b": body}, sent in order
    const auto req = [](const QString &a, const QString &p, const QJsonValue &d) {
        return QJsonObject {{u"a"_s, a}, {u"b"_s, QJsonObject {{u"p"_s, p}, {u"d"_s, d}}}};
    };
    const QJsonObject maxIncrement {{u".sv"_s, QJsonObject {{u"increment"_s, 1.7976931348623157e308}}}};
    QTest::newRow("increment past the largest double")
        << QJsonArray {req(u"p"_s, u"/fuzz/n"_s, 1.7976931348623157e308), req(u"p"_s, u"/fuzz/n"_s, maxIncrement)};
    QTest::newRow("update below a .priority path")
        << QJsonArray {req(u"p"_s, u"/fuzz/a"_s, 1), req(u"m"_s, u"/fuzz/a/.priority"_s, QJsonObject {{u"b"_s, 1}})};
    QTest::newRow("onDisconnect update below a .priority path")
        << QJsonArray {req(u"om"_s, u"/fuzz/a/.priority"_s, QJsonObject {{u"b"_s, 1}})};
    QTest::newRow("update with an .info key") << QJsonArray {req(u"m"_s, u"/fuzz"_s, QJsonObject {{u".info"_s, 1}})};
    QTest::newRow("update of .info from the root")
        << QJsonArray {req(u"m"_s, u"/"_s, QJsonObject {{u".info/connected"_s, true}})};
    const QJsonObject timestamp {{u".sv"_s, u"timestamp"_s}};
    QTest::newRow("onDisconnect cancel below a queued server value")
        << QJsonArray {req(u"o"_s, u"/fuzz/t"_s, timestamp), req(u"oc"_s, u"/fuzz/t/x"_s, QJsonValue())};
    QTest::newRow("onDisconnect update with an .info key")
        << QJsonArray {req(u"om"_s, u"/fuzz"_s, QJsonObject {{u".info/x"_s, 1}})};
}

void TstFuzzRegressions::corruptingWrites()
{
    QFETCH(QJsonArray, requests);
    m_case = QString::fromUtf8(QTest::currentDataTag());
    RawClient writer;
    QVERIFY(writer.open(m_server->port()));
    QString replies;
    for (const QJsonValue &r : std::as_const(requests)) {
        const QJsonObject reply = writer.call(r[u"a"_s].toString(), r[u"b"_s].toObject());
        QVERIFY2(!replyStatus(reply).isEmpty(), qPrintable(context(u"no reply to "_s + compact(r.toObject()))));
        replies += u"\n  "_s + compact(r.toObject()) + u" → "_s + compact(reply);
    }
    // Queued ops fire on a clean close.
    const QString id = writer.sessionId();
    writer.socket.close();
    QVERIFY(waitFor([&] { return !sessionById(id); }));
    checkStoredTree();
    if (QTest::currentTestFailed()) {
        qInfo().noquote() << "the requests and their replies:" << replies;
        return;
    }
    checkTreeOverTheWire();
    if (QTest::currentTestFailed())
        qInfo().noquote() << "the requests and their replies:" << replies;
}

QTEST_GUILESS_MAIN(TstFuzzRegressions)
#include "tst_fuzz_regressions.moc"
