// SPDX-License-Identifier: MIT
// The dashboard's models against a real embedded server and real clients over loopback, each under
// QAbstractItemModelTester, with the guarantee the views rely on: changes arrive as row inserts, removes and
// dataChanged, never as a reset.
#include "client/database.h"
#include "models/datatreemodel.h"
#include "models/hub.h"
#include "models/presencemodel.h"
#include "models/sessionsmodel.h"
#include "server/server.h"

#include <QAbstractItemModelTester>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using lark::client::Database;

namespace
{
std::unique_ptr<lark::Server> startServer(int pingMs = 50, int deadAfterMs = 400, int graceMs = 800)
{
    lark::ServerConfig config;
    config.port = 0;
    config.pingIntervalMs = pingMs;
    config.deadAfterMs = deadAfterMs;
    config.graceMs = graceMs;
    auto server = std::make_unique<lark::Server>(config);
    QString error;
    if (!server->listen(&error))
        qFatal("cannot start the test server: %s", qPrintable(error));
    return server;
}

lark::client::DatabaseOptions fast()
{
    lark::client::DatabaseOptions o;
    o.minReconnectDelayMs = 50;
    return o;
}

bool writeAndWait(const lark::client::Reference &ref, const QJsonValue &value)
{
    bool done = false;
    ref.set(value, [&](const lark::client::Error &e) { done = e.isOk(); });
    return QTest::qWaitFor([&] { return done; }, 10000);
}

bool removeAndWait(const lark::client::Reference &ref)
{
    bool done = false;
    ref.remove([&](const lark::client::Error &e) { done = e.isOk(); });
    return QTest::qWaitFor([&] { return done; }, 10000);
}

QModelIndex childByKey(const QAbstractItemModel &m, const QModelIndex &parent, const QString &key)
{
    for (int r = 0; r < m.rowCount(parent); ++r) {
        const QModelIndex i = m.index(r, 0, parent);
        if (i.data(lark::models::DataTreeModel::KeyRole).toString() == key)
            return i;
    }
    return {};
}
} // namespace

class TstModels : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void treeIsIncremental();
    void treePagesAndLoadsMore();
    void treeShowsCauses();
    void sessionsAndPresenceFollowTabs();
    void remoteModeUsesTheAdminFeed();
    void busyPortFallsBackToAFreeOne();
    void restartOnAnotherPort();
};

void TstModels::treeIsIncremental()
{
    auto server = startServer();
    lark::models::DataTreeModel model(server->database(u"test"_s));
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy resets(&model, &QAbstractItemModel::modelAboutToBeReset);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    Database db(QUrl(server->url()), u"test"_s, fast());
    QVERIFY(writeAndWait(db.ref(u"rooms/general/title"_s), u"General"_s));
    QCOMPARE(model.rowCount(), 1);
    const QModelIndex rooms = childByKey(model, {}, u"rooms"_s);
    QVERIFY(rooms.isValid());
    QVERIFY(model.hasChildren(rooms));
    model.fetchMore(rooms); // the tester may have fetched already: then this does nothing
    QCOMPARE(model.rowCount(rooms), 1);
    const QModelIndex general = childByKey(model, rooms, u"general"_s);
    model.fetchMore(general);
    const QModelIndex title = childByKey(model, general, u"title"_s);
    QCOMPARE(title.data(lark::models::DataTreeModel::ValueRole).toString(), u"\"General\""_s);
    QCOMPARE(title.data(lark::models::DataTreeModel::TypeRole).toString(), u"string"_s);

    // A single value changes: dataChanged on that row, no rows come or go.
    inserted.clear();
    removed.clear();
    changed.clear();
    QVERIFY(writeAndWait(db.ref(u"rooms/general/title"_s), 42));
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(removed.size(), 0);
    bool titleChanged = false;
    for (const auto &args : std::as_const(changed))
        titleChanged = titleChanged || args.at(0).toModelIndex() == title;
    QVERIFY(titleChanged);
    QCOMPARE(title.data(lark::models::DataTreeModel::TypeRole).toString(), u"number"_s);

    // A sibling appears: one row inserted under its parent, at its place in key order.
    inserted.clear();
    QVERIFY(writeAndWait(db.ref(u"rooms/general/members"_s), 3));
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(inserted.at(0).at(0).toModelIndex(), general);
    QCOMPARE(model.rowCount(general), 2);
    QCOMPARE(model.index(0, 0, general).data(lark::models::DataTreeModel::KeyRole).toString(), u"members"_s);

    // And goes: one row removed.
    removed.clear();
    QVERIFY(removeAndWait(db.ref(u"rooms/general/members"_s)));
    QCOMPARE(removed.size(), 1);
    QCOMPARE(model.rowCount(general), 1);

    // Deleting the last leaf prunes the empty parents: their rows go too.
    QVERIFY(removeAndWait(db.ref(u"rooms/general/title"_s)));
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(resets.size(), 0);
}

