// SPDX-License-Identifier: MIT
// The SQLite store of docs/semantics.md §6, its session side: sessions with their queued ops, appended o/om/oc
// replayed on load and folded into a snapshot, the fired session's single transaction, and the server bringing
// stored sessions back suspended with a fresh grace.
#include "storehelpers.h"

#include "db/database.h"
#include "server/connection.h"
#include "server/server.h"
#include "server/session.h"
#include "server/store.h"
#include "server/websocket.h"

#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TestStoreSessions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sessionsRoundTrip();
    void registrationsReplayOnLoad();
    void registrationsFoldIntoSnapshot();
    void randomRegistrationsReplay();
    void firedSessionIsGone();
    void serverBringsSessionsBackSuspended();

private:
    QTemporaryDir m_dir;
};

namespace
{

void compareOps(const std::vector<OnDisconnectQueue::Op> &actual, const std::vector<OnDisconnectQueue::Op> &expected)
{
    QCOMPARE(actual.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        QCOMPARE(actual[i].path, expected[i].path);
        QCOMPARE(actual[i].value, expected[i].value);
        QCOMPARE(actual[i].kind, expected[i].kind);
        QCOMPARE(actual[i].registeredAt, expected[i].registeredAt);
    }
}

} // namespace

void TestStoreSessions::sessionsRoundTrip()
{
    const QString file = m_dir.filePath(u"sessions.lark"_s);
    std::vector<OnDisconnectQueue::Op> ops;
    {
        Store store;
        QString error;
        QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
        Database db(u"app"_s);
        Session s(u"abcdefghijklmnopqrstuv"_s, 7, &db);
        Identity alice;
        alice.kind = Identity::Kind::User;
        alice.uid = u"alice"_s;
        alice.provider = u"custom"_s;
        alice.claims = QJsonObject {{u"sub"_s, u"alice"_s}};
        s.setIdentity(alice);
        s.createdAt = 1700000000123;
        // Placeholders stay unresolved: they are resolved when the ops fire.
        s.queue().set(path(u"/presence/alice/lastSeen"_s), json(uR"({".sv":"timestamp"})"_s), 1000);
        s.queue().update(path(u"/status"_s), {{path(u"state"_s), json(u"\"offline\""_s)}}, 1001);
        s.queue().set(path(u"/conns/c1"_s), QJsonValue::Null, 1002);
        QVERIFY2(store.saveSession(s, &error), qPrintable(error));
        s.queue().set(path(u"/count"_s), json(uR"({".sv":{"increment":-1}})"_s), 1003); // saved again: replaces
        QVERIFY2(store.saveSession(s, &error), qPrintable(error));
        ops = s.queue().ops();
        Session admin(u"zyxwvutsrqponmlkjihgfe"_s, 8, &db);
        Identity owner;
        owner.kind = Identity::Kind::Admin;
        owner.uid = u"owner"_s;
        admin.setIdentity(owner);
        QVERIFY2(store.saveSession(admin, &error), qPrintable(error));
    }
    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    Loaded l;
    QVERIFY2(l.load(store, &error), qPrintable(error));
    QCOMPARE(l.sessions.size(), size_t(2));
    const Store::StoredSession &s = l.sessions[0];
    QCOMPARE(s.id, u"abcdefghijklmnopqrstuv"_s);
    QCOMPARE(s.number, 7u);
    QCOMPARE(s.ns, u"app"_s);
    QCOMPARE(s.identity.kind, Identity::Kind::User);
    QCOMPARE(s.identity.uid, u"alice"_s);
    QCOMPARE(s.identity.provider, u"custom"_s);
    QCOMPARE(s.identity.claims.value(u"sub"_s), QJsonValue(u"alice"_s));
    QCOMPARE(s.createdAt, 1700000000123);
    QCOMPARE(s.ops.size(), ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
        QCOMPARE(s.ops[i].path, ops[i].path);
        QCOMPARE(s.ops[i].value, ops[i].value);
        QCOMPARE(s.ops[i].kind, ops[i].kind);
        QCOMPARE(s.ops[i].registeredAt, ops[i].registeredAt);
    }
    QCOMPARE(s.ops[1].kind, OnDisconnectQueue::Kind::Update);
    QCOMPARE(s.ops[2].kind, OnDisconnectQueue::Kind::Remove);
    QCOMPARE(l.sessions[1].identity.kind, Identity::Kind::Admin);
    QVERIFY(l.sessions[1].ops.empty());
    QCOMPARE(l.next, 9u);
}

