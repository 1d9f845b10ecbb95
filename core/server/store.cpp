// SPDX-License-Identifier: MIT
#include "store.h"

#include "logging.h"
#include "session.h"
#include "storerows.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::Literals::StringLiterals;

namespace lark
{

using namespace storerows;

namespace
{

// "Lark" in ASCII: PRAGMA application_id marks the file as ours, user_version gives its format.
constexpr int LarkApplicationId = 0x4c61726b;

const char *const Schema = R"(
CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE snapshots(ns TEXT PRIMARY KEY, tree TEXT NOT NULL);
CREATE TABLE log(seq INTEGER PRIMARY KEY, ns TEXT NOT NULL, base TEXT NOT NULL, writes TEXT NOT NULL);
CREATE TABLE sessions(id TEXT PRIMARY KEY, number INTEGER NOT NULL, ns TEXT NOT NULL, identity TEXT NOT NULL,
                      created_at INTEGER NOT NULL, ops TEXT NOT NULL);
INSERT INTO meta(key, value) VALUES ('format', 'lark'), ('next_session', 1);
)";

// Format 2: o/om/oc as appended since the session's snapshot (sessions.ops), replayed on top of it in seq order.
// Format 1 is format 2 without this table, so adding it is the whole migration.
const char *const RegistrationsSchema = R"(
CREATE TABLE registrations(seq INTEGER PRIMARY KEY, session TEXT NOT NULL, action TEXT NOT NULL, path TEXT NOT NULL,
                           value TEXT NOT NULL, registered_at INTEGER NOT NULL);
CREATE INDEX registrations_by_session ON registrations(session);
)";

} // namespace

Store::Store() = default;

Store::~Store()
{
    close();
}

void Store::close()
{
    // Closing (a clean shutdown, or a store used on its own) keeps what was recorded.
    if (m_db && m_batch)
        commit();
    for (sqlite3_stmt *s : {m_insertLog, m_saveSession, m_deleteSession, m_appendRegistration, m_deleteRegistrations,
             m_setNextSession, m_saveSnapshot, m_begin, m_commit, m_rollback, m_savepoint, m_release, m_rollbackTo})
        sqlite3_finalize(s);
    m_insertLog = m_saveSession = m_deleteSession = m_appendRegistration = m_deleteRegistrations = m_setNextSession
        = m_saveSnapshot = m_begin = m_commit = m_rollback = m_savepoint = m_release = m_rollbackTo = nullptr;
    m_registrations.clear();
    for (const QPointer<Database> &db : m_databases) {
        if (db && db->journal() == this)
            db->setJournal(nullptr);
    }
    m_databases.clear();
    sqlite3_close(m_db);
    m_db = nullptr;
}

bool Store::fail(const QString &what, QString *error) const
{
    if (error)
        *error = u"%1: %2: %3"_s.arg(m_fileName, what, QString::fromUtf8(sqlite3_errmsg(m_db)));
    return false;
}

bool Store::exec(const char *sql, QString *error)
{
    char *message = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &message) == SQLITE_OK)
        return true;
    if (error)
        *error = u"%1: %2"_s.arg(m_fileName, QString::fromUtf8(message));
    sqlite3_free(message);
    return false;
}

bool Store::prepare(const char *sql, sqlite3_stmt **stmt, QString *error)
{
    if (sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK)
        return fail(u"cannot prepare a statement"_s, error);
    return true;
}

bool Store::step(sqlite3_stmt *stmt, QString *error)
{
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return true;
    return fail(u"cannot write"_s, error);
}

