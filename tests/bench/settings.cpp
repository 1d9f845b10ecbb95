// SPDX-License-Identifier: MIT
#include "settings.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFileInfo>
#include <QProcess>

#include <cstdio>
#include <utility>

using namespace Qt::Literals::StringLiterals;

namespace bench
{

bool parseSettings(const QCoreApplication &app, Settings *out)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(u"Load generator for lark-server, with a raw Qt WebSocket baseline and the "
                                     "firebase-server peer."_s);
    parser.addHelpOption();
    const QCommandLineOption scenariosOpt(u"scenarios"_s,
        u"Comma-separated: writes,fanout,connect,disconnect,mass-disconnect,silent,rules,http,cluster-writes,"
        "cluster-fanout,cluster-kill (connect includes idle-memory; rules runs writes and fan-out on Lark without and "
        "with --rules-file; http is REST writes, event-stream fan-out and idle streams, against the WebSocket figures "
        "of the same run; cluster-* start a Redis and lark-server nodes on it). Default: all."_s,
        u"list"_s);
    const QCommandLineOption tinyOpt(u"tiny"_s, u"Every scenario at a tiny size (the bench_smoke test)."_s);
    const QCommandLineOption qtListenersOpt(
        u"qt-listeners"_s, u"fanout: listeners on QWebSocket (the old load client) instead of raw epoll sockets."_s);
    const QCommandLineOption qtWritersOpt(
        u"qt-writers"_s, u"writes: writers on QWebSocket (the old load client) instead of raw epoll sockets."_s);
    const QCommandLineOption writeRateOpt(u"write-rate"_s,
        u"writes: run the open-loop (latency) phase at this many writes/s instead of half the best rate."_s, u"n"_s);
    const QCommandLineOption urlOpt(
        u"url"_s, u"Use this running Lark server (ws://host:port) instead of starting one."_s, u"url"_s);
    const QCommandLineOption pidOpt(u"server-pid"_s, u"With --url: its pid, for the RSS and CPU figures."_s, u"pid"_s);
    const QCommandLineOption serverOpt(
        u"server"_s, u"lark-server binary."_s, u"path"_s, QStringLiteral(LARK_SERVER_PATH));
    const QCommandLineOption baselineOpt(
        u"baseline"_s, u"lark-bench-baseline binary."_s, u"path"_s, QStringLiteral(LARK_BASELINE_PATH));
    const QCommandLineOption peerOpt(u"peer-dir"_s, u"Directory with the peer's server.js and node_modules."_s,
        u"dir"_s, QStringLiteral(LARK_PEER_DIR));
    const QCommandLineOption rulesOpt(
        u"rules-file"_s, u"rules: the security rules Lark runs under."_s, u"file"_s, QStringLiteral(LARK_BENCH_RULES));
    const QCommandLineOption redisOpt(
        u"redis-server"_s, u"cluster-*: the redis-server binary (Redis 7)."_s, u"path"_s, u"redis-server"_s);
    const QCommandLineOption noPeerOpt(u"no-peer"_s, u"Skip firebase-server."_s);
    const QCommandLineOption noBaselineOpt(u"no-baseline"_s, u"Skip the baseline."_s);
    const QCommandLineOption jsonOpt(u"json"_s, u"Write the results as JSON to this file."_s, u"file"_s);
    const QCommandLineOption workersOpt(u"workers"_s, u"Load processes (default: by connection count)."_s, u"n"_s);
    const QCommandLineOption durationOpt(u"duration"_s, u"Length of each throughput phase in ms."_s, u"ms"_s);
    const QCommandLineOption listenersOpt(
        u"listeners"_s, u"Fan-out listener counts (default 1000,10000)."_s, u"list"_s);
    const QCommandLineOption connectionsOpt(u"connections"_s, u"Connections for connect/idle-memory."_s, u"n"_s);
    const QCommandLineOption sessionsOpt(u"sessions"_s, u"Sessions for disconnect."_s, u"n"_s);
    const QCommandLineOption massOpt(u"mass"_s, u"Sessions for mass-disconnect."_s, u"n"_s);
    const QCommandLineOption silentOpt(u"silent"_s, u"Sessions for silent."_s, u"n"_s);
    const QCommandLineOption deadOpt(u"dead-after"_s,
        u"silent: the server's dead-after in ms (set on the started server; with --url, what it uses)."_s, u"ms"_s);
    const QCommandLineOption graceOpt(u"grace"_s, u"silent: the server's grace in ms (as --dead-after)."_s, u"ms"_s);
    parser.addOptions({scenariosOpt, tinyOpt, qtListenersOpt, qtWritersOpt, writeRateOpt, urlOpt, pidOpt, serverOpt,
        baselineOpt, peerOpt, noPeerOpt, noBaselineOpt, jsonOpt, workersOpt, durationOpt, listenersOpt, connectionsOpt,
        sessionsOpt, massOpt, silentOpt, deadOpt, graceOpt, rulesOpt, redisOpt});
    parser.process(app);

