// SPDX-License-Identifier: MIT
// The dashboard's saved settings (DashboardSettings), read from and written to a temporary file, never the user's.
#include "models/hub.h"
#include "models/settings.h"

#include <QFile>
#include <QRect>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using namespace Qt::Literals::StringLiterals;

class TstSettings : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void settingsRoundTrip();
    void commandLineOptionsApplyToOneRun();
    void savedSettingsInUseAreNamed();
};

void TstSettings::settingsRoundTrip()
{
    // Never the user's real configuration.
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(u"lark.conf"_s);
    {
        QSettings empty(file, QSettings::IniFormat);
        const lark::models::DashboardSettings d = lark::models::DashboardSettings::load(empty);
        QCOMPARE(d.config.port, quint16(9000)); // defaults
        QVERIFY(!d.config.connectUrl.isValid());
        QVERIFY(d.config.keepData); // the dashboard keeps its data by default...
        // ...under the application data folder, which test mode moves away from the user's.
        QCOMPARE(
            d.config.dataFile, QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + u"/data.lark"_s);
        QVERIFY(d.config.dataFile.contains(u"qttest"_s));
        QVERIFY(!d.geometry.isValid());
    }
    lark::models::HubConfig config;
    config.port = 0;
    config.pingIntervalMs = 1000;
    config.deadAfterMs = 3000;
    config.graceMs = 2000;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    const QString url = u"ws://127.0.0.1:9123?ns=demo"_s;
    {
        QSettings s(file, QSettings::IniFormat);
        lark::models::DashboardSettings::fromHub(hub, QRect(10, 20, 800, 600)).save(s);
    }
    {
        QSettings s(file, QSettings::IniFormat);
        const lark::models::DashboardSettings d = lark::models::DashboardSettings::load(s);
        QCOMPARE(d.config.port, quint16(0));
        QCOMPARE(d.config.pingIntervalMs, 1000);
        QCOMPARE(d.config.deadAfterMs, 3000);
        QCOMPARE(d.config.graceMs, 2000);
        QVERIFY(!d.config.connectUrl.isValid()); // host mode
        QCOMPARE(d.geometry, QRect(10, 20, 800, 600));
        QVERIFY(!d.config.keepData); // this hub ran in memory
    }
    // The toggle and a file of one's own (lark --data FILE) are remembered.
    {
        lark::models::DashboardSettings d;
        d.config.keepData = true;
        d.config.dataFile = dir.filePath(u"mine.lark"_s);
        QSettings s(file, QSettings::IniFormat);
        d.save(s);
    }
    {
        QSettings s(file, QSettings::IniFormat);
        const lark::models::DashboardSettings d = lark::models::DashboardSettings::load(s);
        QVERIFY(d.config.keepData);
        QCOMPARE(d.config.dataFile, dir.filePath(u"mine.lark"_s));
    }
    // Connect mode is remembered with its URL; the token is not written anywhere.
    QVERIFY(hub.useConnect(url, u"secret-token"_s));
    {
        QSettings s(file, QSettings::IniFormat);
        lark::models::DashboardSettings::fromHub(hub, {}).save(s);
    }
    QFile raw(file);
    QVERIFY(raw.open(QIODevice::ReadOnly));
    QVERIFY(!raw.readAll().contains("secret-token"));
    QSettings s(file, QSettings::IniFormat);
    const lark::models::DashboardSettings d = lark::models::DashboardSettings::load(s);
    QCOMPARE(d.config.connectUrl, QUrl(url));
    QCOMPARE(d.geometry, QRect(10, 20, 800, 600)); // an empty geometry does not overwrite the saved one
}

void TstSettings::commandLineOptionsApplyToOneRun()
{
    // B15: saved port 9000 and data kept; this run was started with --port 0 --no-data --grace 3s.
    QStandardPaths::setTestModeEnabled(true);
    lark::models::DashboardSettings saved;
    saved.config.keepData = true;
    saved.config.dataFile = lark::models::DashboardSettings::defaultDataFile();
    saved.config.lastConnectUrl = u"ws://127.0.0.1:9500"_s;
    saved.config.connectUrl = QUrl(u"ws://127.0.0.1:9500"_s);
    lark::models::HubConfig started = saved.config;
    started.connectUrl = QUrl();
    started.port = 0;
    started.keepData = false;
    started.graceMs = 3000;
    lark::models::OneOffOptions oneOff;
    oneOff.mode = oneOff.port = oneOff.data = oneOff.grace = true;
    QVERIFY(oneOff.any());
    QCOMPARE(oneOff.describe(started), QStringList({u"port 0"_s, u"grace 3 s"_s, u"data in memory"_s}));

    // Left as started: the saved values come back, the window's geometry is new.
    lark::models::DashboardSettings now;
    now.config = started;
    now.geometry = QRect(1, 2, 1024, 700);
    lark::models::DashboardSettings out = lark::models::DashboardSettings::toSave(saved, started, oneOff, now);
    QCOMPARE(out.config.port, quint16(9000));
    QVERIFY(out.config.keepData);
    QCOMPARE(out.config.graceMs, 10000);
    QCOMPARE(out.config.connectUrl, QUrl(u"ws://127.0.0.1:9500"_s));
    QCOMPARE(out.geometry, QRect(1, 2, 1024, 700));
    // What the window changed is saved: here the grace and the port.
    now.config.graceMs = 4000;
    now.config.port = 9100;
    out = lark::models::DashboardSettings::toSave(saved, started, oneOff, now);
    QCOMPARE(out.config.graceMs, 4000);
    QCOMPARE(out.config.port, quint16(9100));
    QVERIFY(out.config.keepData);
    // Kept from the header: saved as they are.
    now.config = started;
    out = lark::models::DashboardSettings::toSave(saved, started, {}, now);
    QCOMPARE(out.config.port, quint16(0));
    QVERIFY(!out.config.keepData);
}

void TstSettings::savedSettingsInUseAreNamed()
{
    QStandardPaths::setTestModeEnabled(true);
    QTemporaryDir dir;
    QSettings empty(dir.filePath(u"empty.conf"_s), QSettings::IniFormat);
    lark::models::DashboardSettings d = lark::models::DashboardSettings::load(empty);
    QVERIFY2(d.describeInUse({}).isEmpty(), qPrintable(d.describeInUse({}).join(u", "_s))); // the defaults
    d.config.port = 9100;
    d.config.graceMs = 7000;
    d.config.keepData = false;
    QCOMPARE(d.describeInUse({}), QStringList({u"port 9100"_s, u"grace 7 s"_s, u"data in memory"_s}));
    // Overridden on the command line: not in use this run.
    lark::models::OneOffOptions oneOff;
    oneOff.port = oneOff.grace = true;
    QCOMPARE(d.describeInUse(oneOff), QStringList({u"data in memory"_s}));
}

QTEST_GUILESS_MAIN(TstSettings)
#include "tst_settings.moc"