void TestStoreSessions::registrationsReplayOnLoad()
{
    // Each o/om/oc is one appended row, replayed on load through the queue: the loaded queue is the one in memory,
    // including merges into a queued ancestor, removes, arrays in export form, scalars and split ancestors.
    const QString file = m_dir.filePath(u"registrations.lark"_s);
    std::vector<OnDisconnectQueue::Op> ops;
    qint64 savedBytes = 0;
    {
        Store store;
        QString error;
        QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
        Database db(u"app"_s);
        Session s(u"replayreplayreplayrepl"_s, 3, &db);
        QVERIFY2(store.saveSession(s, &error), qPrintable(error));
        savedBytes = store.sessionBytesWritten();
        using A = Registration::Action;
        registerOp(store, s,
            {A::Set, path(u"/presence/alice"_s), json(uR"({"online":true,"t":{".sv":"timestamp"}})"_s), {}, 10});
        registerOp(store, s, {A::Set, path(u"/presence/alice/online"_s), json(u"false"_s), {}, 11});
        registerOp(store, s,
            {A::Update, path(u"/status"_s), {},
                {{path(u"state"_s), json(u"\"offline\""_s)}, {path(u"list"_s), json(uR"({"0":1,"1":2})"_s)},
                    {path(u"gone"_s), QJsonValue::Null}},
                12});
        registerOp(store, s, {A::Set, path(u"/n"_s), json(u"1.5"_s), {}, 13});
        registerOp(store, s, {A::Cancel, path(u"/status/state"_s), {}, {}, 14});
        registerOp(store, s, {A::Cancel, path(u"/presence/alice/t"_s), {}, {}, 15}); // splits /presence/alice
        registerOp(store, s, {A::Set, path(u"/removed"_s), QJsonValue::Null, {}, 16});
        ops = s.queue().ops();
        QCOMPARE(ops.size(), size_t(5));
        // Each row costs its own op, far less than the queue it belongs to.
        QVERIFY(store.sessionBytesWritten() - savedBytes < 7 * 120);
        QVERIFY2(store.commit(&error), qPrintable(error));
    }
    QCOMPARE(queryInt(file, "SELECT count(*) FROM registrations"), 7);
    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    Loaded l;
    QVERIFY2(l.load(store, &error), qPrintable(error));
    QCOMPARE(l.sessions.size(), size_t(1));
    compareOps(l.sessions[0].ops, ops);
}

void TestStoreSessions::registrationsFoldIntoSnapshot()
{
    // Replacing one op again and again adds rows but no ops: once the rows outgrow the queue, the queue becomes the
    // session's snapshot and its rows go, so the file (and a load) never holds more than a bounded number of them.
    const QString file = m_dir.filePath(u"fold.lark"_s);
    std::vector<OnDisconnectQueue::Op> ops;
    {
        Store store;
        QString error;
        QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
        Database db(u"app"_s);
        Session s(u"foldfoldfoldfoldfoldfo"_s, 1, &db);
        QVERIFY2(store.saveSession(s, &error), qPrintable(error));
        registerOp(store, s, {Registration::Action::Set, path(u"/kept"_s), json(u"true"_s), {}, 1});
        for (int i = 0; i < 1000; ++i)
            registerOp(store, s, {Registration::Action::Set, path(u"/presence/a"_s), QJsonValue(i), {}, 2 + i});
        ops = s.queue().ops();
        QCOMPARE(ops.size(), size_t(2));
    }
    const qint64 rows = queryInt(file, "SELECT count(*) FROM registrations");
    QVERIFY2(rows > 0 && rows <= 64, qPrintable(QString::number(rows)));
    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    Loaded l;
    QVERIFY2(l.load(store, &error), qPrintable(error));
    QCOMPARE(l.sessions.size(), size_t(1));
    compareOps(l.sessions[0].ops, ops);
    QCOMPARE(l.sessions[0].ops[1].value, QJsonValue(999));
}

