// SPDX-License-Identifier: MIT
#pragma once

#include "hubconfig.h"

#include <QJsonArray>
#include <QObject>
#include <QString>
#include <QStringList>

class QHostAddress;

namespace lark
{
class Database;
class Path;
} // namespace lark
namespace lark::tabs
{
class TabsModel;
}

namespace lark::models
{

class DataTreeModel;
class EventLogModel;
class FiredOpsModel;
class PresenceModel;
class SessionsModel;
class StreamsModel;

/**
 * Where the dashboard's data comes from: an embedded server (HostBackend, host mode) or a running lark-server
 * watched through its admin feed (RemoteBackend, connect mode). The Hub owns the models and the tabs and lends them
 * to its backend, which feeds the models, points the tabs at its server and answers for it. A backend can be
 * started and stopped again; the Hub makes another one when the mode changes.
 */
class DashboardBackend : public QObject
{
    Q_OBJECT
public:
    /** The Hub's models: they outlive every backend. */
    struct Models {
        lark::tabs::TabsModel *tabs = nullptr;
        SessionsModel *sessions = nullptr;
        FiredOpsModel *firedOps = nullptr;
        PresenceModel *presence = nullptr;
        EventLogModel *events = nullptr;
        StreamsModel *streams = nullptr;
    };

    /** How stop() leaves the clients of the server. */
    enum class Stop {
        Drop, /**< the server or the admin connection just goes (nothing fires, as at shutdown) */
        KeepSessions, /**< the embedded server keeps the sessions in its data file, then closes its clients (1001) */
    };

    /** ns: namespaceName() until start() says otherwise. */
    DashboardBackend(const Models &models, const QString &ns, QObject *parent = nullptr);
    ~DashboardBackend() override;

    /** "host" or "connect", as Hub::mode(). */
    [[nodiscard]] virtual QString mode() const = 0;
    /**
     * Starts with config (true at once when it runs already): the models get their source, the tabs their server.
     * False with message() saying why; when true, message() may say what had to be done instead (a busy port).
     * Emits runningChanged().
     */
    virtual bool start(const HubConfig &config) = 0;
    /**
     * Gives back what start() took: the tree leaves the views (runningChanged()) before it goes, the models lose
     * their source, the server or the admin connection goes, message() is cleared. Open tabs are left alone: the
     * Hub closes them first, or keeps them to reconnect (Stop::KeepSessions).
     */
    virtual void stop(Stop how) = 0;

    [[nodiscard]] virtual bool isRunning() const = 0;
    /** The server's ws:// URL, or empty when there is none. */
    [[nodiscard]] virtual QString serverUrl() const = 0;
    /** The embedded server's port, 0 when there is none. */
    [[nodiscard]] virtual int port() const = 0;
    /** The embedded server's open connections (0 when it cannot tell). */
    [[nodiscard]] virtual int connectionCount() const = 0;
    /** Whether the server keeps its data in a file that a restart (Stop::KeepSessions) brings back. */
    [[nodiscard]] virtual bool isPersistent() const = 0;
    /** A cluster's nodes and their leases ({lease, node, expiresInMs, alive, self}); empty when not a cluster. */
    [[nodiscard]] virtual QJsonArray clusterNodes() const { return {}; }
    /** A cluster's sessions, every node's ({ns, handle, state, node or firesInMs}); empty when not a cluster. */
    [[nodiscard]] virtual QJsonArray clusterSessions() const { return {}; }
    /** The namespaces the tree can show; empty when only the watched one. */
    [[nodiscard]] virtual QStringList namespaces() const = 0;
    /** Re-reads namespaces() (clients create them on first use); emits namespacesChanged() when they changed. */
    virtual void refreshNamespaces() = 0;
    /** Shows namespace ns in the tree; false when it cannot. */
    virtual bool setTreeNamespace(const QString &ns) = 0;
    /** Changes the server's heartbeat and grace timers (ms); empty on success, else why not. */
    virtual QString setTimers(int pingIntervalMs, int deadAfterMs, int graceMs) = 0;
    /** Replaces the value at path of the shown namespace with the JSON text json, as an import; empty or why not. */
    virtual QString importJson(const lark::Path &path, const QByteArray &json) = 0;
    /** Removes all data of the shown namespace in one admin write; empty or why not. */
    virtual QString clearData() = 0;
    /** The shown namespace's data, or nullptr when there is none yet. */
    [[nodiscard]] virtual const lark::Database *data() const = 0;
    /** Gets the server ready for the demo's tabs (sample data where it is ours); false when not running. */
    virtual bool prepareDemo() = 0;

    /** The namespace the tabs use: the configured one, or connect mode's ?ns=. */
    [[nodiscard]] const QString &namespaceName() const { return m_ns; }
    /** The shown namespace's tree, or nullptr while there is none. */
    [[nodiscard]] DataTreeModel *tree() const { return m_tree; }
    [[nodiscard]] const QString &treeNamespace() const { return m_treeNs; }
    /** What the header says about the server (why it is not running, what failed), or empty. */
    [[nodiscard]] const QString &message() const { return m_message; }
    /** Sets message() and emits runningChanged(); the Hub's own refusals (a bad port or URL) go here too. */
    void setMessage(const QString &message);

Q_SIGNALS:
    /** isRunning(), serverUrl(), message(), tree() or treeNamespace() changed. */
    void runningChanged();
    void connectionCountChanged();
    void namespacesChanged();

protected:
    /** Points the tabs (the open ones too) at the server, with the reconnect delay of config and namespaceName(). */
    void aimTabs(const QHostAddress &host, quint16 port, const HubConfig &config);
    /** Takes the tree away from the views (runningChanged()) before deleting it. */
    void dropTree();

    Models m_models;
    QString m_ns;
    QString m_treeNs;
    DataTreeModel *m_tree = nullptr;
    QString m_message;
};

} // namespace lark::models
