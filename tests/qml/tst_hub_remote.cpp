// SPDX-License-Identifier: MIT
// The dashboard's Hub in connect mode, watching a separate server through its admin feed with real clients over
// loopback: the models as in host mode, a failing remote data file, switching modes at run time, and edits sent
// to the server. Host mode: tst_hub_host.cpp.
#include "client/database.h"
#include "hubfixtures.h"
#include "modelfixtures.h"
#include "models/datatreemodel.h"
#include "models/eventlogmodel.h"
#include "models/hub.h"
#include "models/remotebackend.h"
#include "models/sessionsmodel.h"
#include "netsim/linkproxy.h"
#include "server/server.h"
#include "server/sqlitebackend.h"
#include "server/store.h"
#include "tabs/tab.h"
#include "tabs/tabsmodel.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QHostAddress>
#include <QJsonObject>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using namespace Qt::Literals::StringLiterals;
using lark::client::Database;

namespace
{
/** Opens a REST event stream on 127.0.0.1:port at path (what the Python Admin SDK's listen() sends). */
bool openStream(QTcpSocket &socket, quint16 port, const QByteArray &path)
{
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return false;
    socket.write("GET " + path + ".json?ns=test HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
    return QTest::qWaitFor([&] { return socket.bytesAvailable() > 0; }, 5000);
}
} // namespace

namespace
{
// A server whose storage refuses writes under /locked, as a full disk would: a refusal no local check can foresee.
class RefusingJournal : public lark::WriteJournal
{
public:
    bool record(const lark::Database &, const lark::Path &base, const std::vector<lark::Write> &writes,
        const lark::WriteOrigin &, QString *error) override
    {
        for (const lark::Write &w : writes) {
            const lark::Path abs = base.child(w.path);
            if (!abs.isRoot() && abs.front() == u"locked"_s) {
                *error = u"disk full"_s;
                return false;
            }
        }
        return true;
    }
};
} // namespace

class TstHubRemote : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void remoteModeUsesTheAdminFeed();
    void remoteEventLogShowsDenialsAndDrops();
    void failedRemoteDataFileIsShown();
    void switchModesAtRuntime();
    void connectModeMatchesHostMode();
    void connectModeEditsGoToTheServer();
    void connectModeEditWaitsForTheConnection();
    void backendFollowsTheMode();
    void eventStreamsAreListedInBothModes();
    void unreachableServerSaysWhy();
};

void TstHubRemote::remoteModeUsesTheAdminFeed()
{
    auto server = startServer(50, 2000, 60000);
    const lark::models::HubConfig config = connectConfig(server->port());
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QVERIFY(hub.isRemote());
    QVERIFY(hub.isRunning());
    QCOMPARE(hub.namespaceName(), u"test"_s);
    QTRY_VERIFY_WITH_TIMEOUT(hub.tree(), 10000); // a copy of the remote namespace (connectModeMatchesHostMode)
    QAbstractItemModelTester sessionsTester(hub.sessions(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester presenceTester(hub.presence(), QAbstractItemModelTester::FailureReportingMode::QtTest);

    lark::tabs::Tab *tab = hub.tabs()->openTab(u"bob"_s, 0);
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(u"bob"_s), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(tab->sessionShort()), 3, 10000);
    const QModelIndex row = hub.sessions()->index(hub.sessions()->rowOfShortId(tab->sessionShort()));
    QCOMPARE(row.data(lark::models::SessionsModel::IdentityRole).toString(), u"user:bob"_s);
    QVERIFY(server->sessions().size() >= 2); // the tab's and the dashboard's own admin session

    const QString closed = tab->sessionShort();
    hub.tabs()->closeTab(tab->tabId());
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(u"bob"_s), 0, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()
                                  ->index(hub.sessions()->rowOfShortId(closed))
                                  .data(lark::models::SessionsModel::StateRole)
                                  .toString(),
        u"ended"_s, 10000);
    QCOMPARE(hub.sessions()->opCountOfShortId(closed), 0);
}

