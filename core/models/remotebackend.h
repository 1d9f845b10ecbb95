// SPDX-License-Identifier: MIT
#pragma once

#include "dashboardbackend.h"

#include "client/subscription.h"

#include <QJsonObject>
#include <QUrl>

#include <vector>

namespace lark::client
{
class AdminFeed;
class Database;
} // namespace lark::client

namespace lark::models
{

/**
 * Connect mode: a running lark-server watched through an admin client. Its admin feed gives the sessions, fired
 * ops and events; listens give the presence values and a local copy of the namespace for the tree, whose edits go
 * back to the server as the admin client's writes. The server's timers, namespaces and restarts are not ours.
 */
class RemoteBackend : public DashboardBackend
{
    Q_OBJECT
public:
    RemoteBackend(const Models &models, const QString &ns, QObject *parent = nullptr);
    ~RemoteBackend() override;

    [[nodiscard]] QString mode() const override;
    /**
     * Connects to config.connectUrl (ws:// or http://, a name resolved once) with config.adminToken. True once the
     * admin client exists: it connects, and reconnects, by itself, and message() says how that goes.
     */
    bool start(const HubConfig &config) override;
    /** Both ways the same: the admin client closes. */
    void stop(Stop how) override;

    [[nodiscard]] bool isRunning() const override;
    [[nodiscard]] QString serverUrl() const override;
    [[nodiscard]] int port() const override { return 0; }
    [[nodiscard]] int connectionCount() const override { return 0; }
    [[nodiscard]] bool isPersistent() const override { return false; }
    [[nodiscard]] QJsonArray clusterNodes() const override { return m_nodes; }
    [[nodiscard]] QJsonArray clusterSessions() const override { return m_clusterSessions; }
    [[nodiscard]] QStringList namespaces() const override { return {}; }
    void refreshNamespaces() override { }
    /** Only the watched namespace is copied: false. */
    bool setTreeNamespace(const QString &ns) override;
    /** Refused: they are set where the server runs. */
    QString setTimers(int pingIntervalMs, int deadAfterMs, int graceMs) override;
    /** The same checks as Server::importJson, then one write sent through the tree, which reports the verdict. */
    QString importJson(const lark::Path &path, const QByteArray &json) override;
    QString clearData() override;
    /** The local copy of the namespace. */
    [[nodiscard]] const lark::Database *data() const override;
    /** Someone else's server: no sample data is written into it. */
    bool prepareDemo() override;

    /** The admin client while running, else nullptr. */
    [[nodiscard]] lark::client::Database *admin() const { return m_admin; }

private:
    lark::client::Database *m_admin = nullptr;
    lark::client::AdminFeed *m_feed = nullptr;
    QJsonArray m_nodes; // the feed's cluster nodes, as last shown
    QJsonArray m_clusterSessions; // and the cluster's sessions
    QString m_lastFailure; // the feed's store failure, as last told
    std::vector<lark::client::Subscription> m_adminListens; // the root (for the tree), presence and status
    bool m_adminRefused = false; // the admin credential was refused on this connection: keep that message
    lark::Database *m_mirror = nullptr; // the remote namespace's data, copied from a root listen, for the tree
    QUrl m_remoteBase; // ws://host:port of the watched server
    QJsonObject m_presenceJson;
    QJsonObject m_statusJson;
};

} // namespace lark::models
