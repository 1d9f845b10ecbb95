// SPDX-License-Identifier: MIT
#pragma once
// What the store's tests (tst_store_commit, tst_store_sessions, tst_store_file) share: loading a store into
// databases made on demand, writing text values, a server config with a data file, recording an o/om/oc as
// Connection does, and reading a closed file with SQLite itself.

#include "testvalues.h"

#include "db/database.h"
#include "server/ondisconnectqueue.h"
#include "server/server.h"
#include "server/session.h"
#include "server/store.h"

#include <QFile>
#include <QTest>

#include <sqlite3.h>

#include <map>
#include <memory>
#include <utility>
#include <vector>

/** Databases by namespace, created on demand as the server does, for Store::load. */
struct Loaded {
    std::map<QString, std::unique_ptr<lark::Database>> dbs;
    std::vector<lark::Store::StoredSession> sessions;
    quint64 next = 0;

    bool load(lark::Store &store, QString *error)
    {
        return store.load(
            [this](const QString &ns) {
                auto &db = dbs[ns];
                if (!db)
                    db = std::make_unique<lark::Database>(ns);
                return db.get();
            },
            &sessions, &next, error);
    }
    QJsonValue tree(const QString &ns) const { return dbs.count(ns) ? dbs.at(ns)->root().toJson() : QJsonValue(); }
};

inline void write(lark::Database &db, const QString &base, std::vector<std::pair<QString, QString>> writes)
{
    std::vector<lark::Write> batch;
    for (const auto &[rel, value] : writes)
        batch.push_back({lark::Path(QString(rel).split(u'/', Qt::SkipEmptyParts)), node(value)});
    QString error;
    QVERIFY2(db.write(path(base), std::move(batch), {}, &error), qPrintable(error));
}

inline lark::ServerConfig config(const QString &file, int graceMs)
{
    lark::ServerConfig c;
    c.port = 0;
    c.graceMs = graceMs;
    c.dataFile = file;
    return c;
}

using Registration = lark::OnDisconnectQueue::Registration;

/** Applies r to s's queue and records it, as Connection does for an o/om/oc. */
inline void registerOp(lark::Store &store, lark::Session &s, const Registration &r)
{
    s.queue().apply(r);
    QString error;
    QVERIFY2(store.recordRegistration(s, r, &error), qPrintable(error));
}

/** The first column of the first row of sql, on the closed file, read with SQLite itself; -1 on error. */
inline qint64 queryInt(const QString &file, const char *sql)
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
