// SPDX-License-Identifier: MIT
#include "server/options.h"
#include "server/tokenverifier.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TestOptions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void duration_data();
    void duration();
    void defaults();
    void fromCommandLine();
    void fromEnvironment();
    void commandLineWins();
    void networkLimits();
    void errors_data();
    void errors();
    void helpAndVersion();
    void caps();
    void authDefaults();
    void authVerify();
    void adminToken();
    void emulatorOnPublicHostWarns();
    void authErrors_data();
    void authErrors();
    void rulesFile();
    void firebaseConfig();
    void rulesErrors();
};

namespace
{

// RFC 7515 appendix A.3's P-256 key: a valid public point, so the JWKS loads without making keys.
const QByteArray EcJwks = R"({"keys":[{"kty":"EC","crv":"P-256","kid":"a3",
    "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})";

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &content)
{
    const QString path = dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

} // namespace

void TestOptions::duration_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("ms"); // -1: refused

    QTest::newRow("5s") << u"5s"_s << 5000;
    QTest::newRow("250ms") << u"250ms"_s << 250;
    QTest::newRow("1m") << u"1m"_s << 60000;
    QTest::newRow("1.5s") << u"1.5s"_s << 1500;
    QTest::newRow("0ms") << u"0ms"_s << 0;
    QTest::newRow("spaces") << u" 2 s "_s << 2000;
    QTest::newRow("a day") << u"1440m"_s << 86400000;
    // A bare number is refused: is it seconds or milliseconds?
    QTest::newRow("bare number") << u"5"_s << -1;
    QTest::newRow("empty") << QString() << -1;
    QTest::newRow("unit only") << u"s"_s << -1;
    QTest::newRow("hours") << u"1h"_s << -1;
    QTest::newRow("negative") << u"-1s"_s << -1;
    QTest::newRow("exponent") << u"1e3ms"_s << -1;
    QTest::newRow("word") << u"5 seconds"_s << -1;
    QTest::newRow("more than a day") << u"1441m"_s << -1;
    QTest::newRow("overflow") << u"99999999999999999999s"_s << -1;
}

void TestOptions::duration()
{
    QFETCH(QString, text);
    QFETCH(int, ms);
    int out = -12345;
    QString error;
    QCOMPARE(parseDuration(text, &out, &error), ms >= 0);
    if (ms >= 0) {
        QCOMPARE(out, ms);
    } else {
        QCOMPARE(out, -12345);
        QVERIFY(!error.isEmpty());
    }
}

static ServerOptions parse(const QStringList &args, const QHash<QString, QString> &env = {})
{
    ServerOptions o;
    QString error;
    if (!parseServerOptions(QStringList {u"lark-server"_s} + args, env, &o, &error))
        qWarning("unexpected error: %s", qPrintable(error));
    return o;
}

