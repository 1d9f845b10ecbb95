// SPDX-License-Identifier: MIT
// The Hub's two backends on their own, behind the one interface it delegates to: each is given the models as the
// Hub lends them and runs against a real server over loopback (its own embedded one, or a separate one it
// watches), through start, stop and start again, and answers what the Hub asks the same way in both modes or as
// its mode says.
#include "hubfixtures.h"
#include "modelfixtures.h"
#include "models/datatreemodel.h"
#include "models/eventlogmodel.h"
#include "models/firedopsmodel.h"
#include "models/hostbackend.h"
#include "models/hub.h"
#include "models/presencemodel.h"
#include "models/remotebackend.h"
#include "models/sessionsmodel.h"
#include "models/streamsmodel.h"
#include "server/server.h"
#include "tabs/tab.h"
#include "tabs/tabsmodel.h"

#include <QPointer>
#include <QSignalSpy>
#include <QTest>

#include <memory>

using namespace Qt::Literals::StringLiterals;
using lark::models::DashboardBackend;

namespace
{
// What a Hub owns and lends its backend, with the backend of one mode (and, for connect mode, the server it
// watches). Torn down as the Hub is: the tabs first, then the backend, then the models.
class Rig
{
public:
    explicit Rig(const QString &mode)
        : m_presence(lark::models::Hub::defaultUsers())
        , m_tabs(std::make_unique<lark::tabs::TabsModel>())
    {
        const DashboardBackend::Models models {
            m_tabs.get(), &m_sessions, &m_firedOps, &m_presence, &m_events, &m_streams};
        if (mode == u"connect"_s) {
            remote = startServer(50, 2000, 60000);
            config = connectConfig(remote->port());
            backend = std::make_unique<lark::models::RemoteBackend>(models, config.ns);
        } else {
            config = hostConfig();
            backend = std::make_unique<lark::models::HostBackend>(models, config.ns);
        }
    }
    ~Rig()
    {
        m_tabs.reset();
        backend.reset();
    }

    [[nodiscard]] lark::tabs::TabsModel *tabs() const { return m_tabs.get(); }
    [[nodiscard]] lark::models::PresenceModel *presence() { return &m_presence; }

    std::unique_ptr<lark::Server> remote;
    lark::models::HubConfig config;
    std::unique_ptr<DashboardBackend> backend;

private:
    lark::models::SessionsModel m_sessions;
    lark::models::FiredOpsModel m_firedOps;
    lark::models::PresenceModel m_presence;
    lark::models::EventLogModel m_events;
    lark::models::StreamsModel m_streams;
    std::unique_ptr<lark::tabs::TabsModel> m_tabs;
};
} // namespace

class TstDashboardBackend : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void startStopStart_data();
    void startStopStart();
    void answersForItsMode_data();
    void answersForItsMode();
    void hostKeepsNamespacesOnlyAcrossARestart();
    void remoteRefusesOtherSchemes();
};

void TstDashboardBackend::startStopStart_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QString>("ns");
    QTest::newRow("host") << u"host"_s << u"lark"_s;
    QTest::newRow("connect") << u"connect"_s << u"test"_s;
}