void TstModels::treePagesAndLoadsMore()
{
    auto server = startServer();
    lark::models::DataTreeModel model(server->database(u"test"_s));
    model.setPageSize(50);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy resets(&model, &QAbstractItemModel::modelAboutToBeReset);
    Database db(QUrl(server->url()), u"test"_s, fast());
    QJsonObject many;
    for (int i = 0; i < 120; ++i)
        many.insert(u"k%1"_s.arg(i, 3, 10, QLatin1Char('0')), i);
    QVERIFY(writeAndWait(db.ref(u"many"_s), many));
    const QModelIndex parent = childByKey(model, {}, u"many"_s);
    model.fetchMore(parent);
    QCOMPARE(model.rowCount(parent), 51);
    const QModelIndex more = model.index(50, 0, parent);
    QVERIFY(more.data(lark::models::DataTreeModel::IsLoadMoreRow).toBool());
    QCOMPARE(more.data(lark::models::DataTreeModel::RemainingRole).toInt(), 70);
    model.loadMore(more);
    QCOMPARE(model.rowCount(parent), 101);
    model.loadMore(model.index(100, 0, parent));
    QCOMPARE(model.rowCount(parent), 120); // all shown: no load-more row any more
    QVERIFY(!model.index(119, 0, parent).data(lark::models::DataTreeModel::IsLoadMoreRow).toBool());

    // A write inside a big list touches one row.
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QVERIFY(writeAndWait(db.ref(u"many/k005"_s), u"five"_s));
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(removed.size(), 0);
    QCOMPARE(model.index(5, 0, parent).data(lark::models::DataTreeModel::ValueRole).toString(), u"\"five\""_s);
    QCOMPARE(resets.size(), 0);
}

void TstModels::treeShowsCauses()
{
    auto server = startServer(50, 60000, 60000);
    lark::models::DataTreeModel model(server->database(u"test"_s));
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Database db(QUrl(server->url()), u"test"_s, fast());
    QVERIFY(writeAndWait(db.ref(u"status"_s), u"online"_s));
    const QModelIndex status = childByKey(model, {}, u"status"_s);
    QVERIFY(status.data(lark::models::DataTreeModel::CauseRole).toString().startsWith(u"client write by S"_s));

    bool queued = false;
    db.ref(u"status"_s).onDisconnect().set(u"offline"_s, [&](const lark::client::Error &e) { queued = e.isOk(); });
    QTRY_VERIFY_WITH_TIMEOUT(queued, 10000);
    const QString handle = server->sessions().constFirst()->handle();
    db.goOffline(); // a clean close: the op fires at once, without waiting for detection or grace
    QTRY_COMPARE_WITH_TIMEOUT(status.data(lark::models::DataTreeModel::ValueRole).toString(), u"\"offline\""_s, 10000);
    QCOMPARE(status.data(lark::models::DataTreeModel::CauseRole).toString(), u"onDisconnect of %1"_s.arg(handle));

    QCOMPARE(model.setJson(u"/status"_s, u"\"maintenance\""_s), QString());
    QCOMPARE(status.data(lark::models::DataTreeModel::CauseRole).toString(), u"admin edit"_s);
    QVERIFY(!model.setJson(u"/status"_s, u"{not json"_s).isEmpty());
    QCOMPARE(model.removePath(u"/status"_s), QString());
    QCOMPARE(model.rowCount(), 0);
}

