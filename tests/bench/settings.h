// SPDX-License-Identifier: MIT
#pragma once

// lark-bench's command line (docs/performance.md): which scenarios to run, against which servers, at which size.

#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>

class QCoreApplication;

namespace bench
{

struct Settings {
    QString serverPath;
    QString baselinePath;
    QString peerDir;
    QUrl externalUrl; // --url: the Lark server to use instead of starting one
    qint64 externalPid = 0;
    bool baseline = true;
    bool peer = true;
    QString peerNote; // why the peer does not run, when it does not
    bool tiny = false;
    bool qtListeners = false; // fan-out listeners on QWebSocket instead of the epoll client
    bool qtWriters = false; // writes scenario: writers on QWebSocket instead of the epoll client
    bool signIn = false; // writers and the fan-out writer sign in (auth), as the rules scenario needs
    QString rulesFile; // the rules scenario's rules (tests/bench/presence.rules.json)
    QString redisServerPath; // the cluster scenarios' redis-server
    QString redisFunctionsPath; // cluster-writes: the nodes' function library, for the direct calls
    double writeRate = 0; // writes scenario: the open-loop phase's rate; 0: half the best closed-loop rate
    int workers = 0; // 0: by connection count
    int durationMs = 3000;
    int writeClients = 100;
    QList<int> listeners {1000, 10000};
    int connections = 10000;
    int sessions = 1000; // disconnect
    int mass = 5000;
    int silent = 1000;
    int silentPingMs = 500, silentDeadMs = 2000, silentGraceMs = 2000;
    QStringList scenarios; // those to run
    QString jsonFile; // --json: where the results go; empty: nowhere
};

/**
 * Reads app's command line into s. --help and bad options end the process (QCommandLineParser::process); an
 * unknown scenario is reported on stderr and returns false.
 */
bool parseSettings(const QCoreApplication &app, Settings *s);

} // namespace bench
