// SPDX-License-Identifier: MIT
// The Presence helper on the connection-count model (docs/semantics.md §5): three tabs of one user and one of
// another, each behind its own netsim link, checked after every close, blip and drop by an independent observer.

#include "testserver.h"

#include "client/database.h"
#include "client/presence.h"
#include "netsim/linkproxy.h"

#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

#include <memory>

using namespace Qt::Literals::StringLiterals;
using namespace lark::client;
using lark::netsim::LinkProxy;

namespace
{

struct Tab {
    std::unique_ptr<LinkProxy> proxy;
    std::unique_ptr<Database> db;
    std::unique_ptr<Presence> presence;
};

Tab openTab(const lark::Server &server, const QString &uid)
{
    Tab t;
    t.proxy = std::make_unique<LinkProxy>(QHostAddress::LocalHost, server.port());
    if (!t.proxy->listen())
        qFatal("proxy cannot listen");
    DatabaseOptions o;
    o.minReconnectDelayMs = 50;
    o.maxReconnectDelayMs = 200;
    t.db = std::make_unique<Database>(QUrl(u"ws://127.0.0.1:%1"_s.arg(t.proxy->port())), u"test"_s, o);
    t.presence = std::make_unique<Presence>(t.db.get(), uid);
    return t;
}

/** What an independent client sees under presence/: per user, the connection keys and lastSeen. */
struct Observer {
    Database db;
    Subscription listen;
    QJsonObject tree;
    QList<int> aliceCounts; // every count of alice's connections the observer was shown
    explicit Observer(const lark::Server &server)
        : db(QUrl(server.url()), u"test"_s)
    {
        // The database is the context: it and the listener live as long as this observer.
        listen = db.ref(u"presence"_s).on(Event::Value, &db, [this](const DataSnapshot &s, const QString &) {
            tree = s.value().toObject();
            aliceCounts.append(count(u"alice"_s));
        });
    }
    [[nodiscard]] int count(const QString &uid) const
    {
        return int(tree.value(uid).toObject().value(u"connections"_s).toObject().size());
    }
    [[nodiscard]] QStringList keys(const QString &uid) const
    {
        return tree.value(uid).toObject().value(u"connections"_s).toObject().keys();
    }
    [[nodiscard]] qint64 lastSeen(const QString &uid) const
    {
        return qint64(tree.value(uid).toObject().value(u"lastSeen"_s).toDouble());
    }
};

} // namespace

class TstPresence : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void threeTabsAndAnotherUser();
};

void TstPresence::threeTabsAndAnotherUser()
{
    // A grace long enough that a blip's reconnect is always inside it, short enough for the drop to end in time.
    auto server = startTestServer(50, 400, 3000);
    Observer obs(*server);
    Tab a1 = openTab(*server, u"alice"_s), a2 = openTab(*server, u"alice"_s), a3 = openTab(*server, u"alice"_s);
    Tab b1 = openTab(*server, u"bob"_s);
    QTRY_COMPARE_WITH_TIMEOUT(obs.count(u"alice"_s), 3, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(obs.count(u"bob"_s), 1, 10000);
    for (Tab *t : {&a1, &a2, &a3, &b1})
        QTRY_VERIFY_WITH_TIMEOUT(t->presence->isOnline(), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(a1.presence->connectionCount(), 3, 10000);
    QCOMPARE(obs.lastSeen(u"alice"_s), 0);

    // Close one tab: its entry goes at once and lastSeen is stamped; the user is still online on two tabs.
    a1.db->goOffline();
    QTRY_COMPARE_WITH_TIMEOUT(obs.count(u"alice"_s), 2, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(obs.lastSeen(u"alice"_s) > 0, 10000);
    const qint64 firstLastSeen = obs.lastSeen(u"alice"_s);
    QTRY_COMPARE_WITH_TIMEOUT(a2.presence->connectionCount(), 2, 10000);

    // A blip on a2: the session resumes with the same key, so the count never moves and nothing is stamped.
    const QString a2Key = a2.presence->connectionKey();
    const qsizetype shownBefore = obs.aliceCounts.size();
    QSignalSpy a2Connected(a2.db.get(), &Database::connectedChanged);
    a2.proxy->blip();
    QTRY_COMPARE_WITH_TIMEOUT(a2Connected.size(), 2, 10000); // false, then true
    QTRY_VERIFY_WITH_TIMEOUT(a2.presence->isOnline(), 10000);
    QVERIFY(a2.db->lastConnectResumed());
    QCOMPARE(a2.presence->connectionKey(), a2Key);
    QCOMPARE(obs.count(u"alice"_s), 2);
    QVERIFY(obs.keys(u"alice"_s).contains(a2Key));
    for (qsizetype i = shownBefore; i < obs.aliceCounts.size(); ++i)
        QCOMPARE(obs.aliceCounts.at(i), 2);
    QCOMPARE(obs.lastSeen(u"alice"_s), firstLastSeen);

    // A silent drop on a3: after detection and grace its entry goes and lastSeen moves on.
    const QString a3Key = a3.presence->connectionKey();
    a3.proxy->setMode(LinkProxy::Mode::Blackhole);
    QTRY_COMPARE_WITH_TIMEOUT(obs.count(u"alice"_s), 1, 15000);
    QVERIFY(!obs.keys(u"alice"_s).contains(a3Key));
    QTRY_VERIFY_WITH_TIMEOUT(obs.lastSeen(u"alice"_s) > firstLastSeen, 10000);
    // When its network comes back the tab reconnects as a new session and restores a fresh entry.
    a3.proxy->setMode(LinkProxy::Mode::Pass);
    QTRY_COMPARE_WITH_TIMEOUT(obs.count(u"alice"_s), 2, 15000);
    QVERIFY(!obs.keys(u"alice"_s).contains(a3Key));
    QTRY_VERIFY_WITH_TIMEOUT(a3.presence->isOnline(), 10000);
    QVERIFY(a3.presence->connectionKey() != a3Key);

    // Bob was never touched.
    QCOMPARE(obs.count(u"bob"_s), 1);
    QCOMPARE(obs.lastSeen(u"bob"_s), 0);

    // Close the rest: alice goes to zero with lastSeen set, then bob.
    const qint64 beforeLastClose = obs.lastSeen(u"alice"_s);
    a2.db->goOffline();
    a3.db->goOffline();
    QTRY_COMPARE_WITH_TIMEOUT(obs.count(u"alice"_s), 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(obs.lastSeen(u"alice"_s) >= beforeLastClose, 10000);
    QCOMPARE(obs.count(u"bob"_s), 1);
    b1.db->goOffline();
    QTRY_COMPARE_WITH_TIMEOUT(obs.count(u"bob"_s), 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(obs.lastSeen(u"bob"_s) > 0, 10000);
    QCOMPARE(a1.presence->state(), Presence::State::Offline);
}

QTEST_GUILESS_MAIN(TstPresence)
#include "tst_presence.moc"