void TstHubRemote::remoteEventLogShowsDenialsAndDrops()
{
    // The same rows as with an embedded server, from the feed's lark.denied and lark.dropped.
    auto server = startServer(50, 2000, 60000);
    QVERIFY(server->rules().set(u"test"_s, R"({"rules": {"open": {".read": true, ".write": true}}})").ok);
    lark::models::Hub hub(connectConfig(server->port()));
    QVERIFY(hub.start());
    const auto lines = [&](const QString &kind) {
        QStringList found;
        auto *log = hub.eventLog();
        for (int r = 0; r < log->rowCount(); ++r) {
            const QModelIndex i = log->index(r, 0);
            if (i.data(lark::models::EventLogModel::KindRole).toString() == kind)
                found.append(i.data(lark::models::EventLogModel::TextRole).toString());
        }
        return found;
    };
    QTRY_VERIFY_WITH_TIMEOUT(server->adminFeed()->watcherCount() > 0, 10000);
    Database db(QUrl(server->url()), u"test"_s, fast());
    bool done = false;
    db.ref(u"open/x"_s).onDisconnect().set(1, &db, [&](const lark::client::Error &) { done = true; });
    QVERIFY(QTest::qWaitFor([&] { return done; }, 10000));
    db.ref(u"closed/x"_s).set(2);
    QTRY_COMPARE_WITH_TIMEOUT(lines(u"denied"_s).size(), 1, 10000);
    QVERIFY2(lines(u"denied"_s).constFirst().contains(u" set as anonymous at /closed/x (test), by "_s),
        qPrintable(lines(u"denied"_s).join(u'\n')));
    QVERIFY(server->rules().set(u"test"_s, R"({"rules": {"open": {".read": true, ".write": false}}})").ok);
    QTRY_COMPARE_WITH_TIMEOUT(lines(u"dropped"_s).size(), 1, 10000);
    QVERIFY2(lines(u"dropped"_s).constFirst().contains(u" onDisconnect set at /open/x (test) will not fire"_s),
        qPrintable(lines(u"dropped"_s).join(u'\n')));
}

void TstHubRemote::failedRemoteDataFileIsShown()
{
    // The same in connect mode, where the server's log is on another machine: the admin feed carries it.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    lark::ServerConfig serverConfig;
    serverConfig.port = 0;
    serverConfig.dataFile = dir.filePath(u"remote.lark"_s);
    lark::Server server(serverConfig);
    QString error;
    QVERIFY2(server.listen(&error), qPrintable(error));
    const QUrl url(u"ws://127.0.0.1:%1?ns=test"_s.arg(server.port()));

    lark::models::HubConfig config;
    config.connectUrl = url;
    config.reconnectDelayMs = 50;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QTRY_VERIFY_WITH_TIMEOUT(hub.tree(), 10000); // connected and watching
    QVERIFY2(hub.hostMessage().isEmpty(), qPrintable(hub.hostMessage()));

    lark::sqliteStore(server.backend())->setCommitFailureForTesting(u"disk full"_s);
    Database db(QUrl(server.url()), u"test"_s, fast());
    QString status;
    db.ref(u"x"_s).set(1, &db, [&](const lark::client::Error &e) { status = e.isOk() ? u"ok"_s : e.toString(); });
    QTRY_VERIFY_WITH_TIMEOUT(!status.isEmpty(), 10000);
    QVERIFY2(status.contains(u"write_failed"_s, Qt::CaseInsensitive), qPrintable(status));
    QTRY_VERIFY2_WITH_TIMEOUT(hub.hostMessage().contains(u"data file failed"_s)
            && hub.hostMessage().contains(u"disk full"_s) && hub.hostMessage().contains(u"refuses writes"_s),
        qPrintable(hub.hostMessage()), 10000);
    QVERIFY(eventsContain(hub, u"disk full"_s));

    // A dashboard that connects afterwards cannot sign in as the admin (that is a record too); it says why.
    lark::models::Hub late(config);
    QVERIFY(late.start());
    QTRY_VERIFY2_WITH_TIMEOUT(
        late.hostMessage().contains(u"refused the admin sign-in"_s) && late.hostMessage().contains(u"disk full"_s),
        qPrintable(late.hostMessage()), 10000);
}

