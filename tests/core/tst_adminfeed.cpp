// SPDX-License-Identifier: MIT
// lark::AdminFeed: lark.watch is for the admin only and starts from a snapshot of every session; changes, fired ops
// and ended sessions reach the watchers and the signals in order; nothing is described when nobody consumes it. On
// sessions of a SessionRegistry without connections, except where a live session's silence is shown.
#include "testvalues.h"

#include "db/database.h"
#include "protocol/messages.h"
#include "server/adminfeed.h"
#include "server/connection.h"
#include "server/server.h"
#include "server/session.h"
#include "server/sessionregistry.h"
#include "server/websocket.h"

#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TestAdminFeed : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void watchNeedsTheAdmin();
    void watchStartsFromASnapshot();
    void changesReachWatchersAndSignals();
    void removedWatcherHearsNothing();
    void nothingDescribedWithoutObservers();
    void firedOpsOnlyForTheirConsumers();
    void endedSessionWithFiredOps();
    void endedSessionWithoutOps();
    void describeSession();
    void liveSessionShowsItsSilence();
};

namespace
{

Identity admin()
{
    Identity i;
    i.kind = Identity::Kind::Admin;
    i.uid = u"owner"_s;
    return i;
}

/** A watcher that keeps each message's action and body, and adds "push <action>" to a shared log. */
struct Watcher : AdminFeed::Watcher {
    explicit Watcher(QStringList *log = nullptr)
        : log(log)
    {
    }
    void sendFeed(const QByteArray &message) override
    {
        // A v5 data push: {"t":"d","d":{"a":action,"b":body}}.
        const QJsonObject d = QJsonDocument::fromJson(message).object().value(u"d"_s).toObject();
        received.append({d.value(u"a"_s).toString(), d.value(u"b"_s).toObject()});
        if (log)
            log->append(u"push "_s + received.last().first);
    }
    QStringList *log;
    QList<std::pair<QString, QJsonObject>> received;
};

struct Fixture {
    Database db {u"ns"_s};
    SessionRegistry registry;
    qint64 clock = 100000;
    AdminFeed feed {&registry, 15000, [this] { return clock; }};

    Session *open(const QString &remote = u"127.0.0.1:4000"_s)
    {
        return registry.open(nullptr, &db, remote, 1700000000000);
    }
};

std::vector<Write> writes(const QString &p, const QString &value)
{
    std::vector<Write> w;
    w.push_back({path(p), node(value)});
    return w;
}

} // namespace

void TestAdminFeed::watchNeedsTheAdmin()
{
    Fixture f;
    f.open();
    Watcher w;
    Identity user;
    user.kind = Identity::Kind::User;
    user.uid = u"alice"_s;
    for (const Identity &identity : {Identity(), user}) {
        const Reply r = f.feed.watch(&w, identity, {});
        QCOMPARE(r.status, status::PermissionDenied);
        QCOMPARE(r.data.toString(), u"lark.watch needs an admin connection (gauth \"owner\")"_s);
    }
    QCOMPARE(f.feed.watcherCount(), 0);
    QVERIFY(!f.feed.isObserved());
    f.feed.noteSessionChanged(*f.registry.sessions().first());
    QVERIFY(w.received.isEmpty());
}

void TestAdminFeed::watchStartsFromASnapshot()
{
    Fixture f;
    QList<Session *> opened;
    for (int i = 0; i < 5; ++i)
        opened.append(f.open());
    Watcher w;
    const QJsonObject store {{u"persistent"_s, true}, {u"failure"_s, u"disk full"_s}};
    const Reply r = f.feed.watch(&w, admin(), store);
    QVERIFY(r.isOk());
    const QJsonObject snapshot = r.data.toObject();
    QCOMPARE(snapshot.value(u"store"_s).toObject(), store);
    const QJsonArray sessions = snapshot.value(u"sessions"_s).toArray();
    QCOMPARE(sessions.size(), 5);
    for (int i = 0; i < 5; ++i) // by number, whatever order the registry keeps them in
        QCOMPARE(sessions.at(i).toObject(), f.feed.describeSession(*opened.at(i)));
    QCOMPARE(f.feed.watcherCount(), 1);
    QVERIFY(f.feed.isObserved());
    QVERIFY(w.received.isEmpty()); // the snapshot is the reply, not a push

    // Watching again is no second subscription: one message per change.
    QVERIFY(f.feed.watch(&w, admin(), store).isOk());
    QCOMPARE(f.feed.watcherCount(), 1);
    f.feed.noteSessionChanged(*opened.first());
    QCOMPARE(w.received.size(), 1);
}

