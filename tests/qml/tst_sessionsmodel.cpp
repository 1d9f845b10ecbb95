// SPDX-License-Identifier: MIT
// The sessions model (SessionsModel), with the presence it drives, against a real embedded server and real clients
// over loopback, under QAbstractItemModelTester: changes arrive as row inserts, removes and dataChanged, never as a
// reset.
#include "client/database.h"
#include "modelfixtures.h"
#include "models/hub.h"
#include "models/presencemodel.h"
#include "models/sessionsmodel.h"
#include "server/server.h"
#include "tabs/tab.h"
#include "tabs/tabsmodel.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>

using namespace Qt::Literals::StringLiterals;
using lark::client::Database;

class TstSessionsModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sessionsAndPresenceFollowTabs();
    void cancelledOpsLingerStruckThrough();
    void timelineKeepsShortStates();
};

void TstSessionsModel::sessionsAndPresenceFollowTabs()
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

    lark::tabs::Tab *a1 = hub.tabs()->openTab(u"alice"_s, 0);
    lark::tabs::Tab *a2 = hub.tabs()->openTab(u"alice"_s, 0);
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

void TstSessionsModel::cancelledOpsLingerStruckThrough()
{
    using S = lark::models::SessionsModel;
    auto server = startServer(50, 2000, 60000);
    S model;
    model.setCancelledLingerMs(600);
    model.attachServer(server.get());
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Database db(QUrl(server->url()), u"test"_s, fast());
    bool done = false;
    db.ref(u"a"_s).onDisconnect().set(1, &db, [&](const lark::client::Error &) { done = true; });
    QVERIFY(QTest::qWaitFor([&] { return done; }, 10000));
    done = false;
    db.ref(u"b"_s).onDisconnect().remove(&db, [&](const lark::client::Error &) { done = true; });
    QVERIFY(QTest::qWaitFor([&] { return done; }, 10000));
    QTRY_COMPARE_WITH_TIMEOUT(model.queuedOpCount(), 2, 5000);
    const QModelIndex row = model.index(0);
    const QVariantList ops = row.data(S::OpsRole).toList();
    QCOMPARE(ops.size(), 2);
    // Registration time from the server's description (epoch ms).
    const double registered = ops.at(0).toMap().value(u"registeredAt"_s).toDouble();
    QVERIFY(qAbs(registered - double(QDateTime::currentMSecsSinceEpoch())) < 10000);

    done = false;
    db.ref(u"a"_s).onDisconnect().cancel(&db, [&](const lark::client::Error &) { done = true; });
    QVERIFY(QTest::qWaitFor([&] { return done; }, 10000));
    QTRY_COMPARE_WITH_TIMEOUT(model.queuedOpCount(), 1, 5000);
    // Still listed, marked cancelled, after the queued one; not counted as queued.
    QVariantList now = row.data(S::OpsRole).toList();
    QCOMPARE(now.size(), 2);
    QCOMPARE(now.at(0).toMap().value(u"path"_s).toString(), u"/b"_s);
    QCOMPARE(now.at(1).toMap().value(u"path"_s).toString(), u"/a"_s);
    QVERIFY(now.at(1).toMap().value(u"cancelled"_s).toBool());
    QVERIFY(now.at(1).toMap().value(u"cancelledAt"_s).toDouble() > 0);
    QCOMPARE(row.data(S::OpCountRole).toInt(), 1);
    // Then it goes.
    QTRY_COMPARE_WITH_TIMEOUT(row.data(S::OpsRole).toList().size(), 1, 5000);
}

void TstSessionsModel::timelineKeepsShortStates()
{
    // Issue #16: a blip's resume lasts milliseconds; the card's timeline keeps it, and each later state, with when.
    using S = lark::models::SessionsModel;
    lark::models::HubConfig config;
    config.port = 0;
    config.pingIntervalMs = 50;
    config.deadAfterMs = 400;
    config.graceMs = 300;
    config.reconnectDelayMs = 20;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    lark::tabs::Tab *tab = hub.tabs()->openTab(u"alice"_s, 0);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(tab->sessionShort()), 3, 10000);
    const QString id = tab->sessionShort();
    // Tab and session name each other.
    QCOMPARE(hub.tabs()->tabIdOfSession(id), tab->tabId());
    QCOMPARE(hub.tabs()->tabIdOfSession(u"nope"_s), 0);
    QVERIFY(hub.sessions()->handleOfShortId(id).startsWith(u'S'));
    const auto states = [&] {
        QStringList out;
        const QVariantList timeline
            = hub.sessions()->index(hub.sessions()->rowOfShortId(id)).data(S::TimelineRole).toList();
        qint64 last = 0;
        for (const QVariant &v : timeline) {
            const QVariantMap e = v.toMap();
            const qint64 at = e.value(u"at"_s).toLongLong();
            if (at < last)
                return QStringList {u"out of order"_s};
            last = at;
            out << e.value(u"state"_s).toString();
        }
        return out;
    };
    QCOMPARE(states(), QStringList {u"live"_s});
    tab->blip();
    // The server sees the reset, suspends the session and it is resumed at once: both moments are kept.
    QTRY_COMPARE_WITH_TIMEOUT(states(), QStringList({u"live"_s, u"suspended"_s, u"resumed"_s}), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(tab->status() == u"connected"_s && tab->resumed(), 10000);
    tab->dropNetwork();
    QTRY_VERIFY_WITH_TIMEOUT(states().endsWith(u"ended"_s), 10000);
    QCOMPARE(states(), QStringList({u"live"_s, u"suspended"_s, u"resumed"_s, u"silent"_s, u"suspended"_s, u"ended"_s}));
    const QVariantList timeline
        = hub.sessions()->index(hub.sessions()->rowOfShortId(id)).data(S::TimelineRole).toList();
    QCOMPARE(timeline.constLast().toMap().value(u"detail"_s).toString(),
        hub.sessions()->index(hub.sessions()->rowOfShortId(id)).data(S::EndReasonRole).toString());
}

QTEST_GUILESS_MAIN(TstSessionsModel)
#include "tst_sessionsmodel.moc"