void TestOptions::defaults()
{
    const ServerOptions o = parse({});
    const ServerConfig d;
    QCOMPARE(o.config.host, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(o.config.port, 9000);
    QCOMPARE(o.config.defaultNamespace, u"lark"_s);
    QCOMPARE(o.config.pingIntervalMs, 5000);
    QCOMPARE(o.config.deadAfterMs, 15000);
    QCOMPARE(o.config.graceMs, 10000);
    QCOMPARE(o.config.maxMessageBytes, 16 * 1024 * 1024);
    QCOMPARE(o.config.maxBacklogBytes, d.maxBacklogBytes);
    QVERIFY(o.importFile.isEmpty());
    QVERIFY(o.config.dataFile.isEmpty()); // in memory unless asked
    QVERIFY(!o.config.fsync);
    QCOMPARE(o.config.maxOpsPerSession, 1000);
    QCOMPARE(o.config.maxListensPerConnection, 10000);
    QCOMPARE(o.config.maxNamespaces, 1000);
    QVERIFY(!o.showHelp);
    QVERIFY(!o.showVersion);
}

void TestOptions::fromCommandLine()
{
    const ServerOptions o = parse({u"--host"_s, u"0.0.0.0"_s, u"--port"_s, u"0"_s, u"--ns"_s, u"demo"_s,
        u"--ping-interval"_s, u"100ms"_s, u"--dead-after=300ms"_s, u"--grace"_s, u"1.5s"_s, u"--import"_s,
        u"data.json"_s, u"--max-message"_s, u"2048"_s, u"--data"_s, u"/var/lib/lark/data.lark"_s, u"--fsync"_s});
    QCOMPARE(o.config.host, QHostAddress(QHostAddress::AnyIPv4));
    QCOMPARE(o.config.port, 0);
    QCOMPARE(o.config.defaultNamespace, u"demo"_s);
    QCOMPARE(o.config.pingIntervalMs, 100);
    QCOMPARE(o.config.deadAfterMs, 300);
    QCOMPARE(o.config.graceMs, 1500);
    QCOMPARE(o.importFile, u"data.json"_s);
    QCOMPARE(o.config.maxMessageBytes, 2048);
    QCOMPARE(o.config.dataFile, u"/var/lib/lark/data.lark"_s);
    QVERIFY(o.config.fsync);
}

void TestOptions::fromEnvironment()
{
    const ServerOptions o = parse({},
        {{u"LARK_HOST"_s, u"localhost"_s}, {u"LARK_PORT"_s, u"1234"_s}, {u"LARK_NS"_s, u"envns"_s},
            {u"LARK_PING_INTERVAL"_s, u"1s"_s}, {u"LARK_DEAD_AFTER"_s, u"3s"_s}, {u"LARK_GRACE"_s, u"250ms"_s},
            {u"LARK_IMPORT"_s, u"/tmp/x.json"_s}, {u"LARK_MAX_MESSAGE"_s, u"4096"_s}, {u"LARK_DATA"_s, u"env.lark"_s},
            {u"LARK_FSYNC"_s, u"1"_s}, {u"UNRELATED"_s, u"--port=1"_s}});
    QCOMPARE(o.config.host, QHostAddress(QHostAddress::LocalHost)); // "localhost" means 127.0.0.1
    QCOMPARE(o.config.port, 1234);
    QCOMPARE(o.config.defaultNamespace, u"envns"_s);
    QCOMPARE(o.config.pingIntervalMs, 1000);
    QCOMPARE(o.config.deadAfterMs, 3000);
    QCOMPARE(o.config.graceMs, 250);
    QCOMPARE(o.importFile, u"/tmp/x.json"_s);
    QCOMPARE(o.config.maxMessageBytes, 4096);
    QCOMPARE(o.config.dataFile, u"env.lark"_s);
    QVERIFY(o.config.fsync);
}

void TestOptions::commandLineWins()
{
    const QHash<QString, QString> env {{u"LARK_PORT"_s, u"1234"_s}, {u"LARK_GRACE"_s, u"5s"_s},
        {u"LARK_NS"_s, u"envns"_s}, {u"LARK_DEAD_AFTER"_s, u"7s"_s}};
    const ServerOptions o = parse({u"--port"_s, u"0"_s, u"--grace"_s, u"1s"_s}, env);
    QCOMPARE(o.config.port, 0);
    QCOMPARE(o.config.graceMs, 1000);
    // Options not on the command line still come from the environment.
    QCOMPARE(o.config.defaultNamespace, u"envns"_s);
    QCOMPARE(o.config.deadAfterMs, 7000);
    // A bad environment value does not matter when the command line overrides it.
    ServerOptions out;
    QString error;
    QVERIFY2(parseServerOptions({u"lark-server"_s, u"--port"_s, u"1"_s}, {{u"LARK_PORT"_s, u"nope"_s}}, &out, &error),
        qPrintable(error));
    QCOMPARE(out.config.port, 1);
}

void TestOptions::networkLimits()
{
    const ServerOptions d = parse({});
    QVERIFY(d.config.allowedOrigins.isEmpty());
    QVERIFY(d.config.allowedHosts.isEmpty());
    QCOMPARE(d.config.maxConnections, 0); // the open-file limit decides
    QCOMPARE(d.config.maxHandshakes, 1024);
    QCOMPARE(d.config.maxBacklogBytes, 8 * 1024 * 1024);
    QCOMPARE(d.config.slowAfterMs, 10000);

    const ServerOptions o = parse({u"--allow-origin"_s, u"https://app.example.com"_s, u"--allow-origin"_s,
        u"http://192.168.1.5:3000"_s, u"--allow-host"_s, u"devbox.lan"_s, u"--max-connections"_s, u"5000"_s,
        u"--max-handshakes"_s, u"64"_s, u"--max-backlog"_s, u"1048576"_s, u"--slow-after"_s, u"2s"_s});
    QCOMPARE(o.config.allowedOrigins, (QStringList {u"https://app.example.com"_s, u"http://192.168.1.5:3000"_s}));
    QCOMPARE(o.config.allowedHosts, QStringList {u"devbox.lan"_s});
    QCOMPARE(o.config.maxConnections, 5000);
    QCOMPARE(o.config.maxHandshakes, 64);
    QCOMPARE(o.config.maxBacklogBytes, 1048576);
    QCOMPARE(o.config.slowAfterMs, 2000);

    const ServerOptions e = parse({},
        {{u"LARK_ALLOW_ORIGIN"_s, u"https://a.example, *"_s}, {u"LARK_ALLOW_HOST"_s, u"a.lan,b.lan"_s},
            {u"LARK_MAX_CONNECTIONS"_s, u"10"_s}, {u"LARK_SLOW_AFTER"_s, u"500ms"_s}});
    QCOMPARE(e.config.allowedOrigins, (QStringList {u"https://a.example"_s, u"*"_s}));
    QCOMPARE(e.config.allowedHosts, (QStringList {u"a.lan"_s, u"b.lan"_s}));
    QCOMPARE(e.config.maxConnections, 10);
    QCOMPARE(e.config.slowAfterMs, 500);
}

void TestOptions::errors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env"); // name=value pairs
    QTest::addColumn<QString>("mentions");

    QTest::newRow("unknown option") << QStringList {u"--frobnicate"_s} << QStringList {} << u"frobnicate"_s;
    QTest::newRow("positional") << QStringList {u"extra"_s} << QStringList {} << u"extra"_s;
    QTest::newRow("missing value") << QStringList {u"--port"_s} << QStringList {} << u"port"_s;
    QTest::newRow("port range") << QStringList {u"--port"_s, u"65536"_s} << QStringList {} << u"port"_s;
    QTest::newRow("port text") << QStringList {u"--port"_s, u"http"_s} << QStringList {} << u"port"_s;
    QTest::newRow("host name") << QStringList {u"--host"_s, u"example.com"_s} << QStringList {} << u"host"_s;
    QTest::newRow("empty ns") << QStringList {u"--ns="_s} << QStringList {} << u"ns"_s;
    QTest::newRow("bare number duration") << QStringList {u"--grace"_s, u"10"_s} << QStringList {} << u"grace"_s;
    QTest::newRow("zero ping") << QStringList {u"--ping-interval"_s, u"0ms"_s} << QStringList {} << u"ping-interval"_s;
    QTest::newRow("zero dead-after") << QStringList {u"--dead-after"_s, u"0s"_s} << QStringList {} << u"dead-after"_s;
    QTest::newRow("max-message too small")
        << QStringList {u"--max-message"_s, u"512"_s} << QStringList {} << u"max-message"_s;
    QTest::newRow("max-message too big") << QStringList {u"--max-message"_s, u"2000000000"_s} << QStringList {}
                                         << u"max-message"_s;
    // Bad environment values are reported under the option they stand for.
    QTest::newRow("env grace") << QStringList {} << QStringList {u"LARK_GRACE=soon"_s} << u"grace"_s;
    QTest::newRow("env port") << QStringList {} << QStringList {u"LARK_PORT=-1"_s} << u"port"_s;
    QTest::newRow("env host") << QStringList {} << QStringList {u"LARK_HOST=nowhere"_s} << u"host"_s;
    QTest::newRow("empty data") << QStringList {u"--data="_s} << QStringList {} << u"--data"_s;
    QTest::newRow("fsync without data") << QStringList {u"--fsync"_s} << QStringList {} << u"--fsync needs --data"_s;
    QTest::newRow("origin without scheme")
        << QStringList {u"--allow-origin"_s, u"app.example.com"_s} << QStringList {} << u"--allow-origin"_s;
    QTest::newRow("origin with a path") << QStringList {u"--allow-origin"_s, u"https://a.example/app"_s}
                                        << QStringList {} << u"--allow-origin"_s;
    QTest::newRow("env origin") << QStringList {} << QStringList {u"LARK_ALLOW_ORIGIN=nope"_s} << u"--allow-origin"_s;
    QTest::newRow("host with a port") << QStringList {u"--allow-host"_s, u"devbox.lan:9000"_s} << QStringList {}
                                      << u"--allow-host"_s;
    QTest::newRow("zero connections") << QStringList {u"--max-connections"_s, u"0"_s} << QStringList {}
                                      << u"--max-connections"_s;
    QTest::newRow("handshakes text") << QStringList {u"--max-handshakes"_s, u"many"_s} << QStringList {}
                                     << u"--max-handshakes"_s;
    QTest::newRow("tiny backlog") << QStringList {u"--max-backlog"_s, u"10"_s} << QStringList {} << u"--max-backlog"_s;
    QTest::newRow("zero slow-after") << QStringList {u"--slow-after"_s, u"0s"_s} << QStringList {} << u"--slow-after"_s;
    QTest::newRow("bare slow-after") << QStringList {u"--slow-after"_s, u"10"_s} << QStringList {} << u"--slow-after"_s;
    QTest::newRow("zero ops") << QStringList {u"--max-ops-per-session=0"_s} << QStringList {}
                              << u"--max-ops-per-session"_s;
    QTest::newRow("negative listens") << QStringList {u"--max-listens"_s, u"-5"_s} << QStringList {}
                                      << u"--max-listens"_s;
    QTest::newRow("namespaces text") << QStringList {u"--max-namespaces"_s, u"lots"_s} << QStringList {}
                                     << u"--max-namespaces"_s;
    QTest::newRow("huge listens") << QStringList {u"--max-listens"_s, u"99999999999"_s} << QStringList {}
                                  << u"--max-listens"_s;
    QTest::newRow("env ops") << QStringList {} << QStringList {u"LARK_MAX_OPS_PER_SESSION=1k"_s}
                             << u"--max-ops-per-session"_s;
}

