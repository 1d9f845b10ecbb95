// SPDX-License-Identifier: MIT
// The C++ client SDK against the real server over loopback.

#include "testserver.h"

#include "client/adminfeed.h"
#include "client/database.h"
#include "netsim/linkproxy.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark::client;

namespace
{

/** Records every callback of a listener. */
struct Recorder {
    QList<std::pair<QJsonValue, QString>> events; // value, previous child key
    QList<QString> keys;
    EventCallback callback()
    {
        return [this](const DataSnapshot &s, const QString &prev) {
            events.append({s.value(), prev});
            keys.append(s.key());
        };
    }
};

/** Waits for a completion and returns its error. */
struct Done {
    bool called = false;
    Error error;
    Completion callback()
    {
        return [this](const Error &e) {
            called = true;
            error = e;
        };
    }
    bool wait(int ms = 10000)
    {
        return QTest::qWaitFor([this] { return called; }, ms);
    }
};

QUrl serverUrl(const lark::Server &server)
{
    return QUrl(server.url());
}

DatabaseOptions fastReconnect()
{
    DatabaseOptions o;
    o.minReconnectDelayMs = 50;
    o.maxReconnectDelayMs = 200;
    return o;
}

} // namespace

class TstClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void connectsAndExposesInfo();
    void writesCompleteAndListenersSeeThem();
    void childEventsInQueryOrder();
    void queriesAreFilteredByTheServer();
    void getFromServer();
    void refusedWriteIsRolledBackWithStatus();
    void transactionsFromTwoClientsRace();
    void transactionAbortsOnDisconnect();
    void offlineWritesAreSentInOrderAfterReconnect();
    void onDisconnectOpsCompleteAndFire();
    void backoffGrowsToTheCapAndResets();
    void pushIdsAreOrderedAndUnique();
    void adminFeed();
};

void TstClient::connectsAndExposesInfo()
{
    auto server = startTestServer();
    Database db(serverUrl(*server), u"test"_s);
    QSignalSpy connected(&db, &Database::connectedChanged);
    Recorder info;
    db.ref(u".info/connected"_s).on(Event::Value, info.callback());
    QTRY_VERIFY_WITH_TIMEOUT(db.isConnected(), 10000);
    QCOMPARE(connected.count(), 1);
    QCOMPARE(db.sessionId().size(), 22);
    QVERIFY(!db.lastConnectResumed());
    QVERIFY(std::abs(db.serverTimeOffset()) < 1000);
    QTRY_COMPARE_WITH_TIMEOUT(info.events.size(), 2, 5000); // false at start, then true after the hello
    QCOMPARE(info.events.at(0).first, QJsonValue(false));
    QCOMPARE(info.events.at(1).first, QJsonValue(true));
    db.goOffline();
    QCOMPARE(db.state(), Database::ConnectionState::Offline);
    QTRY_COMPARE_WITH_TIMEOUT(info.events.size(), 3, 5000);
    QCOMPARE(info.events.at(2).first, QJsonValue(false));
}

void TstClient::writesCompleteAndListenersSeeThem()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s), b(serverUrl(*server), u"test"_s);
    Recorder seen;
    b.ref(u"rooms/r1"_s).on(Event::Value, seen.callback());
    QTRY_VERIFY_WITH_TIMEOUT(!seen.events.isEmpty(), 10000);
    QCOMPARE(seen.events.constFirst().first, QJsonValue(QJsonValue::Null));

    Done set;
    a.ref(u"rooms/r1"_s).set(QJsonObject {{u"title"_s, u"hi"_s}, {u"at"_s, ServerValue::timestamp()}}, set.callback());
    QVERIFY(set.wait());
    QVERIFY(set.error.isOk());
    QTRY_VERIFY_WITH_TIMEOUT(seen.events.constLast().first.toObject().value(u"title"_s) == u"hi"_s, 10000);
    QVERIFY(seen.events.constLast().first.toObject().value(u"at"_s).toDouble() > 1.7e12);

    Done update;
    a.ref(u"rooms/r1"_s).update({{u"count"_s, ServerValue::increment(2)}, {u"meta/by"_s, u"a"_s}}, update.callback());
    QVERIFY(update.wait());
    QTRY_COMPARE_WITH_TIMEOUT(seen.events.constLast().first.toObject().value(u"count"_s).toDouble(), 2.0, 10000);
    QCOMPARE(seen.events.constLast().first.toObject().value(u"meta"_s).toObject().value(u"by"_s).toString(), u"a"_s);

    Done prio;
    a.ref(u"rooms/r1"_s).setPriority(5, prio.callback());
    QVERIFY(prio.wait());
    QVERIFY(prio.error.isOk());
    Done remove;
    a.ref(u"rooms/r1"_s).remove(remove.callback());
    QVERIFY(remove.wait());
    QTRY_VERIFY_WITH_TIMEOUT(seen.events.constLast().first.isNull(), 10000);
}

