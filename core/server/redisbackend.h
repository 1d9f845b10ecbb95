// SPDX-License-Identifier: MIT
#pragma once

#include "backend.h"

#include "redis/redisconnection.h"
#include "redis/redisurl.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonArray>
#include <QSet>
#include <QTimer>

#include <deque>

namespace lark
{

/**
 * The cluster mode's storage (issue #17): the namespaces' trees live in one Redis shared by several lark-server
 * nodes. The writes of one loop round are one call of the lark_v1 function library (core/server/lark_v1.lua),
 * which applies each and appends each to the namespace's change stream; every node's tree is a replica that follows
 * that stream, so listeners on every node see one order. A write is applied here only when it comes back from the
 * stream, and its `ok` waits for that (push before ack, as on a single node).
 *
 * Sessions live in Redis too (sharesSessions()): any node resumes any session, and fires it exactly once. Each node
 * holds a lease that it renews; every call carries it, and Redis refuses one whose lease expired (fencing). Every
 * node sweeps for sessions whose grace ended and fires them in Redis, and takes over the live sessions of a node
 * whose lease ran out (they are suspended with a fresh grace).
 */
class RedisBackend : public Backend
{
    Q_OBJECT
public:
    struct Options {
        redis::RedisUrl url;
        QString nodeName; /**< unique to one process: registering under it expires the last holder's lease */
        int leaseMs = 15000; /**< a silent node is dead after as long as a silent client (dead-after) */
        /** Start even when Redis is configured below the durability promise (logged as a warning instead). */
        bool unsafe = false;
        int commandTimeoutMs = 5000;
        int graceMs = 10000; /**< a dead node's live sessions fire after this, unless resumed elsewhere */
        int sweepMs = 100; /**< how often this node fires the sessions whose grace ended (any node's) */
        int reapMs = 250; /**< how often it looks for dead nodes to take their sessions over */
    };
    explicit RedisBackend(Options options, QObject *parent = nullptr);
    ~RedisBackend() override;

    /** The library as shipped in this binary, and its name (lark_v1). */
    static QByteArray functionLibrary();

    bool start(const DatabaseFor &database, Loaded *loaded, QString *error) override;
    void attach(Database *db) override;
    bool record(const Database &db, const Path &base, const std::vector<Write> &writes, const WriteOrigin &origin,
        QString *error) override;
    [[nodiscard]] bool appliesLater() const override { return true; }
    bool saveSession(const Session &s, QString *error) override;
    bool recordRegistration(const Session &s, const OnDisconnectQueue::Registration &, QString *error) override
    {
        return saveSession(s, error);
    }
    bool endSession(const Database &db, const std::vector<Write> &writes, const QString &sessionId,
        const WriteOrigin &origin, QString *error) override;
    bool commit(QString *) override { return true; } // each write is durable when Redis answers it
    void stop() override;
    [[nodiscard]] bool isPersistent() const override { return true; }
    [[nodiscard]] quint64 openBatch() const override { return m_writes.empty() ? 0 : m_writes.back().batch; }
    [[nodiscard]] quint64 recordCount() const override { return m_records; }
    [[nodiscard]] QJsonObject describe() const override;
    void setCommitsPausedForTesting(bool) override { }

    /** This node's lease as Redis names it, `<node>#<epoch>`; empty while it holds none. */
    [[nodiscard]] QString lease() const;
    /** The stream ID this node's copy of ns is current at ("0-0" before the first change). */
    [[nodiscard]] QByteArray version(const QString &ns) const;

    [[nodiscard]] bool sharesSessions() const override { return true; }
    [[nodiscard]] bool acceptsSessions() const override { return m_available && holdsLease(); }
    void openSession(const Session &s) override;
    void resumeSession(const QString &ns, const QString &id, std::function<void(bool, SharedSession)> done) override;
    void suspendSession(const Session &s, int graceMs) override;

