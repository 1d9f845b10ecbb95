// SPDX-License-Identifier: MIT
#pragma once

#include "db/database.h"
#include "identity.h"
#include "ondisconnectqueue.h"

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
 * Durable data, sessions and queued ops in one SQLite file (lark-semantics.md §6).
 *
 * Data is a write-ahead log of applied batches on top of one snapshot per namespace: every batch is one prepared
 * INSERT before it is applied, and when the log outgrows max(1 MB, the last snapshot) the trees are written as
 * new snapshots and the log is emptied, in one transaction. Sessions are one row each, rewritten whenever their
 * identity or queue changes; a session that fires is deleted in the transaction that logs its batch, so after a
 * crash it either fired (and is gone) or comes back with all its ops.
 *
 * The file is opened in exclusive locking mode: a second server on the same file is refused, not interleaved.
 */
class Store : public WriteJournal
{
public:
    enum class Sync {
        Normal, /**< WAL + synchronous=NORMAL: survives a crash or kill of the process */
        Full /**< WAL + synchronous=FULL: also survives power loss, at an fsync per write */
    };

    /** The file format this build reads and writes (PRAGMA user_version). */
    static constexpr int FormatVersion = 1;
    /** Log size that triggers compaction, unless the last snapshot was larger. */
    static constexpr qint64 MinCompactBytes = 1024 * 1024;

    struct StoredSession {
        QString id;
        quint64 number = 0;
        QString ns;
        Identity identity;
        qint64 createdAt = 0; /**< epoch ms */
        std::vector<OnDisconnectQueue::Op> ops;
    };

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

    bool record(const Database &db, const Path &base, const std::vector<Write> &writes, QString *error) override;

    /** Saves the session (id, number, namespace, identity, queued ops as sent) in place of its last version. */
    bool saveSession(const Session &s, QString *error);
    /** Logs the session's fired batch (may be empty) and deletes the session, in one transaction. */
    bool endSession(const Database &db, const std::vector<Write> &writes, const QString &sessionId, QString *error);

    /** Writes every attached namespace's tree as its snapshot and empties the log, in one transaction. */
    bool compact(QString *error);
    [[nodiscard]] qint64 logBytes() const { return m_logBytes; }
    [[nodiscard]] qint64 snapshotBytes() const { return m_snapshotBytes; }

private:
    bool fail(const QString &what, QString *error) const;
    bool exec(const char *sql, QString *error);
    bool prepare(const char *sql, sqlite3_stmt **stmt, QString *error);
    bool step(sqlite3_stmt *stmt, QString *error);
    bool insertLog(const Database &db, const Path &base, const std::vector<Write> &writes, QString *error);
    bool checkFormat(QString *error);
    void close();

    QString m_fileName;
    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_insertLog = nullptr;
    sqlite3_stmt *m_saveSession = nullptr;
    sqlite3_stmt *m_deleteSession = nullptr;
    sqlite3_stmt *m_setNextSession = nullptr;
    sqlite3_stmt *m_saveSnapshot = nullptr;
    sqlite3_stmt *m_begin = nullptr;
    sqlite3_stmt *m_commit = nullptr;
    sqlite3_stmt *m_rollback = nullptr;
    // Guarded: a database may go before its store (the journal pointer is only cleared when the store goes first).
    std::vector<QPointer<Database>> m_databases;
    qint64 m_logBytes = 0;
    qint64 m_snapshotBytes = 0;
    quint64 m_storedNextSession = 1;
};

} // namespace lark