void TestOptions::errors()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(QString, mentions);
    QHash<QString, QString> environment;
    for (const QString &e : std::as_const(env))
        environment.insert(e.section(u'=', 0, 0), e.section(u'=', 1));
    ServerOptions out;
    out.config.port = 4242;
    QString error;
    QVERIFY(!parseServerOptions(QStringList {u"lark-server"_s} + args, environment, &out, &error));
    QVERIFY2(error.contains(mentions), qPrintable(error));
    QCOMPARE(out.config.port, 4242); // untouched on error
}

void TestOptions::helpAndVersion()
{
    ServerOptions o;
    QString error, help;
    QVERIFY(parseServerOptions({u"lark-server"_s, u"--help"_s}, {}, &o, &error, &help));
    QVERIFY(o.showHelp);
    // The help names every environment variable, so users can find them.
    for (const char *env : {"LARK_HOST", "LARK_PORT", "LARK_NS", "LARK_PING_INTERVAL", "LARK_DEAD_AFTER", "LARK_GRACE",
             "LARK_IMPORT", "LARK_MAX_MESSAGE", "LARK_DATA", "LARK_FSYNC", "--data", "--fsync", "LARK_ALLOW_ORIGIN",
             "LARK_ALLOW_HOST", "LARK_MAX_CONNECTIONS", "LARK_MAX_HANDSHAKES", "LARK_MAX_BACKLOG", "LARK_SLOW_AFTER",

             "--max-ops-per-session", "LARK_MAX_OPS_PER_SESSION", "too_many_ops", "--max-listens", "LARK_MAX_LISTENS",
             "too_many_listens", "--max-namespaces", "LARK_MAX_NAMESPACES", "--auth", "LARK_AUTH", "--jwt-secret",
             "LARK_JWT_SECRET_FILE", "--jwks", "LARK_JWKS_FILE", "--admin-token", "LARK_ADMIN_TOKEN_FILE", "--project",
             "LARK_PROJECT"})
        QVERIFY2(help.contains(QLatin1String(env)), env);
    QVERIFY(parseServerOptions({u"lark-server"_s, u"-v"_s}, {}, &o, &error));
    QVERIFY(o.showVersion);
    QVERIFY(!o.showHelp);
}

