// SPDX-License-Identifier: MIT
// The C++ client SDK's lifetime rules and error codes, against the real server over loopback: callbacks guarded by
// their context object, listeners owned by a Subscription, and an Error::Code for every status.

#include "clientwait.h"
#include "testserver.h"

#include "client/database.h"
#include "client/presence.h"
#include "server/sqlitebackend.h"
#include "server/store.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QMetaEnum>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

#include <memory>

using namespace Qt::Literals::StringLiterals;
using namespace lark::client;

namespace
{

/** Counts a listener's value events. */
struct Values {
    QList<QJsonValue> seen;
    EventCallback callback()
    {
        return [this](const DataSnapshot &s, const QString &) { seen.append(s.value()); };
    }
};

int listenCount(lark::Server &server)
{
    return server.database(u"test"_s)->listenCount();
}

} // namespace

class TstClientApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void completionsDoNotRunOnceTheirContextIsGone();
    void aListenerGoesWithItsContext();
    void aSubscriptionOutOfScopeStopsEventsAndUnlistens();
    void subscriptionsMoveAndCancel();
    void aSubscriptionMayOutliveItsDatabase();
    void nothingRunsOnceTheDatabaseIsGone();
    void errorCodesOfStatuses_data();
    void errorCodesOfStatuses();
    void everyCodeHasItsOwnStatus();
    void errorCodesFromTheServer();
    void anUnknownStatusIsKept();
};

void TstClientApi::completionsDoNotRunOnceTheirContextIsGone()
{
    auto server = startTestServer();
    Database db(serverUrl(*server), u"test"_s);
    QTRY_VERIFY_WITH_TIMEOUT(db.isConnected(), 10000);
    Done seeded;
    db.ref(u"seed"_s).set(1, this, seeded.callback());
    QVERIFY(seeded.wait());

    QStringList ran;
    auto context = std::make_unique<QObject>();
    const QObject *gone = context.get();
    const auto note = [&ran](const QString &what) { return [&ran, what](const Error &) { ran.append(what); }; };
    db.ref(u"a"_s).set(1, gone, note(u"set"_s));
    db.ref(u"b"_s).update({{u"x"_s, 1}}, gone, note(u"update"_s));
    db.ref(u"seed"_s).remove(gone, note(u"remove"_s));
    db.ref(u"c"_s).setPriority(2, gone, note(u"setPriority"_s));
    db.ref(u"d"_s).onDisconnect().set(true, gone, note(u"onDisconnect().set"_s));
    db.ref(u"d"_s).onDisconnect().cancel(gone, note(u"onDisconnect().cancel"_s));
    db.ref(u".info/x"_s).set(1, gone, note(u"refused locally"_s)); // answered from the event loop, not the server
    db.ref(u"a"_s).get(gone, [&ran](const Error &, const DataSnapshot &) { ran.append(u"get"_s); });
    db.ref(u"e"_s).transaction(
        gone,
        [&ran](const QJsonValue &) -> std::optional<QJsonValue> {
            ran.append(u"transaction update"_s);
            return 1;
        },
        [&ran](const Error &, bool, const DataSnapshot &) { ran.append(u"transaction done"_s); });
    db.sendExtension(u"lark.watch"_s, {}, gone, [&ran](const Error &, const QJsonValue &) { ran.append(u"ext"_s); });
    context.reset();

    // Replies come in request order, and the transaction's listen was asked for before this write: once it is
    // acknowledged, every request above has had its answer.
    Done last;
    db.ref(u"last"_s).set(true, this, last.callback());
    QVERIFY(last.wait());
    QVERIFY(last.error.isOk());
    QVERIFY2(ran.isEmpty(), qPrintable(ran.join(u", "_s)));
    // Only the callbacks were dropped: the writes themselves went through.
    lark::Database *data = server->database(u"test"_s);
    QCOMPARE(data->valueJson(lark::Path({u"a"_s})), QJsonValue(1));
    QCOMPARE(data->valueJson(lark::Path({u"b"_s, u"x"_s})), QJsonValue(1));
    QVERIFY(data->valueJson(lark::Path({u"seed"_s})).isNull());
    // A transaction whose context is gone writes nothing more.
    QVERIFY(data->valueJson(lark::Path({u"e"_s})).isNull());
}

