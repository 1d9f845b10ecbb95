// SPDX-License-Identifier: MIT
#pragma once

#include "redisurl.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

struct redisAsyncContext;
struct redisContext;
class QSocketNotifier;

namespace lark::redis
{

/** One reply, copied out of hiredis (RESP2). */
struct RedisReply {
    enum class Type { Nil, Status, Error, Integer, String, Array };
    Type type = Type::Nil;
    qint64 integer = 0;
    QByteArray string; /**< String, Status and Error replies */
    std::vector<RedisReply> elements; /**< Array replies */

    [[nodiscard]] bool isError() const { return type == Type::Error; }
    /** An error reply made here, not by Redis: "UNAVAILABLE ..." (see RedisConnection::command). */
    static RedisReply error(const QByteArray &message);
};

/**
 * One connection to Redis on hiredis's async API, driven from the Qt event loop by two QSocketNotifiers (not
 * hiredis's own Qt adapter, which needs moc on a system header and does not build with QT_NO_KEYWORDS). Commands
 * are pipelined and answered in order. It reconnects by itself with a backoff from 100 ms to 2 s, and sends AUTH
 * and SELECT from the URL before it reports ready.
 *
 * Every command gets exactly one answer. When it cannot have reached Redis (not connected) the answer is an error
 * at once, "UNAVAILABLE not connected to ..."; when the connection is lost or times out while it waits, "UNAVAILABLE
 * outcome unknown: ...", because Redis may have run it: a caller must not retry blindly (an increment would apply
 * twice).
 */
class RedisConnection : public QObject
{
    Q_OBJECT
public:
    using Done = std::function<void(const RedisReply &reply)>;

    explicit RedisConnection(const RedisUrl &url, QObject *parent = nullptr);
    ~RedisConnection() override;

    /** Starts connecting (and keeps reconnecting after a loss) until destroyed. */
    void open();
    /** Connected, authenticated and on the URL's database. */
    [[nodiscard]] bool isReady() const { return m_ready; }
    [[nodiscard]] const RedisUrl &url() const { return m_url; }
    /** Why the last attempt failed or the connection was lost; empty while ready. */
    [[nodiscard]] const QString &lastError() const { return m_lastError; }
    /** A command with no answer after this long counts as a lost connection (hiredis 0.14 has no timeouts). */
    void setCommandTimeout(int ms) { m_timeoutMs = ms; }
    /** The first and the longest wait before reconnecting. */
    void setReconnectDelays(int firstMs, int maxMs);

    /**
     * Sends argv (binary-safe); done runs once with the reply, on context's thread, unless context is gone. done must
     * not delete this connection (deleteLater() it).
     */
    void command(const QList<QByteArray> &argv, const QObject *context, Done done);

Q_SIGNALS:
    void readyChanged(bool ready);

private:
    struct Pending {
        quint64 id = 0;
        qint64 deadline = 0; // m_clock ms
        QPointer<const QObject> context;
        Done done;
    };
    static void onConnected(const redisAsyncContext *ac, int status);
    static void onDisconnected(const redisAsyncContext *ac, int status);
    static void onReply(redisAsyncContext *ac, void *reply, void *privdata);
    void connectNow();
    /** The context is gone (hiredis frees it after its callbacks): answer what waits, schedule a reconnect. */
    void lost(const QString &why);
    void setReady(bool ready);
    /** Sends on the raw context, bypassing the ready check (AUTH and SELECT go before ready). */
    void send(const QList<QByteArray> &argv, const QObject *context, Done done);
    void armTimeout();
    void onTimeout();
    void answer(Pending &p, const RedisReply &reply);

    RedisUrl m_url;
    redisAsyncContext *m_ac = nullptr;
    std::unique_ptr<QSocketNotifier> m_read;
    std::unique_ptr<QSocketNotifier> m_write;
    std::deque<Pending> m_pending; // sent, in order: Redis answers in order
    quint64 m_nextId = 1;
    bool m_ready = false;
    bool m_open = false;
    bool m_destroying = false;
    bool m_refused = false; // this attempt's AUTH or SELECT was refused
    QString m_lastError;
    int m_timeoutMs = 5000;
    int m_firstDelayMs = 100;
    int m_maxDelayMs = 2000;
    int m_delayMs = 100;
    QElapsedTimer m_clock;
    QTimer m_timeout;
    QTimer m_reconnect;
};

/**
 * What the cluster mode needs of Redis's configuration and this one lacks, in words (issue #17):
 * appendonly yes, appendfsync always, maxmemory-policy noeviction. config is the reply to CONFIG GET *.
 */
[[nodiscard]] QStringList durabilityProblems(const RedisReply &config);
/** durabilityProblems() of redis's configuration; done gets the problems or, if it could not be read, an error. */
void checkDurability(
    RedisConnection &redis, const QObject *context, std::function<void(QStringList problems, QString error)> done);

/**
 * A connection that waits for each reply (hiredis's blocking API), for what must be done before anything else may
 * happen: a node's start, and the first read of a namespace before its first client sees it. Errors as in
 * RedisConnection ("UNAVAILABLE ..."); after a failure the next command() reports it until connect() is called again.
 */
class BlockingRedis
{
public:
    BlockingRedis() = default;
    ~BlockingRedis();
    BlockingRedis(const BlockingRedis &) = delete;
    BlockingRedis &operator=(const BlockingRedis &) = delete;

    /** Connects (AUTH and SELECT from url), each step and later each command bounded by timeoutMs. */
    bool connect(const RedisUrl &url, int timeoutMs, QString *error);
    [[nodiscard]] bool isConnected() const { return m_c != nullptr; }
    RedisReply command(const QList<QByteArray> &argv);

private:
    redisContext *m_c = nullptr;
    RedisUrl m_url;
};

} // namespace lark::redis
