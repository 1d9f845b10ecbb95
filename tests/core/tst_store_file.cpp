// SPDX-License-Identifier: MIT
// The SQLite store of docs/semantics.md §6, its file: format 1 files migrated, files that are not a Lark store of
// this format refused untouched, unusable paths, a second open, the file's mode (new files private, an existing
// one keeping its own) and a damaged page.
#include "storehelpers.h"

#include "db/database.h"
#include "server/server.h"
#include "server/session.h"
#include "server/store.h"

#include <QFile>
#include <QFileInfo>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TestStoreFile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void migratesFormat1();
    void refusesForeignFiles_data();
    void refusesForeignFiles();
    void unusablePathIsAnError();
    void secondOpenIsRefused();
    void newFileIsPrivate();
    void existingFileKeepsItsMode();
    void damagedPageIsAnError();

private:
    QTemporaryDir m_dir;
};

namespace
{

int fileMode(const QString &file)
{
    struct stat st = {};
    if (::stat(QFile::encodeName(file).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

} // namespace

void TestStoreFile::migratesFormat1()
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

void TestStoreFile::refusesForeignFiles_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("text file") << u"text"_s << u"not a Lark data file (not an SQLite database)"_s;
    QTest::newRow("other SQLite database") << u"sqlite"_s << u"not a Lark data file (an SQLite database of another"_s;
    QTest::newRow("future format") << u"future"_s
                                   << u"written in Lark data format 3, this lark-server reads formats 1 to 2"_s;
}

void TestStoreFile::refusesForeignFiles()
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

void TestStoreFile::unusablePathIsAnError()
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

void TestStoreFile::secondOpenIsRefused()
{
    const QString file = m_dir.filePath(u"locked.lark"_s);
    Store first;
    QString error;
    QVERIFY2(first.open(file, Store::Sync::Normal, &error), qPrintable(error));
    Store second;
    QVERIFY(!second.open(file, Store::Sync::Normal, &error));
    QVERIFY2(error.contains(u"in use"_s), qPrintable(error));
}

void TestStoreFile::newFileIsPrivate()
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

void TestStoreFile::existingFileKeepsItsMode()
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

void TestStoreFile::damagedPageIsAnError()
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

QTEST_GUILESS_MAIN(TestStoreFile)
#include "tst_store_file.moc"
