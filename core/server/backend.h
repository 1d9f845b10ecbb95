// SPDX-License-Identifier: MIT
#pragma once

#include "db/database.h"
#include "identity.h"
#include "ondisconnectqueue.h"

#include <QJsonObject>
#include <QObject>
#include <QString>

#include <functional>
#include <vector>

namespace lark
{

class Session;

/**
 * Where the server keeps what outlives a connection: the namespaces' trees, the sessions with their queued ops, and
 * when each of those changes is durable. The server talks only to this interface. MemoryBackend keeps everything in
 * the process; SqliteBackend keeps it in a data file (Store, docs/semantics.md §6); the cluster mode on Redis
 * is meant to be a third (docs/storage.md).
 *
 * Writes reach it as the databases' WriteJournal: a batch is recorded before it is applied, and a refusal leaves
 * the tree unchanged. Durability goes by batches: what is recorded goes into the open batch (openBatch(); 0 when
 * everything recorded is durable), and the server holds back the replies it promises about a record until
 * committed() reports that batch. A backend commits on its own schedule (SQLite: once per event-loop round).
 */
class Backend : public QObject, public WriteJournal
{
    Q_OBJECT
public:
    /** A session as kept: loaded at start, it comes back suspended (it has no socket any more). */
    struct StoredSession {
        QString id;
        quint64 number = 0;
        QString ns;
        Identity identity;
        qint64 createdAt = 0; /**< epoch ms */
        std::vector<OnDisconnectQueue::Op> ops;
    };
    struct Loaded {
        std::vector<StoredSession> sessions;
        quint64 nextSessionNumber = 1;
    };
    using DatabaseFor = std::function<Database *(const QString &ns)>;

    using QObject::QObject;

    /**
     * committed()'s error for a batch refused because what it was checked against changed meanwhile (a transaction
     * on a shared store): answered datastale, as if the server had seen the change first. Not a storage failure.
     */
    static inline const QString DataStaleError = QStringLiteral("datastale: the data changed meanwhile");

    /**
     * Opens what keeps the data and loads it: the trees into the databases that database(ns) returns (without
     * pushing), the sessions into *loaded. False with a reason when it cannot be used.
     */
    virtual bool start(const DatabaseFor &database, Loaded *loaded, QString *error) = 0;
    /** Keeps db from now on: its writes are recorded here first. */
    virtual void attach(Database *db) = 0;
    /** Saves the session (identity, queued ops) in place of its last version. */
    virtual bool saveSession(const Session &s, QString *error) = 0;
    /** Records r, which s's queue has just applied, at the cost of r alone. */
    virtual bool recordRegistration(const Session &s, const OnDisconnectQueue::Registration &r, QString *error) = 0;
    /**
     * The session fired writes (may be empty) and ended: both are kept together or not at all. Unless the backend
     * appliesLater(), the caller then applies the writes itself.
     */
    virtual bool endSession(const Database &db, const std::vector<Write> &writes, const QString &sessionId,
        const WriteOrigin &origin, QString *error)
        = 0;
    /** Makes the open batch durable now and reports it through committed(); false with a reason if it failed. */
    virtual bool commit(QString *error = nullptr) = 0;
    /** The server is shutting down: commit, and leave the data ready for a quick next start. */
    virtual void stop() = 0;

    /** Whether anything is kept beyond the process (a reply may then wait for its batch). */
    [[nodiscard]] virtual bool isPersistent() const = 0;
    /** The batch that records go into now; 0 when everything recorded is durable. */
    [[nodiscard]] virtual quint64 openBatch() const = 0;
    /** Counts the records accepted so far; lets a request see whether it recorded anything. */
    [[nodiscard]] virtual quint64 recordCount() const = 0;
    /** For the admin feed and the dashboard: {"persistent": bool, "failure": why writes are refused, if they are}. */
    [[nodiscard]] virtual QJsonObject describe() const = 0;
    /** Test seam: while paused, batches stay open until commit() is called or the pause ends. */
    virtual void setCommitsPausedForTesting(bool paused) = 0;

    // Sessions kept by a backend shared by several servers (Redis): any server may resume a session and fire it.
    // The server then keeps only a local view of the sessions it serves and never fires one itself.

    /** Whether the backend keeps the sessions and fires them (the calls below); false: the server does. */
    [[nodiscard]] virtual bool sharesSessions() const { return false; }
    /** Whether a new client can get a session now (a shared backend that cannot be reached: no, try later). */
    [[nodiscard]] virtual bool acceptsSessions() const { return true; }
    /** A session as a shared backend gives it back for a resume on this server. */
    struct SharedSession {
        bool found = false; /**< false: no such session (ended, fired, never known): start a new one */
        Identity identity;
        std::vector<OnDisconnectQueue::Op> ops;
        qint64 createdAt = 0;
    };
    /** s was opened on this server: keep it, live, owned by this server. */
    virtual void openSession(const Session &) { }
    /**
     * Makes session id of ns live and owned by this server (a server that had it live closes its socket without
     * firing). done gets whether the backend answered (false: unreachable) and the session.
     */
    virtual void resumeSession(const QString &, const QString &, std::function<void(bool, SharedSession)> done)
    {
        done(true, {});
    }
    /** s lost its socket: it fires after graceMs unless resumed somewhere; 0 (a clean close): it fires now. */
    virtual void suspendSession(const Session &, int) { }

Q_SIGNALS:
    /** A batch was committed (ok) or lost (!ok, with why); every record in it is durable, or is not. */
    void committed(quint64 batch, bool ok, const QString &error);
    /** A shared backend: session id was resumed on another server; close its socket here without firing. */
    void sessionMoved(const QString &id);
    /**
     * A shared backend: this server lost its place (a lease that expired while it was paused or cut off). Its
     * sessions are the others' now: drop every socket and forget them without firing; the clients resume.
     */
    void fenced();
};

/** Keeps everything in the process: every record is durable at once, and nothing survives a restart. */
class MemoryBackend : public Backend
{
    Q_OBJECT
public:
    using Backend::Backend;

    bool start(const DatabaseFor &, Loaded *, QString *) override { return true; }
    // Not the databases' journal: a write then costs no call at all.
    void attach(Database *) override { }
    bool record(const Database &, const Path &, const std::vector<Write> &, const WriteOrigin &, QString *) override
    {
        return true;
    }
    bool saveSession(const Session &, QString *) override { return true; }
    bool recordRegistration(const Session &, const OnDisconnectQueue::Registration &, QString *) override
    {
        return true;
    }
    bool endSession(
        const Database &, const std::vector<Write> &, const QString &, const WriteOrigin &, QString *) override
    {
        return true;
    }
    bool commit(QString *) override { return true; }
    void stop() override { }
    [[nodiscard]] bool isPersistent() const override { return false; }
    [[nodiscard]] quint64 openBatch() const override { return 0; }
    [[nodiscard]] quint64 recordCount() const override { return 0; }
    [[nodiscard]] QJsonObject describe() const override;
    void setCommitsPausedForTesting(bool) override { }
};

} // namespace lark