void TestOptions::caps()
{
    const ServerOptions o = parse({u"--max-ops-per-session"_s, u"5"_s, u"--max-listens=7"_s},
        {{u"LARK_MAX_NAMESPACES"_s, u"3"_s}, {u"LARK_MAX_LISTENS"_s, u"100"_s}});
    QCOMPARE(o.config.maxOpsPerSession, 5);
    QCOMPARE(o.config.maxListensPerConnection, 7); // the command line wins
    QCOMPARE(o.config.maxNamespaces, 3);
    const ServerOptions e = parse({}, {{u"LARK_MAX_OPS_PER_SESSION"_s, u"1"_s}, {u"LARK_MAX_LISTENS"_s, u"100"_s}});
    QCOMPARE(e.config.maxOpsPerSession, 1);
    QCOMPARE(e.config.maxListensPerConnection, 100);
}

void TestOptions::authDefaults()
{
    const ServerOptions o = parse({});
    QCOMPARE(o.config.auth.mode, AuthConfig::Mode::Emulator);
    QVERIFY(!o.config.auth.verifier);
    QVERIFY(o.config.auth.adminToken.isEmpty());
    QVERIFY(o.warnings.isEmpty()); // emulator mode on loopback is the intended use
    QVERIFY(!Server(o.config).authenticator().verifiesTokens());
}

