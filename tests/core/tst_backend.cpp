// SPDX-License-Identifier: MIT
// lark::Backend, the one storage interface the server talks to: the memory backend keeps nothing and has every
// record durable at once; the SQLite backend records into a batch that it commits at the end of the event-loop
// round (group commit), reports each batch through committed(), and compacts at stop(). The data file's own rules
// are tst_store_*'s.
#include "storehelpers.h"

#include "server/sqlitebackend.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TestBackend : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void memoryKeepsNothingAndWaitsForNothing();
    void sqliteCommitsAtTheEndOfTheRound();
    void sqlitePausedCommitsWaitForTheEndOfThePause();
    void sqliteStartLoadsWhatWasKept();
    void sqliteStopCompacts();

private:
    QTemporaryDir m_dir;
};

namespace
{

/** Databases made on demand, as the server makes namespaces, for Backend::start. */
struct OnDemand {
    std::map<QString, std::unique_ptr<Database>> dbs;
    Backend::DatabaseFor databaseFor()
    {
        return [this](const QString &ns) {
            auto &db = dbs[ns];
            if (!db)
                db = std::make_unique<Database>(ns);
            return db.get();
        };
    }
};

} // namespace

void TestBackend::memoryKeepsNothingAndWaitsForNothing()
{
    MemoryBackend backend;
    OnDemand ns;
    Backend::Loaded loaded;
    QString error;
    QVERIFY(backend.start(ns.databaseFor(), &loaded, &error));
    QVERIFY(loaded.sessions.empty());
    Database db(u"app"_s);
    backend.attach(&db);
    QCOMPARE(db.journal(), nullptr); // a write in memory costs no call to the backend
    write(db, u"/"_s, {{u"a"_s, u"1"_s}});
    QVERIFY(!backend.isPersistent());
    QCOMPARE(backend.openBatch(), quint64(0));
    QCOMPARE(backend.recordCount(), quint64(0));
    QCOMPARE(backend.describe(), QJsonObject({{u"persistent"_s, false}}));
}

void TestBackend::sqliteCommitsAtTheEndOfTheRound()
{
    SqliteBackend backend(m_dir.filePath(u"round.lark"_s), Store::Sync::Normal);
    OnDemand ns;
    Backend::Loaded loaded;
    QString error;
    QVERIFY2(backend.start(ns.databaseFor(), &loaded, &error), qPrintable(error));
    Database db(u"app"_s);
    backend.attach(&db);
    QCOMPARE(db.journal(), &backend.store());
    QSignalSpy committed(&backend, &Backend::committed);
    const quint64 before = backend.recordCount();
    write(db, u"/"_s, {{u"a"_s, u"1"_s}});
    write(db, u"/"_s, {{u"b"_s, u"2"_s}});
    QCOMPARE(backend.recordCount(), before + 2);
    const quint64 batch = backend.openBatch();
    QVERIFY(batch != 0); // both in one open batch, not yet durable
    QVERIFY(committed.isEmpty());
    QVERIFY(committed.wait(5000)); // the round's end
    QCOMPARE(committed.size(), 1);
    QCOMPARE(committed.at(0).at(0).toULongLong(), batch);
    QVERIFY(committed.at(0).at(1).toBool());
    QCOMPARE(backend.openBatch(), quint64(0));
    QVERIFY(backend.isPersistent());
    QCOMPARE(backend.describe(), QJsonObject({{u"persistent"_s, true}}));
}

void TestBackend::sqlitePausedCommitsWaitForTheEndOfThePause()
{
    SqliteBackend backend(m_dir.filePath(u"paused.lark"_s), Store::Sync::Normal);
    OnDemand ns;
    Backend::Loaded loaded;
    QString error;
    QVERIFY2(backend.start(ns.databaseFor(), &loaded, &error), qPrintable(error));
    Database db(u"app"_s);
    backend.attach(&db);
    backend.setCommitsPausedForTesting(true);
    QSignalSpy committed(&backend, &Backend::committed);
    write(db, u"/"_s, {{u"a"_s, u"1"_s}});
    QVERIFY(!committed.wait(100)); // several rounds pass, the batch stays open
    QVERIFY(backend.openBatch() != 0);
    backend.setCommitsPausedForTesting(false);
    QVERIFY(committed.wait(5000));
    QCOMPARE(backend.openBatch(), quint64(0));
}

void TestBackend::sqliteStartLoadsWhatWasKept()
{
    const QString file = m_dir.filePath(u"kept.lark"_s);
    {
        SqliteBackend backend(file, Store::Sync::Normal);
        OnDemand ns;
        Backend::Loaded loaded;
        QString error;
        QVERIFY2(backend.start(ns.databaseFor(), &loaded, &error), qPrintable(error));
        Database *db = ns.databaseFor()(u"app"_s);
        backend.attach(db);
        write(*db, u"/"_s, {{u"users/a"_s, uR"("Ann")"_s}});
        QVERIFY2(backend.commit(&error), qPrintable(error));
    }
    SqliteBackend backend(file, Store::Sync::Normal);
    OnDemand ns;
    Backend::Loaded loaded;
    QString error;
    QVERIFY2(backend.start(ns.databaseFor(), &loaded, &error), qPrintable(error));
    QVERIFY(ns.dbs.count(u"app"_s));
    QCOMPARE(ns.dbs.at(u"app"_s)->root().toJson(), json(uR"({"users":{"a":"Ann"}})"_s));
    QCOMPARE(loaded.nextSessionNumber, quint64(1));
}

void TestBackend::sqliteStopCompacts()
{
    SqliteBackend backend(m_dir.filePath(u"stop.lark"_s), Store::Sync::Normal);
    OnDemand ns;
    Backend::Loaded loaded;
    QString error;
    QVERIFY2(backend.start(ns.databaseFor(), &loaded, &error), qPrintable(error));
    Database db(u"app"_s);
    backend.attach(&db);
    write(db, u"/"_s, {{u"a"_s, u"1"_s}});
    QVERIFY(backend.store().logBytes() > 0);
    backend.stop();
    QCOMPARE(backend.openBatch(), quint64(0));
    QCOMPARE(backend.store().logBytes(), qint64(0)); // folded into the snapshot
    QVERIFY(backend.store().snapshotBytes() > 0);
}

QTEST_GUILESS_MAIN(TestBackend)
#include "tst_backend.moc"