void TstDashboardBackend::startStopStart()
{
    QFETCH(QString, mode);
    QFETCH(QString, ns);
    Rig rig(mode);
    DashboardBackend *backend = rig.backend.get();
    QCOMPARE(backend->mode(), mode);
    QVERIFY(!backend->isRunning());
    QCOMPARE(backend->serverUrl(), QString());
    QVERIFY(!backend->tree());
    QVERIFY(!backend->data());
    QVERIFY(!backend->prepareDemo()); // no demo tabs without a server
    QCOMPARE(backend->clearData(), u"clearing data needs a running server"_s);
    QSignalSpy running(backend, &DashboardBackend::runningChanged);

    QVERIFY(backend->start(rig.config));
    QVERIFY(backend->isRunning());
    QVERIFY(!running.isEmpty());
    QVERIFY2(backend->serverUrl().startsWith(u"ws://127.0.0.1:"_s), qPrintable(backend->serverUrl()));
    QCOMPARE(backend->namespaceName(), ns);
    QTRY_VERIFY_WITH_TIMEOUT(backend->tree(), 10000); // connect mode: once the first snapshot is in
    QVERIFY(backend->data());
    QCOMPARE(backend->treeNamespace(), ns);
    // Started already: nothing new.
    const QPointer<lark::models::DataTreeModel> tree = backend->tree();
    const QString url = backend->serverUrl();
    QVERIFY(backend->start(rig.config));
    QCOMPARE(backend->tree(), tree.data());
    QCOMPARE(backend->serverUrl(), url);

    // The tabs were pointed at the server: one signs in and shows in the presence the backend feeds.
    lark::tabs::Tab *tab = rig.tabs()->openTab(u"alice"_s, 0);
    QVERIFY(tab);
    QTRY_COMPARE_WITH_TIMEOUT(tab->presenceState(), u"online"_s, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(rig.presence()->connectionCount(u"alice"_s), 1, 10000);

    // Stopping: the views lose the tree before it goes, the presence is emptied, the tab is left to the Hub.
    bool treeGoneFirst = false;
    const QMetaObject::Connection watch = connect(backend, &DashboardBackend::runningChanged, backend,
        [&] { treeGoneFirst = treeGoneFirst || (!backend->tree() && !tree.isNull()); });
    backend->stop(DashboardBackend::Stop::Drop);
    disconnect(watch);
    QVERIFY(treeGoneFirst);
    QVERIFY(tree.isNull());
    QVERIFY(!backend->isRunning());
    QCOMPARE(backend->serverUrl(), QString());
    QCOMPARE(backend->message(), QString());
    QCOMPARE(backend->treeNamespace(), QString());
    QCOMPARE(rig.presence()->connectionCount(u"alice"_s), 0);
    QCOMPARE(rig.tabs()->rowCount(), 1);

    // And again: the tab finds the (new, or the same remote) server, and the presence shows it again.
    QVERIFY(backend->start(rig.config));
    QVERIFY(backend->isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(backend->tree(), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(rig.presence()->connectionCount(u"alice"_s), 1, 10000);
}

void TstDashboardBackend::answersForItsMode_data()
{
    QTest::addColumn<QString>("mode");
    QTest::newRow("host") << u"host"_s;
    QTest::newRow("connect") << u"connect"_s;
}

void TstDashboardBackend::answersForItsMode()
{
    QFETCH(QString, mode);
    const bool host = mode == u"host"_s;
    Rig rig(mode);
    DashboardBackend *backend = rig.backend.get();
    QVERIFY(backend->start(rig.config));
    QTRY_VERIFY_WITH_TIMEOUT(backend->tree(), 10000);
    QVERIFY(!backend->isPersistent()); // no data file in either
    QCOMPARE(backend->port() > 0, host);

    // The timers, namespaces and sample data of the embedded server are ours; a remote server's are not.
    const QString timers = backend->setTimers(50, 300, 200);
    if (host) {
        QCOMPARE(timers, QString());
        QCOMPARE(qobject_cast<lark::models::HostBackend *>(backend)->server()->config().deadAfterMs, 300);
        QVERIFY(!backend->setTimers(100, 50, 10).isEmpty()); // dead-after shorter than a ping
    } else {
        QVERIFY2(timers.contains(u"set where it runs"_s), qPrintable(timers));
    }
    QCOMPARE(backend->namespaces(), host ? QStringList {u"lark"_s} : QStringList());
    QSignalSpy namespaces(backend, &DashboardBackend::namespacesChanged);
    QCOMPARE(backend->setTreeNamespace(u"other"_s), host);
    QCOMPARE(backend->treeNamespace(), host ? u"other"_s : u"test"_s);
    QCOMPARE(namespaces.size(), host ? 1 : 0);
    QCOMPARE(backend->namespaces(), host ? (QStringList {u"lark"_s, u"other"_s}) : QStringList());
    if (host)
        QVERIFY(backend->setTreeNamespace(u"lark"_s));

    // Import and clear, through the interface: they reach the server's data in both modes.
    QVERIFY(backend->prepareDemo());
    lark::Path at;
    QString error;
    QVERIFY(lark::Path::parse(u"/imported"_s, &at, &error));
    QCOMPARE(backend->importJson(at, R"({"a": 1})"), QString());
    QVERIFY(!backend->importJson(at, "{broken").isEmpty());
    lark::Server *server = host ? qobject_cast<lark::models::HostBackend *>(backend)->server() : rig.remote.get();
    QTRY_COMPARE_WITH_TIMEOUT(valueAt(server, backend->namespaceName(), u"/imported/a"_s), QJsonValue(1), 10000);
    // The demo's sample data went only into the embedded server (a remote one would have had it before the import,
    // which came after it on the same connection).
    QCOMPARE(valueAt(server, backend->namespaceName(), u"/demo/rooms/general/title"_s),
        host ? QJsonValue(u"General"_s) : QJsonValue());
    QCOMPARE(backend->clearData(), QString());
    QTRY_VERIFY_WITH_TIMEOUT(valueAt(server, backend->namespaceName(), u"/"_s).isNull(), 10000);
}

void TstDashboardBackend::hostKeepsNamespacesOnlyAcrossARestart()
{
    // "Restart server" with kept sessions stops the server without taking the namespace list away; a stop for good
    // (closing, switching modes) empties it.
    Rig rig(u"host"_s);
    DashboardBackend *backend = rig.backend.get();
    QSignalSpy namespaces(backend, &DashboardBackend::namespacesChanged);
    QVERIFY(backend->start(rig.config));
    QCOMPARE(backend->namespaces(), QStringList {u"lark"_s});
    QCOMPARE(namespaces.size(), 1);

    backend->stop(DashboardBackend::Stop::KeepSessions);
    QVERIFY(!backend->isRunning());
    QCOMPARE(backend->namespaces(), QStringList {u"lark"_s});
    QCOMPARE(namespaces.size(), 1);
    QVERIFY(backend->start(rig.config));
    QCOMPARE(namespaces.size(), 1); // the same list

    backend->stop(DashboardBackend::Stop::Drop);
    QVERIFY(backend->namespaces().isEmpty());
    QCOMPARE(namespaces.size(), 2);
}

void TstDashboardBackend::remoteRefusesOtherSchemes()
{
    // The Hub checks URLs typed into the mode panel; --connect reaches the backend as given.
    Rig rig(u"connect"_s);
    DashboardBackend *backend = rig.backend.get();
    QSignalSpy running(backend, &DashboardBackend::runningChanged);
    rig.config.connectUrl = QUrl(u"wss://127.0.0.1:%1"_s.arg(rig.remote->port()));
    QVERIFY(!backend->start(rig.config));
    QVERIFY(!backend->isRunning());
    QCOMPARE(running.size(), 1);
    QVERIFY2(backend->message().contains(u"TLS is not supported"_s), qPrintable(backend->message()));
    QCOMPARE(rig.remote->connectionCount(), 0);

    // The same backend starts once it is given a URL it can use.
    rig.config = connectConfig(rig.remote->port());
    QVERIFY(backend->start(rig.config));
    QTRY_COMPARE_WITH_TIMEOUT(backend->message(), QString(), 10000); // connected
    QCOMPARE(rig.remote->connectionCount(), 1);
}

QTEST_GUILESS_MAIN(TstDashboardBackend)
#include "tst_dashboardbackend.moc"