void TestOptions::authVerify()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString secret = writeFile(dir, u"secret"_s, "s3cret\n");
    const QString jwks = writeFile(dir, u"jwks.json"_s, EcJwks);
    ServerOptions o = parse({u"--auth"_s, u"verify"_s, u"--jwt-secret"_s, secret, u"--jwks"_s, jwks});
    QCOMPARE(o.config.auth.mode, AuthConfig::Mode::Verify);
    QVERIFY(o.config.auth.verifier);
    QVERIFY(o.config.auth.verifier->hasHmacSecret());
    QCOMPARE(o.config.auth.verifier->keyCount(), 1);
    QCOMPARE(o.config.auth.verifier->project(), u"demo-project"_s);
    QVERIFY(Server(o.config).authenticator().verifiesTokens());

    // Each from the environment too; --project names the project ID tokens are for.
    o = parse({u"--project"_s, u"my-app"_s},
        {{u"LARK_AUTH"_s, u"verify"_s}, {u"LARK_JWKS_FILE"_s, jwks}, {u"LARK_PROJECT"_s, u"other"_s}});
    QCOMPARE(o.config.auth.mode, AuthConfig::Mode::Verify);
    QVERIFY(!o.config.auth.verifier->hasHmacSecret());
    QCOMPARE(o.config.auth.verifier->keyCount(), 1);
    QCOMPARE(o.config.auth.verifier->project(), u"my-app"_s);

    o = parse({u"--auth=verify"_s}, {{u"LARK_JWT_SECRET_FILE"_s, secret}});
    QVERIFY(o.config.auth.verifier->hasHmacSecret());
    QCOMPARE(o.config.auth.verifier->keyCount(), 0);
}

void TestOptions::adminToken()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString token = writeFile(dir, u"admin"_s, "correct horse battery staple\r\n");
    ServerOptions o = parse({u"--admin-token"_s, token});
    QCOMPARE(o.config.auth.mode, AuthConfig::Mode::Emulator);
    QCOMPARE(o.config.auth.adminToken, "correct horse battery staple"); // one trailing newline dropped
    o = parse({}, {{u"LARK_ADMIN_TOKEN_FILE"_s, token}});
    QCOMPARE(o.config.auth.adminToken, "correct horse battery staple");
}

