// SPDX-License-Identifier: MIT
// The data tree model (DataTreeModel) against a real embedded server and real clients over loopback, under
// QAbstractItemModelTester, with the guarantee the views rely on: changes arrive as row inserts, removes and
// dataChanged, never as a reset.
#include "client/database.h"
#include "modelfixtures.h"
#include "models/datatreemodel.h"
#include "server/server.h"

#include <QAbstractItemModelTester>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>

using namespace Qt::Literals::StringLiterals;
using lark::client::Database;

class TstDataTreeModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void treeIsIncremental();
    void treePagesAndLoadsMore();
    void treeShowsCauses();
    void hugeNodeLoadsOnlyAPage();
    void filterUsesTheQueryEngine();
    void loadPathMirrorsTheWay();
};

void TstDataTreeModel::treeIsIncremental()
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

void TstDataTreeModel::treePagesAndLoadsMore()
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

void TstDataTreeModel::treeShowsCauses()
{
    auto server = startServer(50, 60000, 60000);
    lark::models::DataTreeModel model(server->database(u"test"_s));
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Database db(QUrl(server->url()), u"test"_s, fast());
    QVERIFY(writeAndWait(db.ref(u"status"_s), u"online"_s));
    const QModelIndex status = childByKey(model, {}, u"status"_s);
    QVERIFY(status.data(lark::models::DataTreeModel::CauseRole).toString().startsWith(u"client write by S"_s));

    bool queued = false;
    db.ref(u"status"_s).onDisconnect().set(u"offline"_s, &db, [&](const lark::client::Error &e) { queued = e.isOk(); });
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

void TstDataTreeModel::hugeNodeLoadsOnlyAPage()
{
    using M = lark::models::DataTreeModel;
    auto server = startServer();
    QJsonObject many;
    for (int i = 0; i < 100000; ++i)
        many.insert(u"k%1"_s.arg(i, 6, 10, QLatin1Char('0')), i);
    QString error;
    lark::Path path;
    QVERIFY(lark::Path::parse(u"/big"_s, &path, &error));
    QVERIFY2(server->importJson(u"test"_s, path, QJsonDocument(many).toJson(QJsonDocument::Compact), &error),
        qPrintable(error));
    M model(server->database(u"test"_s));
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QModelIndex big = childByKey(model, {}, u"big"_s);
    QVERIFY(big.isValid());
    QCOMPARE(big.data(M::ChildCountRole).toInt(), 100000);
    model.fetchMore(big);
    // One page and the load-more row: 100 000 children exist, 51 rows do.
    QCOMPARE(model.rowCount(big), model.pageSize() + 1);
    const QModelIndex more = model.index(model.pageSize(), 0, big);
    QVERIFY(more.data(M::IsLoadMoreRow).toBool());
    QCOMPARE(more.data(M::RemainingRole).toInt(), 100000 - model.pageSize());

    // A write into the huge node touches one row and keeps the page a page.
    QSignalSpy resets(&model, &QAbstractItemModel::modelAboutToBeReset);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    Database db(QUrl(server->url()), u"test"_s, fast());
    QVERIFY(writeAndWait(db.ref(u"big/a0"_s), 1)); // sorts first
    QCOMPARE(model.rowCount(big), model.pageSize() + 1);
    QCOMPARE(model.index(0, 0, big).data(M::KeyRole).toString(), u"a0"_s);
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(resets.size(), 0);
}

void TstDataTreeModel::filterUsesTheQueryEngine()
{
    using M = lark::models::DataTreeModel;
    auto server = startServer();
    Database db(QUrl(server->url()), u"test"_s, fast());
    QJsonObject rooms;
    for (int i = 0; i < 10; ++i)
        rooms.insert(u"r%1"_s.arg(i), QJsonObject {{u"members"_s, i}, {u"title"_s, u"room %1"_s.arg(i)}});
    QVERIFY(writeAndWait(db.ref(u"rooms"_s), rooms));
    M model(server->database(u"test"_s));
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy resets(&model, &QAbstractItemModel::modelAboutToBeReset);

    QCOMPARE(model.setFilter(u"/rooms"_s, u"members"_s, u">="_s, u"7"_s, 0), QString());
    const QModelIndex idx = model.indexForPath(u"/rooms"_s);
    QCOMPARE(model.rowCount(idx), 3);
    QCOMPARE(model.index(0, 0, idx).data(M::KeyRole).toString(), u"r7"_s);
    QCOMPARE(idx.data(M::MatchedRole).toInt(), 3);
    QVERIFY(idx.data(M::FilterRole).toString().contains(u"members >= 7"_s));

    // Equality and a limit, as limitToFirst after orderByChild.
    QCOMPARE(model.setFilter(u"/rooms"_s, u"members"_s, u"<="_s, u"5"_s, 2), QString());
    QCOMPARE(model.rowCount(idx), 2);
    QCOMPARE(model.index(1, 0, idx).data(M::KeyRole).toString(), u"r1"_s);
    QCOMPARE(model.setFilter(u"/rooms"_s, u"title"_s, u"=="_s, u"room 4"_s, 0), QString()); // text without quotes
    QCOMPARE(model.rowCount(idx), 1);
    QCOMPARE(model.index(0, 0, idx).data(M::KeyRole).toString(), u"r4"_s);
    QCOMPARE(model.setFilter(u"/rooms"_s, QString(), u">="_s, u"r8"_s, 0), QString()); // by key
    QCOMPARE(model.rowCount(idx), 2);

    // The filter stays live: a write that makes a child pass adds its row.
    QCOMPARE(model.setFilter(u"/rooms"_s, u"members"_s, u">="_s, u"7"_s, 0), QString());
    QVERIFY(writeAndWait(db.ref(u"rooms/r2/members"_s), 50));
    QCOMPARE(model.rowCount(idx), 4);
    QCOMPARE(model.setFilter(u"/rooms"_s, u"members"_s, u"~"_s, u"1"_s, 0), u"compare with ==, >= or <="_s);
    QVERIFY(!model.setFilter(u"/nowhere"_s, u"members"_s, u"=="_s, u"1"_s, 0).isEmpty());
    model.clearFilter(u"/rooms"_s);
    QCOMPARE(model.rowCount(idx), 10);
    QCOMPARE(idx.data(M::FilterRole).toString(), QString());
    QCOMPARE(resets.size(), 0);
}

void TstDataTreeModel::loadPathMirrorsTheWay()
{
    using M = lark::models::DataTreeModel;
    auto server = startServer();
    Database db(QUrl(server->url()), u"test"_s, fast());
    QJsonObject many;
    for (int i = 0; i < 120; ++i)
        many.insert(u"k%1"_s.arg(i, 3, 10, QLatin1Char('0')), QJsonObject {{u"v"_s, i}});
    QVERIFY(writeAndWait(db.ref(u"a/b"_s), many));
    M model(server->database(u"test"_s));
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(!model.indexForPath(u"/a/b/k100/v"_s).isValid()); // not mirrored yet
    const QModelIndex idx = model.loadPath(u"/a/b/k100/v"_s); // beyond the first page of b
    QVERIFY(idx.isValid());
    QCOMPARE(idx.data(M::PathRole).toString(), u"/a/b/k100/v"_s);
    QCOMPARE(idx.data(M::ValueRole).toString(), u"100"_s);
    QVERIFY(!model.loadPath(u"/a/nothing"_s).isValid());
}

QTEST_GUILESS_MAIN(TstDataTreeModel)
#include "tst_datatreemodel.moc"
