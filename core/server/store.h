// SPDX-License-Identifier: MIT
#pragma once

#include "backend.h"
#include "db/database.h"
#include "identity.h"
#include "ondisconnectqueue.h"

#include <QHash>
#include <QPointer>
#include <QString>

#include <functional>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace lark
{

class Session;

/**
 * Durable data, sessions and queued ops in one SQLite file (docs/semantics.md §6).
 *
 * Data is a write-ahead log of applied batches on top of one snapshot per namespace: every batch is one prepared
 * INSERT before it is applied, and when the log outgrows max(1 MB, the last snapshot) the trees are written as
 * new snapshots and the log is emptied, in one transaction. Sessions are one row each (identity, and a snapshot of
 * the queue) plus the o/om/oc registered since that snapshot, one appended row each, so an op costs its own size and
 * not its queue's; the snapshot is rewritten when the rows outgrow it. A session that fires is deleted with its rows
 * in the transaction that logs its batch, so after a crash it either fired (and is gone) or comes back with all its
 * ops.
 *
 * Group commit: records go into one open transaction (a *batch*) that stays open until commit(), which the server
 * calls once per event-loop round; a batch is also committed before it would exceed maxBatchRecords(). A record is
 * durable only once its batch is committed: callers hold back what they promise about it (the `ok`) until the
 * commit handler reports that batch. If a batch cannot be committed, its records are lost from the file while
 * already applied in memory; the store then refuses every further record (see failure()).
 *
 * The file is opened in exclusive locking mode: a second server on the same file is refused, not interleaved.
 */
class Store : public WriteJournal
{
public:
    enum class Sync {
        Normal, /**< WAL + synchronous=NORMAL: survives a crash or kill of the process */
        Full /**< WAL + synchronous=FULL: also survives power loss, at an fsync per commit */
    };

    /** The file format this build reads and writes (PRAGMA user_version). */
    static constexpr int FormatVersion = 2;
    /** Log size that triggers compaction, unless the last snapshot was larger. */
    static constexpr qint64 MinCompactBytes = 1024 * 1024;
    /** Records per transaction before it is committed within a round: bounds latency and the WAL's growth. */
    static constexpr int MaxBatchRecords = 1000;

    using StoredSession = Backend::StoredSession;

    Store();
    ~Store() override;
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    /** Opens or creates the file; false with a reason for an unusable path or a file that is not a Lark store. */
    bool open(const QString &fileName, Sync sync, QString *error);
    [[nodiscard]] const QString &fileName() const { return m_fileName; }

    /**
     * Loads snapshots and replays the log into the databases that `database(ns)` returns, without pushing or
     * signalling, and returns the stored sessions and the next free session number.
     */
    bool load(const std::function<Database *(const QString &ns)> &database, std::vector<StoredSession> *sessions,
        quint64 *nextSessionNumber, QString *error);

    /** Journals db's batches here from now on; its tree is part of every snapshot. */
    void attach(Database *db);

    bool record(const Database &db, const Path &base, const std::vector<Write> &writes, const WriteOrigin &origin,
        QString *error) override;

    /**
     * Saves the session (id, number, namespace, identity, queued ops as sent) in place of its last version; its
     * queue becomes its snapshot. Costs the size of the queue: for one op, use recordRegistration().
     */
    bool saveSession(const Session &s, QString *error);
    /**
     * Records r, which s's queue has just applied, as one appended row (or, when the rows have outgrown the
     * snapshot, by saveSession()). Loading replays it through OnDisconnectQueue::apply().
     */
    bool recordRegistration(const Session &s, const OnDisconnectQueue::Registration &r, QString *error);
    /** Logs the session's fired batch (may be empty) and deletes the session and its rows, in one transaction. */
    bool endSession(const Database &db, const std::vector<Write> &writes, const QString &sessionId, QString *error);

    /** Writes every attached namespace's tree as its snapshot and empties the log, in one transaction. */
    bool compact(QString *error);

    /** The batch that records go into now; 0 when no transaction is open (everything recorded is committed). */
    [[nodiscard]] quint64 openBatch() const { return m_batch; }
    /** Counts records (writes, session saves and ends) accepted into a batch; lets a caller see that it recorded. */
    [[nodiscard]] quint64 recordCount() const { return m_recordCount; }
    /** Commits the open batch, if any, and reports it to the commit handler; false with a reason if it failed. */
    bool commit(QString *error = nullptr);
    /** Called when a record opens a new batch (the server arms its end-of-round commit). */
    void setBatchOpenedHandler(std::function<void()> handler) { m_batchOpened = std::move(handler); }
    /** Called after every commit attempt of a batch, with its id, whether it is durable and why not. */
    void setCommitHandler(std::function<void(quint64 batch, bool ok, const QString &error)> handler)
    {
        m_committed = std::move(handler);
    }
    [[nodiscard]] int maxBatchRecords() const { return m_maxBatchRecords; }
    void setMaxBatchRecords(int records) { m_maxBatchRecords = std::max(1, records); }
    /**
     * Why a batch was lost, or empty. Once set, every record is refused: the file no longer holds what memory
     * holds, so later records (deltas on top of it) would not replay to what clients saw. A restart loads the
     * file as of its last commit, which holds every write that was acknowledged.
     */
    [[nodiscard]] const QString &failure() const { return m_failure; }
    /** Test seam: commits fail with this reason (and are really rolled back) while it is not empty. */
    void setCommitFailureForTesting(const QString &reason) { m_testCommitFailure = reason; }
    [[nodiscard]] quint64 commitCount() const { return m_commitCount; }
    [[nodiscard]] qint64 logBytes() const { return m_logBytes; }
    [[nodiscard]] qint64 snapshotBytes() const { return m_snapshotBytes; }
    /** Bytes of session rows and registrations handed to SQLite since open (what queued ops cost the file). */
    [[nodiscard]] qint64 sessionBytesWritten() const { return m_sessionBytesWritten; }

private:
    bool fail(const QString &what, QString *error) const;
    bool exec(const char *sql, QString *error);
    bool prepare(const char *sql, sqlite3_stmt **stmt, QString *error);
    bool step(sqlite3_stmt *stmt, QString *error);
    bool insertLog(const Database &db, const Path &base, const std::vector<Write> &writes, QString *error);
    /** The statements of saveSession() inside the open batch. */
    bool writeSession(const Session &s, QString *why);
    /** Opens a batch if none is (committing a full one first); false when records are refused. */
    bool beginRecord(QString *error);
    /** After a failed statement: if SQLite rolled the whole transaction back, the open batch is lost. */
    void checkBatchLost(const QString &why);
    /** Ends the open batch as committed (ok) or lost, restores counters of a lost one, and reports it. */
    void finishBatch(bool ok, const QString &why);
    bool checkFormat(QString *error);
    void close();

    QString m_fileName;
    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_insertLog = nullptr;
    sqlite3_stmt *m_saveSession = nullptr;
    sqlite3_stmt *m_deleteSession = nullptr;
    sqlite3_stmt *m_appendRegistration = nullptr;
    sqlite3_stmt *m_deleteRegistrations = nullptr;
    sqlite3_stmt *m_setNextSession = nullptr;
    sqlite3_stmt *m_saveSnapshot = nullptr;
    sqlite3_stmt *m_begin = nullptr;
    sqlite3_stmt *m_commit = nullptr;
    sqlite3_stmt *m_rollback = nullptr;
    sqlite3_stmt *m_savepoint = nullptr;
    sqlite3_stmt *m_release = nullptr;
    sqlite3_stmt *m_rollbackTo = nullptr;
    // Guarded: a database may go before its store (the journal pointer is only cleared when the store goes first).
    std::vector<QPointer<Database>> m_databases;
    qint64 m_logBytes = 0;
    qint64 m_snapshotBytes = 0;
    qint64 m_sessionBytesWritten = 0;
    /** What the file holds of a stored session beyond its row: when to rewrite its snapshot. */
    struct RegistrationLog {
        qint64 rows = 0;
        qint64 bytes = 0;
        qint64 snapshotBytes = 0;
    };
    // By session id; an entry means the session's row is in the file (written by this store or loaded).
    QHash<QString, RegistrationLog> m_registrations;
    quint64 m_storedNextSession = 1;
    quint64 m_batch = 0;
    quint64 m_lastBatch = 0;
    int m_batchRecords = 0;
    int m_maxBatchRecords = MaxBatchRecords;
    quint64 m_recordCount = 0;
    quint64 m_commitCount = 0;
    // What a lost batch had changed in the counters above, so they can be put back.
    qint64 m_logBytesAtBegin = 0;
    quint64 m_storedNextSessionAtBegin = 1;
    QString m_failure;
    QString m_testCommitFailure;
    std::function<void()> m_batchOpened;
    std::function<void(quint64, bool, const QString &)> m_committed;
};

} // namespace lark