bool Store::open(const QString &fileName, Sync sync, QString *error)
{
    close();
    m_fileName = fileName;
    m_failure.clear();
    if (QFileInfo(fileName).isDir()) {
        *error = u"%1: is a directory, not a data file"_s.arg(fileName);
        return false;
    }
    // The file holds full session ids, which are bearer secrets (docs/semantics.md §2): a new file is created
    // readable by its owner only, in one step, so that it never exists with wider permissions (a chmod after the
    // creation leaves a window in which another user can open it). SQLite gives its WAL and journal the file's mode.
    // An existing file keeps the mode its owner chose.
    const QByteArray encodedName = QFile::encodeName(fileName);
    const int fd = ::open(encodedName.constData(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
        // A umask that takes the owner's own bits (0600 & ~umask) would leave a file SQLite cannot open: this only
        // ever puts them back, never widens it beyond the owner.
        struct stat st = {};
        if (::fstat(fd, &st) == 0 && (st.st_mode & 0777) != 0600)
            ::fchmod(fd, 0600);
        ::close(fd);
    } else if (errno != EEXIST) {
        *error = u"%1: cannot create: %2"_s.arg(fileName, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    const int rc = sqlite3_open_v2(encodedName.constData(), &m_db, SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) {
        fail(u"cannot open"_s, error);
        close();
        return false;
    }
    sqlite3_extended_result_codes(m_db, 1);
    // Exclusive locking: the lock is taken by the first read below and held until close, so a second server on the
    // same file fails here instead of writing into it. It also lets WAL work without a shared-memory file.
    if (!exec("PRAGMA locking_mode=EXCLUSIVE", error) || !checkFormat(error)) {
        close();
        return false;
    }
    const char *syncPragma = sync == Sync::Full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    if (!exec("PRAGMA journal_mode=WAL", error) || !exec(syncPragma, error)
        || !prepare("INSERT INTO log(ns, base, writes) VALUES (?, ?, ?)", &m_insertLog, error)
        || !prepare(
            "INSERT OR REPLACE INTO sessions(id, number, ns, identity, created_at, ops) VALUES (?, ?, ?, ?, ?, ?)",
            &m_saveSession, error)
        || !prepare("DELETE FROM sessions WHERE id = ?", &m_deleteSession, error)
        || !prepare("INSERT INTO registrations(session, action, path, value, registered_at) VALUES (?, ?, ?, ?, ?)",
            &m_appendRegistration, error)
        || !prepare("DELETE FROM registrations WHERE session = ?", &m_deleteRegistrations, error)
        || !prepare("UPDATE meta SET value = ? WHERE key = 'next_session'", &m_setNextSession, error)
        || !prepare("INSERT OR REPLACE INTO snapshots(ns, tree) VALUES (?, ?)", &m_saveSnapshot, error)
        || !prepare("BEGIN IMMEDIATE", &m_begin, error) || !prepare("COMMIT", &m_commit, error)
        || !prepare("ROLLBACK", &m_rollback, error) || !prepare("SAVEPOINT op", &m_savepoint, error)
        || !prepare("RELEASE op", &m_release, error) || !prepare("ROLLBACK TO op", &m_rollbackTo, error)) {
        close();
        return false;
    }
    return true;
}

bool Store::checkFormat(QString *error)
{
    sqlite3_stmt *stmt = nullptr;
    auto intPragma = [&](const char *sql, int *out) {
        if (sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW) {
            const int code = sqlite3_errcode(m_db);
            sqlite3_finalize(stmt);
            if (code == SQLITE_NOTADB) {
                *error = u"%1: not a Lark data file (not an SQLite database)"_s.arg(m_fileName);
                return false;
            }
            if ((code & 0xff) == SQLITE_BUSY) {
                *error = u"%1: in use by another process (is another lark-server running on it?)"_s.arg(m_fileName);
                return false;
            }
            return fail(u"cannot read"_s, error);
        }
        *out = sqlite3_column_int(stmt, 0);
        sqlite3_finalize(stmt);
        return true;
    };
    int version = 0, appId = 0, tables = 0;
    if (!intPragma("PRAGMA user_version", &version) || !intPragma("PRAGMA application_id", &appId)
        || !intPragma("SELECT count(*) FROM sqlite_schema", &tables))
        return false;
    if (version == 0 && appId == 0 && tables == 0) {
        // A new (or empty) file: lay out the schema and mark it as a Lark store of this format.
        const QByteArray init = QByteArray("BEGIN;") + Schema + RegistrationsSchema
            + "PRAGMA application_id=" + QByteArray::number(LarkApplicationId)
            + ";PRAGMA user_version=" + QByteArray::number(FormatVersion) + ";COMMIT;";
        return exec(init.constData(), error);
    }
    if (appId != LarkApplicationId) {
        *error = u"%1: not a Lark data file (an SQLite database of another application)"_s.arg(m_fileName);
        return false;
    }
    if (version == 1) {
        // Format 1 kept every session's whole queue in its row, rewritten at each op; format 2 reads such rows as
        // they are (as snapshots without registrations). Migrating is one transaction: after a crash the file is
        // still format 1, or format 2 with everything.
        const QByteArray migrate = QByteArray("BEGIN;") + RegistrationsSchema
            + "PRAGMA user_version=" + QByteArray::number(FormatVersion) + ";COMMIT;";
        if (!exec(migrate.constData(), error)) {
            exec("ROLLBACK", nullptr);
            return false;
        }
        qCInfo(lcServer).noquote() << m_fileName << "migrated from Lark data format 1 to" << FormatVersion;
        return true;
    }
    if (version != FormatVersion) {
        *error = u"%1: written in Lark data format %2, this lark-server reads formats 1 to %3"_s.arg(m_fileName)
                     .arg(version)
                     .arg(FormatVersion);
        return false;
    }
    return true;
}

bool Store::load(const std::function<Database *(const QString &)> &database, std::vector<StoredSession> *sessions,
    quint64 *nextSessionNumber, QString *error)
{
    sqlite3_stmt *stmt = nullptr;
    auto corrupt = [&](const QString &what) {
        sqlite3_finalize(stmt);
        *error = u"%1: damaged data file: %2"_s.arg(m_fileName, what);
        return false;
    };
    // A read error ends a step loop like its last row would: without this check a damaged page would load as
    // less data, silently.
    auto finished = [&](int rc, const QString &what) {
        if (rc == SQLITE_DONE)
            return true;
        return corrupt(u"%1: %2"_s.arg(what, QString::fromUtf8(sqlite3_errmsg(m_db))));
    };
    int rc = SQLITE_DONE;
    m_snapshotBytes = 0;
    if (!prepare("SELECT ns, tree FROM snapshots", &stmt, error))
        return false;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const QString ns = columnText(stmt, 0);
        bool ok = false;
        const QJsonArray tree = columnArray(stmt, 1, &ok);
        Node root;
        QString why;
        if (!ok || tree.size() != 1 || !Node::fromJson(tree.at(0), &root, &why))
            return corrupt(u"snapshot of %1: %2"_s.arg(ns, why));
        m_snapshotBytes += sqlite3_column_bytes(stmt, 1);
        std::vector<Write> writes;
        writes.push_back({Path(), std::move(root)});
        database(ns)->load(Path(), std::move(writes));
    }
    if (!finished(rc, u"reading the snapshots"_s))
        return false;
    sqlite3_finalize(stmt);

    m_logBytes = 0;
    if (!prepare("SELECT ns, base, writes FROM log ORDER BY seq", &stmt, error))
        return false;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const QString ns = columnText(stmt, 0);
        bool ok = false;
        const QJsonArray rows = columnArray(stmt, 2, &ok);
        if (!ok)
            return corrupt(u"a logged batch of %1 is not JSON"_s.arg(ns));
        m_logBytes += sqlite3_column_bytes(stmt, 2);
        std::vector<Write> writes;
        for (const QJsonValue &row : rows) {
            const QJsonArray pair = row.toArray();
            Node value;
            QString why;
            if (pair.size() != 2 || !Node::fromJson(pair.at(1), &value, &why))
                return corrupt(u"a logged batch of %1: %2"_s.arg(ns, why));
            writes.push_back({pathFromText(pair.at(0).toString()), std::move(value)});
        }
        database(ns)->load(pathFromText(columnText(stmt, 1)), std::move(writes));
    }
    if (!finished(rc, u"reading the log"_s))
        return false;
    sqlite3_finalize(stmt);

    if (!prepare("SELECT id, number, ns, identity, created_at, ops FROM sessions ORDER BY number", &stmt, error))
        return false;
    quint64 next = 1;
    m_registrations.clear();
    QHash<QString, size_t> byId;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        StoredSession s;
        s.id = columnText(stmt, 0);
        s.number = quint64(sqlite3_column_int64(stmt, 1));
        s.ns = columnText(stmt, 2);
        s.identity = identityFromJson(QJsonDocument::fromJson(columnText(stmt, 3).toUtf8()).object());
        s.createdAt = sqlite3_column_int64(stmt, 4);
        bool ok = false;
        const QJsonArray ops = columnArray(stmt, 5, &ok);
        if (!ok)
            return corrupt(u"the ops of session S%1 are not JSON"_s.arg(s.number));
        for (const QJsonValue &v : ops) {
            const QJsonObject o = v.toObject();
            s.ops.push_back({pathFromText(o.value(u"path"_s).toString()), o.value(u"value"_s),
                kindFromName(o.value(u"kind"_s).toString()), qint64(o.value(u"registeredAt"_s).toDouble())});
        }
        next = std::max(next, s.number + 1);
        m_registrations.insert(s.id, {0, 0, sqlite3_column_bytes(stmt, 5)});
        byId.insert(s.id, sessions->size());
        sessions->push_back(std::move(s));
    }
    if (!finished(rc, u"reading the sessions"_s))
        return false;
    sqlite3_finalize(stmt);

    // Each session's registrations since its snapshot, replayed through the queue that applied them first.
    if (!prepare("SELECT session, action, path, value, registered_at FROM registrations ORDER BY seq", &stmt, error))
        return false;
    std::vector<OnDisconnectQueue> queues(sessions->size());
    for (size_t i = 0; i < sessions->size(); ++i)
        queues[i].setOps(std::move((*sessions)[i].ops));
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const QString id = columnText(stmt, 0);
        const auto at = byId.constFind(id);
        if (at == byId.constEnd()) {
            // Rows go with their session in one savepoint, so this needs a damaged file; they could never fire.
            qCWarning(lcServer).noquote() << m_fileName << "has queued ops of a session that is not stored; ignored";
            continue;
        }
        bool ok = false;
        const QJsonArray value = columnArray(stmt, 3, &ok);
        Registration r;
        if (!ok
            || !registrationFromRow(columnText(stmt, 1), columnText(stmt, 2), value, sqlite3_column_int64(stmt, 4), &r))
            return corrupt(u"an op of session S%1 cannot be read"_s.arg((*sessions)[*at].number));
        queues[*at].apply(r);
        RegistrationLog &log = m_registrations[id];
        ++log.rows;
        log.bytes += sqlite3_column_bytes(stmt, 1) + sqlite3_column_bytes(stmt, 2) + sqlite3_column_bytes(stmt, 3);
    }
    if (!finished(rc, u"reading the queued ops"_s))
        return false;
    sqlite3_finalize(stmt);
    for (size_t i = 0; i < sessions->size(); ++i)
        (*sessions)[i].ops = queues[i].ops();

    if (!prepare("SELECT value FROM meta WHERE key = 'next_session'", &stmt, error))
        return false;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        next = std::max(next, quint64(sqlite3_column_int64(stmt, 0)));
    sqlite3_finalize(stmt);
    m_storedNextSession = next;
    *nextSessionNumber = next;
    return true;
}

