// SPDX-License-Identifier: MIT
#pragma once

#include "dashboardbackend.h"

namespace lark
{
class Server;
}

namespace lark::models
{

/**
 * Host mode: an embedded lark::Server on 127.0.0.1, which the models read directly (sessions, fired ops, events,
 * presence and the data of any namespace) and which the dashboard may restart, retime and edit.
 */
class HostBackend : public DashboardBackend
{
    Q_OBJECT
public:
    HostBackend(const Models &models, const QString &ns, QObject *parent = nullptr);
    ~HostBackend() override;

    [[nodiscard]] QString mode() const override;
    /**
     * Listens on config.port; a busy port falls back to a free one, and a data file that cannot be opened to
     * memory, both said in message().
     */
    bool start(const HubConfig &config) override;
    void stop(Stop how) override;

    [[nodiscard]] bool isRunning() const override;
    [[nodiscard]] QString serverUrl() const override;
    [[nodiscard]] int port() const override;
    [[nodiscard]] int connectionCount() const override;
    [[nodiscard]] bool isPersistent() const override;
    [[nodiscard]] QStringList namespaces() const override { return m_namespaces; }
    void refreshNamespaces() override;
    /** Any namespace; it is created if it does not exist. */
    bool setTreeNamespace(const QString &ns) override;
    /** Live: they apply from the next sweep and to sessions suspended from now on. */
    QString setTimers(int pingIntervalMs, int deadAfterMs, int graceMs) override;
    QString importJson(const lark::Path &path, const QByteArray &json) override;
    QString clearData() override;
    [[nodiscard]] const lark::Database *data() const override;
    /** Imports sample data under /demo (shown as an import). */
    bool prepareDemo() override;

    /** The embedded server while running, else nullptr. */
    [[nodiscard]] lark::Server *server() const { return m_server; }

private:
    lark::Server *m_server = nullptr;
    QStringList m_namespaces;
};

} // namespace lark::models
