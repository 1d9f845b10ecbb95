// SPDX-License-Identifier: MIT
// The SQLite store of docs/semantics.md §6: data (log + snapshots), sessions with their queued ops, the fired
// session's single transaction, appended o/om/oc replayed on load and folded into a snapshot, group commit (records
// share a batch until it is committed; a lost commit makes the store refuse later records), refusal of files that are
// not a Lark store of this format, and the server bringing stored sessions back suspended with a fresh grace.
#include "testvalues.h"

#include "db/database.h"
#include "server/connection.h"
#include "server/server.h"
#include "server/session.h"
#include "server/store.h"
#include "server/websocket.h"

#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TestStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void writesSurviveReopen();
    void compactionKeepsData();
    void sessionsRoundTrip();
    void registrationsReplayOnLoad();
    void registrationsFoldIntoSnapshot();
    void randomRegistrationsReplay();
    void firedSessionIsGone();
    void migratesFormat1();
    void refusesForeignFiles_data();
    void refusesForeignFiles();
    void unusablePathIsAnError();
    void secondOpenIsRefused();
    void newFileIsPrivate();
    void existingFileKeepsItsMode();
    void damagedPageIsAnError();
    void failedRecordRefusesTheWrite();
    void recordsAreGroupedUntilCommit();
    void lostCommitRefusesLaterRecords();
    void serverBringsSessionsBackSuspended();

private:
    QTemporaryDir m_dir;
};

namespace
{

/** Databases by namespace, created on demand as the server does, for Store::load. */
struct Loaded {
    std::map<QString, std::unique_ptr<Database>> dbs;
    std::vector<Store::StoredSession> sessions;
    quint64 next = 0;