void Store::attach(Database *db)
{
    if (std::find(m_databases.begin(), m_databases.end(), db) == m_databases.end())
        m_databases.push_back(db);
    db->setJournal(this);
}

bool Store::insertLog(const Database &db, const Path &base, const std::vector<Write> &writes, QString *error)
{
    QJsonArray rows;
    for (const Write &w : writes)
        rows.append(QJsonArray {w.path.toString(), w.value.toJson()});
    const QByteArray json = compactJson(rows);
    bindText(m_insertLog, 1, db.name().toUtf8());
    bindText(m_insertLog, 2, base.toString().toUtf8());
    bindText(m_insertLog, 3, json);
    if (!step(m_insertLog, error))
        return false;
    m_logBytes += json.size();
    return true;
}

bool Store::beginRecord(QString *error)
{
    if (!m_failure.isEmpty()) {
        if (error)
            *error
                = u"%1: writes are refused since a commit failed (%2); a restart continues from the last commit"_s.arg(
                    m_fileName, m_failure);
        return false;
    }
    // A full batch is committed before this record, never between the statements of one record.
    if (m_batch && m_batchRecords >= m_maxBatchRecords && !commit(error))
        return false;
    if (!m_batch) {
        if (!step(m_begin, error))
            return false;
        m_batch = ++m_lastBatch;
        m_batchRecords = 0;
        m_logBytesAtBegin = m_logBytes;
        m_storedNextSessionAtBegin = m_storedNextSession;
        if (m_batchOpened)
            m_batchOpened();
    }
    ++m_batchRecords;
    return true;
}