void TestAdminFeed::changesReachWatchersAndSignals()
{
    Fixture f;
    Session *s = f.open();
    Watcher one, two;
    QVERIFY(f.feed.watch(&one, admin(), {}).isOk());
    QVERIFY(f.feed.watch(&two, admin(), {}).isOk());
    QSignalSpy changed(&f.feed, &AdminFeed::sessionChanged);
    s->setState(Session::State::Suspended);
    f.feed.noteSessionChanged(*s);
    const QJsonObject description = f.feed.describeSession(*s);
    QCOMPARE(description.value(u"state"_s).toString(), u"suspended"_s);
    for (const Watcher *w : {&one, &two}) {
        QCOMPARE(w->received.size(), 1);
        QCOMPARE(w->received.first().first, u"lark.session"_s);
        QCOMPARE(w->received.first().second, description);
    }
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.first().first().toJsonObject(), description);
}

void TestAdminFeed::removedWatcherHearsNothing()
{
    Fixture f;
    Session *s = f.open();
    Watcher gone, stays;
    QVERIFY(f.feed.watch(&gone, admin(), {}).isOk());
    QVERIFY(f.feed.watch(&stays, admin(), {}).isOk());
    f.feed.removeWatcher(&gone);
    QCOMPARE(f.feed.watcherCount(), 1);
    f.feed.noteSessionChanged(*s);
    f.feed.broadcast(protocol::extensionPush(u"lark.store"_s, QJsonObject {{u"persistent"_s, false}}));
    QVERIFY(gone.received.isEmpty());
    QCOMPARE(stays.received.size(), 2);
    QCOMPARE(stays.received.at(1).first, u"lark.store"_s);
    f.feed.removeWatcher(&stays);
    QVERIFY(!f.feed.isObserved());
}

void TestAdminFeed::nothingDescribedWithoutObservers()
{
    Fixture f;
    QVERIFY(!f.feed.isObserved());
    QVERIFY(f.feed.describeFired(writes(u"/a"_s, u"1"_s)).isEmpty());
    // Each signal counts as a consumer once connected, and only while it is.
    for (const auto signal : {&AdminFeed::sessionChanged, &AdminFeed::sessionRemoved}) {
        const QMetaObject::Connection c = connect(&f.feed, signal, this, [] {});
        QVERIFY(f.feed.isObserved());
        disconnect(c);
        QVERIFY(!f.feed.isObserved());
    }
    const QMetaObject::Connection c = connect(&f.feed, &AdminFeed::opsFired, this, [] {});
    QVERIFY(f.feed.isObserved());
    disconnect(c);
    QVERIFY(!f.feed.isObserved());
}

void TestAdminFeed::firedOpsOnlyForTheirConsumers()
{
    Fixture f;
    // A sessions list (sessionChanged, sessionRemoved) has no use for the fired values.
    QSignalSpy changed(&f.feed, &AdminFeed::sessionChanged);
    QVERIFY(f.feed.isObserved());
    QVERIFY(f.feed.describeFired(writes(u"/a"_s, u"1"_s)).isEmpty());

    {
        QSignalSpy fired(&f.feed, &AdminFeed::opsFired);
        const QJsonArray ops = f.feed.describeFired(writes(u"/presence/u1"_s, uR"({"online": false})"_s));
        QCOMPARE(ops,
            (QJsonArray {
                QJsonObject {{u"path"_s, u"/presence/u1"_s}, {u"value"_s, QJsonObject {{u"online"_s, false}}}}}));
    }
    QVERIFY(f.feed.describeFired(writes(u"/a"_s, u"1"_s)).isEmpty());
    Watcher w;
    QVERIFY(f.feed.watch(&w, admin(), {}).isOk());
    QCOMPARE(f.feed.describeFired(writes(u"/a"_s, u"1"_s)).size(), 1);
}

void TestAdminFeed::endedSessionWithFiredOps()
{
    Fixture f;
    Session *s = f.open();
    QStringList log;
    Watcher w(&log);
    QVERIFY(f.feed.watch(&w, admin(), {}).isOk());
    connect(&f.feed, &AdminFeed::opsFired, this, [&log] { log.append(u"signal opsFired"_s); });
    connect(&f.feed, &AdminFeed::sessionRemoved, this, [&log] { log.append(u"signal sessionRemoved"_s); });
    const QJsonArray fired = f.feed.describeFired(writes(u"/presence/u1"_s, u"null"_s));
    s->setState(Session::State::Ended);
    s->setEndReason(Session::EndReason::Timeout);
    f.feed.noteSessionEnded(*s, fired, 1700000005000);

    QCOMPARE(log,
        (QStringList {
            u"signal opsFired"_s, u"push lark.fired"_s, u"push lark.session.ended"_s, u"signal sessionRemoved"_s}));
    const QJsonObject description = f.feed.describeSession(*s);
    QCOMPARE(description.value(u"endReason"_s).toString(), u"timeout"_s);
    const QJsonObject firedPush = w.received.at(0).second;
    QCOMPARE(firedPush.value(u"session"_s).toObject(), description);
    QCOMPARE(firedPush.value(u"ops"_s).toArray(), fired);
    QCOMPARE(firedPush.value(u"firedAt"_s).toDouble(), 1700000005000.0);
    QCOMPARE(w.received.at(1).second, description);
}