void TestStoreSessions::randomRegistrationsReplay()
{
    // Seeded o/om/oc on a small tree, so that they replace, merge into, split and cancel each other, with the
    // snapshot rewritten now and then; three times over, each continuing from what the last one loaded. What loads
    // must be the queue that applied them.
    const QString file = m_dir.filePath(u"random.lark"_s);
    const QString id = u"randomrandomrandomrand"_s;
    QRandomGenerator gen(7);
    const QStringList keys {u"a"_s, u"b"_s, u"c"_s};
    auto randomPath = [&] {
        QStringList parts;
        for (int i = 0, depth = int(gen.bounded(4)); i < depth; ++i)
            parts.append(keys.at(int(gen.bounded(3))));
        return Path(parts);
    };
    auto randomValue = [&]() -> QJsonValue {
        switch (gen.bounded(4)) {
        case 0:
            return QJsonValue::Null;
        case 1:
            return int(gen.bounded(100));
        case 2:
            return json(uR"({".sv":"timestamp"})"_s);
        default:
            return QJsonObject {{u"a"_s, 1}, {u"b"_s, QJsonObject {{u"c"_s, u"x"_s}}}};
        }
    };
    std::vector<OnDisconnectQueue::Op> expected;
    qint64 at = 0;
    for (int round = 0; round < 3; ++round) {
        Store store;
        QString error;
        QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
        Loaded l;
        QVERIFY2(l.load(store, &error), qPrintable(error));
        Database db(u"app"_s);
        Session s(id, 1, &db);
        if (round == 0) {
            QVERIFY2(store.saveSession(s, &error), qPrintable(error));
        } else {
            QCOMPARE(l.sessions.size(), size_t(1));
            compareOps(l.sessions[0].ops, expected);
            s.queue().setOps(l.sessions[0].ops);
        }
        for (int i = 0; i < 1000; ++i) {
            Registration r {Registration::Action::Set, randomPath(), {}, {}, ++at};
            const quint32 kind = gen.bounded(10);
            if (kind < 5) {
                r.value = randomValue();
            } else if (kind < 8) {
                r.action = Registration::Action::Update;
                for (const QString &key : keys) {
                    if (gen.bounded(2))
                        r.children.emplace_back(Path(QStringList {key}).child(randomPath()), randomValue());
                }
            } else {
                r.action = Registration::Action::Cancel;
            }
            registerOp(store, s, r);
        }
        expected = s.queue().ops();
    }
    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    Loaded l;
    QVERIFY2(l.load(store, &error), qPrintable(error));
    QCOMPARE(l.sessions.size(), size_t(1));
    QVERIFY(!expected.empty());
    compareOps(l.sessions[0].ops, expected);
}