    /** The session's public key in the change stream: names it without its id, which is a bearer secret. */
    [[nodiscard]] static QByteArray sessionKey(const QString &id);

Q_SIGNALS:
    /** describe() changed beyond a lease's countdown: a node joined, left or died, Redis went or came back. */
    void describeChanged();
    /** Redis became unreachable, or reachable again. */
    void availabilityChanged(bool available);

private:
    struct Replica {
        Database *db = nullptr;
        QList<QByteArray> keys; // the nine keys every namespace function gets
        QByteArray lastId = "0-0";
        qint64 seq = 0;
    };
    struct PendingWrite {
        enum class State { Sent, Applying, Done };
        quint64 batch = 0;
        QString ns;
        QByteArray id;
        State state = State::Sent;
        bool ok = true;
        QString error;
    };

    /** The writes of one namespace gathered in this loop round: one lark_write call (flushWrites()). */
    struct OpenCall {
        QList<QByteArray> groups; // each request's arguments, one after the other
        std::vector<quint64> batches; // their PendingWrite, one per group
        qsizetype bytes = 0;
    };

    Replica &replica(Database *db);
    /** Sends every namespace's open call: before any other command, so Redis sees this node's order. */
    void flushWrites();
    void sendWrites(const QString &ns, const QByteArray &since, OpenCall call);
    bool loadReplica(Replica &r, QString *error);
    void readTail();
    void applyEntry(Replica &r, const redis::RedisReply &entry);
    void settle(Replica &r);
    void finishWrites();
    void heartbeat();
    void readNodes();
    void readSessions();
    void sweep();
    void sweepNamespace(const QString &ns);
    void reap();
    void takeOver(const QString &dead, const QString &ns);
    /** Sends a session function's call (the namespace keys, the lease, then args); done gets the reply. */
    void sessionCall(const QString &ns, const QByteArray &function, const QList<QByteArray> &args,
        std::function<void(const redis::RedisReply &)> done);
    void checkLease();
    void onTailReady(bool ready);
    [[nodiscard]] bool holdsLease() const;

    Options m_options;
    redis::BlockingRedis m_blocking; // start and each namespace's first read
    redis::RedisConnection m_commands;
    redis::RedisConnection m_tail; // XREAD BLOCK holds its connection
    QHash<QString, Replica> m_replicas;
    std::deque<PendingWrite> m_writes; // in batch order: committed() reports them in that order
    QHash<QString, OpenCall> m_open;
    QTimer m_flushTimer; // 0 ms: the end of the loop round that opened a call
    quint64 m_nextBatch = 1;
    quint64 m_records = 0;
    qint64 m_epoch = 0; // 0: no lease
    QElapsedTimer m_clock;
    qint64 m_leaseValidUntil = 0; // on m_clock: lease ttl after the send time of the last renewal Redis accepted
    bool m_heartbeatInFlight = false;
    bool m_tailInFlight = false;
    bool m_tailRestart = false; // a namespace joined while the tail was blocked
    QByteArray m_tailClientId;
    bool m_available = true;
    QTimer m_heartbeatTimer;
    QTimer m_leaseTimer;
    QTimer m_sweepTimer;
    QTimer m_reapTimer;
    QStringList m_allNamespaces; // lark:nss, refreshed by the sweep: any node fires any namespace's sessions
    QSet<QString> m_sweeping; // namespaces with a lark_fire_due in flight
    int m_sweepRounds = 0;
    bool m_reaping = false;
    QHash<QString, int> m_takingOver; // dead lease → namespaces whose take-over has not finished
    QJsonArray m_nodes; // lark_nodes as last read: {lease, node, expiresInMs, alive, self}
    // lark_sessions of every attached namespace as last read: {ns, handle, state, node (live) or firesInMs}
    QJsonArray m_clusterSessions;
    int m_readingSessions = 0; // lark_sessions calls in flight
    QHash<QByteArray, QString> m_sessionKeys; // sessionKey → id, for this node's live sessions (kicks)
};

} // namespace lark