void TstModels::sessionsAndPresenceFollowTabs()
{
    lark::models::HubConfig config;
    config.port = 0;
    config.pingIntervalMs = 50;
    config.deadAfterMs = 2000;
    config.graceMs = 60000;
    config.reconnectDelayMs = 50;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QAbstractItemModelTester sessionsTester(hub.sessions(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester presenceTester(hub.presence(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester tabsTester(hub.tabs(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester treeTester(hub.tree(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy sessionResets(hub.sessions(), &QAbstractItemModel::modelAboutToBeReset);
    QSignalSpy presenceResets(hub.presence(), &QAbstractItemModel::modelAboutToBeReset);

    lark::models::Tab *a1 = hub.tabs()->openTab(u"alice"_s, 0);
    lark::models::Tab *a2 = hub.tabs()->openTab(u"alice"_s, 0);
    QVERIFY(a1 && a2);
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(u"alice"_s), 2, 10000);
    const QModelIndex alice = hub.presence()->index(hub.presence()->rowOf(u"alice"_s));
    QCOMPARE(alice.data(lark::models::PresenceModel::FlagRole).toBool(), true);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->rowCount(), 2, 10000);
    // Each tab queued: the presence entry's remove, lastSeen, and the boolean flag.
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(a1->sessionShort()), 3, 10000);
    QCOMPARE(hub.sessions()->opCountOfShortId(a2->sessionShort()), 3);
    const QModelIndex first = hub.sessions()->index(hub.sessions()->rowOfShortId(a1->sessionShort()));
    QCOMPARE(first.data(lark::models::SessionsModel::IdentityRole).toString(), u"user:alice"_s);
    QCOMPARE(first.data(lark::models::SessionsModel::StateRole).toString(), u"live"_s);

    // Closing one tab: its ops fire at once. The count is right; the boolean flag is wrong (the pitfall).
    const QString closed = a1->sessionShort();
    hub.tabs()->closeTab(a1->tabId());
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(u"alice"_s), 1, 10000);
    QCOMPARE(alice.data(lark::models::PresenceModel::FlagRole).toBool(), false);
    QVERIFY(alice.data(lark::models::PresenceModel::LastSeenRole).toDouble() > 0);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(closed), 0, 10000);
    const QModelIndex ended = hub.sessions()->index(hub.sessions()->rowOfShortId(closed));
    QCOMPARE(ended.data(lark::models::SessionsModel::StateRole).toString(), u"ended"_s);
    QCOMPARE(ended.data(lark::models::SessionsModel::EndReasonRole).toString(), u"clean close"_s);
    QTRY_VERIFY_WITH_TIMEOUT(hub.firedOps()->rowCount() >= 3, 10000);

    // A silent drop: the server stops hearing from the tab, then suspends it with a grace countdown.
    a2->dropNetwork();
    const QString dropped = a2->sessionShort();
    const auto stateOf = [&] {
        return hub.sessions()
            ->index(hub.sessions()->rowOfShortId(dropped))
            .data(lark::models::SessionsModel::StateRole)
            .toString();
    };
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(), u"silent"_s, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(), u"suspended"_s, 10000);
    const QModelIndex suspended = hub.sessions()->index(hub.sessions()->rowOfShortId(dropped));
    QVERIFY(suspended.data(lark::models::SessionsModel::GraceRemainingMsRole).toDouble() > 1000);
    QCOMPARE(hub.sessions()->opCountOfShortId(dropped), 3); // still queued: the grace is running

    // The ended row leaves after its linger time, as one row removal.
    hub.sessions()->setEndedLingerMs(100);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->rowOfShortId(closed), -1, 10000);
    QCOMPARE(sessionResets.size(), 0);
    QCOMPARE(presenceResets.size(), 0);
}

void TstModels::remoteModeUsesTheAdminFeed()
{
    auto server = startServer(50, 2000, 60000);
    lark::models::HubConfig config;
    config.connectUrl = QUrl(u"ws://127.0.0.1:%1?ns=test"_s.arg(server->port()));
    config.reconnectDelayMs = 50;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QVERIFY(hub.isRemote());
    QVERIFY(hub.isRunning());
    QCOMPARE(hub.namespaceName(), u"test"_s);
    QVERIFY(!hub.tree()); // the data view needs the embedded server
    QAbstractItemModelTester sessionsTester(hub.sessions(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester presenceTester(hub.presence(), QAbstractItemModelTester::FailureReportingMode::QtTest);

    lark::models::Tab *tab = hub.tabs()->openTab(u"bob"_s, 0);
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

void TstModels::busyPortFallsBackToAFreeOne()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    lark::models::HubConfig config;
    config.port = squatter.serverPort();
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QVERIFY(hub.isRunning());
    QVERIFY(!hub.serverUrl().endsWith(u":%1"_s.arg(squatter.serverPort())));
    QVERIFY2(hub.hostMessage().contains(u"is busy"_s), qPrintable(hub.hostMessage()));
    QVERIFY(hub.serverUrl().startsWith(u"ws://127.0.0.1:"_s));
}

void TstModels::restartOnAnotherPort()
{
    lark::models::HubConfig config;
    config.port = 0;
    config.reconnectDelayMs = 50;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QAbstractItemModelTester sessionsTester(hub.sessions(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester presenceTester(hub.presence(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy resets(hub.sessions(), &QAbstractItemModel::modelAboutToBeReset);
    lark::models::Tab *tab = hub.tabs()->openTab(u"alice"_s, 0);
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(u"alice"_s), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(tab->sessionShort()), 3, 10000);
    const int oldPort = hub.port();

    QTcpServer probe; // a port that is free now
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const int newPort = probe.serverPort();
    probe.close();
    QVERIFY(hub.restart(newPort));
    QCOMPARE(hub.port(), newPort);
    QVERIFY(hub.port() != oldPort);
    QCOMPARE(hub.tabs()->rowCount(), 0);
    QCOMPARE(hub.sessions()->rowCount(), 0);
    QCOMPARE(hub.presence()->connectionCount(u"alice"_s), 0); // a new, empty database
    QVERIFY(hub.tree());
    QCOMPARE(hub.tree()->rowCount(), 0);

    // And it works like the first one.
    lark::models::Tab *again = hub.tabs()->openTab(u"bob"_s, 0);
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(u"bob"_s), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(again->sessionShort()), 3, 10000);
    QVERIFY(hub.tree()->rowCount() > 0);
    QCOMPARE(resets.size(), 0);
}

QTEST_GUILESS_MAIN(TstModels)
#include "tst_models.moc"