void TestStoreSessions::firedSessionIsGone()
{
    const QString file = m_dir.filePath(u"fired.lark"_s);
    {
        Store store;
        QString error;
        QVERIFY2(store.open(file, Store::Sync::Full, &error), qPrintable(error)); // --fsync: the same file format
        Database db(u"app"_s);
        store.attach(&db);
        Session fires(u"firesfiresfiresfiresfi"_s, 1, &db), stays(u"staysstaysstaysstaysst"_s, 2, &db),
            last(u"lastlastlastlastlastla"_s, 3, &db);
        fires.queue().set(path(u"/presence/a"_s), json(u"false"_s), 1);
        stays.queue().set(path(u"/presence/b"_s), json(u"false"_s), 1);
        for (Session *s : {&fires, &stays, &last})
            QVERIFY2(store.saveSession(*s, &error), qPrintable(error));
        // Ops registered since the snapshot go with their session too.
        registerOp(store, fires, {Registration::Action::Set, path(u"/presence/c"_s), json(u"false"_s), {}, 2});
        registerOp(store, stays, {Registration::Action::Set, path(u"/presence/d"_s), json(u"false"_s), {}, 2});
        std::vector<Write> batch;
        batch.push_back({path(u"/presence/a"_s), node(u"false"_s)});
        batch.push_back({path(u"/presence/c"_s), node(u"false"_s)});
        QVERIFY2(store.endSession(db, batch, fires.id(), &error), qPrintable(error));
        QVERIFY2(store.endSession(db, {}, last.id(), &error), qPrintable(error)); // ended without ops
    }
    QCOMPARE(queryInt(file, "SELECT count(*) FROM registrations WHERE session = 'firesfiresfiresfiresfi'"), 0);
    QCOMPARE(queryInt(file, "SELECT count(*) FROM registrations WHERE session = 'staysstaysstaysstaysst'"), 1);
    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    Loaded l;
    QVERIFY2(l.load(store, &error), qPrintable(error));
    QCOMPARE(l.sessions.size(), size_t(1));
    QCOMPARE(l.sessions[0].id, u"staysstaysstaysstaysst"_s);
    QCOMPARE(l.sessions[0].ops.size(), size_t(2));
    // The fired batch was logged in the same transaction that deleted its session and its rows.
    QCOMPARE(l.tree(u"app"_s), json(uR"({"presence":{"a":false,"c":false}})"_s));
    // The highest number (S3) is gone, yet numbers are never reused.
    QCOMPARE(l.next, 4u);
}

void TestStoreSessions::serverBringsSessionsBackSuspended()
{
    const QString file = m_dir.filePath(u"server.lark"_s);
    QString id;
    quint64 number = 0;
    {
        Server server(config(file, 3600 * 1000));
        QString error;
        QVERIFY2(server.openStore(&error), qPrintable(error));
        Database *db = server.database(u"app"_s);
        bool resumed = false;
        Session *s = server.attach(new Connection(&server, new ServerWebSocket(-1, {}, nullptr), db), db, {}, &resumed);
        s->queue().set(path(u"/presence/a"_s), json(u"false"_s), 1);
        QVERIFY2(server.persistSession(s, &error), qPrintable(error));
        id = s->id();
        number = s->number();
        QVERIFY(db->write(path(u"/presence/a"_s),
            [] {
                std::vector<Write> w;
                w.push_back({Path(), node(u"true"_s)});
                return w;
            }(),
            {}));
        server.shutdown(); // clean: the session stays stored
    }
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    Server server(config(file, 300));
    QSignalSpy fired(server.adminFeed(), &AdminFeed::opsFired);
    QString error;
    QVERIFY2(server.openStore(&error), qPrintable(error));
    QCOMPARE(server.sessions().size(), 1);
    Session *s = server.sessions().constFirst();
    QCOMPARE(s->id(), id);
    QCOMPARE(s->number(), number);
    QCOMPARE(s->state(), Session::State::Suspended);
    QVERIFY(s->fireAt >= before + 300); // a fresh grace, from the restart
    QCOMPARE(s->queue().ops().size(), size_t(1));
    QCOMPARE(server.adminFeed()->describeSession(*s).value(u"state"_s), QJsonValue(u"suspended"_s));
    Database *db = server.database(u"app"_s);
    QCOMPARE(db->valueJson(path(u"/presence/a"_s)), QJsonValue(true));
    // Numbers keep counting across restarts.
    bool resumed = true;
    Session *fresh = server.attach(new Connection(&server, new ServerWebSocket(-1, {}, nullptr), db), db, {}, &resumed);
    QVERIFY(!resumed);
    QCOMPARE(fresh->number(), number + 1);
    // Not resumed: it fires once, when the fresh grace ends.
    QTRY_COMPARE_WITH_TIMEOUT(fired.size(), 1, 5000);
    QCOMPARE(db->valueJson(path(u"/presence/a"_s)), QJsonValue(false));
    QCOMPARE(server.sessions(), QList<Session *> {fresh});
}

QTEST_GUILESS_MAIN(TestStoreSessions)
#include "tst_store_sessions.moc"
