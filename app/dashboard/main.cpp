// SPDX-License-Identifier: MIT
// lark: the dashboard. Starts an embedded Lark server on 127.0.0.1 and shows its sessions, queued onDisconnect
// ops, presence and data, with simulated tabs whose network can be dropped, blipped or closed.
#include "appicon.h"
#include "models/hub.h"
#include "models/settings.h"
#include "qmltypes.h"
#include "server/listener.h"
#include "server/options.h"

#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QGuiApplication>
#include <QImage>
#include <QQmlApplicationEngine>
#include <QQmlExtensionPlugin>
#include <QQuickWindow>
#include <QSettings>
#include <QSize>
#include <QTimer>

#include <cstdio>

Q_IMPORT_QML_PLUGIN(Lark_DashboardPlugin)

using namespace Qt::Literals::StringLiterals;

namespace
{

/** Waits until the demo is settled (every tab connected and registered), then saves the window and quits. */
void screenshotWhenReady(QQuickWindow *window, lark::models::Hub *hub, const QString &file)
{
    auto *clock = new QElapsedTimer;
    clock->start();
    auto *poll = new QTimer(window);
    poll->setInterval(100);
    QObject::connect(poll, &QTimer::timeout, window, [=] {
        bool settled = hub->tabs()->rowCount() > 0;
        for (int i = 0; i < hub->tabs()->rowCount(); ++i) {
            const lark::tabs::Tab *t = hub->tabs()->at(i);
            settled = settled && t->status() == u"connected"_s && t->presenceState() == u"online"_s;
        }
        // Give the views a moment to show the last updates; never wait forever.
        static qint64 settledAt = -1;
        if (settled && settledAt < 0)
            settledAt = clock->elapsed();
        const bool timeUp = clock->elapsed() > 15000;
        if (!timeUp && (settledAt < 0 || clock->elapsed() - settledAt < 1500))
            return;
        poll->stop();
        if (!settled)
            std::fprintf(stderr, "lark: the demo did not settle in time; taking the screenshot anyway\n");
        const QImage image = window->grabWindow();
        const bool ok = !image.isNull() && image.save(file);
        if (ok)
            std::printf("lark: saved %dx%d screenshot to %s\n", image.width(), image.height(), qPrintable(file));
        else
            std::fprintf(stderr, "lark: could not save the screenshot to %s\n", qPrintable(file));
        delete clock;
        QCoreApplication::exit(ok ? 0 : 1);
    });
    poll->start();
}

} // namespace