void Store::checkBatchLost(const QString &why)
{
    // SQLite may roll back the whole transaction on some errors (SQLITE_FULL, SQLITE_IOERR, ...), not only the
    // statement: then every record of the batch is gone from the file although applied in memory.
    if (!m_batch || !sqlite3_get_autocommit(m_db))
        return;
    qCCritical(lcServer).noquote() << "the data file rolled back a whole transaction; its records are applied in"
                                   << "memory but not stored, and writes are refused from now on:" << why;
    finishBatch(false, why);
}

void Store::finishBatch(bool ok, const QString &why)
{
    const quint64 batch = m_batch;
    m_batch = 0;
    m_batchRecords = 0;
    if (!ok) {
        m_logBytes = m_logBytesAtBegin;
        m_storedNextSession = m_storedNextSessionAtBegin;
        m_failure = why.isEmpty() ? u"unknown error"_s : why;
    }
    if (m_committed)
        m_committed(batch, ok, why);
}

bool Store::commit(QString *error)
{
    if (!m_batch)
        return true;
    QString why;
    bool ok = false;
    if (!m_testCommitFailure.isEmpty())
        why = u"%1: %2"_s.arg(m_fileName, m_testCommitFailure);
    else
        ok = step(m_commit, &why);
    if (ok) {
        ++m_commitCount;
    } else {
        // The batch cannot be taken back from memory (it was applied and pushed when it was recorded), so the
        // file and memory now differ: finishBatch() makes the store refuse every later record.
        step(m_rollback, nullptr);
        qCCritical(lcServer).noquote() << "a commit of the data file failed; its" << m_batchRecords
                                       << "records are applied in memory but not stored, and writes are refused"
                                       << "from now on:" << why;
    }
    finishBatch(ok, why);
    if (!ok && error)
        *error = why;
    return ok;
}