void TestOptions::emulatorOnPublicHostWarns()
{
    ServerOptions o = parse({u"--host"_s, u"0.0.0.0"_s});
    QCOMPARE(o.warnings.size(), 1);
    QVERIFY2(o.warnings.constFirst().contains(u"admin"_s), qPrintable(o.warnings.constFirst()));
    QVERIFY(o.warnings.constFirst().contains(u"0.0.0.0"_s));
    QVERIFY(parse({u"--host"_s, u"::1"_s}).warnings.isEmpty());
    QVERIFY(parse({u"--host"_s, u"localhost"_s}).warnings.isEmpty());

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString secret = writeFile(dir, u"secret"_s, "s3cret");
    o = parse({u"--host"_s, u"0.0.0.0"_s, u"--auth"_s, u"verify"_s, u"--jwt-secret"_s, secret});
    QVERIFY(o.warnings.isEmpty());
}

void TestOptions::authErrors_data()
{
    QTest::addColumn<QStringList>("args"); // {dir} is the temporary folder of files written by authErrors()
    QTest::addColumn<QString>("mentions");

    QTest::newRow("unknown mode") << QStringList {u"--auth"_s, u"trust"_s} << u"--auth: \"trust\" is not a mode"_s;
    QTest::newRow("verify without keys") << QStringList {u"--auth"_s, u"verify"_s} << u"--auth verify needs"_s;
    QTest::newRow("secret in emulator mode")
        << QStringList {u"--jwt-secret"_s, u"{dir}/secret"_s} << u"need --auth verify"_s;
    QTest::newRow("jwks in emulator mode") << QStringList {u"--jwks"_s, u"{dir}/jwks"_s} << u"need --auth verify"_s;
    QTest::newRow("unreadable secret") << QStringList {u"--auth=verify"_s, u"--jwt-secret"_s, u"{dir}/missing"_s}
                                       << u"--jwt-secret: cannot read"_s;
    QTest::newRow("empty secret") << QStringList {u"--auth=verify"_s, u"--jwt-secret"_s, u"{dir}/newline"_s}
                                  << u"--jwt-secret: "_s;
    QTest::newRow("unreadable jwks") << QStringList {u"--auth=verify"_s, u"--jwks"_s, u"{dir}/missing"_s}
                                     << u"--jwks: cannot read"_s;
    QTest::newRow("jwks not json") << QStringList {u"--auth=verify"_s, u"--jwks"_s, u"{dir}/garbage"_s}
                                   << u"not JSON"_s;
    QTest::newRow("jwks bad key") << QStringList {u"--auth=verify"_s, u"--jwks"_s, u"{dir}/badkey"_s}
                                  << u"key 'k1': "_s;
    QTest::newRow("pem map bad pem") << QStringList {u"--auth=verify"_s, u"--jwks"_s, u"{dir}/badpem"_s}
                                     << u"not a PEM certificate or public key"_s;
    QTest::newRow("unreadable admin token")
        << QStringList {u"--admin-token"_s, u"{dir}/missing"_s} << u"--admin-token: cannot read"_s;
    QTest::newRow("empty admin token") << QStringList {u"--admin-token"_s, u"{dir}/newline"_s} << u"--admin-token: "_s;
    QTest::newRow("empty project") << QStringList {u"--project="_s} << u"--project"_s;
}

void TestOptions::authErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    writeFile(dir, u"secret"_s, "s3cret");
    writeFile(dir, u"jwks"_s, EcJwks);
    writeFile(dir, u"newline"_s, "\n");
    writeFile(dir, u"garbage"_s, "{keys: nope");
    writeFile(dir, u"badkey"_s, R"({"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"AAAA","y":"AAAA"}]})");
    writeFile(dir, u"badpem"_s, R"({"k1":"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"})");
    for (QString &a : args)
        a.replace(u"{dir}"_s, dir.path());
    ServerOptions out;
    QString error;
    QVERIFY(!parseServerOptions(QStringList {u"lark-server"_s} + args, {}, &out, &error));
    QVERIFY2(error.contains(mentions), qPrintable(error));
}