void TstClientApi::aListenerGoesWithItsContext()
{
    auto server = startTestServer();
    Database db(serverUrl(*server), u"test"_s), writer(serverUrl(*server), u"test"_s);
    auto context = std::make_unique<QObject>();
    Values mine, witness;
    const Subscription listen = db.ref(u"room"_s).on(Event::Value, context.get(), mine.callback());
    const Subscription witnessListen = db.ref(u"room"_s).on(Event::Value, this, witness.callback());
    QTRY_VERIFY_WITH_TIMEOUT(mine.seen.size() == 1 && witness.seen.size() == 1, 10000);
    QVERIFY(listen.isActive());
    QCOMPARE(listenCount(*server), 1);

    context.reset();
    QVERIFY(!listen.isActive());
    Done written;
    writer.ref(u"room"_s).set(u"after"_s, this, written.callback());
    QVERIFY(written.wait());
    QTRY_COMPARE_WITH_TIMEOUT(witness.seen.size(), 2, 10000);
    QCOMPARE(mine.seen.size(), 1);
    // Another listener still wants the location: it stays listened to.
    QCOMPARE(listenCount(*server), 1);
}

void TstClientApi::aSubscriptionOutOfScopeStopsEventsAndUnlistens()
{
    auto server = startTestServer();
    Database db(serverUrl(*server), u"test"_s), writer(serverUrl(*server), u"test"_s);
    Values outer, inner;
    Subscription kept = db.ref(u"room"_s).on(Event::Value, this, outer.callback());
    {
        const Subscription scoped = db.ref(u"room"_s).on(Event::Value, this, inner.callback());
        QTRY_VERIFY_WITH_TIMEOUT(outer.seen.size() == 1 && inner.seen.size() == 1, 10000);
        QVERIFY(scoped.isActive());
    }
    Done first;
    writer.ref(u"room"_s).set(1, this, first.callback());
    QVERIFY(first.wait());
    QTRY_COMPARE_WITH_TIMEOUT(outer.seen.size(), 2, 10000);
    QCOMPARE(inner.seen.size(), 1);
    QCOMPARE(listenCount(*server), 1); // not the last listener: no unlisten

    { // the last listener of the location: its going unlistens
        const Subscription last = std::move(kept);
    }
    QTRY_COMPARE_WITH_TIMEOUT(listenCount(*server), 0, 10000);
    Done second;
    writer.ref(u"room"_s).set(2, this, second.callback());
    QVERIFY(second.wait());
    // A round trip of db's own: a push of the write, had there been one, would have come before its answer.
    bool got = false;
    db.ref(u"elsewhere"_s).get(this, [&got](const Error &, const DataSnapshot &) { got = true; });
    QTRY_VERIFY_WITH_TIMEOUT(got, 10000);
    QCOMPARE(outer.seen.size(), 2);
}

void TstClientApi::subscriptionsMoveAndCancel()
{
    auto server = startTestServer();
    Database db(serverUrl(*server), u"test"_s);
    Values a, b;
    Subscription s = db.ref(u"a"_s).on(Event::Value, this, a.callback());
    QTRY_COMPARE_WITH_TIMEOUT(listenCount(*server), 1, 10000);
    Subscription moved(std::move(s));
    QVERIFY(!s.isActive()); // a moved-from subscription is empty
    QVERIFY(moved.isActive());
    s.cancel(); // does nothing
    QVERIFY(moved.isActive());

    // Assigning replaces: the listener it had is removed.
    moved = db.ref(u"b"_s).on(Event::Value, this, b.callback());
    QTRY_VERIFY_WITH_TIMEOUT(!b.seen.isEmpty(), 10000);
    QCOMPARE(listenCount(*server), 1); // b's data came after the server took a's unlisten, sent before it
    QVERIFY(moved.isActive());
    moved.cancel();
    QVERIFY(!moved.isActive());
    QTRY_COMPARE_WITH_TIMEOUT(listenCount(*server), 0, 10000);
    moved.cancel(); // twice is fine

    const Subscription none;
    QVERIFY(!none.isActive());
}