bool Store::record(
    const Database &db, const Path &base, const std::vector<Write> &writes, const WriteOrigin &, QString *error)
{
    if (!m_db)
        return fail(u"not open"_s, error);
    // Compacting before this batch is logged snapshots the trees as they are now, which is what the log so far
    // adds up to; the batch then starts the new log.
    if (m_logBytes > std::max(MinCompactBytes, m_snapshotBytes) && m_failure.isEmpty()) {
        QString why;
        if (!compact(&why))
            qCWarning(lcServer).noquote() << "compaction failed, the log keeps growing:" << why;
    }
    QString why;
    if (!beginRecord(&why) || !insertLog(db, base, writes, &why)) {
        checkBatchLost(why);
        if (error)
            *error = why;
        return false;
    }
    ++m_recordCount;
    return true;
}

bool Store::saveSession(const Session &s, QString *error)
{
    if (!m_db)
        return fail(u"not open"_s, error);
    QString why;
    if (!beginRecord(&why) || !writeSession(s, &why)) {
        checkBatchLost(why);
        if (error)
            *error = why;
        return false;
    }
    ++m_recordCount;
    return true;
}

bool Store::writeSession(const Session &s, QString *why)
{
    const QByteArray ops = opsJson(s.queue().ops());
    const QByteArray id = s.id().toUtf8();
    const QByteArray ns = s.database()->name().toUtf8();
    const QByteArray identity = QJsonDocument(identityJson(s.identity())).toJson(QJsonDocument::Compact);
    const bool newNumber = s.number() >= m_storedNextSession;
    const auto known = m_registrations.constFind(s.id());
    const bool hasRows = known != m_registrations.constEnd() && known->rows > 0;
    // A savepoint keeps the row, the end of its registrations and the number counter together without ending the
    // batch's transaction; a lone row needs none.
    const bool savepoint = newNumber || hasRows;
    if (savepoint && !step(m_savepoint, why))
        return false;
    bindText(m_saveSession, 1, id);
    sqlite3_bind_int64(m_saveSession, 2, sqlite3_int64(s.number()));
    bindText(m_saveSession, 3, ns);
    bindText(m_saveSession, 4, identity);
    sqlite3_bind_int64(m_saveSession, 5, s.createdAt);
    bindText(m_saveSession, 6, ops);
    bool ok = step(m_saveSession, why);
    if (ok && hasRows) {
        // The new snapshot holds what they added up to.
        bindText(m_deleteRegistrations, 1, id);
        ok = step(m_deleteRegistrations, why);
    }
    if (ok && newNumber) {
        // The number counter is kept apart from the rows: numbers of sessions that fired are never reused.
        sqlite3_bind_int64(m_setNextSession, 1, sqlite3_int64(s.number() + 1));
        ok = step(m_setNextSession, why);
    }
    if (savepoint) {
        ok = ok && step(m_release, why);
        if (!ok) {
            step(m_rollbackTo, nullptr);
            step(m_release, nullptr);
        }
    }
    if (!ok)
        return false;
    if (newNumber)
        m_storedNextSession = s.number() + 1;
    m_registrations.insert(s.id(), {0, 0, ops.size()});
    m_sessionBytesWritten += id.size() + ns.size() + identity.size() + ops.size();
    return true;
}