    bool load(Store &store, QString *error)
    {
        return store.load(
            [this](const QString &ns) {
                auto &db = dbs[ns];
                if (!db)
                    db = std::make_unique<Database>(ns);
                return db.get();
            },
            &sessions, &next, error);
    }
    QJsonValue tree(const QString &ns) const { return dbs.count(ns) ? dbs.at(ns)->root().toJson() : QJsonValue(); }
};

void write(Database &db, const QString &base, std::vector<std::pair<QString, QString>> writes)
{
    std::vector<Write> batch;
    for (const auto &[rel, value] : writes)
        batch.push_back({Path(QString(rel).split(u'/', Qt::SkipEmptyParts)), node(value)});
    QString error;
    QVERIFY2(db.write(path(base), std::move(batch), {}, &error), qPrintable(error));
}

ServerConfig config(const QString &file, int graceMs)
{
    ServerConfig c;
    c.port = 0;
    c.graceMs = graceMs;
    c.dataFile = file;
    return c;
}

using Registration = OnDisconnectQueue::Registration;

/** Applies r to s's queue and records it, as Connection does for an o/om/oc. */
void registerOp(Store &store, Session &s, const Registration &r)
{
    s.queue().apply(r);
    QString error;
    QVERIFY2(store.recordRegistration(s, r, &error), qPrintable(error));
}

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

/** The first column of the first row of sql, on the closed file, read with SQLite itself; -1 on error. */
qint64 queryInt(const QString &file, const char *sql)
{
    sqlite3 *db = nullptr;
    sqlite3_stmt *stmt = nullptr;
    qint64 result = -1;
    if (sqlite3_open_v2(QFile::encodeName(file).constData(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK
        && sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        result = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return result;
}

int fileMode(const QString &file)
{
    struct stat st = {};
    if (::stat(QFile::encodeName(file).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

class FailingJournal : public WriteJournal
{
public:
    bool record(const Database &, const Path &, const std::vector<Write> &, QString *error) override
    {
        *error = u"disk full"_s;
        return false;
    }
};

} // namespace

void TestStore::writesSurviveReopen()
{
    const QString file = m_dir.filePath(u"reopen.lark"_s);
    QJsonValue expected;
    QByteArray hash;
    {
        Store store;
        QString error;
        QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
        Database db(u"app"_s);
        store.attach(&db);
        write(db, u"/"_s, {{u"/"_s, uR"({"users":{"a":{"name":"Ann","age":3}},"gone":{"x":1}})"_s}});
        write(db, u"/users"_s, {{u"b/name"_s, u"\"Bo\""_s}, {u"a/age"_s, u"4"_s}}); // an update: two writes
        write(db, u"/users/a"_s, {{u".priority"_s, u"7"_s}}); // setPriority
        write(db, u"/leaf"_s, {{u"/"_s, uR"({".value":"v",".priority":"p"})"_s}});
        write(db, u"/gone"_s, {{u"/"_s, u"null"_s}}); // a delete
        write(db, u"/deep/a/b/c"_s, {{u"/"_s, u"true"_s}});
        expected = db.root().toJson();
        hash = db.root().hash();
    }
    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    Loaded l;
    QVERIFY2(l.load(store, &error), qPrintable(error));
    QCOMPARE(l.tree(u"app"_s), expected);
    QCOMPARE(l.dbs.at(u"app"_s)->root().hash(), hash);
    QCOMPARE(l.tree(u"app"_s).toObject().value(u"users"_s).toObject().value(u"a"_s).toObject().value(u".priority"_s),
        QJsonValue(7));
    QVERIFY(!l.tree(u"app"_s).toObject().contains(u"gone"_s));
    QVERIFY(l.sessions.empty());
}

void TestStore::compactionKeepsData()
{
    const QString file = m_dir.filePath(u"compact.lark"_s);
    QJsonValue expected;
    {
        Store store;
        QString error;
        QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
        Database a(u"a"_s), b(u"b"_s);
        store.attach(&a);
        store.attach(&b);
        write(b, u"/other"_s, {{u"/"_s, u"1"_s}});
        // 300 writes of 5 KB: the log passes 1 MB and is folded into snapshots while writing.
        const QString big = u"\""_s + QString(5000, u'x') + u"\""_s;
        bool compacted = false;
        for (int i = 0; i < 300; ++i) {
            write(a, u"/items/%1"_s.arg(i % 50), {{u"/"_s, big}});
            compacted = compacted || store.snapshotBytes() > 0;
        }
        QVERIFY(compacted);
        QVERIFY(store.logBytes() < Store::MinCompactBytes);
        write(a, u"/items/7"_s, {{u"/"_s, u"null"_s}}); // after the snapshot: only in the log
        expected = a.root().toJson();
    }
    {
        Store store;
        QString error;
        QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
        Loaded l;
        QVERIFY2(l.load(store, &error), qPrintable(error));
        QCOMPARE(l.tree(u"a"_s), expected);
        QCOMPARE(l.tree(u"b"_s), json(uR"({"other":1})"_s));
        // An explicit compaction (as at clean shutdown) keeps it too.
        for (auto &[ns, db] : l.dbs)
            store.attach(db.get());
        QVERIFY2(store.compact(&error), qPrintable(error));
        QCOMPARE(store.logBytes(), 0);
    }
    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    Loaded l;
    QVERIFY2(l.load(store, &error), qPrintable(error));
    QCOMPARE(l.tree(u"a"_s), expected);
    QCOMPARE(l.tree(u"b"_s), json(uR"({"other":1})"_s));
}

void TestStore::sessionsRoundTrip()
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

void TestStore::registrationsReplayOnLoad()
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

void TestStore::registrationsFoldIntoSnapshot()
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

void TestStore::randomRegistrationsReplay()
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

void TestStore::firedSessionIsGone()
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

void TestStore::migratesFormat1()
{
    // Users have format 1 files (every session's queue in its row, no registrations): this build reads them, and
    // the first open makes them format 2 so that an older lark-server refuses them instead of losing ops.
    const QString file = m_dir.filePath(u"format1.lark"_s);
    {
        sqlite3 *db = nullptr;
        QCOMPARE(sqlite3_open(QFile::encodeName(file).constData(), &db), SQLITE_OK);
        // The schema of format 1, as lark-server wrote it.
        const char *format1 = R"(
PRAGMA journal_mode=WAL;
BEGIN;
CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE snapshots(ns TEXT PRIMARY KEY, tree TEXT NOT NULL);
CREATE TABLE log(seq INTEGER PRIMARY KEY, ns TEXT NOT NULL, base TEXT NOT NULL, writes TEXT NOT NULL);
CREATE TABLE sessions(id TEXT PRIMARY KEY, number INTEGER NOT NULL, ns TEXT NOT NULL, identity TEXT NOT NULL,
                      created_at INTEGER NOT NULL, ops TEXT NOT NULL);
INSERT INTO meta(key, value) VALUES ('format', 'lark'), ('next_session', 6);
INSERT INTO log(ns, base, writes) VALUES ('app', '/presence', '[["/alice",true]]');
INSERT INTO sessions VALUES ('formatoneformatoneform', 5, 'app',
    '{"kind":"user","uid":"alice","provider":"custom","claims":{}}', 1700000000000,
    '[{"path":"/presence/alice","kind":"set","value":false,"registeredAt":1000}]');
PRAGMA application_id=1281454699;
PRAGMA user_version=1;
COMMIT;
)";
        char *message = nullptr;
        QVERIFY2(sqlite3_exec(db, format1, nullptr, nullptr, &message) == SQLITE_OK, message);
        sqlite3_close(db);
    }
    {
        Store store;
        QString error;
        QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
        Loaded l;
        QVERIFY2(l.load(store, &error), qPrintable(error));
        QCOMPARE(l.tree(u"app"_s), json(uR"({"presence":{"alice":true}})"_s));
        QCOMPARE(l.sessions.size(), size_t(1));
        QCOMPARE(l.sessions[0].number, 5u);
        QCOMPARE(l.sessions[0].identity.uid, u"alice"_s);
        QCOMPARE(l.sessions[0].ops.size(), size_t(1));
        QCOMPARE(l.sessions[0].ops[0].value, QJsonValue(false));
        QCOMPARE(l.next, 6u);
        // It takes registrations like any format 2 file.
        Session s(l.sessions[0].id, l.sessions[0].number, l.dbs.at(u"app"_s).get());
        s.setIdentity(l.sessions[0].identity);
        s.queue().setOps(l.sessions[0].ops);
        registerOp(store, s, {Registration::Action::Set, path(u"/presence/bob"_s), json(u"false"_s), {}, 2000});
    }
    QCOMPARE(queryInt(file, "PRAGMA user_version"), qint64(Store::FormatVersion));
    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    Loaded l;
    QVERIFY2(l.load(store, &error), qPrintable(error));
    QCOMPARE(l.sessions.size(), size_t(1));
    QCOMPARE(l.sessions[0].ops.size(), size_t(2));
}

void TestStore::refusesForeignFiles_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("text file") << u"text"_s << u"not a Lark data file (not an SQLite database)"_s;
    QTest::newRow("other SQLite database") << u"sqlite"_s << u"not a Lark data file (an SQLite database of another"_s;
    QTest::newRow("future format") << u"future"_s
                                   << u"written in Lark data format 3, this lark-server reads formats 1 to 2"_s;
}

void TestStore::refusesForeignFiles()
{
    QFETCH(QString, kind);
    QFETCH(QString, message);
    const QString file = m_dir.filePath(u"foreign-%1.db"_s.arg(kind));
    if (kind == u"text"_s) {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray("{\"this is\": \"a JSON export, not a data file\"}\n").repeated(100));
    } else if (kind == u"sqlite"_s) {
        sqlite3 *db = nullptr;
        QCOMPARE(sqlite3_open(QFile::encodeName(file).constData(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(
                     db, "CREATE TABLE notes(text TEXT); INSERT INTO notes VALUES ('mine')", nullptr, nullptr, nullptr),
            SQLITE_OK);
        sqlite3_close(db);
    } else {
        {
            Store store;
            QString error;
            QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
        }
        sqlite3 *db = nullptr;
        QCOMPARE(sqlite3_open(QFile::encodeName(file).constData(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, "PRAGMA user_version=3", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    }
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray before = f.readAll();
    f.close();

    Store store;
    QString error;
    QVERIFY(!store.open(file, Store::Sync::Normal, &error));
    QVERIFY2(error.contains(message), qPrintable(error));
    QVERIFY2(error.contains(file), qPrintable(error));
    // Refused without touching it.
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), before);
    // And the store stays unusable, not half-open.
    Database db(u"app"_s);
    store.attach(&db);
    std::vector<Write> batch;
    batch.push_back({path(u"/a"_s), node(u"1"_s)});
    QVERIFY(!db.write(Path(), std::move(batch), {}, &error));
}

void TestStore::unusablePathIsAnError()
{
    for (const QString &file : {m_dir.filePath(u"no/such/dir/data.lark"_s), m_dir.path()}) {
        Store store;
        QString error;
        QVERIFY(!store.open(file, Store::Sync::Full, &error));
        QVERIFY2(error.startsWith(file + u": "_s), qPrintable(error));
    }
    // The server reports it from openStore() and listen() instead of starting without its data.
    Server server(config(m_dir.filePath(u"no/such/dir/data.lark"_s), 1000));
    QString error;
    QVERIFY(!server.listen(&error));
    QVERIFY2(error.contains(u"no/such/dir/data.lark"_s), qPrintable(error));
    QVERIFY(!server.isListening());
}

void TestStore::secondOpenIsRefused()
{
    const QString file = m_dir.filePath(u"locked.lark"_s);
    Store first;
    QString error;
    QVERIFY2(first.open(file, Store::Sync::Normal, &error), qPrintable(error));
    Store second;
    QVERIFY(!second.open(file, Store::Sync::Normal, &error));
    QVERIFY2(error.contains(u"in use"_s), qPrintable(error));
}

void TestStore::newFileIsPrivate()
{
    // Session ids in the file are bearer secrets: other users of the machine must never be able to open it, not
    // even for the moment between its creation and a chmod. With umask 0 a file created with a default mode is
    // world-readable; the inotify watch sees a mode change after the creation (IN_ATTRIB after IN_CREATE).
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(u"private.lark"_s);
    const int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    QVERIFY(watch >= 0);
    const auto closeWatch = qScopeGuard([watch] { ::close(watch); });
    QVERIFY(inotify_add_watch(watch, QFile::encodeName(dir.path()).constData(), IN_CREATE | IN_ATTRIB) >= 0);
    const mode_t umaskBefore = ::umask(0);
    const auto restoreUmask = qScopeGuard([umaskBefore] { ::umask(umaskBefore); });

    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    QCOMPARE(fileMode(file), 0600);
    bool created = false;
    bool changedAfter = false;
    alignas(inotify_event) char buffer[16 * 1024];
    ssize_t n = 0;
    while ((n = ::read(watch, buffer, sizeof buffer)) > 0) {
        for (const char *p = buffer; p < buffer + n;) {
            const auto *event = reinterpret_cast<const inotify_event *>(p);
            if (event->len && std::strcmp(event->name, "private.lark") == 0) {
                if (event->mask & IN_CREATE)
                    created = true;
                else if (created && (event->mask & IN_ATTRIB))
                    changedAfter = true;
            }
            p += sizeof(inotify_event) + event->len;
        }
    }
    QVERIFY(created);
    QVERIFY2(!changedAfter, "the data file's mode was changed after it was created");

    // The WAL (written from the first record on) is never wider than the file.
    Database db(u"app"_s);
    Session s(u"walwalwalwalwalwalwalw"_s, 1, &db);
    QVERIFY2(store.saveSession(s, &error), qPrintable(error));
    QVERIFY2(store.commit(&error), qPrintable(error));
    QVERIFY(QFileInfo::exists(file + u"-wal"_s));
    QCOMPARE(fileMode(file + u"-wal"_s) & ~0600, 0);
}

void TestStore::existingFileKeepsItsMode()
{
    // An empty file made by its owner (say, shared with a group on purpose) becomes a store with the mode it had.
    const QString file = m_dir.filePath(u"shared.lark"_s);
    {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
    }
    QVERIFY(::chmod(QFile::encodeName(file).constData(), 0640) == 0);
    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    QCOMPARE(fileMode(file), 0640);
}

void TestStore::damagedPageIsAnError()
{
    // A page of the log zeroed on disk: loading must fail, not load the rows before it as if they were all.
    const QString file = m_dir.filePath(u"damaged.lark"_s);
    {
        Store store;
        QString error;
        QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
        Database db(u"app"_s);
        store.attach(&db);
        const QString value = u"\""_s + QString(900, u'v') + u"\""_s;
        for (int i = 0; i < 200; ++i)
            write(db, u"/items/%1"_s.arg(i), {{u"/"_s, value}});
        QVERIFY(store.commit(&error));
    } // closing checkpoints the WAL into the file
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadWrite));
    const qint64 pageSize = 4096;
    const qint64 pages = f.size() / pageSize;
    QVERIFY2(pages > 20, "the log should span many pages");
    f.seek((pages * 2 / 3) * pageSize);
    f.write(QByteArray(pageSize, '\0'));
    f.close();

    Store store;
    QString error;
    bool loaded = store.open(file, Store::Sync::Normal, &error);
    if (loaded) {
        Loaded l;
        loaded = l.load(store, &error);
    }
    QVERIFY(!loaded);
    QVERIFY2(error.contains(file), qPrintable(error));
}

void TestStore::failedRecordRefusesTheWrite()
{
    Database db(u"app"_s);
    write(db, u"/a"_s, {{u"/"_s, u"1"_s}});
    FailingJournal journal;
    db.setJournal(&journal);
    QSignalSpy changed(&db, &Database::changed);
    std::vector<Write> batch;
    batch.push_back({Path(), node(u"2"_s)});
    QString error;
    QVERIFY(!db.write(path(u"/a"_s), std::move(batch), {}, &error));
    QCOMPARE(error, u"disk full"_s);
    QCOMPARE(db.valueJson(path(u"/a"_s)), QJsonValue(1)); // nothing applied
    QCOMPARE(changed.size(), 0); // and nothing pushed
}

void TestStore::recordsAreGroupedUntilCommit()
{
    const QString file = m_dir.filePath(u"group.lark"_s);
    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    std::vector<std::pair<quint64, bool>> reported;
    int opened = 0;
    store.setBatchOpenedHandler([&] { ++opened; });
    store.setCommitHandler([&](quint64 batch, bool ok, const QString &) { reported.emplace_back(batch, ok); });
    Database db(u"app"_s);
    store.attach(&db);

    // Records share the open batch until commit().
    QCOMPARE(store.openBatch(), quint64(0));
    write(db, u"/a"_s, {{u"/"_s, u"1"_s}});
    const quint64 first = store.openBatch();
    QVERIFY(first != 0);
    write(db, u"/b"_s, {{u"/"_s, u"2"_s}});
    QCOMPARE(store.openBatch(), first);
    QCOMPARE(opened, 1);
    QCOMPARE(store.commitCount(), quint64(0));
    QVERIFY(reported.empty());
    QVERIFY2(store.commit(&error), qPrintable(error));
    QCOMPARE(store.openBatch(), quint64(0));
    QCOMPARE(reported, (std::vector<std::pair<quint64, bool>> {{first, true}}));
    QVERIFY(store.commit(&error)); // nothing open: nothing reported
    QCOMPARE(reported.size(), size_t(1));

    // A full batch is committed before the next record; a session's end is never split by that.
    store.setMaxBatchRecords(2);
    Session s(u"sessionsessionsession1"_s, 1, &db);
    s.queue().set(path(u"/gone"_s), json(u"true"_s), 1);
    QVERIFY2(store.saveSession(s, &error), qPrintable(error));
    write(db, u"/c"_s, {{u"/"_s, u"3"_s}});
    QCOMPARE(reported.size(), size_t(1));
    std::vector<Write> fired;
    fired.push_back({path(u"/gone"_s), node(u"true"_s)});
    QVERIFY2(store.endSession(db, fired, s.id(), &error), qPrintable(error));
    QCOMPARE(reported.size(), size_t(2)); // the full batch (session + /c) went first
    QVERIFY(reported.back().second);
    QCOMPARE(store.recordCount(), quint64(5));
    store.setCommitHandler(nullptr);
    store.setBatchOpenedHandler(nullptr);
}

void TestStore::lostCommitRefusesLaterRecords()
{
    const QString file = m_dir.filePath(u"lostcommit.lark"_s);
    {
        Store store;
        QString error;
        QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
        Database db(u"app"_s);
        store.attach(&db);
        write(db, u"/kept"_s, {{u"/"_s, u"1"_s}});
        QVERIFY2(store.commit(&error), qPrintable(error));
        write(db, u"/lost"_s, {{u"/"_s, u"2"_s}});
        store.setCommitFailureForTesting(u"disk full"_s);
        bool reportedOk = true;
        store.setCommitHandler([&](quint64, bool ok, const QString &) { reportedOk = ok; });
        QVERIFY(!store.commit(&error));
        QVERIFY2(error.contains(u"disk full"_s), qPrintable(error));
        QVERIFY(!reportedOk);
        QVERIFY(!store.failure().isEmpty());
        // Memory cannot be replayed from the file any more: every later record, and compaction, is refused.
        store.setCommitFailureForTesting({});
        std::vector<Write> batch;
        batch.push_back({Path(), node(u"3"_s)});
        QVERIFY(!db.write(path(u"/after"_s), std::move(batch), {}, &error));
        QVERIFY2(error.contains(u"refused"_s), qPrintable(error));
        QCOMPARE(db.valueJson(path(u"/after"_s)), QJsonValue());
        QVERIFY(!store.compact(&error));
        store.setCommitHandler(nullptr);
    }
    // The file is as of the last commit.
    Store store;
    QString error;
    QVERIFY2(store.open(file, Store::Sync::Normal, &error), qPrintable(error));
    Loaded l;
    QVERIFY2(l.load(store, &error), qPrintable(error));
    QCOMPARE(l.tree(u"app"_s), json(uR"({"kept":1})"_s));
}

void TestStore::serverBringsSessionsBackSuspended()
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
    QSignalSpy fired(&server, &Server::opsFired);
    QString error;
    QVERIFY2(server.openStore(&error), qPrintable(error));
    QCOMPARE(server.sessions().size(), 1);
    Session *s = server.sessions().constFirst();
    QCOMPARE(s->id(), id);
    QCOMPARE(s->number(), number);
    QCOMPARE(s->state(), Session::State::Suspended);
    QVERIFY(s->fireAt >= before + 300); // a fresh grace, from the restart
    QCOMPARE(s->queue().ops().size(), size_t(1));
    QCOMPARE(server.describeSession(*s).value(u"state"_s), QJsonValue(u"suspended"_s));
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

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
