// SPDX-License-Identifier: MIT
// `lark --demo --screenshot out.png` end to end: the app starts its server and tabs, renders offscreen and saves a
// real picture of the dashboard.
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QRect>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::Literals::StringLiterals;

class TstScreenshot : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void demoScreenshot();
    void commandLineWinsOverSavedSettings();
    void helpAndVersion();
    void screenshotAtAGivenSize();
    void oneOffOptionsAreNotSaved();

private:
    // Every lark started here reads and writes its settings in a temporary folder, never the user's.
    QTemporaryDir m_config;
    QProcessEnvironment env() const
    {
        QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
        e.insert(u"XDG_CONFIG_HOME"_s, m_config.path());
        e.insert(u"XDG_DATA_HOME"_s, m_config.path()); // and its data file, were one kept

        return e;
    }
};

void TstScreenshot::initTestCase()
{
    QVERIFY(m_config.isValid());
}

void TstScreenshot::commandLineWinsOverSavedSettings()
{
    // Saved: connect mode, a 2 s ping, a 7 s grace. Given: --port (host mode) and --grace 3s.
    const QString file = m_config.filePath(u"lark/lark.conf"_s);
    {
        QSettings saved(file, QSettings::IniFormat);
        saved.setValue(u"mode"_s, u"connect"_s);
        saved.setValue(u"connect/url"_s, u"ws://127.0.0.1:1"_s);
        saved.setValue(u"timers/pingIntervalMs"_s, 2000);
        saved.setValue(u"timers/graceMs"_s, 7000);
    }
    QTemporaryDir dir;
    QProcess app;
    app.setProcessEnvironment(env());
    app.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    app.start(QStringLiteral(LARK_APP_PATH),
        {u"--port"_s, u"0"_s, u"--grace"_s, u"3s"_s, u"--screenshot"_s, dir.filePath(u"s.png"_s)});
    QVERIFY(app.waitForFinished(60000));
    const QByteArray out = app.readAllStandardOutput();
    QVERIFY2(app.exitCode() == 0, out.constData());
    QVERIFY2(out.contains("server listening on ws://127.0.0.1:"), out.constData()); // host mode: --port won
    QVERIFY2(out.contains("ping 2s"), out.constData()); // saved, not given: kept
    QVERIFY2(out.contains("grace 3s"), out.constData()); // given: wins
    // A screenshot run leaves the saved settings as they were.
    QSettings after(file, QSettings::IniFormat);
    QCOMPARE(after.value(u"mode"_s).toString(), u"connect"_s);
    QCOMPARE(after.value(u"timers/graceMs"_s).toInt(), 7000);
    QFile::remove(file);
}

void TstScreenshot::demoScreenshot()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(u"out.png"_s);
    QProcess app;
    app.setProcessEnvironment(env());
    app.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    // Port 0: never collide with a server already running on 9000.
    app.start(QStringLiteral(LARK_APP_PATH),
        {u"--demo"_s, u"--port"_s, u"0"_s, u"--grace"_s, u"3s"_s, u"--screenshot"_s, file});
    QVERIFY(app.waitForStarted());
    QVERIFY2(app.waitForFinished(60000), "lark did not exit after the screenshot");
    const QByteArray out = app.readAllStandardOutput();
    QCOMPARE(app.exitStatus(), QProcess::NormalExit);
    QVERIFY2(app.exitCode() == 0, out.constData());
    QVERIFY(out.contains("server listening on ws://127.0.0.1:"));
    QVERIFY(out.contains("grace 3s"));
    // The presence page of the embedded server, for the first user in the namespace shown.
    QVERIFY2(out.contains("presence page http://127.0.0.1:"), out.constData());
    QVERIFY(out.contains("/?uid=alice&ns="));

    QImage image(file);
    QVERIFY2(!image.isNull(), "the screenshot is not a readable PNG");
    QCOMPARE(image.size(), QSize(1440, 900)); // the main window's size in DashboardWindow.qml
    // Not blank: a rendered dashboard has many colours (text, banners, panels).
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 4) {
        for (int x = 0; x < image.width(); x += 4)
            colours.insert(image.pixel(x, y));
    }
    QVERIFY2(colours.size() > 20, qPrintable(u"only %1 colours"_s.arg(colours.size())));
    // The green of a connected banner is there: the tabs really connected to the embedded server.
    const QColor green(0x2e, 0x7d, 0x32);
    QVERIFY(colours.contains(green.rgb()));
}