bool Store::recordRegistration(const Session &s, const OnDisconnectQueue::Registration &r, QString *error)
{
    if (!m_db)
        return fail(u"not open"_s, error);
    // Replaying costs the snapshot plus the rows after it. The queue becomes the new snapshot instead once the rows
    // number at least max(64, twice the ops they add up to) and hold at least the snapshot's bytes: then each rewrite
    // costs at most about twice what was appended since the last one, so registering stays linear in what is
    // registered (amortised), and the rows a load replays stay within twice the queue or the snapshot's size. (The
    // byte condition keeps one large queued value from being rewritten after every 64 tiny ops.) A session without a
    // stored row (its first save failed) gets one now, so that its ops are never rows of no session.
    const auto known = m_registrations.constFind(s.id());
    if (known == m_registrations.constEnd()
        || (known->rows >= std::max<qint64>(64, 2 * qint64(s.queue().ops().size()))
            && known->bytes >= known->snapshotBytes))
        return saveSession(s, error);
    const QByteArray id = s.id().toUtf8();
    const QByteArray action(actionName(r.action));
    const QByteArray path = r.path.toString().toUtf8();
    const QByteArray value = registrationValue(r);
    QString why;
    bool ok = beginRecord(&why);
    if (ok) {
        bindText(m_appendRegistration, 1, id);
        bindText(m_appendRegistration, 2, action);
        bindText(m_appendRegistration, 3, path);
        bindText(m_appendRegistration, 4, value);
        sqlite3_bind_int64(m_appendRegistration, 5, r.at);
        ok = step(m_appendRegistration, &why);
    }
    if (!ok) {
        checkBatchLost(why);
        if (error)
            *error = why;
        return false;
    }
    RegistrationLog &log = m_registrations[s.id()];
    ++log.rows;
    log.bytes += action.size() + path.size() + value.size();
    m_sessionBytesWritten += id.size() + action.size() + path.size() + value.size();
    ++m_recordCount;
    return true;
}

