// SPDX-License-Identifier: MIT
#pragma once

#include "rulesfiles.h"
#include "server.h"

#include <QStringList>

namespace lark
{

/** Parses "250ms", "5s", "1.5s", "2m" into milliseconds. A bare number is refused: units avoid 5000-second surprises.
 */
[[nodiscard]] bool parseDuration(const QString &text, int *ms, QString *error);

/** What lark-server was asked to do. */
struct ServerOptions {
    ServerConfig config;
    QString importFile;
    /** Security rules files to load at start and watch (--rules, --config); checked when loaded, not here. */
    std::vector<RulesSource> rules;
    bool showHelp = false;
    bool showVersion = false;
    /** For the log and stderr at start: the options are valid but risky (--auth emulator on a public address). */
    QStringList warnings;
};

/**
 * Reads options from the command line, each also from an environment variable (LARK_HOST, LARK_PORT, LARK_NS,
 * LARK_PING_INTERVAL, LARK_DEAD_AFTER, LARK_GRACE, LARK_IMPORT, LARK_MAX_MESSAGE, LARK_DATA, LARK_FSYNC,
 * LARK_ALLOW_ORIGIN, LARK_ALLOW_HOST, LARK_MAX_CONNECTIONS, LARK_MAX_HANDSHAKES, LARK_MAX_BACKLOG, LARK_SLOW_AFTER,
 * LARK_MAX_OPS_PER_SESSION, LARK_MAX_LISTENS, LARK_MAX_NAMESPACES, LARK_AUTH, LARK_JWT_SECRET_FILE, LARK_JWKS_FILE,
 * LARK_ADMIN_TOKEN_FILE, LARK_PROJECT, LARK_RULES, LARK_RULES_NS, LARK_CONFIG); the command line wins. The auth files
 * are read and checked here, so a bad one stops the server at start. Returns false with a message for the user on bad
 * input.
 */
[[nodiscard]] bool parseServerOptions(const QStringList &arguments, const QHash<QString, QString> &environment,
    ServerOptions *out, QString *error, QString *helpText = nullptr);

} // namespace lark