void TstClientApi::aSubscriptionMayOutliveItsDatabase()
{
    auto server = startTestServer();
    Values seen;
    Subscription outlives;
    auto db = std::make_unique<Database>(serverUrl(*server), u"test"_s);
    outlives = db->ref(u"x"_s).on(Event::Value, this, seen.callback());
    // Presence unregisters its listeners when it goes, after its database here.
    auto presence = std::make_unique<Presence>(db.get(), u"alice"_s);
    QTRY_VERIFY_WITH_TIMEOUT(!seen.seen.isEmpty() && presence->isOnline(), 10000);
    QVERIFY(outlives.isActive());
    db.reset();
    QVERIFY(!outlives.isActive());
    outlives.cancel();
    presence.reset();
}

void TstClientApi::nothingRunsOnceTheDatabaseIsGone()
{
    auto server = startTestServer();
    auto db = std::make_unique<Database>(serverUrl(*server), u"test"_s);
    QTRY_VERIFY_WITH_TIMEOUT(db->isConnected(), 10000);
    // Every callback holds a token: once all tokens are released, no callback is left that could still run.
    std::weak_ptr<int> watch;
    bool ran = false;
    Subscription listen;
    {
        const auto token = std::make_shared<int>(0);
        watch = token;
        const auto completion = [token, &ran](const Error &) { ran = true; };
        db->ref(u"a"_s).set(1, this, completion);
        db->ref(u".info/x"_s).set(1, this, completion);
        db->ref(u"a"_s).onDisconnect().set(2, this, completion);
        db->ref(u"a"_s).get(this, [token, &ran](const Error &, const DataSnapshot &) { ran = true; });
        db->ref(u"t"_s).transaction(
            this, [token](const QJsonValue &) -> std::optional<QJsonValue> { return 1; },
            [token, &ran](const Error &, bool, const DataSnapshot &) { ran = true; });
        listen = db->ref(u"a"_s).on(
            Event::Value, this, [token, &ran](const DataSnapshot &, const QString &) { ran = true; });
        db->sendExtension(u"lark.watch"_s, {}, this, [token, &ran](const Error &, const QJsonValue &) { ran = true; });
    }
    QVERIFY(!watch.expired());
    db.reset();
    // Local answers wait in the event loop with the database as their receiver; they go with it too.
    QTRY_VERIFY_WITH_TIMEOUT(watch.expired(), 5000);
    QVERIFY(!ran);
}

