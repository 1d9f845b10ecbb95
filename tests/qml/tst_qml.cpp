// SPDX-License-Identifier: MIT
// Qt Quick Test runner for the dashboard's QML module: every tst_*.qml gets a real Hub with an embedded server on
// a free port and short timers, so the UI is driven against the real thing, headless.
#include "models/hub.h"
#include "qmltypes.h"

#include <QQmlEngine>
#include <QQmlExtensionPlugin>
#include <QTemporaryDir>
#include <QtQuickTest>

#include <memory>

Q_IMPORT_QML_PLUGIN(Lark_DashboardPlugin)

using namespace Qt::Literals::StringLiterals;

class Setup : public QObject
{
    Q_OBJECT
public Q_SLOTS:
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        // Qt 6.4 does not look in qrc:/qt/qml by itself.
        engine->addImportPath(u"qrc:/qt/qml"_s);
        lark::models::HubConfig config;
        config.port = 0;
        config.pingIntervalMs = 50;
        config.deadAfterMs = 1000;
        config.graceMs = 1500;
        config.reconnectDelayMs = 100;
        // Tests of a restart with kept data (tst_restart.qml) get a data file in a temporary folder, never the
        // user's; the others run in memory, so that a restart gives them an empty server.
        if (qEnvironmentVariableIsSet("LARK_TEST_KEEP_DATA")) {
            config.keepData = true;
            config.dataFile = m_dataDir.filePath(u"data.lark"_s);
        }
        m_hub = std::make_unique<lark::models::Hub>(config);
        if (!m_hub->start())
            qFatal("cannot start the embedded server: %s", qPrintable(m_hub->hostMessage()));
        HubSingleton::s_instance = m_hub.get();
    }
    void cleanupTestCase()
    {
        HubSingleton::s_instance = nullptr;
        m_hub.reset();
    }

private:
    QTemporaryDir m_dataDir;
    std::unique_ptr<lark::models::Hub> m_hub;
};

QUICK_TEST_MAIN_WITH_SETUP(lark_dashboard, Setup)

#include "tst_qml.moc"