    Settings &s = *out;
    s.serverPath = parser.value(serverOpt);
    s.baselinePath = parser.value(baselineOpt);
    s.peerDir = parser.value(peerOpt);
    s.baseline = !parser.isSet(noBaselineOpt);
    s.tiny = parser.isSet(tinyOpt);
    s.qtListeners = parser.isSet(qtListenersOpt);
    s.qtWriters = parser.isSet(qtWritersOpt);
    s.writeRate = parser.value(writeRateOpt).toDouble();
    if (s.tiny) {
        s.durationMs = 300;
        s.writeClients = 20;
        s.listeners = {20};
        s.connections = 20;
        s.sessions = 20;
        s.mass = 20;
        s.silent = 10;
        s.silentPingMs = 100;
        s.silentDeadMs = 500;
        s.silentGraceMs = 300;
    }
    if (parser.isSet(urlOpt)) {
        QString u = parser.value(urlOpt);
        if (!u.contains(u"/.ws"_s))
            u += u"/.ws?v=5&ns=bench"_s;
        s.externalUrl = QUrl(u);
        s.externalPid = parser.value(pidOpt).toLongLong();
        // An external server keeps its own timers: unless told, assume the defaults.
        s.silentDeadMs = 15000;
        s.silentGraceMs = 10000;
    }
    if (parser.isSet(workersOpt))
        s.workers = parser.value(workersOpt).toInt();
    if (parser.isSet(durationOpt))
        s.durationMs = parser.value(durationOpt).toInt();
    if (parser.isSet(listenersOpt)) {
        s.listeners.clear();
        for (const QString &n : parser.value(listenersOpt).split(u','))
            s.listeners.append(n.toInt());
    }
    if (parser.isSet(connectionsOpt))
        s.connections = parser.value(connectionsOpt).toInt();
    if (parser.isSet(sessionsOpt))
        s.sessions = parser.value(sessionsOpt).toInt();
    if (parser.isSet(massOpt))
        s.mass = parser.value(massOpt).toInt();
    if (parser.isSet(silentOpt))
        s.silent = parser.value(silentOpt).toInt();
    if (parser.isSet(deadOpt))
        s.silentDeadMs = parser.value(deadOpt).toInt();
    if (parser.isSet(graceOpt))
        s.silentGraceMs = parser.value(graceOpt).toInt();

    if (parser.isSet(noPeerOpt)) {
        s.peer = false;
        s.peerNote = u"skipped (--no-peer)"_s;
    } else if (!QFileInfo::exists(s.peerDir + u"/node_modules/firebase-server/package.json"_s)) {
        s.peer = false;
        s.peerNote = u"not installed: run npm ci in %1"_s.arg(s.peerDir);
    } else if (QProcess node; node.start(u"node"_s, {u"--version"_s}),
               !node.waitForFinished(10000) || node.exitStatus() != QProcess::NormalExit || node.exitCode() != 0) {
        s.peer = false;
        s.peerNote = u"node not found"_s;
    }

    const QStringList all {u"writes"_s, u"fanout"_s, u"connect"_s, u"disconnect"_s, u"mass-disconnect"_s, u"silent"_s,
        u"rules"_s, u"http"_s, u"cluster-writes"_s, u"cluster-fanout"_s, u"cluster-kill"_s};
    s.scenarios = parser.isSet(scenariosOpt) ? parser.value(scenariosOpt).split(u',') : all;
    for (const QString &sc : std::as_const(s.scenarios)) {
        if (!all.contains(sc)) {
            std::fprintf(stderr, "lark-bench: unknown scenario %s\n", qPrintable(sc));
            return false;
        }
    }
    s.jsonFile = parser.value(jsonOpt);
    s.rulesFile = parser.value(rulesOpt);
    s.redisServerPath = parser.value(redisOpt);
    s.redisFunctionsPath = QStringLiteral(LARK_REDIS_FUNCTIONS);
    return true;
}

} // namespace bench