bool Store::endSession(const Database &db, const std::vector<Write> &writes, const QString &sessionId, QString *error)
{
    if (!m_db)
        return fail(u"not open"_s, error);
    QString why;
    if (!beginRecord(&why)) {
        if (error)
            *error = why;
        return false;
    }
    // The fired batch and the row's deletion are one savepoint inside the batch's transaction, so they are
    // committed (or lost) together.
    const qint64 before = m_logBytes;
    const QByteArray id = sessionId.toUtf8();
    const auto known = m_registrations.constFind(sessionId);
    const bool hasRows = known != m_registrations.constEnd() && known->rows > 0;
    bindText(m_deleteSession, 1, id);
    if (hasRows)
        bindText(m_deleteRegistrations, 1, id);
    if (!step(m_savepoint, &why) || (!writes.empty() && !insertLog(db, Path(), writes, &why))
        || !step(m_deleteSession, &why) || (hasRows && !step(m_deleteRegistrations, &why)) || !step(m_release, &why)) {
        step(m_rollbackTo, nullptr);
        step(m_release, nullptr);
        m_logBytes = before;
        checkBatchLost(why);
        if (error)
            *error = why;
        return false;
    }
    m_registrations.remove(sessionId);
    ++m_recordCount;
    return true;
}

bool Store::compact(QString *error)
{
    if (!m_db)
        return fail(u"not open"_s, error);
    // After a lost batch, memory holds writes the file does not: snapshotting them would store writes that were
    // refused to their clients. The file stays as of its last commit.
    if (!m_failure.isEmpty()) {
        if (error)
            *error = u"%1: not compacted, a commit failed earlier (%2)"_s.arg(m_fileName, m_failure);
        return false;
    }
    // Emptying the log needs every namespace's tree; one that went away (only possible outside Server) keeps it.
    if (std::any_of(m_databases.begin(), m_databases.end(), [](const QPointer<Database> &db) { return !db; })) {
        if (error)
            *error = u"%1: a namespace's database is gone; the log is kept"_s.arg(m_fileName);
        return false;
    }
    // The snapshots are of memory, which includes the open batch: commit it first, then compact on its own.
    if (!commit(error))
        return false;
    if (!step(m_begin, error))
        return false;
    qint64 bytes = 0;
    bool ok = true;
    for (const QPointer<Database> &db : m_databases) {
        const QByteArray tree = compactJson(QJsonArray {db->root().toJson()});
        bytes += tree.size();
        bindText(m_saveSnapshot, 1, db->name().toUtf8());
        bindText(m_saveSnapshot, 2, tree);
        if (!(ok = step(m_saveSnapshot, error)))
            break;
    }
    ok = ok && exec("DELETE FROM log", error) && step(m_commit, error);
    if (!ok) {
        step(m_rollback, nullptr);
        return false;
    }
    m_snapshotBytes = bytes;
    m_logBytes = 0;
    // Fold the WAL into the main file so it does not keep the size of the old log.
    sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    return true;
}

} // namespace lark
