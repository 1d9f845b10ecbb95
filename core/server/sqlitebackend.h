// SPDX-License-Identifier: MIT
#pragma once

#include "backend.h"
#include "store.h"

#include <QTimer>

namespace lark
{

/**
 * The data file (--data): a Store, committed once per event-loop round (group commit, docs/performance.md
 * "Persistence"). The round's end is a 0-ms single-shot timer armed when a record opens a batch: Qt runs timers
 * after the round's socket notifiers and posted events, where the requests are read and handled.
 */
class SqliteBackend : public Backend
{
    Q_OBJECT
public:
    SqliteBackend(QString fileName, Store::Sync sync, QObject *parent = nullptr);
    ~SqliteBackend() override;

    bool start(const DatabaseFor &database, Loaded *loaded, QString *error) override;
    void attach(Database *db) override { m_store.attach(db); }
    bool record(const Database &db, const Path &base, const std::vector<Write> &writes, const WriteOrigin &origin,
        QString *error) override
    {
        return m_store.record(db, base, writes, origin, error);
    }
    bool saveSession(const Session &s, QString *error) override { return m_store.saveSession(s, error); }
    bool recordRegistration(const Session &s, const OnDisconnectQueue::Registration &r, QString *error) override
    {
        return m_store.recordRegistration(s, r, error);
    }
    bool endSession(const Database &db, const std::vector<Write> &writes, const QString &sessionId, const WriteOrigin &,
        QString *error) override
    {
        return m_store.endSession(db, writes, sessionId, error);
    }
    bool commit(QString *error = nullptr) override { return m_store.commit(error); }
    void stop() override;
    [[nodiscard]] bool isPersistent() const override { return true; }
    [[nodiscard]] quint64 openBatch() const override { return m_store.openBatch(); }
    [[nodiscard]] quint64 recordCount() const override { return m_store.recordCount(); }
    [[nodiscard]] QJsonObject describe() const override;
    void setCommitsPausedForTesting(bool paused) override;

    /** The file itself, for tests and for figures (commits, bytes written). */
    [[nodiscard]] Store &store() { return m_store; }
    [[nodiscard]] const Store &store() const { return m_store; }

private:
    QString m_fileName;
    Store::Sync m_sync;
    Store m_store;
    QTimer m_commitTimer;
    bool m_commitsPaused = false;
};

/** The data file behind backend, or nullptr when it keeps data in memory (for tests and figures). */
inline Store *sqliteStore(Backend &backend)
{
    auto *sqlite = qobject_cast<SqliteBackend *>(&backend);
    return sqlite ? &sqlite->store() : nullptr;
}

} // namespace lark