void TstClient::childEventsInQueryOrder()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s);
    QTRY_VERIFY_WITH_TIMEOUT(a.isConnected(), 10000);
    Recorder added, changed, removed;
    const Query q = a.ref(u"scores"_s).orderByChild(u"s"_s);
    q.on(Event::ChildAdded, added.callback());
    q.on(Event::ChildChanged, changed.callback());
    q.on(Event::ChildRemoved, removed.callback());
    Done d;
    a.ref(u"scores"_s)
        .set(QJsonObject {{u"x"_s, QJsonObject {{u"s"_s, 3}}}, {u"y"_s, QJsonObject {{u"s"_s, 1}}}}, d.callback());
    QVERIFY(d.wait());
    QTRY_COMPARE_WITH_TIMEOUT(added.keys, (QStringList {u"y"_s, u"x"_s}), 10000);
    QCOMPARE(added.events.at(1).second, u"y"_s); // x comes after y in score order
    a.ref(u"scores/y/s"_s).set(7);
    QTRY_COMPARE_WITH_TIMEOUT(changed.keys, (QStringList {u"y"_s}), 10000);
    a.ref(u"scores/x"_s).remove();
    QTRY_COMPARE_WITH_TIMEOUT(removed.keys, (QStringList {u"x"_s}), 10000);
}

void TstClient::queriesAreFilteredByTheServer()
{
    auto server = startTestServer();
    Database writer(serverUrl(*server), u"test"_s), reader(serverUrl(*server), u"test"_s);
    for (int i = 1; i <= 6; ++i)
        writer.ref(u"people/p%1"_s.arg(i)).set(QJsonObject {{u"age"_s, i * 10}, {u"name"_s, u"n%1"_s.arg(i)}});
    Done last;
    writer.ref(u"marker"_s).set(true, last.callback());
    QVERIFY(last.wait());
    QJsonValue window;
    QStringList order;
    reader.ref(u"people"_s)
        .orderByChild(u"age"_s)
        .startAt(20)
        .endBefore(60)
        .limitToLast(2)
        .on(Event::Value, [&](const DataSnapshot &s, const QString &) {
            window = s.value();
            order = s.childKeys();
        });
    QTRY_COMPARE_WITH_TIMEOUT(order, (QStringList {u"p4"_s, u"p5"_s}), 10000);
    // Data moving into the window is pushed by the server; data outside it never reaches the reader.
    writer.ref(u"people/p1/age"_s).set(55);
    QTRY_COMPARE_WITH_TIMEOUT(order, (QStringList {u"p5"_s, u"p1"_s}), 10000);
    QVERIFY(!window.toObject().contains(u"p2"_s));
    QStringList keyed;
    reader.ref(u"people"_s)
        .orderByKey()
        .startAfter(u"p2"_s)
        .limitToFirst(2)
        .on(Event::Value, [&](const DataSnapshot &s, const QString &) { keyed = s.childKeys(); });
    QTRY_COMPARE_WITH_TIMEOUT(keyed, (QStringList {u"p3"_s, u"p4"_s}), 10000);
    QStringList equal;
    reader.ref(u"people"_s)
        .orderByChild(u"name"_s)
        .equalTo(u"n3"_s)
        .on(Event::Value, [&](const DataSnapshot &s, const QString &) { equal = s.childKeys(); });
    QTRY_COMPARE_WITH_TIMEOUT(equal, (QStringList {u"p3"_s}), 10000);
}

void TstClient::getFromServer()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s), b(serverUrl(*server), u"test"_s);
    Done d;
    a.ref(u"g/v"_s).set(41, d.callback());
    QVERIFY(d.wait());
    bool got = false;
    QJsonValue value;
    b.ref(u"g"_s).get([&](const Error &e, const DataSnapshot &s) {
        QVERIFY(e.isOk());
        got = true;
        value = s.value();
    });
    QTRY_VERIFY_WITH_TIMEOUT(got, 10000);
    QCOMPARE(value, QJsonValue(QJsonObject {{u"v"_s, 41}}));
}

