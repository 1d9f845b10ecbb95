// SPDX-License-Identifier: MIT
#pragma once

#include <QLoggingCategory>

// Categories can be tuned at run time, e.g. QT_LOGGING_RULES="lark.protocol.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcServer) // lark.server: listening, connections, shutdown
Q_DECLARE_LOGGING_CATEGORY(lcSession) // lark.session: connect, resume, suspend, fire
Q_DECLARE_LOGGING_CATEGORY(lcProtocol) // lark.protocol: refused input, per-request traces at debug level
Q_DECLARE_LOGGING_CATEGORY(lcRules) // lark.rules: rules loaded, requests denied, ops dropped, unindexed queries
