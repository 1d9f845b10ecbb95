// SPDX-License-Identifier: MIT
// The C++ client SDK against the real server over loopback.

#include "clientwait.h"
#include "testserver.h"

#include "client/adminfeed.h"
#include "client/database.h"
#include "netsim/linkproxy.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

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
    void authTokens();
    void listensResumeWithHashes();
    void writesInFlightAreResentAfterADrop();
    void prioritiesAndMoves();
    void serverTimeOffsetAndOfflineGet();
    void outOfRangeNumbersFromAServer();
};

void TstClient::connectsAndExposesInfo()
{
    auto server = startTestServer();
    Database db(serverUrl(*server), u"test"_s);
    QSignalSpy connected(&db, &Database::connectedChanged);
    Recorder info;
    const Subscription infoListen = db.ref(u".info/connected"_s).on(Event::Value, this, info.callback());
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
    const Subscription seenListen = b.ref(u"rooms/r1"_s).on(Event::Value, this, seen.callback());
    QTRY_VERIFY_WITH_TIMEOUT(!seen.events.isEmpty(), 10000);
    QCOMPARE(seen.events.constFirst().first, QJsonValue(QJsonValue::Null));

    Done set;
    a.ref(u"rooms/r1"_s)
        .set(QJsonObject {{u"title"_s, u"hi"_s}, {u"at"_s, ServerValue::timestamp()}}, this, set.callback());
    QVERIFY(set.wait());
    QVERIFY(set.error.isOk());
    QTRY_VERIFY_WITH_TIMEOUT(seen.events.constLast().first.toObject().value(u"title"_s) == u"hi"_s, 10000);
    QVERIFY(seen.events.constLast().first.toObject().value(u"at"_s).toDouble() > 1.7e12);

    Done update;
    a.ref(u"rooms/r1"_s)
        .update({{u"count"_s, ServerValue::increment(2)}, {u"meta/by"_s, u"a"_s}}, this, update.callback());
    QVERIFY(update.wait());
    QTRY_COMPARE_WITH_TIMEOUT(seen.events.constLast().first.toObject().value(u"count"_s).toDouble(), 2.0, 10000);
    QCOMPARE(seen.events.constLast().first.toObject().value(u"meta"_s).toObject().value(u"by"_s).toString(), u"a"_s);

    Done prio;
    a.ref(u"rooms/r1"_s).setPriority(5, this, prio.callback());
    QVERIFY(prio.wait());
    QVERIFY(prio.error.isOk());
    Done remove;
    a.ref(u"rooms/r1"_s).remove(this, remove.callback());
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
    const Subscription addedListen = q.on(Event::ChildAdded, this, added.callback());
    const Subscription changedListen = q.on(Event::ChildChanged, this, changed.callback());
    const Subscription removedListen = q.on(Event::ChildRemoved, this, removed.callback());
    Done d;
    a.ref(u"scores"_s)
        .set(
            QJsonObject {{u"x"_s, QJsonObject {{u"s"_s, 3}}}, {u"y"_s, QJsonObject {{u"s"_s, 1}}}}, this, d.callback());
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
    writer.ref(u"marker"_s).set(true, this, last.callback());
    QVERIFY(last.wait());
    QJsonValue window;
    QStringList order;
    const Subscription windowListen = reader.ref(u"people"_s)
                                          .orderByChild(u"age"_s)
                                          .startAt(20)
                                          .endBefore(60)
                                          .limitToLast(2)
                                          .on(Event::Value, this, [&](const DataSnapshot &s, const QString &) {
                                              window = s.value();
                                              order = s.childKeys();
                                          });
    QTRY_COMPARE_WITH_TIMEOUT(order, (QStringList {u"p4"_s, u"p5"_s}), 10000);
    // Data moving into the window is pushed by the server; data outside it never reaches the reader.
    writer.ref(u"people/p1/age"_s).set(55);
    QTRY_COMPARE_WITH_TIMEOUT(order, (QStringList {u"p5"_s, u"p1"_s}), 10000);
    QVERIFY(!window.toObject().contains(u"p2"_s));
    QStringList keyed;
    const Subscription keyedListen
        = reader.ref(u"people"_s)
              .orderByKey()
              .startAfter(u"p2"_s)
              .limitToFirst(2)
              .on(Event::Value, this, [&](const DataSnapshot &s, const QString &) { keyed = s.childKeys(); });
    QTRY_COMPARE_WITH_TIMEOUT(keyed, (QStringList {u"p3"_s, u"p4"_s}), 10000);
    QStringList equal;
    const Subscription equalListen
        = reader.ref(u"people"_s)
              .orderByChild(u"name"_s)
              .equalTo(u"n3"_s)
              .on(Event::Value, this, [&](const DataSnapshot &s, const QString &) { equal = s.childKeys(); });
    QTRY_COMPARE_WITH_TIMEOUT(equal, (QStringList {u"p3"_s}), 10000);
}