void TstHubRemote::switchModesAtRuntime()
{
    auto remote = startServer(50, 2000, 60000);
    lark::models::HubConfig config;
    config.port = 0;
    config.reconnectDelayMs = 50;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QAbstractItemModelTester sessionsTester(hub.sessions(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy modes(&hub, &lark::models::Hub::modeChanged);
    QCOMPARE(hub.mode(), u"host"_s);
    QVERIFY(hub.tree());
    lark::tabs::Tab *tab = hub.tabs()->openTab(u"alice"_s, 0);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(tab->sessionShort()), 3, 10000);

    QVERIFY(!hub.useConnect(u"not a url"_s, {}));
    QCOMPARE(hub.mode(), u"host"_s);
    const QString url = u"ws://127.0.0.1:%1"_s.arg(remote->port());
    QVERIFY(hub.useConnect(url, u"owner"_s));
    QCOMPARE(modes.size(), 1);
    QCOMPARE(hub.mode(), u"connect"_s);
    QVERIFY(hub.isRemote());
    QTRY_VERIFY_WITH_TIMEOUT(hub.tree(), 10000); // now the remote namespace's copy
    QVERIFY(hub.tree()->isMirror());
    QVERIFY(!hostServer(hub)); // the embedded server is gone
    QCOMPARE(hub.tabs()->rowCount(), 0);
    QCOMPARE(hub.connectUrl(), url);
    lark::tabs::Tab *remoteTab = hub.tabs()->openTab(u"bob"_s, 0);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(remoteTab->sessionShort()), 3, 10000);
    QVERIFY(remote->sessions().size() >= 2); // the tab and the admin feed reached the remote server

    QVERIFY(hub.useHost(0));
    QCOMPARE(modes.size(), 2);
    QCOMPARE(hub.mode(), u"host"_s);
    QVERIFY(hub.tree());
    QVERIFY(hostServer(hub));
    QCOMPARE(hub.connectUrl(), url); // remembered for the next switch
    QTRY_COMPARE_WITH_TIMEOUT(remote->connectionCount(), 0, 5000); // the admin client and the tab left
}