void TstScreenshot::helpAndVersion()
{
    // Without any display: --help and --version still answer, and a plain start says how to get a display.
    QProcessEnvironment env = this->env();
    env.remove(u"DISPLAY"_s);
    env.remove(u"WAYLAND_DISPLAY"_s);
    env.remove(u"QT_QPA_PLATFORM"_s);
    QProcess app;
    app.setProcessEnvironment(env);
    app.start(QStringLiteral(LARK_APP_PATH), {u"--version"_s});
    QVERIFY(app.waitForFinished(20000));
    QCOMPARE(app.exitCode(), 0);
    QVERIFY(app.readAllStandardOutput().startsWith("lark "));
    app.start(QStringLiteral(LARK_APP_PATH), {u"--help"_s});
    QVERIFY(app.waitForFinished(20000));
    QCOMPARE(app.exitCode(), 0);
    const QByteArray help = app.readAllStandardOutput();
    QVERIFY(help.contains("--demo"));
    QVERIFY(help.contains("--screenshot"));
    QVERIFY(help.contains("--port"));
    app.start(QStringLiteral(LARK_APP_PATH), {u"--port"_s, u"nope"_s});
    QVERIFY(app.waitForFinished(20000));
    QCOMPARE(app.exitCode(), 2);
    app.start(QStringLiteral(LARK_APP_PATH), {u"--grace"_s, u"10"_s}); // durations need a unit, as for lark-server
    QVERIFY(app.waitForFinished(20000));
    QCOMPARE(app.exitCode(), 2);
    QVERIFY(help.contains("--grace"));
    QVERIFY(help.contains("--size"));
    QVERIFY(!help.contains("--platform")); // Qt's own options are for --help-all (B16)
    app.start(QStringLiteral(LARK_APP_PATH), {u"--help-all"_s});
    QVERIFY(app.waitForFinished(20000));
    QCOMPARE(app.exitCode(), 0);
    const QByteArray all = app.readAllStandardOutput();
    QVERIFY2(all.contains("--platform") && all.contains("--qwindowgeometry"), all.constData());
    QVERIFY(all.contains("--demo"));
    app.start(QStringLiteral(LARK_APP_PATH), {u"--size"_s, u"wide"_s});
    QVERIFY(app.waitForFinished(20000));
    QCOMPARE(app.exitCode(), 2);
    QVERIFY(app.readAllStandardError().contains("--size takes a width and a height"));
    app.start(QStringLiteral(LARK_APP_PATH), {});
    QVERIFY(app.waitForFinished(20000));
    QCOMPARE(app.exitCode(), 1);
    QVERIFY(app.readAllStandardError().contains("xvfb-run"));
}

void TstScreenshot::screenshotAtAGivenSize()
{
    // --size renders any window size, for the docs and the layout tests (issue #16).
    QTemporaryDir dir;
    const QString file = dir.filePath(u"small.png"_s);
    QProcess app;
    app.setProcessEnvironment(env());
    app.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    app.start(
        QStringLiteral(LARK_APP_PATH), {u"--port"_s, u"0"_s, u"--size"_s, u"1024x700"_s, u"--screenshot"_s, file});
    QVERIFY2(app.waitForFinished(60000), "lark did not exit after the screenshot");
    QVERIFY2(app.exitCode() == 0, app.readAllStandardOutput().constData());
    const QImage image(file);
    QCOMPARE(image.size(), QSize(1024, 700));

    // --theme dark: mostly dark pixels, where the light scheme has mostly light ones.
    const auto meanLightness = [](const QImage &i) {
        double sum = 0;
        int n = 0;
        for (int y = 0; y < i.height(); y += 7) {
            for (int x = 0; x < i.width(); x += 7, ++n)
                sum += i.pixelColor(x, y).lightnessF();
        }
        return sum / n;
    };
    QVERIFY2(meanLightness(image) > 0.7, qPrintable(QString::number(meanLightness(image))));
    const QString darkFile = dir.filePath(u"dark.png"_s);
    app.start(QStringLiteral(LARK_APP_PATH),
        {u"--port"_s, u"0"_s, u"--size"_s, u"1024x700"_s, u"--theme"_s, u"dark"_s, u"--screenshot"_s, darkFile});
    QVERIFY2(app.waitForFinished(60000), "lark did not exit after the screenshot");
    QCOMPARE(app.exitCode(), 0);
    const QImage dark(darkFile);
    QVERIFY2(meanLightness(dark) < 0.3, qPrintable(QString::number(meanLightness(dark))));
    app.start(QStringLiteral(LARK_APP_PATH), {u"--theme"_s, u"purple"_s});
    QVERIFY(app.waitForFinished(20000));
    QCOMPARE(app.exitCode(), 2);
}

void TstScreenshot::oneOffOptionsAreNotSaved()
{
    // B15, end to end: `lark --port 0 --no-data --grace 3s`, quit with SIGTERM (as Ctrl+C, which saves like closing
    // the window), and the saved port, data setting and grace are what they were before that run.
    const QString file = m_config.filePath(u"lark/lark.conf"_s);
    QFile::remove(file);
    {
        QSettings saved(file, QSettings::IniFormat);
        saved.setValue(u"host/port"_s, 9123);
        saved.setValue(u"data/keep"_s, true);
        saved.setValue(u"data/file"_s, m_config.filePath(u"saved.lark"_s));
        saved.setValue(u"timers/graceMs"_s, 7000);
    }
    QProcess app;
    app.setProcessEnvironment(env());
    app.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    app.start(QStringLiteral(LARK_APP_PATH), {u"--port"_s, u"0"_s, u"--no-data"_s, u"--grace"_s, u"3s"_s});
    QVERIFY(app.waitForStarted());
    QByteArray out;
    QVERIFY(QTest::qWaitFor(
        [&] {
            out += app.readAllStandardOutput();
            return out.contains("presence page");
        },
        30000));
    QVERIFY2(out.contains("grace 3s; data in memory"), out.constData());
    app.terminate(); // SIGTERM
    QVERIFY2(app.waitForFinished(30000), "lark did not quit on SIGTERM");
    QCOMPARE(app.exitStatus(), QProcess::NormalExit);
    QCOMPARE(app.exitCode(), 0);
    QSettings after(file, QSettings::IniFormat);
    QCOMPARE(after.value(u"host/port"_s).toInt(), 9123);
    QCOMPARE(after.value(u"data/keep"_s).toBool(), true);
    QCOMPARE(after.value(u"data/file"_s).toString(), m_config.filePath(u"saved.lark"_s));
    QCOMPARE(after.value(u"timers/graceMs"_s).toInt(), 7000);
    QVERIFY(after.value(u"window/geometry"_s).toRect().isValid()); // what the run did change is kept
    QFile::remove(file);
}

QTEST_GUILESS_MAIN(TstScreenshot)
#include "tst_screenshot.moc"