void TstClient::refusedWriteIsRolledBackWithStatus()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s);
    QTRY_VERIFY_WITH_TIMEOUT(a.isConnected(), 10000);
    Done bad;
    a.ref(u"x"_s).set(QJsonObject {{u"in valid"_s, QJsonObject {{u".sv"_s, u"nonsense"_s}}}}, bad.callback());
    QVERIFY(bad.wait());
    QCOMPARE(bad.error.status, u"invalid_request"_s);
    QVERIFY(!bad.error.message.isEmpty());
    Done info;
    a.ref(u".info/connected"_s).set(false, info.callback());
    QVERIFY(info.wait());
    QVERIFY(!info.error.isOk());
}

void TstClient::transactionsFromTwoClientsRace()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s), b(serverUrl(*server), u"test"_s);
    int committed = 0, failed = 0;
    for (Database *db : {&a, &b}) {
        for (int i = 0; i < 10; ++i) {
            db->ref(u"counter"_s)
                .transaction([](const QJsonValue &v) -> std::optional<QJsonValue> { return v.toDouble() + 1; },
                    [&](const Error &e, bool ok, const DataSnapshot &) { (ok && e.isOk()) ? ++committed : ++failed; });
        }
    }
    QTRY_COMPARE_WITH_TIMEOUT(committed + failed, 20, 30000);
    QCOMPARE(failed, 0);
    QJsonValue final;
    bool got = false;
    Database c(serverUrl(*server), u"test"_s);
    c.ref(u"counter"_s).get([&](const Error &, const DataSnapshot &s) {
        final = s.value();
        got = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(got, 10000);
    QCOMPARE(final.toDouble(), 20.0);
}

void TstClient::transactionAbortsOnDisconnect()
{
    auto server = startTestServer();
    lark::netsim::LinkProxy proxy(QHostAddress::LocalHost, server->port());
    QVERIFY(proxy.listen());
    Database a(QUrl(u"ws://127.0.0.1:%1"_s.arg(proxy.port())), u"test"_s, fastReconnect());
    QTRY_VERIFY_WITH_TIMEOUT(a.isConnected(), 10000);
    Recorder keep;
    a.ref(u"t"_s).on(Event::Value, keep.callback());
    QTRY_VERIFY_WITH_TIMEOUT(!keep.events.isEmpty(), 10000);
    proxy.setMode(lark::netsim::LinkProxy::Mode::Blackhole); // the write goes out and never comes back
    Error result;
    bool done = false;
    a.ref(u"t"_s).transaction([](const QJsonValue &) -> std::optional<QJsonValue> { return 1; },
        [&](const Error &e, bool, const DataSnapshot &) {
            result = e;
            done = true;
        });
    QTest::qWait(100);
    proxy.setMode(lark::netsim::LinkProxy::Mode::Reset);
    QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
    QCOMPARE(result.status, u"disconnect"_s);
}

void TstClient::offlineWritesAreSentInOrderAfterReconnect()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s, fastReconnect());
    QTRY_VERIFY_WITH_TIMEOUT(a.isConnected(), 10000);
    a.goOffline();
    QList<int> completed;
    Recorder local;
    a.ref(u"seq"_s).on(Event::Value, local.callback());
    for (int i = 0; i < 5; ++i)
        a.ref(u"seq"_s).set(i, [&completed, i](const Error &e) {
            if (e.isOk())
                completed.append(i);
        });
    a.ref(u"list"_s).push().set(u"queued while offline"_s);
    // Optimistic: the local listener sees the last write at once, before any server round trip.
    QTRY_VERIFY_WITH_TIMEOUT(!local.events.isEmpty() && local.events.constLast().first == QJsonValue(4), 5000);
    QVERIFY(completed.isEmpty());
    a.goOnline();
    QTRY_COMPARE_WITH_TIMEOUT(completed, (QList<int> {0, 1, 2, 3, 4}), 10000);
    Database b(serverUrl(*server), u"test"_s);
    bool got = false;
    QJsonValue v;
    b.ref(u""_s).get([&](const Error &, const DataSnapshot &s) {
        v = s.value();
        got = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(got, 10000);
    QCOMPARE(v.toObject().value(u"seq"_s).toDouble(), 4.0);
    QCOMPARE(v.toObject().value(u"list"_s).toObject().size(), 1);
}

void TstClient::onDisconnectOpsCompleteAndFire()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s), observer(serverUrl(*server), u"test"_s);
    Recorder seen;
    observer.ref(u"status"_s).on(Event::Value, seen.callback());
    QTRY_VERIFY_WITH_TIMEOUT(a.isConnected(), 10000);
    Done set, update, remove, cancel, scratch;
    a.ref(u"status/a"_s).onDisconnect().set(u"offline"_s, set.callback());
    a.ref(u"status/meta"_s).onDisconnect().update({{u"left"_s, ServerValue::timestamp()}}, update.callback());
    a.ref(u"status/tmp"_s).set(true);
    a.ref(u"status/tmp"_s).onDisconnect().remove(remove.callback());
    a.ref(u"status/scratch"_s).onDisconnect().set(u"never"_s, scratch.callback());
    a.ref(u"status/scratch"_s).onDisconnect().cancel(cancel.callback());
    for (Done *d : {&set, &update, &remove, &scratch, &cancel}) {
        QVERIFY(d->wait());
        QVERIFY(d->error.isOk());
    }
    QCOMPARE(server->sessions().constFirst()->queue().ops().size(), size_t(3));
    a.goOffline();
    QTRY_VERIFY_WITH_TIMEOUT(seen.events.constLast().first.toObject().value(u"a"_s) == u"offline"_s, 10000);
    const QJsonObject status = seen.events.constLast().first.toObject();
    QVERIFY(status.value(u"meta"_s).toObject().value(u"left"_s).toDouble() > 1.7e12);
    QVERIFY(!status.contains(u"tmp"_s));
    QVERIFY(!status.contains(u"scratch"_s));
}

