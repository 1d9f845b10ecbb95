// SPDX-License-Identifier: MIT
// The event log (EventLogModel and its filter) against a real embedded server and real clients over loopback, under
// QAbstractItemModelTester: rows come and go one at a time, never as a reset.
#include "client/database.h"
#include "modelfixtures.h"
#include "models/eventlogmodel.h"
#include "server/server.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>

using namespace Qt::Literals::StringLiterals;
using lark::client::Database;

class TstEventLogModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void eventLogFollowsTheServer();
    void eventLogIsCappedAndFiltered();
    void eventLogShowsDenialsAndDrops();
    void restoredSessionsAreNotConnects();
};

void TstEventLogModel::eventLogFollowsTheServer()
{
    using E = lark::models::EventLogModel;
    auto server = startServer(50, 400, 300);
    E log;
    log.attachServer(server.get());
    QAbstractItemModelTester tester(&log, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy resets(&log, &QAbstractItemModel::modelAboutToBeReset);
    const auto kinds = [&] {
        QStringList k;
        for (int r = 0; r < log.rowCount(); ++r)
            k.append(log.index(r).data(E::KindRole).toString());
        return k;
    };
    {
        Database db(QUrl(server->url()), u"test"_s, fast());
        bool done = false;
        db.ref(u"x"_s).onDisconnect().set(1, &db, [&](const lark::client::Error &) { done = true; });
        QVERIFY(QTest::qWaitFor([&] { return done; }, 10000));
        QTRY_VERIFY_WITH_TIMEOUT(kinds().contains(u"ops"_s), 5000);
        QVERIFY(kinds().contains(u"connect"_s));
        QVERIFY(kinds().contains(u"connections"_s));
        db.goOffline(); // a clean close: ends and fires at once
        QTRY_VERIFY_WITH_TIMEOUT(kinds().contains(u"fire"_s), 5000);
    }
    QTRY_VERIFY_WITH_TIMEOUT(kinds().contains(u"end"_s), 5000);
    int endRow = int(kinds().indexOf(u"end"_s));
    QVERIFY(log.index(endRow).data(E::TextRole).toString().contains(u"clean close"_s));
    const int fireRow = int(kinds().indexOf(u"fire"_s));
    QVERIFY(log.index(fireRow).data(E::TextRole).toString().contains(u"/x"_s));
    QVERIFY(log.index(fireRow).data(E::AtRole).toDouble() > 0);
    QCOMPARE(resets.size(), 0);
}

void TstEventLogModel::eventLogIsCappedAndFiltered()
{
    using E = lark::models::EventLogModel;
    E log;
    log.setMaxRows(5);
    lark::models::EventLogFilter filter(&log);
    QAbstractItemModelTester tester(&log, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester filterTester(&filter, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy resets(&log, &QAbstractItemModel::modelAboutToBeReset);
    QSignalSpy removed(&log, &QAbstractItemModel::rowsRemoved);
    for (int i = 0; i < 8; ++i)
        log.append(u"server"_s, {}, u"event %1"_s.arg(i));
    QCOMPARE(log.rowCount(), 5);
    QCOMPARE(removed.size(), 3); // the oldest, one at a time
    QCOMPARE(log.index(0).data(E::TextRole).toString(), u"event 3"_s);
    QCOMPARE(log.index(4).data(E::TextRole).toString(), u"event 7"_s);
    filter.setFilterText(u"EVENT 5"_s);
    QCOMPARE(filter.rowCount(), 1);
    filter.setFilterText(u"server"_s); // the kind is part of the line
    QCOMPARE(filter.rowCount(), 5);
    filter.setFilterText({});
    QCOMPARE(filter.rowCount(), 5);
    QCOMPARE(resets.size(), 0);
}

void TstEventLogModel::eventLogShowsDenialsAndDrops()
{
    using E = lark::models::EventLogModel;
    auto server = startServer(50, 400, 300);
    QVERIFY(server->rules().set(u"test"_s, R"({"rules": {"open": {".read": true, ".write": true}}})").ok);
    E log;
    log.attachServer(server.get());
    const auto lines = [&](const QString &kind) {
        QStringList found;
        for (int r = 0; r < log.rowCount(); ++r) {
            if (log.index(r).data(E::KindRole).toString() == kind)
                found.append(log.index(r).data(E::TextRole).toString());
        }
        return found;
    };
    Database db(QUrl(server->url()), u"test"_s, fast());
    bool done = false;
    db.ref(u"open/x"_s).onDisconnect().set(1, &db, [&](const lark::client::Error &) { done = true; });
    QVERIFY(QTest::qWaitFor([&] { return done; }, 10000));
    db.ref(u"closed/x"_s).set(2); // no rule grants it

    // The denial: the operation, who, the path and the rule that decided.
    QTRY_COMPARE_WITH_TIMEOUT(lines(u"denied"_s).size(), 1, 5000);
    const QString denied = lines(u"denied"_s).constFirst();
    QVERIFY2(
        denied.contains(u" set as anonymous at /closed/x (test), by "_s) && denied.endsWith(u"(no rule granted)"_s),
        qPrintable(denied));
    // Rules that no longer allow the queued op drop it at once, and the log says so.
    QVERIFY(server->rules().set(u"test"_s, R"({"rules": {"open": {".read": true, ".write": "auth != null"}}})").ok);
    QTRY_COMPARE_WITH_TIMEOUT(lines(u"dropped"_s).size(), 1, 5000);
    QVERIFY(
        lines(u"dropped"_s)
            .constFirst()
            .endsWith(
                u" onDisconnect set at /open/x (test) will not fire: now denied to anonymous by /open .write: \"auth != null\""_s));
}

void TstEventLogModel::restoredSessionsAreNotConnects()
{
    // B9: after a restart with data, sessions come back suspended and then resume; none of that is a "connect".
    using E = lark::models::EventLogModel;
    E log;
    QJsonObject s {{u"handle"_s, u"S4"_s}, {u"state"_s, u"suspended"_s}, {u"resumes"_s, 0},
        {u"identity"_s, u"user:alice"_s}, {u"namespace"_s, u"lark"_s}, {u"remote"_s, u"127.0.0.1:5000"_s},
        {u"ops"_s, QJsonArray {QJsonObject {{u"path"_s, u"/a"_s}}}},
        {u"fireAt"_s, double(QDateTime::currentMSecsSinceEpoch() + 5000)}};
    log.sessionChanged(s);
    QCOMPARE(log.rowCount(), 1);
    QCOMPARE(log.index(0).data(E::KindRole).toString(), u"suspend"_s);
    QVERIFY2(
        log.index(0).data(E::TextRole).toString().startsWith(u"S4 back suspended (user:alice, ns lark): 1 op(s)"_s),
        qPrintable(log.index(0).data(E::TextRole).toString()));
    s.insert(u"state"_s, u"live"_s);
    s.insert(u"resumes"_s, 1);
    log.sessionChanged(s);
    QCOMPARE(log.index(log.rowCount() - 1).data(E::KindRole).toString(), u"resume"_s);
    // A session first seen live after a resume (a log that started late) is a resume too.
    QJsonObject t = s;
    t.insert(u"handle"_s, u"S5"_s);
    log.sessionChanged(t);
    QCOMPARE(log.index(log.rowCount() - 1).data(E::KindRole).toString(), u"resume"_s);
    for (int r = 0; r < log.rowCount(); ++r)
        QVERIFY(log.index(r).data(E::KindRole).toString() != u"connect"_s);
}

QTEST_GUILESS_MAIN(TstEventLogModel)
#include "tst_eventlogmodel.moc"
