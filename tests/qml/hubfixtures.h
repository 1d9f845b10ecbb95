// SPDX-License-Identifier: MIT
// What the Hub's tests (tst_hub_host, tst_hub_remote, tst_dashboardbackend) share besides modelfixtures.h: the
// configurations they start with and the embedded server behind a host-mode Hub.
#pragma once

#include "models/eventlogmodel.h"
#include "models/hostbackend.h"
#include "models/hub.h"

#include <QAbstractItemModel>
#include <QUrl>

/** Host mode on a free port, with tabs that reconnect quickly. */
inline lark::models::HubConfig hostConfig()
{
    lark::models::HubConfig config;
    config.port = 0;
    config.reconnectDelayMs = 50;
    return config;
}

/** Connect mode to the server on 127.0.0.1:port, namespace "test", with tabs that reconnect quickly. */
inline lark::models::HubConfig connectConfig(quint16 port)
{
    lark::models::HubConfig config;
    config.connectUrl = QUrl(QStringLiteral("ws://127.0.0.1:%1?ns=test").arg(port));
    config.reconnectDelayMs = 50;
    return config;
}

/** The embedded server of a hub in host mode, else nullptr. */
inline lark::Server *hostServer(const lark::models::Hub &hub)
{
    const auto *host = qobject_cast<lark::models::HostBackend *>(hub.backend());
    return host ? host->server() : nullptr;
}

/** Whether a line of the hub's event log contains text. */
inline bool eventsContain(lark::models::Hub &hub, const QString &text)
{
    QAbstractItemModel *events = hub.eventLog();
    for (int row = 0; row < events->rowCount(); ++row) {
        if (events->index(row, 0).data(lark::models::EventLogModel::TextRole).toString().contains(text))
            return true;
    }
    return false;
}