void TstClient::backoffGrowsToTheCapAndResets()
{
    // Nothing listens on this port: every attempt fails at once, so the schedule is the backoff alone.
    QTcpServer placeholder;
    QVERIFY(placeholder.listen(QHostAddress::LocalHost));
    const quint16 port = placeholder.serverPort();
    placeholder.close();
    DatabaseOptions o;
    o.minReconnectDelayMs = 20;
    o.reconnectMultiplier = 2;
    o.maxReconnectDelayMs = 160;
    Database db(QUrl(u"ws://127.0.0.1:%1"_s.arg(port)), u"test"_s, o);
    QList<qint64> waits;
    connect(&db, &Database::stateChanged, &db, [&] {
        if (db.state() == Database::ConnectionState::WaitingToReconnect)
            waits.append(db.nextReconnectAt() - QDateTime::currentMSecsSinceEpoch());
    });
    QTRY_VERIFY_WITH_TIMEOUT(db.reconnectAttempt() >= 8, 10000);
    // Each wait is a random share of the current delay, which doubles up to the cap and never beyond.
    for (qint64 w : std::as_const(waits))
        QVERIFY2(w >= -5 && w <= 165, qPrintable(QString::number(w)));
    QVERIFY(db.state() != Database::ConnectionState::Connected);
    db.goOffline();
    QCOMPARE(db.state(), Database::ConnectionState::Offline);
    const int attempts = db.reconnectAttempt();
    QTest::qWait(300);
    QCOMPARE(db.reconnectAttempt(), attempts); // offline means no more attempts
}

void TstClient::pushIdsAreOrderedAndUnique()
{
    auto server = startTestServer();
    Database db(serverUrl(*server), u"test"_s);
    QStringList ids;
    for (int i = 0; i < 500; ++i)
        ids.append(db.ref(u"items"_s).push().key());
    QStringList sorted = ids;
    sorted.sort();
    QCOMPARE(ids, sorted);
    QCOMPARE(QSet<QString>(ids.begin(), ids.end()).size(), 500);
    QCOMPARE(ids.constFirst().size(), 20);
}

void TstClient::adminFeed()
{
    auto server = startTestServer();
    DatabaseOptions admin;
    admin.authToken = u"owner"_s;
    Database adminDb(serverUrl(*server), u"test"_s, admin);
    AdminFeed feed(&adminDb);
    QTRY_COMPARE_WITH_TIMEOUT(feed.sessions().size(), 1, 10000);
    Database user(serverUrl(*server), u"test"_s);
    user.ref(u"p/u"_s).onDisconnect().set(false);
    QTRY_VERIFY_WITH_TIMEOUT(
        feed.sessions().size() == 2 && feed.sessions().at(1).toObject().value(u"ops"_s).toArray().size() == 1, 10000);
    QSignalSpy ended(&feed, &AdminFeed::sessionEnded);
    user.goOffline();
    QTRY_COMPARE_WITH_TIMEOUT(ended.count(), 1, 10000);
    QCOMPARE(ended.at(0).at(0).toJsonObject().value(u"endReason"_s).toString(), u"clean close"_s);
    QCOMPARE(feed.sessions().size(), 1);
}

QTEST_GUILESS_MAIN(TstClient)
#include "tst_client.moc"
