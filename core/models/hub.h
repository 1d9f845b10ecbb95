// SPDX-License-Identifier: MIT
#pragma once

#include "dashboardbackend.h"
#include "datatreemodel.h"
#include "eventlogmodel.h"
#include "firedopsmodel.h"
#include "hubconfig.h"
#include "presencemodel.h"
#include "ruleseditor.h"
#include "sessionsmodel.h"
#include "streamsmodel.h"
#include "tabs/tabsmodel.h"

#include <QObject>
#include <QUrl>
#include <QVariantList>

#include <memory>

namespace lark::models
{

/**
 * The dashboard's state: the simulated tabs and windows, the models the panels show, and the backend that feeds
 * them (HostBackend: an embedded server; RemoteBackend: a watched one), which it swaps when the mode changes. One
 * instance per application, exposed to QML as a singleton.
 */
class Hub : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool running READ isRunning NOTIFY runningChanged)
    Q_PROPERTY(QString serverUrl READ serverUrl NOTIFY runningChanged)
    /** The server's presence page for the first user in the namespace shown, or empty while not running. */
    Q_PROPERTY(QString pageUrl READ pageUrl NOTIFY runningChanged)
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
    Q_PROPERTY(lark::models::RulesEditor *rules READ rules CONSTANT)
    Q_PROPERTY(QStringList users READ users NOTIFY usersChanged)
    Q_PROPERTY(QVariantList windowIds READ windowIds NOTIFY windowIdsChanged)
    Q_PROPERTY(int pingIntervalMs READ pingIntervalMs NOTIFY timersChanged)
    Q_PROPERTY(int deadAfterMs READ deadAfterMs NOTIFY timersChanged)
    Q_PROPERTY(int graceMs READ graceMs NOTIFY timersChanged)
    Q_PROPERTY(lark::tabs::TabsModel *tabs READ tabs CONSTANT)
    Q_PROPERTY(lark::models::SessionsModel *sessions READ sessions CONSTANT)
    /** The open REST event streams (kind "sse"): clients with a connection and no session. */
    Q_PROPERTY(lark::models::StreamsModel *streams READ streams CONSTANT)
    Q_PROPERTY(lark::models::FiredOpsModel *firedOps READ firedOps CONSTANT)
    Q_PROPERTY(lark::models::PresenceModel *presence READ presence CONSTANT)
    Q_PROPERTY(lark::models::DataTreeModel *tree READ tree NOTIFY runningChanged)
    Q_PROPERTY(bool keepData READ keepData NOTIFY persistenceChanged)
    Q_PROPERTY(QString dataFile READ dataFile NOTIFY persistenceChanged)
    Q_PROPERTY(bool persistent READ isPersistent NOTIFY runningChanged)
    /** Connect mode to a cluster node: every node with its lease ({lease, node, expiresInMs, alive, self}). */
    Q_PROPERTY(QVariantList clusterNodes READ clusterNodes NOTIFY runningChanged)
    /** ... and every session of the cluster with the node it is on ({ns, handle, state, node or firesInMs}). */
    Q_PROPERTY(QVariantList clusterSessions READ clusterSessions NOTIFY runningChanged)
    Q_PROPERTY(QStringList savedSettings READ savedSettings NOTIFY settingsNotesChanged)
    Q_PROPERTY(QStringList oneOffOptions READ oneOffOptions NOTIFY settingsNotesChanged)
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
    [[nodiscard]] int connectionCount() const { return m_backend->connectionCount(); }
    [[nodiscard]] QStringList namespaces() const { return m_backend->namespaces(); }
    [[nodiscard]] const QString &treeNamespace() const { return m_backend->treeNamespace(); }
    [[nodiscard]] EventLogFilter *eventLog() const { return m_eventFilter; }
    /** The Rules panel: the server's security rules, per namespace, over its rules endpoint. */
    [[nodiscard]] RulesEditor *rules() const { return m_rules; }
    /** Opens the demo: sample data (imported, so it shows as "import") and tabs for two users. */
    void startDemo();

    [[nodiscard]] bool isRunning() const { return m_backend->isRunning(); }
    [[nodiscard]] QString serverUrl() const { return m_backend->serverUrl(); }
    /** http://host:port/?uid=UID&ns=NS: the presence page lark-server serves at / (server/pageroutes.h). */
    [[nodiscard]] Q_INVOKABLE QString pageUrl(const QString &uid = QStringLiteral("alice")) const;
    [[nodiscard]] const QString &hostMessage() const { return m_backend->message(); }
    /** The namespace the tabs use (in connect mode the URL's ?ns=, if it has one). */
    [[nodiscard]] const QString &namespaceName() const { return m_backend->namespaceName(); }
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
    [[nodiscard]] StreamsModel *streams() const { return m_streams; }
    [[nodiscard]] FiredOpsModel *firedOps() const { return m_firedOps; }
    [[nodiscard]] PresenceModel *presence() const { return m_presence; }
    [[nodiscard]] DataTreeModel *tree() const { return m_backend->tree(); }
    /** What runs the current mode; another one after a mode switch. */
    [[nodiscard]] DashboardBackend *backend() const { return m_backend.get(); }
    /** Whether the next host-mode start keeps data in dataFile(). */
    [[nodiscard]] bool keepData() const { return m_config.keepData; }
    [[nodiscard]] const QString &dataFile() const { return m_config.dataFile; }
    /** Whether the running embedded server keeps its data in dataFile() (keepData, and the file could be opened). */
    [[nodiscard]] bool isPersistent() const { return m_backend->isPersistent(); }
    [[nodiscard]] QVariantList clusterNodes() const { return m_backend->clusterNodes().toVariantList(); }
    [[nodiscard]] QVariantList clusterSessions() const { return m_backend->clusterSessions().toVariantList(); }
    /** Turns keeping data on or off; it applies from the next (re)start of the embedded server. */
    Q_INVOKABLE void setKeepData(bool keep);

    /** The saved settings this run uses that differ from the defaults, as the header shows them (set by main()). */
    [[nodiscard]] const QStringList &savedSettings() const { return m_savedSettings; }
    /** The command-line options that apply to this run only (set by main()); empty once kept. */
    [[nodiscard]] const QStringList &oneOffOptions() const { return m_oneOffOptions; }
    void setSettingsNotes(const QStringList &saved, const QStringList &oneOff);
    /** The user keeps this run's command-line options: they are saved at exit like changes made in the UI. */
    Q_INVOKABLE void keepOneOffOptions();
    [[nodiscard]] bool oneOffOptionsKept() const { return m_oneOffKept; }

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
    /** Where Export offers to save path: documents folder, lark-<namespace>[-path-keys].json. */
    [[nodiscard]] Q_INVOKABLE QString defaultExportFile(const QString &path) const;
    /** exportJson() into a file; empty or the reason. */
    Q_INVOKABLE QString exportFile(const QString &path, const QUrl &file) const;
    /** Removes all data of the viewed namespace (an admin edit; in connect mode sent like importJson). */
    Q_INVOKABLE QString clearData();
    /** The event log's text filter (case-insensitive, on the whole line). */
    Q_INVOKABLE void setEventFilter(const QString &text);
    [[nodiscard]] Q_INVOKABLE int port() const { return m_backend->port(); }
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
    void settingsNotesChanged();
    /** newWindow() was called: the UI opens a window for this id. */
    void windowOpened(int windowId);

private:
    /** Closes every tab and stops the backend, leaving the hub stopped. */
    void stop();
    /** Replaces the backend with one for the configured mode (stopped). */
    void makeBackend();
    void refreshUsers();
    /** Points the Rules panel at the running server (or none) and loads the tabs' namespace. */
    void refreshRules();
    /** False, with hostMessage saying why, for a port outside 0–65535. */
    bool acceptPort(int port);
    /** Stops the embedded server but not the tabs, and starts it again on port from its data file. */
    bool restartKeepingSessions(int port);
    QStringList m_users;
    HubConfig m_config;
    QString m_lastConnectUrl;
    lark::tabs::TabsModel *m_tabs;
    SessionsModel *m_sessions;
    StreamsModel *m_streams;
    FiredOpsModel *m_firedOps;
    PresenceModel *m_presence;
    EventLogModel *m_events;
    EventLogFilter *m_eventFilter;
    RulesEditor *m_rules;
    std::unique_ptr<DashboardBackend> m_backend;
    QStringList m_savedSettings;
    QStringList m_oneOffOptions;
    bool m_oneOffKept = false;
    QList<int> m_windows {0};
    int m_nextWindow = 1;
};

} // namespace lark::models
