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

QTEST_GUILESS_MAIN(TstSettings)
#include "tst_settings.moc"