int main(int argc, char *argv[])
{
    // Before QGuiApplication: Qt's own event dispatcher, so the app behaves the same with and without GLib.
    qputenv("QT_NO_GLIB", "1");
    // QSettings reads these: the saved mode, port, URL, timers and geometry live in ~/.config/lark/lark.conf.
    QGuiApplication::setOrganizationName(u"lark"_s);
    QGuiApplication::setOrganizationDomain(u"lark.github.io"_s);
    QGuiApplication::setApplicationName(u"lark"_s);
    QGuiApplication::setApplicationVersion(QStringLiteral(LARK_VERSION));
    QGuiApplication::setDesktopFileName(u"io.github.lark.Lark"_s);

    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"Lark dashboard: an embedded Lark server on 127.0.0.1 with simulated tabs, presence, sessions, queued "
        "onDisconnect ops and live data."_s);
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const QCommandLineOption portOption(u"port"_s,
        u"Host mode on this port (default: the saved one, else 9000; 0 picks a free one; a busy port falls back "
        "to a free one)."_s,
        u"port"_s);
    const QCommandLineOption demoOption(u"demo"_s, u"Open sample data and three tabs (alice twice, bob)."_s);
    const QCommandLineOption screenshotOption(u"screenshot"_s,
        u"Save the window as a PNG once the tabs are connected, then exit (with the demo, in memory)."_s, u"file"_s);
    const QCommandLineOption sizeOption(u"size"_s,
        u"The first window's size, e.g. 1024x700 (default: the saved one, else 1440x900); with --screenshot, the "
        "picture's."_s,
        u"WxH"_s);
    const QCommandLineOption themeOption(u"theme"_s,
        u"Colours: system (the default: dark when the desktop is), light or dark."_s, u"scheme"_s, u"system"_s);
    const QCommandLineOption connectOption(u"connect"_s,
        u"Watch a running Lark server instead of embedding one: ws://host:port[?ns=name]. Its sessions come from "
        "the admin feed; simulated tabs connect to it through their own proxies; data edits are sent to it as the "
        "admin client's writes."_s,
        u"url"_s);
    const QCommandLineOption pingOption(
        u"ping-interval"_s, u"How often the embedded server pings every connection (default 5s)."_s, u"duration"_s);
    const QCommandLineOption deadOption(u"dead-after"_s,
        u"Silence after which a connection is dropped and its session suspended (default 15s)."_s, u"duration"_s);
    const QCommandLineOption graceOption(
        u"grace"_s, u"How long a suspended session may resume before its ops fire (default 10s)."_s, u"duration"_s);
    const QCommandLineOption dataOption(u"data"_s,
        u"Keep the embedded server's data, sessions and queued ops in this SQLite file (as lark-server --data), so "
        "\"Restart server\" brings the sessions back suspended. Default: the saved choice, else on, in "
        "data.lark under the application data folder."_s,
        u"file"_s);
    const QCommandLineOption noDataOption(
        u"no-data"_s, u"Keep the embedded server's data in memory only (lost on restart and exit)."_s);
    parser.addOptions({portOption, demoOption, screenshotOption, sizeOption, themeOption, connectOption, pingOption,
        deadOption, graceOption, dataOption, noDataOption});
    parser.setApplicationDescription(parser.applicationDescription()
        + u"\n\nOptions given here apply to this run only; what is changed in the window (mode, port, timers, "
          "keeping data) is saved at exit, and the header offers to keep this run's options too."_s);
    // Parsed before QGuiApplication exists, so --help, --version and mistakes work without a display.
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    if (!parser.parse(arguments)) {
        std::fprintf(stderr, "lark: %s\n", qPrintable(parser.errorText()));
        return 2;
    }
    if (arguments.contains(u"--help-all"_s)) {
        // Qt's own options (-platform, -qwindowgeometry, ...) come from the GUI application: make one that needs no
        // display, and let the parser print them with ours.
        if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        QGuiApplication app(argc, argv);
        parser.process(app); // prints the help with Qt's options and exits
        return 0;
    }
    if (parser.isSet(helpOption)) {
        // helpText() names the executable from QCoreApplication, which does not exist yet.
        std::printf("%s", qPrintable(parser.helpText().replace(u"<executable_name>"_s, u"lark"_s)));
        return 0;
    }
    if (parser.isSet(versionOption)) {
        std::printf("lark %s\n", LARK_VERSION);
        return 0;
    }

    // The saved settings first; every option given on the command line then wins over them.
    QSettings settings;
    const lark::models::DashboardSettings saved = lark::models::DashboardSettings::load(settings);
    lark::models::HubConfig config = saved.config;
    lark::models::OneOffOptions oneOff;
    oneOff.mode = parser.isSet(portOption) || parser.isSet(connectOption);
    oneOff.port = parser.isSet(portOption);
    oneOff.pingInterval = parser.isSet(pingOption);
    oneOff.deadAfter = parser.isSet(deadOption);
    oneOff.grace = parser.isSet(graceOption);
    oneOff.data = parser.isSet(dataOption) || parser.isSet(noDataOption);
    const QString scheme = parser.value(themeOption);
    if (scheme != u"system"_s && scheme != u"light"_s && scheme != u"dark"_s) {
        std::fprintf(stderr, "lark: --theme takes system, light or dark\n");
        return 2;
    }
    QSize size;
    if (parser.isSet(sizeOption)) {
        const QStringList wh = parser.value(sizeOption).split(u'x');
        bool wOk = false;
        bool hOk = false;
        if (wh.size() == 2)
            size = QSize(wh[0].toInt(&wOk), wh[1].toInt(&hOk));
        if (!wOk || !hOk || size.width() < 1 || size.height() < 1 || size.width() > 16384 || size.height() > 16384) {
            std::fprintf(stderr, "lark: --size takes a width and a height in pixels, e.g. 1024x700\n");
            return 2;
        }
    }
    if (parser.isSet(portOption)) {
        bool portOk = false;
        const uint port = parser.value(portOption).toUInt(&portOk);
        if (!portOk || port > 65535) {
            std::fprintf(stderr, "lark: --port takes a number from 0 to 65535\n");
            return 2;
        }
        config.port = quint16(port);
        // --port asks for host mode even when connect mode was saved.
        if (config.connectUrl.isValid())
            config.lastConnectUrl = config.connectUrl.toString();
        config.connectUrl = QUrl();
    }
    // Same duration syntax as lark-server ("250ms", "5s", "2m"): short timers make the firing cases quick to show.
    const std::pair<const QCommandLineOption *, int *> timers[]
        = {{&pingOption, &config.pingIntervalMs}, {&deadOption, &config.deadAfterMs}, {&graceOption, &config.graceMs}};
    for (const auto &[option, target] : timers) {
        if (!parser.isSet(*option))
            continue;
        QString error;
        if (!lark::parseDuration(parser.value(*option), target, &error)) {
            std::fprintf(stderr, "lark: --%s: %s\n", qPrintable(option->names().constFirst()), qPrintable(error));
            return 2;
        }
    }
    if (parser.isSet(dataOption) && parser.isSet(noDataOption)) {
        std::fprintf(stderr, "lark: --data and --no-data contradict each other\n");
        return 2;
    }
    if (parser.isSet(dataOption)) {
        config.keepData = true;
        config.dataFile = QFileInfo(parser.value(dataOption)).absoluteFilePath();
    } else if (parser.isSet(noDataOption) || parser.isSet(screenshotOption)) {
        // A screenshot shows the demo alone, not what the user's data file holds.
        config.keepData = false;
    }
    if (parser.isSet(connectOption)) {
        config.connectUrl = QUrl(parser.value(connectOption));
        if (!config.connectUrl.isValid() || config.connectUrl.host().isEmpty()) {
            std::fprintf(stderr, "lark: --connect takes a URL such as ws://127.0.0.1:9000\n");
            return 2;
        }
    }
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        std::fprintf(stderr,
            "lark: no display (neither $DISPLAY nor $WAYLAND_DISPLAY is set). Use a virtual one: "
            "xvfb-run -s '-screen 0 1600x1000x24' lark, or QT_QPA_PLATFORM=offscreen lark --demo --screenshot "
            "lark.png, or lark-server for the server alone.\n");
        return 1;
    }
    QGuiApplication app(argc, argv);
    // Ctrl+C or a plain kill quits like closing the window: tabs close cleanly and the settings are saved. (From
    // here on: a signal that comes before exec() is handled once the loop runs.)
    if (!lark::onTerminationSignal(&app, [] { QCoreApplication::quit(); }))
        std::fprintf(stderr, "lark: cannot watch for SIGINT/SIGTERM; they end the app without saving\n");
    // The embedded server's connections and the tabs' proxies are descriptors: lift the desktop's soft limit.
    lark::raiseFileLimit();
    QGuiApplication::setApplicationDisplayName(u"Lark"_s);
    // Every window (the first and each "New window") takes the application's icon.
    QGuiApplication::setWindowIcon(lark::dashboard::appIcon());

    lark::models::Hub hub(config);
    if (!parser.isSet(screenshotOption))
        hub.setSettingsNotes(saved.describeInUse(oneOff), oneOff.describe(config));
    if (!hub.start())
        std::fprintf(stderr, "lark: %s\n", qPrintable(hub.hostMessage()));
    else {
        if (!hub.hostMessage().isEmpty())
            std::fprintf(stderr, "lark: %s\n", qPrintable(hub.hostMessage()));
        if (hub.isRemote()) {
            std::printf("lark: watching %s\n", qPrintable(hub.serverUrl()));
        } else {
            const auto text = [](int ms) { return ms % 1000 ? u"%1ms"_s.arg(ms) : u"%1s"_s.arg(ms / 1000); };
            std::printf("lark: server listening on %s (ping %s, dead after %s, grace %s; data %s)\n",
                qPrintable(hub.serverUrl()), qPrintable(text(hub.pingIntervalMs())),
                qPrintable(text(hub.deadAfterMs())), qPrintable(text(hub.graceMs())),
                qPrintable(hub.isPersistent() ? u"in "_s + hub.dataFile() : u"in memory"_s));
        }
        std::printf("lark: presence page %s\n", qPrintable(hub.pageUrl()));
        std::fflush(stdout);
    }
    if (parser.isSet(demoOption) || parser.isSet(screenshotOption))
        hub.startDemo();
    HubSingleton::s_instance = &hub;

    QQmlApplicationEngine engine;
    // Qt 6.4 does not look in qrc:/qt/qml by itself (it does from 6.5).
    engine.addImportPath(u"qrc:/qt/qml"_s);
    QObject::connect(
        &engine, &QQmlApplicationEngine::objectCreationFailed, &app, [] { QCoreApplication::exit(1); },
        Qt::QueuedConnection);
    QVariantMap initial {{u"colorScheme"_s, scheme}};
    if (size.isValid()) {
        initial[u"width"_s] = size.width();
        initial[u"height"_s] = size.height();
    } else if (saved.geometry.isValid() && !parser.isSet(screenshotOption)) {
        initial[u"x"_s] = saved.geometry.x();
        initial[u"y"_s] = saved.geometry.y();
        initial[u"width"_s] = saved.geometry.width();
        initial[u"height"_s] = saved.geometry.height();
    }
    engine.setInitialProperties(initial);
    engine.load(QUrl(u"qrc:/qt/qml/Lark/Dashboard/Main.qml"_s));
    if (engine.rootObjects().isEmpty())
        return 1;

    if (parser.isSet(screenshotOption)) {
        auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
        if (!window) {
            std::fprintf(stderr, "lark: no window to take a screenshot of\n");
            return 1;
        }
        screenshotWhenReady(window, &hub, parser.value(screenshotOption));
    }
    const int rc = QGuiApplication::exec();
    // A screenshot run is a batch job at a fixed size: it leaves the user's settings alone.
    if (!parser.isSet(screenshotOption)) {
        QRect geometry;
        if (auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().value(0)))
            geometry = window->geometry();
        // Options from the command line were for this run, unless changed in the window or kept from the header.
        const lark::models::DashboardSettings now = lark::models::DashboardSettings::fromHub(hub, geometry);
        lark::models::DashboardSettings::toSave(
            saved, config, hub.oneOffOptionsKept() ? lark::models::OneOffOptions {} : oneOff, now)
            .save(settings);
    }
    HubSingleton::s_instance = nullptr;
    return rc;
}