void TstClientApi::errorCodesOfStatuses_data()
{
    QTest::addColumn<QString>("status");
    QTest::addColumn<Error::Code>("code");
    QTest::addColumn<QString>("name");
    QTest::newRow("ok") << u"ok"_s << Error::Code::Ok << u"Ok"_s;
    QTest::newRow("permission_denied") << u"permission_denied"_s << Error::Code::PermissionDenied
                                       << u"PermissionDenied"_s;
    QTest::newRow("invalid_request") << u"invalid_request"_s << Error::Code::InvalidRequest << u"InvalidRequest"_s;
    QTest::newRow("datastale") << u"datastale"_s << Error::Code::DataStale << u"DataStale"_s;
    QTest::newRow("write_failed") << u"write_failed"_s << Error::Code::WriteFailed << u"WriteFailed"_s;
    QTest::newRow("too_many_ops") << u"too_many_ops"_s << Error::Code::TooManyOps << u"TooManyOps"_s;
    QTest::newRow("too_many_listens") << u"too_many_listens"_s << Error::Code::TooManyListens << u"TooManyListens"_s;
    QTest::newRow("invalid_token") << u"invalid_token"_s << Error::Code::InvalidToken << u"InvalidToken"_s;
    QTest::newRow("expired_token") << u"expired_token"_s << Error::Code::ExpiredToken << u"ExpiredToken"_s;
    QTest::newRow("unavailable") << u"unavailable"_s << Error::Code::Unavailable << u"Unavailable"_s;
    QTest::newRow("disconnect") << u"disconnect"_s << Error::Code::Disconnected << u"Disconnected"_s;
    QTest::newRow("maxretry") << u"maxretry"_s << Error::Code::MaxRetries << u"MaxRetries"_s;
    QTest::newRow("a newer server's") << u"overloaded"_s << Error::Code::Unknown << u"Unknown"_s;
    QTest::newRow("none at all") << QString() << Error::Code::Unknown << u"Unknown"_s;
    QTest::newRow("case matters") << u"PERMISSION_DENIED"_s << Error::Code::Unknown << u"Unknown"_s;
}

void TstClientApi::errorCodesOfStatuses()
{
    QFETCH(QString, status);
    QFETCH(Error::Code, code);
    QFETCH(QString, name);
    const Error e = Error::fromStatus(status, u"why"_s);
    QCOMPARE(e.code(), code);
    QCOMPARE(e.isOk(), code == Error::Code::Ok);
    QCOMPARE(e.status(), status); // as received, known or not
    QCOMPARE(e.message(), u"why"_s);
    if (!e.isOk())
        QCOMPARE(e.toString(), status.toUpper() + u": why"_s);
    QCOMPARE(QString::fromLatin1(QMetaEnum::fromType<Error::Code>().valueToKey(int(code))), name);
    QString debug;
    QDebug(&debug) << e;
    QVERIFY2(debug.contains(name), qPrintable(debug));
    // Readable as a gadget, as QML reads it.
    const QMetaObject &meta = Error::staticMetaObject;
    const QVariant read = meta.property(meta.indexOfProperty("code")).readOnGadget(&e);
    QCOMPARE(read.value<Error::Code>(), code);
}

void TstClientApi::everyCodeHasItsOwnStatus()
{
    const QMetaEnum codes = QMetaEnum::fromType<Error::Code>();
    QSet<QString> statuses;
    for (int i = 0; i < codes.keyCount(); ++i) {
        const auto code = Error::Code(codes.value(i));
        const QString status = Error::statusOf(code);
        QVERIFY2(!status.isEmpty(), codes.key(i));
        QVERIFY2(!statuses.contains(status), codes.key(i));
        statuses.insert(status);
        QCOMPARE(Error::codeOf(status), code);
        const Error made(code, u"m"_s);
        QCOMPARE(made.code(), code);
        QCOMPARE(made.status(), status);
    }
    QVERIFY(Error().isOk());
    QCOMPARE(Error().status(), u"ok"_s);
}

