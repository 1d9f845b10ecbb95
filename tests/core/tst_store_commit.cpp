// SPDX-License-Identifier: MIT
// The SQLite store of docs/semantics.md §6, its data side: the log of writes and the snapshots it is folded into,
// a journal that fails refusing the write, and group commit (records share a batch until it is committed; a lost
// commit makes the store refuse later records). The sessions are tst_store_sessions', the file tst_store_file's.
#include "storehelpers.h"

#include "db/database.h"
#include "server/session.h"
#include "server/store.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TestStoreCommit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void writesSurviveReopen();
    void compactionKeepsData();
    void failedRecordRefusesTheWrite();
    void recordsAreGroupedUntilCommit();
    void lostCommitRefusesLaterRecords();

private:
    QTemporaryDir m_dir;
};

namespace
{

class FailingJournal : public WriteJournal
{
public:
    bool record(
        const Database &, const Path &, const std::vector<Write> &, const WriteOrigin &, QString *error) override
    {
        *error = u"disk full"_s;
        return false;
    }
};

} // namespace

void TestStoreCommit::writesSurviveReopen()
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

void TestStoreCommit::compactionKeepsData()
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

void TestStoreCommit::failedRecordRefusesTheWrite()
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

void TestStoreCommit::recordsAreGroupedUntilCommit()
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

void TestStoreCommit::lostCommitRefusesLaterRecords()
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

QTEST_GUILESS_MAIN(TestStoreCommit)
#include "tst_store_commit.moc"
