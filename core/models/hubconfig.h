// SPDX-License-Identifier: MIT
#pragma once

#include <QString>
#include <QUrl>

namespace lark::models
{

/** How the Hub runs: the embedded server's port and timers (host mode), or the server it watches (connect mode). */
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

} // namespace lark::models