void TestAdminFeed::endedSessionWithoutOps()
{
    Fixture f;
    Session *s = f.open();
    Watcher w;
    QVERIFY(f.feed.watch(&w, admin(), {}).isOk());
    QSignalSpy fired(&f.feed, &AdminFeed::opsFired);
    QSignalSpy removed(&f.feed, &AdminFeed::sessionRemoved);
    s->setState(Session::State::Ended);
    s->setEndReason(Session::EndReason::CleanClose);
    f.feed.noteSessionEnded(*s, {}, 1700000005000);
    QCOMPARE(fired.size(), 0);
    QCOMPARE(removed.size(), 1);
    QCOMPARE(w.received.size(), 1);
    QCOMPARE(w.received.first().first, u"lark.session.ended"_s);
    QCOMPARE(w.received.first().second.value(u"endReason"_s).toString(), u"clean close"_s);
}

void TestAdminFeed::describeSession()
{
    Fixture f;
    Session *s = f.open(u"10.0.0.7:5555"_s);
    s->queue().set(path(u"/presence/u1"_s), QJsonObject {{u"online"_s, false}}, 1700000001000);
    s->queue().set(path(u"/conns/c1"_s), QJsonValue::Null, 1700000002000);
    QJsonObject d = f.feed.describeSession(*s);
    QCOMPARE(d.value(u"handle"_s).toString(), s->handle());
    QCOMPARE(d.value(u"state"_s).toString(), u"live"_s);
    QCOMPARE(d.value(u"identity"_s).toString(), u"anonymous"_s);
    QCOMPARE(d.value(u"namespace"_s).toString(), u"ns"_s);
    QCOMPARE(d.value(u"remote"_s).toString(), u"10.0.0.7:5555"_s);
    QCOMPARE(d.value(u"createdAt"_s).toDouble(), 1700000000000.0);
    QCOMPARE(d.value(u"resumes"_s).toInt(), 0);
    const QJsonArray ops = d.value(u"ops"_s).toArray();
    QCOMPARE(ops.size(), 2);
    QCOMPARE(ops.at(0).toObject().value(u"kind"_s).toString(), u"set"_s);
    QCOMPARE(ops.at(1).toObject().value(u"kind"_s).toString(), u"remove"_s);
    QCOMPARE(ops.at(1).toObject().value(u"registeredAt"_s).toDouble(), 1700000002000.0);
    // The id is a bearer secret: only a short prefix ever leaves the server.
    QCOMPARE(d.value(u"id"_s).toString(), s->shortId());
    QVERIFY(!QJsonDocument(d).toJson().contains(s->id().toLatin1()));
    // Without a connection there is no silence to show; suspended and ended sessions show their own times.
    QVERIFY(!d.contains(u"lastActivityMsAgo"_s));
    QVERIFY(!d.contains(u"fireAt"_s));
    QVERIFY(!d.contains(u"endReason"_s));

    f.registry.suspend(s, f.clock, 1700000003000, 10000);
    d = f.feed.describeSession(*s);
    QCOMPARE(d.value(u"state"_s).toString(), u"suspended"_s);
    QCOMPARE(d.value(u"suspendedAt"_s).toDouble(), 1700000003000.0);
    QCOMPARE(d.value(u"fireAt"_s).toDouble(), 1700000013000.0);
    QVERIFY(!d.contains(u"endReason"_s));
}

void TestAdminFeed::liveSessionShowsItsSilence()
{
    // A live session's description carries its connection's silence: a Connection on a socket that never
    // connects, attached through the server, which owns the feed and its clock.
    ServerConfig config;
    config.port = 0;
    config.deadAfterMs = 1234;
    Server server(config);
    Database *db = server.database(u"ns"_s);
    auto *c = new Connection(&server, new ServerWebSocket(-1, {}, nullptr), db);
    bool resumed = false;
    Session *s = server.attach(c, db, QString(), &resumed);
    QJsonObject d = server.adminFeed()->describeSession(*s);
    QCOMPARE(d.value(u"deadAfterMs"_s).toInt(), 1234);
    QVERIFY(!d.value(u"silent"_s).toBool());
    QVERIFY(d.value(u"lastActivityMsAgo"_s).toDouble() >= 0);
    QVERIFY(d.value(u"lastActivityMsAgo"_s).toDouble() <= server.monotonicMs());
    c->setSilent(true);
    // The heartbeat's timers may change while it runs; the feed shows the setting in force.
    server.setTimers(config.pingIntervalMs, 999, config.graceMs);
    d = server.adminFeed()->describeSession(*s);
    QVERIFY(d.value(u"silent"_s).toBool());
    QCOMPARE(d.value(u"deadAfterMs"_s).toInt(), 999);
}

QTEST_GUILESS_MAIN(TestAdminFeed)
#include "tst_adminfeed.moc"