void TstHubRemote::connectModeMatchesHostMode()
{
    using Tree = lark::models::DataTreeModel;
    using Sessions = lark::models::SessionsModel;
    using Fired = lark::models::FiredOpsModel;
    // A separate server, as `lark-server` would be: detection 1.5 s with 50 ms pings, a short grace.
    auto server = startServer(50, 1500, 300);
    // The data tree: a copy of the remote namespace, made once its data is in (nothing flashes for being
    // loaded), then changed row by row, never reset; the cause is not known. (Written before the hub starts:
    // a row that arrives after the copy was made is a change, and flashes as added.)
    Database writer(QUrl(server->url()), u"test"_s, fast());
    QVERIFY(writeAndWait(writer.ref(u"before/x"_s), 1));
    const lark::models::HubConfig config = connectConfig(server->port());
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QVERIFY(!hostServer(hub));
    QAbstractItemModelTester sessionsTester(hub.sessions(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester firedTester(hub.firedOps(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTRY_VERIFY_WITH_TIMEOUT(hub.tree(), 10000);
    Tree *tree = hub.tree();
    QCOMPARE(tree->rowCount(), 1);
    QCOMPARE(tree->index(0, 0).data(Tree::CauseRole).toString(), QString());
    QCOMPARE(hub.treeNamespace(), u"test"_s);
    QAbstractItemModelTester treeTester(tree, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy treeResets(tree, &QAbstractItemModel::modelAboutToBeReset);
    QVERIFY(writeAndWait(writer.ref(u"rooms/general/title"_s), u"General"_s));
    QTRY_VERIFY_WITH_TIMEOUT(childByKey(*tree, {}, u"rooms"_s).isValid(), 10000);
    const QModelIndex rooms = childByKey(*tree, {}, u"rooms"_s);
    tree->fetchMore(rooms);
    const QModelIndex general = childByKey(*tree, rooms, u"general"_s);
    tree->fetchMore(general);
    const QModelIndex title = childByKey(*tree, general, u"title"_s);
    QCOMPARE(title.data(Tree::ValueRole).toString(), u"\"General\""_s);
    QSignalSpy inserted(tree, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(tree, &QAbstractItemModel::rowsRemoved);
    QVERIFY(writeAndWait(writer.ref(u"rooms/general/title"_s), u"Lobby"_s));
    QTRY_COMPARE_WITH_TIMEOUT(title.data(Tree::ValueRole).toString(), u"\"Lobby\""_s, 10000);
    QCOMPARE(title.data(Tree::CauseRole).toString(), u"remote write"_s); // a row changed while shown flashes
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(removed.size(), 0);
    QVERIFY(writeAndWait(writer.ref(u"rooms/random/title"_s), u"Random"_s));
    QTRY_COMPARE_WITH_TIMEOUT(tree->rowCount(rooms), 2, 10000);
    QVERIFY(removeAndWait(writer.ref(u"rooms/general"_s)));
    QTRY_COMPARE_WITH_TIMEOUT(tree->rowCount(rooms), 1, 10000);
    QCOMPARE(childByKey(*tree, rooms, u"random"_s).isValid(), true);
    QCOMPARE(hub.exportJson(u"/rooms/random/title"_s).trimmed(), u"\"Random\""_s);
    QVERIFY(tree->indexForPath(u"/rooms/random"_s).isValid()); // (edits: connectModeEditsGoToTheServer)

    // A tab whose network drops: the feed says when the server stops hearing from it (silent), and when it
    // hears again after the network came back before dead-after.
    lark::tabs::Tab *tab = hub.tabs()->openTab(u"bob"_s, 0);
    QTRY_COMPARE_WITH_TIMEOUT(tab->presenceState(), u"online"_s, 10000);
    const QString shortId = tab->sessionShort();
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(shortId), 3, 10000);
    const auto row = [&] { return hub.sessions()->index(hub.sessions()->rowOfShortId(shortId)); };
    QTRY_COMPARE_WITH_TIMEOUT(row().data(Sessions::StateRole).toString(), u"live"_s, 5000);
    tab->dropNetwork();
    QTRY_COMPARE_WITH_TIMEOUT(row().data(Sessions::StateRole).toString(), u"silent"_s, 5000);
    QVERIFY(row().data(Sessions::SilentForMsRole).toDouble() >= 100);
    QCOMPARE(row().data(Sessions::DeadAfterMsRole).toInt(), 1500);
    tab->restoreNetwork();
    QTRY_COMPARE_WITH_TIMEOUT(row().data(Sessions::StateRole).toString(), u"live"_s, 5000);
    QCOMPARE(hub.firedOps()->rowCount(), 0);

    // Dropped for good: silent, suspended, then its ops fire and the log has them, resolved, as in host mode.
    tab->dropNetwork();
    QTRY_COMPARE_WITH_TIMEOUT(row().data(Sessions::StateRole).toString(), u"silent"_s, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(row().data(Sessions::StateRole).toString(), u"suspended"_s, 5000);
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    QTRY_COMPARE_WITH_TIMEOUT(hub.firedOps()->rowCount(), 3, 10000);
    QStringList paths;
    for (int r = 0; r < 3; ++r) {
        const QModelIndex i = hub.firedOps()->index(r);
        QCOMPARE(i.data(Fired::HandleRole).toString(), row().data(Sessions::HandleRole).toString());
        QCOMPARE(i.data(Fired::ReasonRole).toString(), u"timeout"_s);
        QVERIFY(qAbs(i.data(Fired::FiredAtRole).toDouble() - double(before)) < 5000);
        paths.append(i.data(Fired::PathRole).toString());
        if (paths.back() == u"/presence/bob/lastSeen"_s) {
            bool isNumber = false;
            QVERIFY(i.data(Fired::ValueRole).toString().toDouble(&isNumber) > 0); // the timestamp, resolved
            QVERIFY(isNumber);
        }
    }
    QVERIFY2(paths.contains(u"/presence/bob/lastSeen"_s) && paths.contains(u"/status/bob/online"_s),
        qPrintable(paths.join(u", "_s)));
    QTRY_COMPARE_WITH_TIMEOUT(row().data(Sessions::StateRole).toString(), u"ended"_s, 5000);
    // The event log says it all too, from the feed: silent, heard again, silent, suspended, fired (with paths).
    const QString handle = row().data(Sessions::HandleRole).toString();
    const auto logged = [&](const QString &kind) {
        QStringList lines;
        auto *log = hub.eventLog();
        for (int r = 0; r < log->rowCount(); ++r) {
            const QModelIndex i = log->index(r, 0);
            if (i.data(lark::models::EventLogModel::KindRole).toString() == kind
                && i.data(lark::models::EventLogModel::HandleRole).toString() == handle)
                lines.append(i.data(lark::models::EventLogModel::TextRole).toString());
        }
        return lines;
    };
    QTRY_COMPARE_WITH_TIMEOUT(logged(u"fire"_s).size(), 1, 5000);
    QVERIFY2(logged(u"fire"_s).constFirst().contains(u"/presence/bob/lastSeen"_s),
        qPrintable(logged(u"fire"_s).join(u'\n')));
    // (At least: a loaded machine can stall the 50 ms heartbeat into a short silence of its own.)
    const QStringList silences = logged(u"silent"_s);
    QVERIFY2(silences.size() >= 3, qPrintable(silences.join(u'\n')));
    QVERIFY2(silences.constFirst().contains(u"silent: no word for"_s), qPrintable(silences.join(u'\n')));
    QVERIFY2(silences.at(1).contains(u"heard from again"_s), qPrintable(silences.join(u'\n')));
    QVERIFY2(silences.constLast().contains(u"silent: no word for"_s), qPrintable(silences.join(u'\n')));
    QCOMPARE(logged(u"suspend"_s).size(), 1);
    // The tree follows what the ops wrote.
    QTRY_VERIFY_WITH_TIMEOUT(
        tree->indexForPath(u"/status/bob/online"_s).isValid() || tree->loadPath(u"/status/bob/online"_s).isValid(),
        10000);
    QTRY_COMPARE_WITH_TIMEOUT(
        tree->loadPath(u"/status/bob/online"_s).data(Tree::ValueRole).toString(), u"false"_s, 10000);
    QCOMPARE(treeResets.size(), 0);
}

void TstHubRemote::connectModeEditsGoToTheServer()
{
    using Tree = lark::models::DataTreeModel;
    auto server = startServer(50, 2000, 60000);
    const lark::models::HubConfig config = connectConfig(server->port());
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    Database writer(QUrl(server->url()), u"test"_s, fast());
    QVERIFY(writeAndWait(writer.ref(u"rooms/general/title"_s), u"General"_s));
    QTRY_VERIFY_WITH_TIMEOUT(hub.tree() && hub.tree()->rowCount() == 1, 10000);
    Tree *tree = hub.tree();
    QVERIFY(tree->isMirror());
    QAbstractItemModelTester treeTester(tree, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy treeResets(tree, &QAbstractItemModel::modelAboutToBeReset);

    // Set: sent as the admin client's write, pending until the server answers, then on the server and in the tree,
    // flashing as our own edit rather than "remote write".
    QVERIFY(tree->loadPath(u"/rooms/general/title"_s).isValid());
    QCOMPARE(tree->setJson(u"/rooms/general/title"_s, u"\"Lobby\""_s), QString());
    QCOMPARE(tree->pendingEdits(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(tree->pendingEdits(), 0, 10000);
    QCOMPARE(tree->editError(), QString());
    QCOMPARE(valueAt(server.get(), u"test"_s, u"/rooms/general/title"_s), QJsonValue(u"Lobby"_s));
    const QModelIndex title = tree->indexForPath(u"/rooms/general/title"_s);
    QCOMPARE(title.data(Tree::ValueRole).toString(), u"\"Lobby\""_s);
    QCOMPARE(title.data(Tree::CauseRole).toString(), u"admin edit"_s);
    // Someone else's write is still a remote write.
    QVERIFY(writeAndWait(writer.ref(u"rooms/general/title"_s), u"Hall"_s));
    QTRY_COMPARE_WITH_TIMEOUT(title.data(Tree::ValueRole).toString(), u"\"Hall\""_s, 10000);
    QCOMPARE(title.data(Tree::CauseRole).toString(), u"remote write"_s);

    // Add child: a push id under the path (what the panel's Add child then Set do).
    const QString child = u"/rooms/"_s + hub.newPushId();
    QCOMPARE(tree->setJson(child, u"{\"title\": \"New\"}"_s), QString());
    QTRY_COMPARE_WITH_TIMEOUT(valueAt(server.get(), u"test"_s, child + u"/title"_s), QJsonValue(u"New"_s), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(tree->loadPath(child + u"/title"_s).isValid(), 10000);
    QCOMPARE(tree->indexForPath(child).data(Tree::CauseRole).toString(), u"admin edit"_s);

    // Delete.
    QCOMPARE(tree->removePath(u"/rooms/general"_s), QString());
    QTRY_VERIFY_WITH_TIMEOUT(valueAt(server.get(), u"test"_s, u"/rooms/general"_s).isNull(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!tree->indexForPath(u"/rooms/general"_s).isValid(), 10000);
    QVERIFY(tree->indexForPath(child).isValid());

    // Import: replaces the value at the path, shown as an import.
    QCOMPARE(hub.importJson(u"/imported"_s, u"{\"a\": {\"b\": true}}"_s), QString());
    QVERIFY(!hub.importJson(u"/imported"_s, u"{broken"_s).isEmpty()); // refused before anything is sent
    QTRY_COMPARE_WITH_TIMEOUT(valueAt(server.get(), u"test"_s, u"/imported"_s),
        QJsonValue(QJsonObject {{u"a"_s, QJsonObject {{u"b"_s, true}}}}), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(tree->indexForPath(u"/imported"_s).isValid(), 10000);
    QCOMPARE(tree->indexForPath(u"/imported"_s).data(Tree::CauseRole).toString(), u"import"_s);
    QTRY_COMPARE_WITH_TIMEOUT(tree->pendingEdits(), 0, 10000);

    // Refused by the server although every local check passed: the error stays on the tree, and the row the
    // client showed at once goes again.
    RefusingJournal refusing;
    server->database(u"test"_s)->setJournal(&refusing);
    QSignalSpy status(tree, &Tree::editStatusChanged);
    QCOMPARE(tree->setJson(u"/locked/x"_s, u"1"_s), QString());
    QTRY_VERIFY_WITH_TIMEOUT(!tree->editError().isEmpty(), 10000);
    QVERIFY2(tree->editError().contains(u"/locked/x"_s) && tree->editError().contains(u"disk full"_s),
        qPrintable(tree->editError()));
    QCOMPARE(tree->pendingEdits(), 0);
    QVERIFY(status.size() >= 2); // sent, then refused
    QVERIFY(valueAt(server.get(), u"test"_s, u"/locked"_s).isNull());
    QTRY_VERIFY_WITH_TIMEOUT(!tree->indexForPath(u"/locked"_s).isValid(), 10000);
    server->database(u"test"_s)->setJournal(nullptr);

    // Clear data: one write of null at the root; the next edit clears the old error.
    QCOMPARE(hub.clearData(), QString());
    QCOMPARE(tree->editError(), QString());
    QTRY_VERIFY_WITH_TIMEOUT(valueAt(server.get(), u"test"_s, u"/"_s).isNull(), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(tree->rowCount(), 0, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(tree->pendingEdits(), 0, 10000);
    QCOMPARE(tree->editError(), QString());
    QCOMPARE(treeResets.size(), 0);
}

void TstHubRemote::connectModeEditWaitsForTheConnection()
{
    using Tree = lark::models::DataTreeModel;
    // The dashboard reaches the server through a proxy whose network can go down.
    auto server = startServer(50, 2000, 60000);
    lark::netsim::LinkProxy proxy(QHostAddress::LocalHost, server->port());
    QVERIFY(proxy.listen());
    lark::models::HubConfig config;
    config.connectUrl = QUrl(u"ws://127.0.0.1:%1?ns=test"_s.arg(proxy.port()));
    config.reconnectDelayMs = 50;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    Database writer(QUrl(server->url()), u"test"_s, fast());
    QVERIFY(writeAndWait(writer.ref(u"x"_s), 1));
    QTRY_VERIFY_WITH_TIMEOUT(hub.tree() && hub.tree()->rowCount() == 1, 10000);
    Tree *tree = hub.tree();
    QAbstractItemModelTester treeTester(tree, QAbstractItemModelTester::FailureReportingMode::QtTest);

    // While the connection is down the edit waits, and the tree shows it as ours; nothing is lost or refused.
    proxy.setMode(lark::netsim::LinkProxy::Mode::Reset);
    QTRY_VERIFY_WITH_TIMEOUT(hub.hostMessage().startsWith(u"not connected"_s), 10000);
    QCOMPARE(tree->setJson(u"/y"_s, u"2"_s), QString());
    QTest::qWait(300);
    QCOMPARE(tree->pendingEdits(), 1);
    QCOMPARE(tree->editError(), QString());
    QVERIFY(valueAt(server.get(), u"test"_s, u"/y"_s).isNull());
    QTRY_VERIFY_WITH_TIMEOUT(tree->indexForPath(u"/y"_s).isValid(), 5000);
    QCOMPARE(tree->indexForPath(u"/y"_s).data(Tree::CauseRole).toString(), u"admin edit"_s);

    // Back online: the client sends it, the server takes it.
    proxy.setMode(lark::netsim::LinkProxy::Mode::Pass);
    QTRY_COMPARE_WITH_TIMEOUT(tree->pendingEdits(), 0, 15000);
    QCOMPARE(tree->editError(), QString());
    QCOMPARE(valueAt(server.get(), u"test"_s, u"/y"_s), QJsonValue(2));
}

void TstHubRemote::backendFollowsTheMode()
{
    // One backend per mode: a switch makes one of the other kind, another URL in connect mode restarts the same
    // one, and what a backend says reaches QML through the Hub's own signals.
    auto first = startServer(50, 2000, 60000);
    auto second = startServer(50, 2000, 60000);
    lark::models::Hub hub(hostConfig());
    QVERIFY(hub.start());
    QVERIFY(qobject_cast<lark::models::HostBackend *>(hub.backend()));
    QCOMPARE(hub.backend()->mode(), hub.mode());
    QSignalSpy running(&hub, &lark::models::Hub::runningChanged);
    QSignalSpy namespaces(&hub, &lark::models::Hub::namespacesChanged);
    QSignalSpy connections(&hub, &lark::models::Hub::connectionCountChanged);

    QVERIFY(hub.useConnect(u"ws://127.0.0.1:%1"_s.arg(first->port()), {}));
    const QPointer<lark::models::DashboardBackend> remote = hub.backend();
    QVERIFY(qobject_cast<lark::models::RemoteBackend *>(remote.data()));
    QCOMPARE(remote->mode(), u"connect"_s);
    QCOMPARE(hub.mode(), u"connect"_s);
    QCOMPARE(namespaces.size(), 1); // the embedded server's list went with it
    QVERIFY(hub.namespaces().isEmpty());
    QVERIFY(!connections.isEmpty());
    QVERIFY(!running.isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(hub.tree(), 10000);
    QCOMPARE(hub.tree(), remote->tree());
    QTRY_COMPARE_WITH_TIMEOUT(hub.hostMessage(), QString(), 10000); // "connecting to ..." until connected
    QCOMPARE(hub.hostMessage(), remote->message());

    // Another server in connect mode: the same backend, stopped and started again on the new URL.
    const QPointer<lark::models::DataTreeModel> oldTree = hub.tree();
    QVERIFY(hub.useConnect(u"ws://127.0.0.1:%1"_s.arg(second->port()), {}));
    QVERIFY(remote);
    QCOMPARE(hub.backend(), remote.data());
    QVERIFY(oldTree.isNull()); // the first server's copy is gone
    QCOMPARE(hub.serverUrl(), u"ws://127.0.0.1:%1"_s.arg(second->port()));
    QTRY_VERIFY_WITH_TIMEOUT(hub.tree(), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(first->connectionCount(), 0, 5000);
    QCOMPARE(second->connectionCount(), 1); // the admin client, now here

    // The Hub's own refusals are said by the backend too, and are a runningChanged of the Hub.
    running.clear();
    QVERIFY(!hub.useHost(70000));
    QCOMPARE(running.size(), 1);
    QCOMPARE(hub.hostMessage(), u"a port is a number from 0 to 65535"_s);
    QCOMPARE(hub.backend(), remote.data()); // refused before anything changed

    QVERIFY(hub.useHost(0));
    QVERIFY(remote.isNull());
    QVERIFY(qobject_cast<lark::models::HostBackend *>(hub.backend()));
    QVERIFY(hostServer(hub));
    QCOMPARE(hub.namespaces(), QStringList {u"lark"_s});
    QCOMPARE(namespaces.size(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(second->connectionCount(), 0, 5000);
}

void TstHubRemote::eventStreamsAreListedInBothModes()
{
    // Host mode: the embedded server's streams, and the event log's line for each.
    lark::models::Hub host(hostConfig());
    QVERIFY(host.start());
    QAbstractItemModelTester tester(host.streams(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTcpSocket local;
    QVERIFY(openStream(local, quint16(host.port()), "/rooms/lobby"));
    QTRY_COMPARE_WITH_TIMEOUT(host.streams()->rowCount(), 1, 10000);
    // The presence page the dashboard prints and links: this server, this namespace.
    QCOMPARE(host.pageUrl(), u"http://127.0.0.1:%1/?uid=alice&ns=%2"_s.arg(host.port()).arg(host.namespaceName()));
    const QModelIndex row = host.streams()->index(0);
    QCOMPARE(row.data(lark::models::StreamsModel::KindRole).toString(), u"sse"_s);
    QCOMPARE(row.data(lark::models::StreamsModel::PathRole).toString(), u"/rooms/lobby"_s);
    QCOMPARE(row.data(lark::models::StreamsModel::NamespaceRole).toString(), u"test"_s);
    QCOMPARE(row.data(lark::models::StreamsModel::IdentityRole).toString(), u"anonymous"_s);
    QVERIFY(eventsContain(host, u"sse stream at /rooms/lobby (test) opened"_s));
    local.abort();
    QTRY_COMPARE_WITH_TIMEOUT(host.streams()->rowCount(), 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(
        eventsContain(host, u"sse stream at /rooms/lobby (test) ended: closed by the client"_s), 10000);

    // Connect mode: a stream open before the dashboard comes with the snapshot, a later one with lark.stream.
    auto server = startServer(50, 2000, 60000);
    QTcpSocket early, late;
    QVERIFY(openStream(early, server->port(), "/a"));
    QTRY_COMPARE_WITH_TIMEOUT(server->streamCount(), 1, 10000);
    lark::models::Hub remote(connectConfig(server->port()));
    QVERIFY(remote.start());
    QTRY_COMPARE_WITH_TIMEOUT(remote.streams()->rowCount(), 1, 10000);
    QCOMPARE(remote.pageUrl(u"bob"_s), u"http://127.0.0.1:%1/?uid=bob&ns=test"_s.arg(server->port()));
    QVERIFY(openStream(late, server->port(), "/b"));
    QTRY_COMPARE_WITH_TIMEOUT(remote.streams()->rowCount(), 2, 10000);
    QCOMPARE(remote.streams()->index(1).data(lark::models::StreamsModel::PathRole).toString(), u"/b"_s);
    early.abort();
    QTRY_COMPARE_WITH_TIMEOUT(remote.streams()->rowCount(), 1, 10000);
    QCOMPARE(remote.streams()->index(0).data(lark::models::StreamsModel::PathRole).toString(), u"/b"_s);
}

void TstHubRemote::unreachableServerSaysWhy()
{
    // B10: a port nothing listens on. The header says why and that it keeps trying, not "connecting" for ever.
    QTcpServer placeholder;
    QVERIFY(placeholder.listen(QHostAddress::LocalHost));
    const quint16 port = placeholder.serverPort();
    placeholder.close(); // now refused
    lark::models::Hub hub(connectConfig(port));
    QVERIFY(hub.start());
    QVERIFY(hub.hostMessage().startsWith(u"connecting to"_s));
    QTRY_VERIFY_WITH_TIMEOUT(hub.hostMessage().startsWith(u"cannot reach ws://127.0.0.1:%1"_s.arg(port)), 10000);
    QVERIFY2(hub.hostMessage().contains(u"refused"_s, Qt::CaseInsensitive), qPrintable(hub.hostMessage()));
    QVERIFY2(hub.hostMessage().contains(u"retrying (attempt "_s), qPrintable(hub.hostMessage()));
}

QTEST_GUILESS_MAIN(TstHubRemote)
#include "tst_hub_remote.moc"
