// SPDX-License-Identifier: MIT
#pragma once

#include "server/server.h"

#include <memory>

/** A real Lark server with config, listening; the test stops if it cannot start. */
inline std::unique_ptr<lark::Server> startConfiguredServer(const lark::ServerConfig &config)
{
    auto server = std::make_unique<lark::Server>(config);
    QString error;
    if (!server->listen(&error))
        qFatal("cannot start the test server: %s", qPrintable(error));
    return server;
}

/** A real Lark server on 127.0.0.1 with a free port and short timers, so lifecycle tests run in well under a second. */
inline std::unique_ptr<lark::Server> startTestServer(
    int pingMs = 50, int deadAfterMs = 400, int graceMs = 800, qint64 maxMessageBytes = 16 * 1024 * 1024)
{
    lark::ServerConfig config;
    config.port = 0;
    config.pingIntervalMs = pingMs;
    config.deadAfterMs = deadAfterMs;
    config.graceMs = graceMs;
    config.maxMessageBytes = maxMessageBytes;
    return startConfiguredServer(config);
}
