// SPDX-License-Identifier: MIT
#pragma once

#include "datatreemodel.h"
#include "eventlogmodel.h"
#include "firedopsmodel.h"
#include "presencemodel.h"
#include "sessionsmodel.h"
#include "tabs/tabsmodel.h"

#include "client/subscription.h"

#include <QJsonObject>
#include <QObject>
#include <QUrl>
#include <QVariantList>

#include <vector>

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
    /** Credential for the admin feed in connect mode ("owner" is what the Admin SDK sends to an emulator). */
    QString adminToken = QStringLiteral("owner");
    /** In host mode, the URL connect mode last used (what the mode panel offers when switching). */
    QString lastConnectUrl;
    /**
     * Host mode: keep the embedded server's data, sessions and queued ops in dataFile (lark-server --data), so
     * that "Restart server" brings the sessions back suspended and the tabs resume them. Off: memory only.
     */
    bool keepData = false;
    /** The SQLite file for keepData; remembered while keepData is off. */
    QString dataFile;
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
    Q_PROPERTY(bool remote READ isRemote NOTIFY modeChanged)
    Q_PROPERTY(QString mode READ mode NOTIFY modeChanged)
    Q_PROPERTY(QString connectUrl READ connectUrl NOTIFY modeChanged)
    Q_PROPERTY(QString adminToken READ adminToken NOTIFY modeChanged)
    Q_PROPERTY(int connectionCount READ connectionCount NOTIFY connectionCountChanged)
    Q_PROPERTY(QStringList namespaces READ namespaces NOTIFY namespacesChanged)
    Q_PROPERTY(QString treeNamespace READ treeNamespace NOTIFY runningChanged)
    Q_PROPERTY(lark::models::EventLogFilter *eventLog READ eventLog CONSTANT)
    Q_PROPERTY(QStringList users READ users NOTIFY usersChanged)
    Q_PROPERTY(QVariantList windowIds READ windowIds NOTIFY windowIdsChanged)
    Q_PROPERTY(int pingIntervalMs READ pingIntervalMs NOTIFY timersChanged)
    Q_PROPERTY(int deadAfterMs READ deadAfterMs NOTIFY timersChanged)
    Q_PROPERTY(int graceMs READ graceMs NOTIFY timersChanged)
    Q_PROPERTY(lark::tabs::TabsModel *tabs READ tabs CONSTANT)
    Q_PROPERTY(lark::models::SessionsModel *sessions READ sessions CONSTANT)
    Q_PROPERTY(lark::models::FiredOpsModel *firedOps READ firedOps CONSTANT)
    Q_PROPERTY(lark::models::PresenceModel *presence READ presence CONSTANT)
    Q_PROPERTY(lark::models::DataTreeModel *tree READ tree NOTIFY runningChanged)
    Q_PROPERTY(bool keepData READ keepData NOTIFY persistenceChanged)
    Q_PROPERTY(QString dataFile READ dataFile NOTIFY persistenceChanged)
    Q_PROPERTY(bool persistent READ isPersistent NOTIFY runningChanged)
