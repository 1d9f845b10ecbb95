// SPDX-License-Identifier: MIT
#include "options.h"

#include "redis/redisurl.h"

#include "accesspolicy.h"
#include "tokenverifier.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

#include <type_traits>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

bool parseDuration(const QString &text, int *ms, QString *error)
{
    static const QRegularExpression re(u"^\\s*(\\d+(?:\\.\\d+)?)\\s*(ms|s|m)\\s*$"_s);
    const auto m = re.match(text);
    if (!m.hasMatch()) {
        *error = u"\"%1\" is not a duration; write it like 250ms, 5s or 2m"_s.arg(text);
        return false;
    }
    const double value = m.captured(1).toDouble();
    const QString unit = m.captured(2);
    const double factor = unit == u"ms"_s ? 1 : (unit == u"s"_s ? 1000 : 60000);
    const double total = value * factor;
    if (total > 24.0 * 3600 * 1000) {
        *error = u"\"%1\" is longer than a day"_s.arg(text);
        return false;
    }
    *ms = int(total);
    return true;
}

bool parseServerOptions(const QStringList &arguments, const QHash<QString, QString> &environment, ServerOptions *out,
    QString *error, QString *helpText)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"Lark: a realtime JSON database server speaking the Firebase Realtime Database protocol (v5),\n"
        "with onDisconnect that survives network blips.\n\n"
        "Connect a Firebase app with connectDatabaseEmulator(db, '127.0.0.1', <port>).\n"
        "Every option can also be set with the environment variable shown; the command line wins."_s);
    const QCommandLineOption help({u"h"_s, u"help"_s}, u"Show this help and exit."_s);
    const QCommandLineOption version({u"v"_s, u"version"_s}, u"Show the version and exit."_s);
    const QCommandLineOption host(u"host"_s, u"Address to listen on (LARK_HOST). Default 127.0.0.1."_s, u"address"_s);
    const QCommandLineOption port(u"port"_s, u"Port (LARK_PORT). Default 9000; 0 picks a free port."_s, u"port"_s);
    const QCommandLineOption ns(
        u"ns"_s, u"Default namespace for clients that send none (LARK_NS). Default lark."_s, u"name"_s);
    const QCommandLineOption ping(
        u"ping-interval"_s, u"WebSocket ping interval (LARK_PING_INTERVAL). Default 5s."_s, u"duration"_s);
    const QCommandLineOption dead(
        u"dead-after"_s, u"Silence after which a client is dropped (LARK_DEAD_AFTER). Default 15s."_s, u"duration"_s);
    const QCommandLineOption grace(u"grace"_s,
        u"Time a dropped client has to resume before its onDisconnect ops fire "
        "(LARK_GRACE). Default 10s."_s,
        u"duration"_s);
    const QCommandLineOption keepAlive(u"stream-keepalive"_s,
        u"How often a REST event stream (Accept: text/event-stream) gets a keep-alive event (LARK_STREAM_KEEPALIVE). "
        "Default 30s."_s,
        u"duration"_s);
    const QCommandLineOption import(
        u"import"_s, u"Load this JSON file into the default namespace (LARK_IMPORT)."_s, u"file"_s);
    const QCommandLineOption maxMessage(
        u"max-message"_s, u"Largest incoming message in bytes (LARK_MAX_MESSAGE). Default 16777216."_s, u"bytes"_s);
    const QCommandLineOption data(u"data"_s,
        u"Keep data, sessions and queued onDisconnect ops in this SQLite file (LARK_DATA), created if missing. "
        "A write is acknowledged once it is in the file; after a restart every session comes back suspended "
        "with a fresh grace, so clients that reconnect resume and the others' ops fire once. "
        "Default: none, everything is in memory and lost at exit."_s,
        u"file"_s);
    const QCommandLineOption fsync(u"fsync"_s,
        u"With --data, flush every commit to the disk (LARK_FSYNC=1): survives power loss, not only a crash or kill "
        "of the server, at the cost of an fsync per commit (one per round of writes)."_s);
    // Cluster mode (docs/cluster.md): several nodes on one Redis.
    const QCommandLineOption redisUrl(u"redis"_s,
        u"Be one node of a cluster that keeps its data in this Redis 7, redis://[:password@]host[:port][/db] "
        "(LARK_REDIS): every node serves every client, and a write through one is pushed to listeners on all. "
        "Redis must keep what it acknowledges (appendonly yes, appendfsync always, maxmemory-policy noeviction); "
        "otherwise the node refuses to start. Not with --data."_s,
        u"url"_s);
    const QCommandLineOption redisUnsafe(u"redis-unsafe"_s,
        u"With --redis, start even when Redis is configured to lose acknowledged writes (a warning instead)."_s);
    const QCommandLineOption nodeName(u"node-name"_s,
        u"With --redis, this node's name, unique to one process (LARK_NODE_NAME). Default: <host name>:<port>."_s,
        u"name"_s);
    parser.addOptions({redisUrl, redisUnsafe, nodeName});
    // The network surface: who may connect, and how much a connection may cost (docs/semantics.md §7).
    const QCommandLineOption allowOrigin(u"allow-origin"_s,
        u"Also accept browser pages from this origin, scheme://host[:port] (repeatable; '*' for any, 'null' for "
        "file pages; LARK_ALLOW_ORIGIN, comma-separated). Pages from localhost, 127.0.0.0/8 and [::1] are always "
        "accepted, and clients that send no Origin (SDKs in Node, native apps) too; others get 403."_s,
        u"origin"_s);
    const QCommandLineOption allowHost(u"allow-host"_s,
        u"On a loopback address, also answer requests whose Host names this host (repeatable; '*' for any; "
        "LARK_ALLOW_HOST, comma-separated). By default only localhost, 127.0.0.0/8 and [::1] are answered, against "
        "DNS rebinding."_s,
        u"host"_s);
    const QCommandLineOption maxConnections(u"max-connections"_s,
        u"Open connections at most; more get HTTP 503 (LARK_MAX_CONNECTIONS). Default: the open-file limit, which "
        "lark-server raises to its hard limit at start, less 64."_s,
        u"count"_s);
    const QCommandLineOption maxHandshakes(u"max-handshakes"_s,
        u"Unfinished WebSocket handshakes at once; more connections wait in the listen backlog "
        "(LARK_MAX_HANDSHAKES). Default 1024."_s,
        u"count"_s);
    const QCommandLineOption maxBacklog(u"max-backlog"_s,
        u"Unsent bytes per connection over which the client must keep reading (LARK_MAX_BACKLOG). "
        "Default 8388608."_s,
        u"bytes"_s);
    const QCommandLineOption slowAfter(u"slow-after"_s,
        u"How long a backlog over --max-backlog may go with nothing taken by the client, or without shrinking, "
        "before the client is closed as too slow with 1008 (LARK_SLOW_AFTER). Default 10s."_s,
        u"duration"_s);
    parser.addOptions({help, version, host, port, ns, ping, dead, grace, keepAlive, import, maxMessage, data, fsync,
        allowOrigin, allowHost, maxConnections, maxHandshakes, maxBacklog, slowAfter});
    // Resource caps (docs/semantics.md §7).
    const QCommandLineOption maxOps(u"max-ops-per-session"_s,
        u"Most onDisconnect ops one session may hold (LARK_MAX_OPS_PER_SESSION); an o/om beyond is refused with "
        "too_many_ops. Default 1000."_s,
        u"count"_s);
    const QCommandLineOption maxListens(u"max-listens"_s,
        u"Most listens one connection may hold (LARK_MAX_LISTENS); a new listen beyond is refused with "
        "too_many_listens. Default 10000."_s,
        u"count"_s);
    const QCommandLineOption maxNamespaces(u"max-namespaces"_s,
        u"Most namespaces the server holds (LARK_MAX_NAMESPACES); a client naming a new one beyond is closed "
        "with 1008. Default 1000."_s,
        u"count"_s);
    parser.addOptions({maxOps, maxListens, maxNamespaces});
    // Authentication (docs/wire-protocol.md §13).
    const QCommandLineOption auth(u"auth"_s,
        u"How tokens are checked (LARK_AUTH): 'emulator' (the default) takes unsigned tokens at their word and "
        "makes the Admin SDK's \"owner\" the admin, as the Firebase emulator does: for loopback only. 'verify' "
        "accepts only signed tokens (--jwt-secret, --jwks), refuses alg none, and revokes a connection's token when "
        "it expires."_s,
        u"mode"_s);
    const QCommandLineOption jwtSecret(u"jwt-secret"_s,
        u"With --auth verify, accept HS256 custom tokens signed with this file's bytes, less one trailing newline "
        "(LARK_JWT_SECRET_FILE)."_s,
        u"file"_s);
    const QCommandLineOption jwks(u"jwks"_s,
        u"With --auth verify, accept RS256/ES256 Firebase ID tokens signed by a key of this file (LARK_JWKS_FILE): "
        "a JWKS, or Google's {\"<kid>\": \"-----BEGIN CERTIFICATE-----...\"} map. Their iss must be "
        "https://securetoken.google.com/<project> and their aud <project>."_s,
        u"file"_s);
    const QCommandLineOption adminToken(u"admin-token"_s,
        u"The admin credential (gauth) is this file's content, less one trailing newline, instead of \"owner\" "
        "(LARK_ADMIN_TOKEN_FILE). With --auth verify and no --admin-token there is no admin."_s,
        u"file"_s);
    const QCommandLineOption project(u"project"_s,
        u"The Firebase project ID that ID tokens must be issued for (LARK_PROJECT). Default demo-project, the "
        "SDK's default for emulator tokens."_s,
        u"id"_s);
    parser.addOptions({auth, jwtSecret, jwks, adminToken, project});
    // Security rules, loaded at start and again whenever a file changes (as the emulator's CLI does).
    const QCommandLineOption rules(u"rules"_s,
        u"Security rules file (the emulator's database.rules.json) for the namespace --rules-ns (LARK_RULES), "
        "loaded at start (a bad file stops the server with its line:column and message) and reloaded whenever "
        "it changes (a bad reload keeps the rules in force). Default: none, everything is open, as the emulator."_s,
        u"file"_s);
    const QCommandLineOption rulesNs(u"rules-ns"_s,
        u"The namespace --rules is for (LARK_RULES_NS). Default: the default namespace (--ns)."_s, u"name"_s);
    const QCommandLineOption config(u"config"_s,
        u"Read the rules files from a firebase.json (LARK_CONFIG): database.rules is {\"rules\": FILE} for the "
        "default namespace, or [{\"instance\" or \"target\": NS, \"rules\": FILE}, ...]; files are relative to "
        "the config's folder, and watched like --rules."_s,
        u"file"_s);
    parser.addOptions({rules, rulesNs, config});
    if (helpText)
        *helpText = parser.helpText();

    if (!parser.parse(arguments)) {
        *error = parser.errorText();
        return false;
    }
    if (!parser.positionalArguments().isEmpty()) {
        *error = u"unexpected argument \"%1\""_s.arg(parser.positionalArguments().constFirst());
        return false;
    }
    ServerOptions o;
    o.showHelp = parser.isSet(help);
    o.showVersion = parser.isSet(version);
    auto value = [&](const QCommandLineOption &opt, const QString &env, QString *v) {
        if (parser.isSet(opt)) {
            *v = parser.value(opt);
            return true;
        }
        if (environment.contains(env)) {
            *v = environment.value(env);
            return true;
        }
        return false;
    };
    QString v;
    if (value(host, u"LARK_HOST"_s, &v)) {
        const QHostAddress a(v == u"localhost"_s ? u"127.0.0.1"_s : v);
        if (a.isNull()) {
            *error = u"--host: \"%1\" is not an IP address"_s.arg(v);
            return false;
        }
        o.config.host = a;
    }
    if (value(port, u"LARK_PORT"_s, &v)) {
        bool ok = false;
        const uint p = v.toUInt(&ok);
        if (!ok || p > 65535) {
            *error = u"--port: \"%1\" is not a port number (0-65535)"_s.arg(v);
            return false;
        }
        o.config.port = quint16(p);
    }
    if (value(ns, u"LARK_NS"_s, &v)) {
        if (v.isEmpty()) {
            *error = u"--ns: the namespace must not be empty"_s;
            return false;
        }
        o.config.defaultNamespace = v;
    }
    const struct {
        const QCommandLineOption &opt;
        QString env;
        int *target;
    } durations[] = {{ping, u"LARK_PING_INTERVAL"_s, &o.config.pingIntervalMs},
        {dead, u"LARK_DEAD_AFTER"_s, &o.config.deadAfterMs}, {grace, u"LARK_GRACE"_s, &o.config.graceMs},
        {keepAlive, u"LARK_STREAM_KEEPALIVE"_s, &o.config.streamKeepAliveMs}};
    for (const auto &d : durations) {
        if (!value(d.opt, d.env, &v))
            continue;
        QString why;
        if (!parseDuration(v, d.target, &why)) {
            *error = u"--%1: %2"_s.arg(d.opt.names().constFirst(), why);
            return false;
        }
    }
    if (o.config.pingIntervalMs < 1 || o.config.deadAfterMs < 1 || o.config.streamKeepAliveMs < 1) {
        *error = u"--ping-interval, --dead-after and --stream-keepalive must be at least 1ms"_s;
        return false;
    }
    if (value(maxMessage, u"LARK_MAX_MESSAGE"_s, &v)) {
        bool ok = false;
        const qint64 n = v.toLongLong(&ok);
        if (!ok || n < 1024 || n > qint64(1) << 30) {
            *error = u"--max-message: \"%1\" must be a byte count between 1024 and 1073741824"_s.arg(v);
            return false;
        }
        o.config.maxMessageBytes = n;
    }
    if (value(import, u"LARK_IMPORT"_s, &v))
        o.importFile = v;
    if (value(data, u"LARK_DATA"_s, &v)) {
        if (v.isEmpty()) {
            *error = u"--data: the file name must not be empty"_s;
            return false;
        }
        o.config.dataFile = v;
    }
    o.config.fsync = parser.isSet(fsync)
        || (environment.contains(u"LARK_FSYNC"_s) && environment.value(u"LARK_FSYNC"_s) != u"0"_s
            && !environment.value(u"LARK_FSYNC"_s).isEmpty());
    if (o.config.fsync && o.config.dataFile.isEmpty()) {
        *error = u"--fsync needs --data"_s;
        return false;
    }
    if (value(redisUrl, u"LARK_REDIS"_s, &v)) {
        redis::RedisUrl url;
        if (!redis::RedisUrl::parse(v, &url, error)) {
            *error = u"--redis: "_s + *error;
            return false;
        }
        o.config.redisUrl = v;
    }
    o.config.redisUnsafe = parser.isSet(redisUnsafe);
    if (value(nodeName, u"LARK_NODE_NAME"_s, &v)) {
        if (v.isEmpty() || v.contains(u'#')) {
            *error = u"--node-name: must not be empty or contain '#'"_s;
            return false;
        }
        o.config.nodeName = v;
    }
    if (!o.config.redisUrl.isEmpty() && !o.config.dataFile.isEmpty()) {
        *error = u"--data and --redis exclude each other: with --redis the data is in Redis, and a node keeps "
                 "nothing of its own"_s;
        return false;
    }
    if ((o.config.redisUnsafe || !o.config.nodeName.isEmpty()) && o.config.redisUrl.isEmpty()) {
        *error = u"--redis-unsafe and --node-name need --redis"_s;
        return false;
    }
    // Repeatable options: the command line's values, else the environment's comma-separated list.
    auto list = [&](const QCommandLineOption &opt, const QString &env) {
        QStringList values = parser.values(opt);
        if (values.isEmpty() && environment.contains(env))
            values = environment.value(env).split(u',', Qt::SkipEmptyParts);
        for (QString &value : values)
            value = value.trimmed();
        values.removeAll(QString());
        return values;
    };
    o.config.allowedOrigins = list(allowOrigin, u"LARK_ALLOW_ORIGIN"_s);
    for (const QString &origin : std::as_const(o.config.allowedOrigins)) {
        QString why;
        if (!AccessPolicy::isValidOriginOption(origin, &why)) {
            *error = u"--allow-origin: "_s + why;
            return false;
        }
    }
    o.config.allowedHosts = list(allowHost, u"LARK_ALLOW_HOST"_s);
    for (const QString &h : std::as_const(o.config.allowedHosts)) {
        QByteArray name;
        int port = -1;
        if (h != u"*"_s && (!AccessPolicy::splitAuthority(h.toUtf8(), &name, &port) || port >= 0)) {
            *error = u"--allow-host: \"%1\" is not a host name or address (without a port)"_s.arg(h);
            return false;
        }
    }
    // A whole number in [min, max] for opt (or its variable); *out is left alone when neither is set.
    auto count = [&](const QCommandLineOption &opt, const QString &env, qint64 min, qint64 max, auto *out) {
        if (!value(opt, env, &v))
            return true;
        bool ok = false;
        const qint64 n = v.toLongLong(&ok);
        if (!ok || n < min || n > max) {
            *error = u"--%1: \"%2\" must be a whole number from %3 to %4"_s.arg(opt.names().constFirst(), v)
                         .arg(min)
                         .arg(max);
            return false;
        }
        *out = std::remove_pointer_t<decltype(out)>(n);
        return true;
    };
    if (!count(maxConnections, u"LARK_MAX_CONNECTIONS"_s, 1, 10000000, &o.config.maxConnections)
        || !count(maxHandshakes, u"LARK_MAX_HANDSHAKES"_s, 1, 1000000, &o.config.maxHandshakes)
        || !count(maxBacklog, u"LARK_MAX_BACKLOG"_s, 1024, qint64(1) << 32, &o.config.maxBacklogBytes))
        return false;
    if (value(slowAfter, u"LARK_SLOW_AFTER"_s, &v)) {
        QString why;
        if (!parseDuration(v, &o.config.slowAfterMs, &why) || o.config.slowAfterMs < 1) {
            *error = u"--slow-after: "_s + (why.isEmpty() ? u"must be at least 1ms"_s : why);
            return false;
        }
    }
    if (!count(maxOps, u"LARK_MAX_OPS_PER_SESSION"_s, 1, 100000000, &o.config.maxOpsPerSession)
        || !count(maxListens, u"LARK_MAX_LISTENS"_s, 1, 100000000, &o.config.maxListensPerConnection)
        || !count(maxNamespaces, u"LARK_MAX_NAMESPACES"_s, 1, 100000000, &o.config.maxNamespaces))
        return false;
    if (value(auth, u"LARK_AUTH"_s, &v)) {
        if (v == u"verify"_s) {
            o.config.auth.mode = AuthConfig::Mode::Verify;
        } else if (v != u"emulator"_s) {
            *error = u"--auth: \"%1\" is not a mode; use emulator or verify"_s.arg(v);
            return false;
        }
    }
    const bool verify = o.config.auth.mode == AuthConfig::Mode::Verify;
    QString projectId = u"demo-project"_s;
    if (value(project, u"LARK_PROJECT"_s, &v)) {
        if (v.isEmpty() || v.contains(u'/')) {
            *error = u"--project: \"%1\" is not a Firebase project ID"_s.arg(v);
            return false;
        }
        projectId = v;
    }
    QString secretFile, keySetFile;
    const bool hasSecret = value(jwtSecret, u"LARK_JWT_SECRET_FILE"_s, &secretFile);
    const bool hasKeySet = value(jwks, u"LARK_JWKS_FILE"_s, &keySetFile);
    if (!verify && (hasSecret || hasKeySet)) {
        *error = u"--jwt-secret and --jwks need --auth verify (emulator mode checks no signature)"_s;
        return false;
    }
    if (verify && !hasSecret && !hasKeySet) {
        *error = u"--auth verify needs --jwt-secret FILE, --jwks FILE or both: the keys tokens are checked with"_s;
        return false;
    }
    if (verify) {
        auto verifier = std::make_shared<TokenVerifier>();
        verifier->setProject(projectId);
        QByteArray bytes;
        QString why;
        if (hasSecret
            && (!TokenVerifier::readSecretFile(secretFile, &bytes, &why) || !verifier->setHmacSecret(bytes, &why))) {
            *error = u"--jwt-secret: "_s + why;
            return false;
        }
        if (hasKeySet) {
            QFile f(keySetFile);
            if (!f.open(QIODevice::ReadOnly)) {
                *error = u"--jwks: cannot read %1: %2"_s.arg(keySetFile, f.errorString());
                return false;
            }
            if (!verifier->loadKeySet(f.readAll(), &why)) {
                *error = u"--jwks: %1: %2"_s.arg(keySetFile, why);
                return false;
            }
        }
        o.config.auth.verifier = std::move(verifier);
    }
    if (value(adminToken, u"LARK_ADMIN_TOKEN_FILE"_s, &v)) {
        QString why;
        if (!TokenVerifier::readSecretFile(v, &o.config.auth.adminToken, &why)) {
            *error = u"--admin-token: "_s + why;
            return false;
        }
    }
    QString rulesFile, configFile;
    const bool hasRules = value(rules, u"LARK_RULES"_s, &rulesFile);
    const bool hasConfig = value(config, u"LARK_CONFIG"_s, &configFile);
    QString rulesNamespace = o.config.defaultNamespace;
    if (value(rulesNs, u"LARK_RULES_NS"_s, &v)) {
        if (!hasRules) {
            *error = u"--rules-ns needs --rules"_s;
            return false;
        }
        rulesNamespace = v;
    }
    if (hasRules && hasConfig) {
        *error = u"--rules and --config both name rules files: use one"_s;
        return false;
    }
    if (hasRules) {
        if (rulesFile.isEmpty()) {
            *error = u"--rules: the file name must not be empty"_s;
            return false;
        }
        o.rules.push_back({rulesNamespace, QFileInfo(rulesFile).absoluteFilePath()});
    }
    if (hasConfig) {
        QString why;
        if (!readFirebaseConfig(configFile, o.config.defaultNamespace, &o.rules, &why)) {
            *error = u"--config: "_s + why;
            return false;
        }
    }
    for (const RulesSource &s : std::as_const(o.rules)) {
        if (!Namespaces::isValidName(s.ns) || s.ns.isEmpty()) {
            *error = u"rules for \"%1\": not a namespace name"_s.arg(s.ns.left(64));
            return false;
        }
    }
    if (!verify && !o.config.host.isLoopback()) {
        o.warnings.append(
            u"--auth emulator on %1, which is not a loopback address: whoever reaches the port %2"
            "can mint any identity (tokens are not checked). Use --auth verify, or --host 127.0.0.1."_s.arg(
                o.config.host.toString(),
                o.config.auth.adminToken.isEmpty() ? u"is admin (gauth \"owner\") and "_s : QString()));
    }
    *out = o;
    return true;
}

} // namespace lark