void TstClientApi::errorCodesFromTheServer()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    lark::ServerConfig config;
    config.port = 0;
    config.dataFile = dir.filePath(u"data.lark"_s);
    config.maxListensPerConnection = 1;
    config.maxOpsPerSession = 1;
    auto server = startConfiguredServer(config);
    Database db(serverUrl(*server), u"test"_s);

    // Not the admin: lark.watch is refused.
    Error watch;
    bool watched = false;
    db.sendExtension(u"lark.watch"_s, {}, this, [&](const Error &e, const QJsonValue &) {
        watch = e;
        watched = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(watched, 10000);
    QCOMPARE(watch.code(), Error::Code::PermissionDenied);

    Error unknown;
    bool answered = false;
    db.sendExtension(u"lark.nonsense"_s, {}, this, [&](const Error &e, const QJsonValue &) {
        unknown = e;
        answered = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(answered, 10000);
    QCOMPARE(unknown.code(), Error::Code::InvalidRequest);

    // One listen per connection: the second is refused, and its subscription is over.
    Values first, second;
    Error refused;
    const Subscription one = db.ref(u"one"_s).on(Event::Value, this, first.callback());
    const Subscription two
        = db.ref(u"two"_s).on(Event::Value, this, second.callback(), [&refused](const Error &e) { refused = e; });
    QTRY_COMPARE_WITH_TIMEOUT(refused.code(), Error::Code::TooManyListens, 10000);
    QVERIFY(one.isActive());
    QVERIFY(!two.isActive());

    // One queued op per session.
    Done op1, op2;
    db.ref(u"p"_s).onDisconnect().set(1, this, op1.callback());
    db.ref(u"q"_s).onDisconnect().set(1, this, op2.callback());
    QVERIFY(op1.wait() && op2.wait());
    QVERIFY(op1.error.isOk());
    QCOMPARE(op2.error.code(), Error::Code::TooManyOps);

    DatabaseOptions bad;
    bad.authToken = u"not.a-token.at-all"_s;
    Database mallory(serverUrl(*server), u"test"_s, bad);
    QSignalSpy refusedAuth(&mallory, &Database::authFailed);
    QTRY_COMPARE_WITH_TIMEOUT(refusedAuth.size(), 1, 10000);
    QCOMPARE(refusedAuth.at(0).at(0).value<Error>().code(), Error::Code::InvalidToken);

    // Last: from now on the server refuses every write.
    lark::sqliteStore(server->backend())->setCommitFailureForTesting(u"disk full"_s);
    Done write;
    db.ref(u"w"_s).set(1, this, write.callback());
    QVERIFY(write.wait());
    QCOMPARE(write.error.code(), Error::Code::WriteFailed);
}

void TstClientApi::anUnknownStatusIsKept()
{
    // A server with a status this SDK has no code for: it is Unknown, and the status is kept as sent.
    QWebSocketServer fake(u"fake"_s, QWebSocketServer::NonSecureMode);
    QVERIFY(fake.listen(QHostAddress::LocalHost));
    std::unique_ptr<QWebSocket> peer;
    connect(&fake, &QWebSocketServer::newConnection, &fake, [&] {
        peer.reset(fake.nextPendingConnection());
        connect(peer.get(), &QWebSocket::textMessageReceived, peer.get(), [&](const QString &message) {
            const QJsonObject d = QJsonDocument::fromJson(message.toUtf8()).object().value(u"d"_s).toObject();
            const QJsonObject reply {{u"t"_s, u"d"_s},
                {u"d"_s,
                    QJsonObject {{u"r"_s, d.value(u"r"_s)},
                        {u"b"_s, QJsonObject {{u"s"_s, u"brand_new"_s}, {u"d"_s, u"not yet"_s}}}}}};
            peer->sendTextMessage(QString::fromUtf8(QJsonDocument(reply).toJson(QJsonDocument::Compact)));
        });
        peer->sendTextMessage(u"{\"t\":\"c\",\"d\":{\"t\":\"h\",\"d\":{\"v\":\"5\",\"h\":\"x\",\"s\":\"S\"}}}"_s);
    });
    Database db(QUrl(u"ws://127.0.0.1:%1"_s.arg(fake.serverPort())), u"test"_s);
    QTRY_VERIFY_WITH_TIMEOUT(db.isConnected(), 10000);
    Done done;
    db.ref(u"x"_s).set(1, this, done.callback());
    QVERIFY(done.wait());
    QCOMPARE(done.error.code(), Error::Code::Unknown);
    QCOMPARE(done.error.status(), u"brand_new"_s);
    QCOMPARE(done.error.message(), u"not yet"_s);
    QCOMPARE(done.error.toString(), u"BRAND_NEW: not yet"_s);
}

QTEST_GUILESS_MAIN(TstClientApi)
#include "tst_clientapi.moc"
