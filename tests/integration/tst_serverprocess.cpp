// SPDX-License-Identifier: MIT
// The lark-server executable as users run it: options, environment, import, and a clean shutdown on SIGTERM.

#include "rawclient.h"
#include "serverprocess.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryFile>

using namespace Qt::Literals::StringLiterals;

class TstServerProcess : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helpAndVersion();
    void badOptionsExplainThemselves_data();
    void badOptionsExplainThemselves();
    void badRulesFileStopsTheStart();
    void importAndEnvironment();
    void sigtermClosesClientsCleanly();
};

void TstServerProcess::helpAndVersion()
{
    QProcess p;
    p.start(QStringLiteral(LARK_SERVER_PATH), {u"--help"_s});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 0);
    const QString help = QString::fromUtf8(p.readAllStandardOutput());
    for (const QString &opt : {u"--host"_s, u"--port"_s, u"--ns"_s, u"--ping-interval"_s, u"--dead-after"_s,
             u"--grace"_s, u"--import"_s, u"LARK_PORT"_s})
        QVERIFY2(help.contains(opt), qPrintable(opt));
    p.start(QStringLiteral(LARK_SERVER_PATH), {u"--version"_s});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 0);
    QVERIFY(p.readAllStandardOutput().startsWith("lark-server "));
}

void TstServerProcess::badOptionsExplainThemselves_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::newRow("duration without unit") << QStringList {u"--grace"_s, u"5"_s} << u"write it like"_s;
    QTest::newRow("bad port") << QStringList {u"--port"_s, u"70000"_s} << u"not a port"_s;
    QTest::newRow("unknown option") << QStringList {u"--frobnicate"_s} << u"frobnicate"_s;
    QTest::newRow("bad host") << QStringList {u"--host"_s, u"nowhere"_s} << u"not an IP address"_s;
    QTest::newRow("missing import file") << QStringList {u"--port"_s, u"0"_s, u"--import"_s, u"/nonexistent.json"_s}
                                         << u"cannot read"_s;
    QTest::newRow("missing rules file") << QStringList {u"--port"_s, u"0"_s, u"--rules"_s, u"/nonexistent.json"_s}
                                        << u"rules: /nonexistent.json: cannot read"_s;
}

void TstServerProcess::badOptionsExplainThemselves()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    QProcess p;
    p.start(QStringLiteral(LARK_SERVER_PATH), args);
    QVERIFY(p.waitForFinished(10000));
    QVERIFY(p.exitCode() != 0);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(err.contains(message), qPrintable(err));
}

void TstServerProcess::badRulesFileStopsTheStart()
{
    QTemporaryFile rules;
    QVERIFY(rules.open());
    rules.write("{\n  \"rules\": {\n    \".read\": tru\n  }\n}\n");
    rules.flush();
    QProcess p;
    p.start(QStringLiteral(LARK_SERVER_PATH), {u"--port"_s, u"0"_s, u"--rules"_s, rules.fileName()});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 2);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(err.contains(rules.fileName() + u": 3:"_s), qPrintable(err)); // the emulator's L:C: message
}

void TstServerProcess::importAndEnvironment()
{
    QTemporaryFile json;
    QVERIFY(json.open());
    json.write(R"({"rooms":{"r1":{"title":"imported"}},"list":["a","b"]})");
    json.flush();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"LARK_PORT"_s, u"0"_s);
    env.insert(u"LARK_NS"_s, u"fromenv"_s);
    env.insert(u"LARK_GRACE"_s, u"nonsense"_s); // the command line wins over the environment
    QProcess p;
    const quint16 port = startServerProcess(p, {u"--import"_s, json.fileName(), u"--grace"_s, u"2s"_s}, env);
    QVERIFY(port != 0);
    RawClient c;
    QVERIFY(c.open(port, u"fromenv"_s));
    const QJsonObject v = c.call(u"g"_s, {{u"p"_s, u"/"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toObject();
    QCOMPARE(v.value(u"rooms"_s).toObject().value(u"r1"_s).toObject().value(u"title"_s).toString(), u"imported"_s);
    QCOMPARE(v.value(u"list"_s).toObject(), (QJsonObject {{u"0"_s, u"a"_s}, {u"1"_s, u"b"_s}}));
    p.terminate();
    QVERIFY(p.waitForFinished(10000));
}

void TstServerProcess::sigtermClosesClientsCleanly()
{
    QProcess p;
    const quint16 port = startServerProcess(p, {u"--port"_s, u"0"_s});
    QVERIFY(port != 0);
    RawClient c;
    QVERIFY(c.open(port));
    p.terminate(); // SIGTERM
    QTRY_VERIFY_WITH_TIMEOUT(c.closed, 10000);
    QCOMPARE(c.socket.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 0);
}

QTEST_GUILESS_MAIN(TstServerProcess)
#include "tst_serverprocess.moc"
