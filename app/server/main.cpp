// SPDX-License-Identifier: MIT
// lark-server: the headless Lark server.
#include "server/listener.h"
#include "server/logging.h"
#include "server/options.h"
#include "server/rulesfiles.h"
#include "server/server.h"

#include <QCoreApplication>
#include <QFile>
#include <QProcessEnvironment>

#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::Literals::StringLiterals;

namespace
{

QHash<QString, QString> environment()
{
    QHash<QString, QString> env;
    const QProcessEnvironment pe = QProcessEnvironment::systemEnvironment();
    for (const QString &key : pe.keys()) {
        if (key.startsWith(u"LARK_"_s))
            env.insert(key, pe.value(key));
    }
    return env;
}

} // namespace

int main(int argc, char *argv[])
{
    // poll() instead of glib: several times the throughput with many sockets (docs/transport.md §2).
    qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"lark-server"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(LARK_VERSION));

    lark::ServerOptions options;
    QString error, help;
    if (!lark::parseServerOptions(app.arguments(), environment(), &options, &error, &help)) {
        std::fprintf(stderr, "lark-server: %s\nTry 'lark-server --help'.\n", qPrintable(error));
        return 2;
    }
    if (options.showHelp) {
        std::fputs(qPrintable(help), stdout);
        return 0;
    }
    if (options.showVersion) {
        std::printf("lark-server %s\n", LARK_VERSION);
        return 0;
    }

    // The log is stderr (no message handler is installed), so this is seen on the terminal and in the journal.
    for (const QString &warning : std::as_const(options.warnings))
        qCWarning(lcServer).noquote() << "warning:" << warning;

    // Each connection is a descriptor: a desktop's default soft limit (1024) would stop the server near a thousand.
    const lark::FileLimit files = lark::raiseFileLimit();
    if (files.soft != files.before)
        qCInfo(lcServer).noquote() << "open-file limit raised from" << files.before << "to" << files.soft
                                   << "(the hard limit)";
    else
        qCInfo(lcServer).noquote() << "open-file limit" << files.soft << "(the hard limit is" << files.hard
                                   << "; raise it with ulimit -Hn or LimitNOFILE= to allow more connections)";

    lark::Server server(options.config);
    // Before the import, so that imported data lands in (and is kept by) the data file.
    if (!server.openStore(&error)) {
        std::fprintf(stderr, "lark-server: %s\n", qPrintable(error));
        return 1;
    }
    if (!options.importFile.isEmpty()) {
        QFile f(options.importFile);
        if (!f.open(QIODevice::ReadOnly)) {
            std::fprintf(stderr, "lark-server: cannot read %s: %s\n", qPrintable(options.importFile),
                qPrintable(f.errorString()));
            return 1;
        }
        if (!server.importJson(options.config.defaultNamespace, lark::Path(), f.readAll(), &error)) {
            std::fprintf(
                stderr, "lark-server: cannot import %s: %s\n", qPrintable(options.importFile), qPrintable(error));
            return 1;
        }
    }
    // Before listening, so that no client ever sees the data without its rules.
    lark::RulesFiles rulesFiles(&server.rules(), options.rules);
    if (!rulesFiles.loadAll(&error)) {
        std::fprintf(stderr, "lark-server: rules: %s\n", qPrintable(error));
        return 2;
    }
    for (const lark::RulesSource &s : std::as_const(options.rules))
        qCInfo(lcServer).noquote() << "rules loaded for ns" << s.ns << "from" << s.file;
    if (!server.listen(&error)) {
        std::fprintf(stderr, "lark-server: %s\n", qPrintable(error));
        return 1;
    }

    const bool handled = lark::onTerminationSignal(&app, [&] {
        server.shutdown();
        // Let the close frames go out before the process ends.
        QTimer::singleShot(200, &app, &QCoreApplication::quit);
    });
    if (!handled) {
        std::perror("lark-server: socketpair");
        return 1;
    }

    // Tests and scripts read this line to learn the port (it matters with --port 0).
    std::printf("lark-server: listening on %s (default namespace %s)\n", qPrintable(server.url()),
        qPrintable(options.config.defaultNamespace));
    // A browser tab doing presence on the JS SDK; another tab is another connection.
    std::printf(
        "lark-server: presence page %s (REST and event streams on the same port)\n", qPrintable(server.pageUrl()));
    std::fflush(stdout);
    return app.exec();
}