void TestOptions::rulesFile()
{
    QVERIFY(parse({}).rules.empty());
    const ServerOptions o = parse({u"--ns"_s, u"app"_s, u"--rules"_s, u"/etc/lark/rules.json"_s});
    QCOMPARE(o.rules, (std::vector<RulesSource> {{u"app"_s, u"/etc/lark/rules.json"_s}})); // the default namespace
    const ServerOptions n = parse({u"--rules"_s, u"/r.json"_s, u"--rules-ns"_s, u"other"_s});
    QCOMPARE(n.rules, (std::vector<RulesSource> {{u"other"_s, u"/r.json"_s}}));
    const ServerOptions e = parse({}, {{u"LARK_RULES"_s, u"/e.json"_s}, {u"LARK_RULES_NS"_s, u"envns"_s}});
    QCOMPARE(e.rules, (std::vector<RulesSource> {{u"envns"_s, u"/e.json"_s}}));
    // A relative file is made absolute at start: the watcher must not depend on a later working directory.
    const ServerOptions r = parse({u"--rules"_s, u"rules.json"_s});
    QCOMPARE(r.rules.at(0).file, QDir::current().absoluteFilePath(u"rules.json"_s));
}

void TestOptions::firebaseConfig()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto write = [&](const QString &name, const QByteArray &text) {
        QFile f(dir.filePath(name));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text);
    };
    write(u"one.json"_s, R"({"database": {"rules": "database.rules.json"}, "emulators": {}})");
    const ServerOptions one = parse({u"--ns"_s, u"app"_s, u"--config"_s, dir.filePath(u"one.json"_s)});
    QCOMPARE(one.rules, (std::vector<RulesSource> {{u"app"_s, dir.filePath(u"database.rules.json"_s)}}));
    write(u"many.json"_s,
        R"({"database": [{"instance": "alpha", "rules": "a.json"}, {"target": "beta", "rules": "rules/b.json"}]})");
    const ServerOptions many = parse({}, {{u"LARK_CONFIG"_s, dir.filePath(u"many.json"_s)}});
    QCOMPARE(many.rules,
        (std::vector<RulesSource> {
            {u"alpha"_s, dir.filePath(u"a.json"_s)}, {u"beta"_s, dir.filePath(u"rules/b.json"_s)}}));
}

void TestOptions::rulesErrors()
{
    QTemporaryDir dir;
    const auto error = [&](const QStringList &args, const QByteArray &config = {}) {
        if (!config.isEmpty()) {
            QFile f(dir.filePath(u"firebase.json"_s));
            if (!f.open(QIODevice::WriteOnly))
                return u"cannot write"_s;
            f.write(config);
        }
        ServerOptions o;
        QString why;
        return parseServerOptions(QStringList {u"lark-server"_s} + args, {}, &o, &why) ? QString() : why;
    };
    const QString config = dir.filePath(u"firebase.json"_s);
    QVERIFY(error({u"--rules-ns"_s, u"x"_s}).contains(u"needs --rules"_s));
    QVERIFY(error({u"--rules"_s, u"a"_s, u"--config"_s, u"b"_s}).contains(u"use one"_s));
    QVERIFY(error({u"--rules"_s, u"a"_s, u"--rules-ns"_s, u"bad/ns"_s}).contains(u"not a namespace"_s));
    QVERIFY(error({u"--config"_s, dir.filePath(u"missing.json"_s)}).contains(u"cannot read"_s));
    QVERIFY(error({u"--config"_s, config}, "{not json").contains(u"not a JSON object"_s));
    QVERIFY(error({u"--config"_s, config}, R"({"hosting": {}})").contains(u"has no \"database\""_s));
    QVERIFY(error({u"--config"_s, config}, R"({"database": [{"rules": "a.json"}]})").contains(u"instance"_s));
}

QTEST_GUILESS_MAIN(TestOptions)
#include "tst_options.moc"
