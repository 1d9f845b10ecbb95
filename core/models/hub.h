// SPDX-License-Identifier: MIT
#pragma once

#include "datatreemodel.h"
#include "firedopsmodel.h"
#include "presencemodel.h"
#include "sessionsmodel.h"
#include "tabsmodel.h"

#include <QJsonObject>
#include <QObject>
#include <QUrl>
#include <QVariantList>

namespace lark
{
class Server;
}
namespace lark::client
{
class Database;
class AdminFeed;
} // namespace lark::client

namespace lark::models
{

struct HubConfig {
    quint16 port = 9000; /**< 0 picks a free port; a busy port falls back to a free one */
    int pingIntervalMs = 5000;
    int deadAfterMs = 15000;
    int graceMs = 10000;
    int reconnectDelayMs = 1000; /**< the tabs' first reconnect delay (the JS SDK's 1 s) */
    QString ns = QStringLiteral("lark");
    /** When set (ws://host:port[?ns=name]): watch that server through its admin feed instead of embedding one. */
    QUrl connectUrl;
};

/**
 * The dashboard's state: the embedded server (host mode), the simulated tabs and windows, and the models the
 * panels show. One instance per application, exposed to QML as a singleton.
 */
class Hub : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool running READ isRunning NOTIFY runningChanged)
    Q_PROPERTY(QString serverUrl READ serverUrl NOTIFY runningChanged)
    Q_PROPERTY(QString hostMessage READ hostMessage NOTIFY runningChanged)
    Q_PROPERTY(QString namespaceName READ namespaceName NOTIFY runningChanged)
    Q_PROPERTY(bool remote READ isRemote CONSTANT)
    Q_PROPERTY(QStringList users READ users CONSTANT)
    Q_PROPERTY(QVariantList windowIds READ windowIds NOTIFY windowIdsChanged)
    Q_PROPERTY(int pingIntervalMs READ pingIntervalMs CONSTANT)
    Q_PROPERTY(int deadAfterMs READ deadAfterMs CONSTANT)
    Q_PROPERTY(int graceMs READ graceMs CONSTANT)
    Q_PROPERTY(lark::models::TabsModel *tabs READ tabs CONSTANT)
    Q_PROPERTY(lark::models::SessionsModel *sessions READ sessions CONSTANT)
    Q_PROPERTY(lark::models::FiredOpsModel *firedOps READ firedOps CONSTANT)
    Q_PROPERTY(lark::models::PresenceModel *presence READ presence CONSTANT)
    Q_PROPERTY(lark::models::DataTreeModel *tree READ tree NOTIFY runningChanged)
public:
    explicit Hub(const HubConfig &config = {}, QObject *parent = nullptr);
    ~Hub() override;

    /** Starts the embedded server on 127.0.0.1 (or connects to connectUrl); false with hostMessage saying why. */
    bool start();
    /** Watching a remote server (--connect) rather than an embedded one. */
    [[nodiscard]] bool isRemote() const { return m_config.connectUrl.isValid(); }
    /** Opens the demo: sample data (imported, so it shows as "import") and tabs for two users. */
    void startDemo();

    [[nodiscard]] bool isRunning() const;
    [[nodiscard]] QString serverUrl() const;
    [[nodiscard]] const QString &hostMessage() const { return m_hostMessage; }
    [[nodiscard]] const QString &namespaceName() const { return m_config.ns; }
    [[nodiscard]] QStringList users() const;
    [[nodiscard]] QVariantList windowIds() const;
    [[nodiscard]] int pingIntervalMs() const { return m_config.pingIntervalMs; }
    [[nodiscard]] int deadAfterMs() const { return m_config.deadAfterMs; }
    [[nodiscard]] int graceMs() const { return m_config.graceMs; }

    [[nodiscard]] TabsModel *tabs() const { return m_tabs; }
    [[nodiscard]] SessionsModel *sessions() const { return m_sessions; }
    [[nodiscard]] FiredOpsModel *firedOps() const { return m_firedOps; }
    [[nodiscard]] PresenceModel *presence() const { return m_presence; }
    [[nodiscard]] DataTreeModel *tree() const { return m_tree; }
    [[nodiscard]] lark::Server *server() const { return m_server; }

    /** Opens another top-level window; returns its id. */
    Q_INVOKABLE int newWindow();
    /**
     * Host mode: closes every tab, drops the embedded server with its (in-memory) data and sessions, and starts a
     * new, empty one on port (0: a free one; a busy one falls back to a free one). False with hostMessage saying why.
     */
    Q_INVOKABLE bool restart(int port);
    [[nodiscard]] Q_INVOKABLE int port() const;
    /** A window closed: its tabs close too (cleanly, as a browser window's). The first window is never closed. */
    Q_INVOKABLE void closeWindow(int windowId);

Q_SIGNALS:
    void runningChanged();
    void windowIdsChanged();
    /** newWindow() was called: the UI opens a window for this id. */
    void windowOpened(int windowId);

private:
    HubConfig m_config;
    lark::Server *m_server = nullptr;
    TabsModel *m_tabs;
    SessionsModel *m_sessions;
    FiredOpsModel *m_firedOps;
    PresenceModel *m_presence;
    DataTreeModel *m_tree = nullptr;
    QString m_hostMessage;
    // Remote mode: an admin client of the remote server, its feed, and the presence values it listens to.
    bool startRemote();
    lark::client::Database *m_admin = nullptr;
    lark::client::AdminFeed *m_feed = nullptr;
    QJsonObject m_presenceJson;
    QJsonObject m_statusJson;
    QList<int> m_windows {0};
    int m_nextWindow = 1;
};

} // namespace lark::models