void TstClient::getFromServer()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s), b(serverUrl(*server), u"test"_s);
    Done d;
    a.ref(u"g/v"_s).set(41, this, d.callback());
    QVERIFY(d.wait());
    bool got = false;
    QJsonValue value;
    b.ref(u"g"_s).get(this, [&](const Error &e, const DataSnapshot &s) {
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
    a.ref(u"x"_s).set(QJsonObject {{u"in valid"_s, QJsonObject {{u".sv"_s, u"nonsense"_s}}}}, this, bad.callback());
    QVERIFY(bad.wait());
    QCOMPARE(bad.error.code(), Error::Code::InvalidRequest);
    QCOMPARE(bad.error.status(), u"invalid_request"_s);
    QVERIFY(!bad.error.message().isEmpty());
    Done info;
    a.ref(u".info/connected"_s).set(false, this, info.callback());
    QVERIFY(info.wait());
    QCOMPARE(info.error.code(), Error::Code::InvalidRequest); // the SDK's own check: .info is read-only
}

void TstClient::transactionsFromTwoClientsRace()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s), b(serverUrl(*server), u"test"_s);
    int committed = 0, failed = 0;
    for (Database *db : {&a, &b}) {
        for (int i = 0; i < 10; ++i) {
            db->ref(u"counter"_s)
                .transaction(
                    this, [](const QJsonValue &v) -> std::optional<QJsonValue> { return v.toDouble() + 1; },
                    [&](const Error &e, bool ok, const DataSnapshot &) { (ok && e.isOk()) ? ++committed : ++failed; });
        }
    }
    QTRY_COMPARE_WITH_TIMEOUT(committed + failed, 20, 30000);
    QCOMPARE(failed, 0);
    QJsonValue final;
    bool got = false;
    Database c(serverUrl(*server), u"test"_s);
    c.ref(u"counter"_s).get(this, [&](const Error &, const DataSnapshot &s) {
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
    const Subscription keepListen = a.ref(u"t"_s).on(Event::Value, this, keep.callback());
    QTRY_VERIFY_WITH_TIMEOUT(!keep.events.isEmpty(), 10000);
    proxy.setMode(lark::netsim::LinkProxy::Mode::Blackhole); // the write goes out and never comes back
    Error result;
    bool updated = false, done = false;
    a.ref(u"t"_s).transaction(
        this,
        [&updated](const QJsonValue &) -> std::optional<QJsonValue> {
            updated = true;
            return 1;
        },
        [&](const Error &e, bool, const DataSnapshot &) {
            result = e;
            done = true;
        });
    // The SDK sends the write right after update returns (the value is cached): from then on it is in flight.
    QTRY_VERIFY_WITH_TIMEOUT(updated, 10000);
    QVERIFY(!done);
    proxy.setMode(lark::netsim::LinkProxy::Mode::Reset);
    QTRY_VERIFY_WITH_TIMEOUT(done, 10000);
    QCOMPARE(result.code(), Error::Code::Disconnected);
    QCOMPARE(result.status(), u"disconnect"_s);
}

void TstClient::offlineWritesAreSentInOrderAfterReconnect()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s, fastReconnect());
    QTRY_VERIFY_WITH_TIMEOUT(a.isConnected(), 10000);
    a.goOffline();
    QList<int> completed;
    Recorder local;
    const Subscription localListen = a.ref(u"seq"_s).on(Event::Value, this, local.callback());
    for (int i = 0; i < 5; ++i)
        a.ref(u"seq"_s).set(i, this, [&completed, i](const Error &e) {
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
    b.ref(u""_s).get(this, [&](const Error &, const DataSnapshot &s) {
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
    const Subscription seenListen = observer.ref(u"status"_s).on(Event::Value, this, seen.callback());
    QTRY_VERIFY_WITH_TIMEOUT(a.isConnected(), 10000);
    Done set, update, remove, cancel, scratch;
    a.ref(u"status/a"_s).onDisconnect().set(u"offline"_s, this, set.callback());
    a.ref(u"status/meta"_s).onDisconnect().update({{u"left"_s, ServerValue::timestamp()}}, this, update.callback());
    a.ref(u"status/tmp"_s).set(true);
    a.ref(u"status/tmp"_s).onDisconnect().remove(this, remove.callback());
    a.ref(u"status/scratch"_s).onDisconnect().set(u"never"_s, this, scratch.callback());
    a.ref(u"status/scratch"_s).onDisconnect().cancel(this, cancel.callback());
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

namespace
{

/** An unsigned, emulator-style JWT (what the JS SDK builds from mockUserToken). */
QString mockToken(const QString &uid)
{
    const auto part = [](const QJsonObject &o) {
        return QString::fromLatin1(QJsonDocument(o)
                                       .toJson(QJsonDocument::Compact)
                                       .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    };
    return part({{u"alg"_s, u"none"_s}, {u"type"_s, u"JWT"_s}}) + u'.'
        + part({{u"sub"_s, uid}, {u"user_id"_s, uid}, {u"iat"_s, 0}, {u"exp"_s, 4102444800.0}}) + u'.';
}

} // namespace

void TstClient::authTokens()
{
    auto server = startTestServer();
    DatabaseOptions user;
    user.authToken = mockToken(u"alice"_s);
    Database alice(serverUrl(*server), u"test"_s, user);
    QSignalSpy refused(&alice, &Database::authFailed);
    QTRY_VERIFY_WITH_TIMEOUT(alice.isConnected(), 10000);
    auto identityOf = [&](const QString &sessionId) -> lark::Identity {
        for (const lark::Session *s : server->sessions()) {
            if (s->id() == sessionId)
                return s->identity();
        }
        return {};
    };
    QTRY_COMPARE_WITH_TIMEOUT(identityOf(alice.sessionId()).uid, u"alice"_s, 10000);
    QCOMPARE(identityOf(alice.sessionId()).kind, lark::Identity::Kind::User);

    // A new token applies at once and after every reconnect.
    alice.setAuthToken(u"owner"_s);
    QTRY_VERIFY_WITH_TIMEOUT(identityOf(alice.sessionId()).isAdmin(), 10000);
    QCOMPARE(refused.size(), 0);

    DatabaseOptions bad;
    bad.authToken = u"not.a-token.at-all"_s;
    Database mallory(serverUrl(*server), u"test"_s, bad);
    QSignalSpy malloryRefused(&mallory, &Database::authFailed);
    QTRY_COMPARE_WITH_TIMEOUT(malloryRefused.size(), 1, 10000);
    QVERIFY(!malloryRefused.at(0).at(0).value<Error>().isOk());
}

void TstClient::listensResumeWithHashes()
{
    auto server = startTestServer(50, 400, 5000);
    lark::netsim::LinkProxy proxy(QHostAddress::LocalHost, server->port());
    QVERIFY(proxy.listen());
    Database writer(serverUrl(*server), u"test"_s);
    Done seeded;
    writer.ref(u"big"_s).set(QString(50000, u'x'), this, seeded.callback());
    QVERIFY(seeded.wait());
    Database reader(QUrl(u"ws://127.0.0.1:%1"_s.arg(proxy.port())), u"test"_s, fastReconnect());
    Recorder big, small;
    const Subscription bigListen = reader.ref(u"big"_s).on(Event::Value, this, big.callback());
    const Subscription smallListen = reader.ref(u"small"_s).on(Event::Value, this, small.callback());
    QTRY_VERIFY_WITH_TIMEOUT(big.events.size() == 1 && small.events.size() == 1, 10000);

    proxy.setMode(lark::netsim::LinkProxy::Mode::Blackhole);
    Done changed;
    writer.ref(u"small"_s).set(u"changed while the reader was away"_s, this, changed.callback());
    QVERIFY(changed.wait());
    proxy.setMode(lark::netsim::LinkProxy::Mode::Pass);
    const qint64 downBefore = proxy.bytesDown();
    proxy.blip();
    QTRY_VERIFY_WITH_TIMEOUT(reader.isConnected() && reader.lastConnectResumed(), 10000);
    // The change made meanwhile arrives; the unchanged 50 KB value is not sent again, thanks to its hash.
    QTRY_COMPARE_WITH_TIMEOUT(small.events.size(), 2, 10000);
    QCOMPARE(small.events.constLast().first, QJsonValue(u"changed while the reader was away"_s));
    QCOMPARE(big.events.size(), 1);
    QVERIFY2(proxy.bytesDown() - downBefore < 5000, qPrintable(QString::number(proxy.bytesDown() - downBefore)));
}

void TstClient::writesInFlightAreResentAfterADrop()
{
    auto server = startTestServer(50, 400, 5000);
    lark::netsim::LinkProxy proxy(QHostAddress::LocalHost, server->port());
    QVERIFY(proxy.listen());
    Database a(QUrl(u"ws://127.0.0.1:%1"_s.arg(proxy.port())), u"test"_s, fastReconnect());
    QTRY_VERIFY_WITH_TIMEOUT(a.isConnected(), 10000);
    proxy.setMode(lark::netsim::LinkProxy::Mode::Blackhole); // sent, never delivered, never acknowledged
    QList<int> completed;
    for (int i = 0; i < 5; ++i)
        a.ref(u"log"_s).child(QString::number(i)).set(i, this, [&completed, i](const Error &e) {
            if (e.isOk())
                completed.append(i);
        });
    a.ref(u"last"_s).set(u"written last"_s);
    QTRY_VERIFY_WITH_TIMEOUT(proxy.bytesDropped() > 0, 10000);
    QVERIFY(completed.isEmpty());
    proxy.setMode(lark::netsim::LinkProxy::Mode::Pass);
    proxy.blip();
    QTRY_COMPARE_WITH_TIMEOUT(completed, (QList<int> {0, 1, 2, 3, 4}), 10000);
    Database b(serverUrl(*server), u"test"_s);
    QJsonValue v;
    bool got = false;
    b.ref().get(this, [&](const Error &, const DataSnapshot &s) {
        v = s.value();
        got = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(got, 10000);
    QCOMPARE(v.toObject().value(u"log"_s).toObject().size(), 5);
    QCOMPARE(v.toObject().value(u"last"_s), QJsonValue(u"written last"_s));
}

void TstClient::prioritiesAndMoves()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s), b(serverUrl(*server), u"test"_s);
    Recorder moved;
    QStringList order;
    const Query byPriority = b.ref(u"tasks"_s).orderByPriority();
    const Subscription movedListen = byPriority.on(Event::ChildMoved, this, moved.callback());
    const Subscription orderListen
        = byPriority.on(Event::Value, this, [&](const DataSnapshot &s, const QString &) { order = s.childKeys(); });
    Done d1, d2;
    a.ref(u"tasks/t1"_s).setWithPriority(u"first"_s, 1, this, d1.callback());
    a.ref(u"tasks/t2"_s).setWithPriority(u"second"_s, 2, this, d2.callback());
    QVERIFY(d1.wait() && d2.wait());
    QTRY_COMPARE_WITH_TIMEOUT(order, (QStringList {u"t1"_s, u"t2"_s}), 10000);
    Done p;
    a.ref(u"tasks/t1"_s).setPriority(3, this, p.callback());
    QVERIFY(p.wait());
    QVERIFY(p.error.isOk());
    QTRY_COMPARE_WITH_TIMEOUT(order, (QStringList {u"t2"_s, u"t1"_s}), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(moved.keys, (QStringList {u"t1"_s}), 10000);
    QCOMPARE(moved.events.constFirst().second, u"t2"_s); // now after t2
    QJsonValue priority;
    bool got = false;
    b.ref(u"tasks/t1"_s).get(this, [&](const Error &, const DataSnapshot &s) {
        priority = s.priority();
        got = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(got, 10000);
    QCOMPARE(priority, QJsonValue(3));
}

void TstClient::serverTimeOffsetAndOfflineGet()
{
    auto server = startTestServer();
    Database a(serverUrl(*server), u"test"_s);
    Recorder offset;
    const Subscription offsetListen = a.ref(u".info/serverTimeOffset"_s).on(Event::Value, this, offset.callback());
    QTRY_VERIFY_WITH_TIMEOUT(a.isConnected() && !offset.events.isEmpty(), 10000);
    QCOMPARE(offset.events.constLast().first.toDouble(), double(a.serverTimeOffset()));
    // Same machine, same clock: the offset is the hello's transit time, far below a second.
    QVERIFY(std::abs(a.serverTimeOffset()) < 1000);

    Recorder cached;
    const Subscription cachedListen = a.ref(u"conf"_s).on(Event::Value, this, cached.callback());
    Done set;
    a.ref(u"conf"_s).set(QJsonObject {{u"theme"_s, u"dark"_s}}, this, set.callback());
    QVERIFY(set.wait());
    a.goOffline();
    // Offline, get() answers from the complete local cache of a location that is listened to.
    QJsonValue v;
    bool got = false;
    a.ref(u"conf"_s).get(this, [&](const Error &e, const DataSnapshot &s) {
        QVERIFY(e.isOk());
        v = s.value();
        got = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(got, 10000);
    QCOMPARE(v, QJsonValue(QJsonObject {{u"theme"_s, u"dark"_s}}));
}

void TstClient::outOfRangeNumbersFromAServer()
{
    // Another server (or a broken one) may send numbers no qint64 holds: the client must neither cast them (undefined
    // behaviour) nor take them for real values.
    QWebSocketServer fake(u"fake"_s, QWebSocketServer::NonSecureMode);
    QVERIFY(fake.listen(QHostAddress::LocalHost));
    std::unique_ptr<QWebSocket> peer;
    connect(&fake, &QWebSocketServer::newConnection, &fake, [&] {
        peer.reset(fake.nextPendingConnection());
        // A reply and a push first, so both have been read (and matched nothing of ours) once the hello is.
        peer->sendTextMessage(u"{\"t\":\"d\",\"d\":{\"r\":1e20,\"b\":{\"s\":\"ok\",\"d\":\"\"}}}"_s);
        peer->sendTextMessage(u"{\"t\":\"d\",\"d\":{\"a\":\"d\",\"b\":{\"p\":\"/x\",\"d\":1,\"t\":1e300}}}"_s);
        peer->sendTextMessage(
            u"{\"t\":\"c\",\"d\":{\"t\":\"h\",\"d\":{\"ts\":1e300,\"v\":\"5\",\"h\":\"x\",\"s\":\"S\"}}}"_s);
    });
    Database db(QUrl(u"ws://127.0.0.1:%1"_s.arg(fake.serverPort())), u"test"_s);
    QTRY_VERIFY_WITH_TIMEOUT(db.isConnected(), 10000);
    // An unusable server time gives no offset, not one of -2^63 ms.
    QVERIFY2(std::abs(db.serverTimeOffset()) < 60000, qPrintable(QString::number(db.serverTimeOffset())));
}

QTEST_GUILESS_MAIN(TstClient)
#include "tst_client.moc"