public:
    explicit Hub(const HubConfig &config = {}, QObject *parent = nullptr);
    ~Hub() override;

    /** Starts the embedded server on 127.0.0.1 (or connects to connectUrl); false with hostMessage saying why. */
    bool start();
    /** Watching a remote server (--connect) rather than an embedded one. */
    [[nodiscard]] bool isRemote() const { return m_config.connectUrl.isValid(); }
    /** "host" (embedded server) or "connect" (a remote server through its admin feed). */
    [[nodiscard]] QString mode() const { return isRemote() ? QStringLiteral("connect") : QStringLiteral("host"); }
    /** The last URL used (or given) for connect mode, kept while in host mode so the UI and settings keep it. */
    [[nodiscard]] const QString &connectUrl() const { return m_lastConnectUrl; }
    [[nodiscard]] const QString &adminToken() const { return m_config.adminToken; }
    /** The port host mode asks for (what settings keep), not necessarily the one it got. */
    [[nodiscard]] Q_INVOKABLE int requestedPort() const { return m_config.port; }
    [[nodiscard]] int connectionCount() const;
    [[nodiscard]] QStringList namespaces() const;
    [[nodiscard]] const QString &treeNamespace() const { return m_treeNs; }
    [[nodiscard]] EventLogFilter *eventLog() const { return m_eventFilter; }
    /** Opens the demo: sample data (imported, so it shows as "import") and tabs for two users. */
    void startDemo();

    [[nodiscard]] bool isRunning() const;
    [[nodiscard]] QString serverUrl() const;
    [[nodiscard]] const QString &hostMessage() const { return m_hostMessage; }
    [[nodiscard]] const QString &namespaceName() const { return m_config.ns; }
    /**
     * Who a tab can be opened as: the defaults, then every other user seen in the presence data or signed in by
     * an open tab, in key order.
     */
    [[nodiscard]] const QStringList &users() const { return m_users; }
    [[nodiscard]] static QStringList defaultUsers();
    /** Why a tab cannot be opened as uid (not a valid Firebase key, ...), or empty when it can. */
    [[nodiscard]] Q_INVOKABLE QString uidProblem(const QString &uid) const;
    [[nodiscard]] QVariantList windowIds() const;
    [[nodiscard]] int pingIntervalMs() const { return m_config.pingIntervalMs; }
    [[nodiscard]] int deadAfterMs() const { return m_config.deadAfterMs; }
    [[nodiscard]] int graceMs() const { return m_config.graceMs; }

    [[nodiscard]] lark::tabs::TabsModel *tabs() const { return m_tabs; }
    [[nodiscard]] SessionsModel *sessions() const { return m_sessions; }
    [[nodiscard]] FiredOpsModel *firedOps() const { return m_firedOps; }
    [[nodiscard]] PresenceModel *presence() const { return m_presence; }
    [[nodiscard]] DataTreeModel *tree() const { return m_tree; }
    [[nodiscard]] lark::Server *server() const { return m_server; }
    /** Whether the next host-mode start keeps data in dataFile(). */
    [[nodiscard]] bool keepData() const { return m_config.keepData; }
    [[nodiscard]] const QString &dataFile() const { return m_config.dataFile; }
    /** Whether the running embedded server keeps its data in dataFile() (keepData, and the file could be opened). */
    [[nodiscard]] bool isPersistent() const;
    /** Turns keeping data on or off; it applies from the next (re)start of the embedded server. */
    Q_INVOKABLE void setKeepData(bool keep);

    /** Opens another top-level window; returns its id. */
    Q_INVOKABLE int newWindow();
    /**
     * Host mode: restarts the embedded server on port (0: a free one; a busy one falls back to a free one).
     * When it keeps its data (isPersistent()), the tabs stay open: the server closes them with 1001 and comes back
     * with the data and every session suspended with a fresh grace, so tabs that reconnect resume and the ops of
     * those that cannot (network dropped) fire after the grace (docs/semantics.md §1, last row). Otherwise it closes
     * every tab and starts a new, empty server. False with hostMessage saying why.
     */
    Q_INVOKABLE bool restart(int port);
    /** Switches to (or restarts) host mode: an embedded server on port. False with hostMessage saying why. */
    Q_INVOKABLE bool useHost(int port);
    /** Switches to connect mode: watches the server at url (ws://host:port[?ns=name]) with the admin token. */
    Q_INVOKABLE bool useConnect(const QString &url, const QString &adminToken);
    /**
     * Host mode: changes the embedded server's heartbeat and grace timers live (ms). They apply from the next
     * sweep and to sessions suspended from now on. Empty on success, else why not.
     */
    Q_INVOKABLE QString setTimers(int pingIntervalMs, int deadAfterMs, int graceMs);
    /** Host mode: shows the data of another namespace in the tree (it is created if it does not exist). */
    Q_INVOKABLE bool setTreeNamespace(const QString &ns);
    /** Re-reads the embedded server's namespaces (clients create them on first use). */
    Q_INVOKABLE void refreshNamespaces();
    /** A new Firebase push id, for "add child". */
    [[nodiscard]] Q_INVOKABLE QString newPushId() const;
    /**
     * Replaces the value at path of the viewed namespace with a JSON document (an import); empty or the reason. In
     * connect mode it is sent to the server as the admin client's write, and the tree reports the server's verdict.
     */
    Q_INVOKABLE QString importJson(const QString &path, const QString &json);
    /** importJson() from a file (a file: URL, as a FileDialog gives). */
    Q_INVOKABLE QString importFile(const QString &path, const QUrl &file);
    /** The value at path of the viewed namespace as indented JSON ("null" when absent). */
    [[nodiscard]] Q_INVOKABLE QString exportJson(const QString &path) const;
    /** exportJson() into a file; empty or the reason. */
    Q_INVOKABLE QString exportFile(const QString &path, const QUrl &file) const;
    /** Removes all data of the viewed namespace (an admin edit; in connect mode sent like importJson). */
    Q_INVOKABLE QString clearData();
    /** The event log's text filter (case-insensitive, on the whole line). */
    Q_INVOKABLE void setEventFilter(const QString &text);
    [[nodiscard]] Q_INVOKABLE int port() const;
    /** A window closed: its tabs close too (cleanly, as a browser window's). The first window is never closed. */
    Q_INVOKABLE void closeWindow(int windowId);

Q_SIGNALS:
    void runningChanged();
    void modeChanged();
    void timersChanged();
    void connectionCountChanged();
    void namespacesChanged();
    void windowIdsChanged();
    void usersChanged();
    void persistenceChanged();
    /** newWindow() was called: the UI opens a window for this id. */
    void windowOpened(int windowId);

private:
    /** Closes every tab and drops the server or the admin client, leaving the hub stopped. */
    void stop();
    void refreshUsers();
    /** False, with hostMessage saying why, for a port outside 0–65535. */
    bool acceptPort(int port);
    /** Takes the data tree away from the views (runningChanged) before deleting it. */
    void dropTree();
    /** Drops the embedded server but not the tabs, and starts it again on port from its data file. */
    bool restartKeepingSessions(int port);
    QStringList m_users;
    HubConfig m_config;
    QString m_lastConnectUrl;
    QString m_hostNs; // the host-mode default namespace (connect mode may use the remote's ?ns=)
    QString m_treeNs;
    QStringList m_namespaces;
    lark::Server *m_server = nullptr;
    lark::tabs::TabsModel *m_tabs;
    SessionsModel *m_sessions;
    FiredOpsModel *m_firedOps;
    PresenceModel *m_presence;
    EventLogModel *m_events;
    EventLogFilter *m_eventFilter;
    DataTreeModel *m_tree = nullptr;
    QString m_hostMessage;
    // Remote mode: an admin client of the remote server, its feed, and the presence values it listens to.
    bool startRemote();
    lark::client::Database *m_admin = nullptr;
    lark::client::AdminFeed *m_feed = nullptr;
    std::vector<lark::client::Subscription> m_adminListens; // the root (for the tree), presence and status
    bool m_adminRefused = false; // the admin credential was refused on this connection: keep that message
    lark::Database *m_mirror = nullptr; // the remote namespace's data, copied from a root listen, for the tree
    QUrl m_remoteBase; // ws://host:port of the watched server
    QJsonObject m_presenceJson;
    QJsonObject m_statusJson;
    QList<int> m_windows {0};
    int m_nextWindow = 1;
};

} // namespace lark::models
