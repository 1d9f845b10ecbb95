// SPDX-License-Identifier: MIT
#include "redisconnection.h"

#include <QHash>
#include <QSocketNotifier>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <utility>

using namespace Qt::Literals::StringLiterals;

namespace lark::redis
{

namespace
{

RedisReply copyReply(const redisReply *r)
{
    RedisReply out;
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        out.type = r->type == REDIS_REPLY_STRING ? RedisReply::Type::String
            : r->type == REDIS_REPLY_STATUS      ? RedisReply::Type::Status
                                                 : RedisReply::Type::Error;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Type::Integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Type::Array;
        out.elements.reserve(r->elements);
        for (size_t i = 0; i < r->elements; ++i)
            out.elements.push_back(copyReply(r->element[i]));
        break;
    default:
        out.type = RedisReply::Type::Nil;
        break;
    }
    return out;
}

// hiredis's binary-safe argv: pointers into argv and their lengths (argv must outlive it).
struct Argv {
    explicit Argv(const QList<QByteArray> &argv)
    {
        pointers.reserve(size_t(argv.size()));
        lengths.reserve(size_t(argv.size()));
        for (const QByteArray &a : argv) {
            pointers.push_back(a.constData());
            lengths.push_back(size_t(a.size()));
        }
    }
    [[nodiscard]] int size() const { return int(pointers.size()); }
    std::vector<const char *> pointers;
    std::vector<size_t> lengths;
};

} // namespace

RedisReply RedisReply::error(const QByteArray &message)
{
    RedisReply r;
    r.type = Type::Error;
    r.string = message;
    return r;
}

RedisConnection::RedisConnection(const RedisUrl &url, QObject *parent)
    : QObject(parent)
    , m_url(url)
{
    m_clock.start();
    m_timeout.setSingleShot(true);
    connect(&m_timeout, &QTimer::timeout, this, &RedisConnection::onTimeout);
    m_reconnect.setSingleShot(true);
    connect(&m_reconnect, &QTimer::timeout, this, &RedisConnection::connectNow);
}

RedisConnection::~RedisConnection()
{
    // redisAsyncFree answers what waits with no reply: nobody is there to hear it any more.
    m_destroying = true;
    if (m_ac)
        redisAsyncFree(m_ac);
}

void RedisConnection::setReconnectDelays(int firstMs, int maxMs)
{
    m_firstDelayMs = std::max(1, firstMs);
    m_maxDelayMs = std::max(m_firstDelayMs, maxMs);
    m_delayMs = m_firstDelayMs;
}

void RedisConnection::open()
{
    if (m_open)
        return;
    m_open = true;
    connectNow();
}

void RedisConnection::connectNow()
{
    if (m_ac || m_destroying)
        return;
    redisAsyncContext *ac = redisAsyncConnect(m_url.host.toUtf8().constData(), m_url.port);
    if (!ac || ac->err) {
        const QString why = ac ? QString::fromUtf8(ac->errstr) : u"out of memory"_s;
        if (ac)
            redisAsyncFree(ac);
        lost(why);
        return;
    }
    m_ac = ac;
    m_refused = false;
    ac->data = this;
    ac->ev.data = this;
    ac->ev.addRead = [](void *p) { static_cast<RedisConnection *>(p)->m_read->setEnabled(true); };
    ac->ev.delRead = [](void *p) { static_cast<RedisConnection *>(p)->m_read->setEnabled(false); };
    ac->ev.addWrite = [](void *p) { static_cast<RedisConnection *>(p)->m_write->setEnabled(true); };
    ac->ev.delWrite = [](void *p) { static_cast<RedisConnection *>(p)->m_write->setEnabled(false); };
    ac->ev.cleanup = [](void *p) {
        auto *self = static_cast<RedisConnection *>(p);
        if (self->m_destroying) {
            self->m_read.reset();
            self->m_write.reset();
            return;
        }
        // Called while hiredis frees the context, possibly from inside a notifier's own signal: let Qt delete the
        // notifiers once that returns, but stop watching now, before hiredis closes the descriptor.
        for (std::unique_ptr<QSocketNotifier> *n : {&self->m_read, &self->m_write}) {
            if (*n) {
                (*n)->setEnabled(false);
                n->release()->deleteLater();
            }
        }
    };
    m_read = std::make_unique<QSocketNotifier>(ac->c.fd, QSocketNotifier::Read);
    m_write = std::make_unique<QSocketNotifier>(ac->c.fd, QSocketNotifier::Write);
    m_read->setEnabled(false);
    m_write->setEnabled(false);
    connect(m_read.get(), &QSocketNotifier::activated, this, [this] {
        if (m_ac)
            redisAsyncHandleRead(m_ac);
    });
    connect(m_write.get(), &QSocketNotifier::activated, this, [this] {
        if (m_ac)
            redisAsyncHandleWrite(m_ac);
    });
    redisAsyncSetConnectCallback(ac, &RedisConnection::onConnected);
    redisAsyncSetDisconnectCallback(ac, &RedisConnection::onDisconnected);

    // Sent first, answered before anything else; a refusal (a wrong password, no such database) is a failed attempt.
    const auto step = [this](const char *what) {
        return [this, what](const RedisReply &r) {
            // Only Redis's own refusal, and the first: what follows a refused AUTH is refused for that reason.
            if (!r.isError() || r.string.startsWith("UNAVAILABLE") || m_refused)
                return;
            m_refused = true;
            m_lastError = u"%1 refused: %2"_s.arg(QLatin1StringView(what), QString::fromUtf8(r.string));
            if (m_ac)
                redisAsyncDisconnect(m_ac);
        };
    };
    if (!m_url.password.isEmpty())
        send({"AUTH", m_url.password.toUtf8()}, this, step("AUTH"));
    if (m_url.db != 0)
        send({"SELECT", QByteArray::number(m_url.db)}, this, step("SELECT"));
    send({"PING"}, this, [this](const RedisReply &r) {
        if (!m_ac || r.string.startsWith("UNAVAILABLE") || m_refused)
            return;
        if (r.isError()) {
            // "LOADING": a restarted Redis still reading its file. Not ready: try again after the backoff.
            m_lastError = u"PING refused: %1"_s.arg(QString::fromUtf8(r.string));
            redisAsyncDisconnect(m_ac);
            return;
        }
        m_delayMs = m_firstDelayMs;
        m_lastError.clear();
        setReady(true);
    });
}

void RedisConnection::onConnected(const redisAsyncContext *ac, int status)
{
    auto *self = static_cast<RedisConnection *>(ac->data);
    if (status == REDIS_OK || !self || self->m_destroying)
        return;
    // hiredis frees the context after this returns, without a disconnect callback (it never connected).
    self->m_ac = nullptr;
    self->lost(QString::fromUtf8(ac->errstr));
}

void RedisConnection::onDisconnected(const redisAsyncContext *ac, int status)
{
    auto *self = static_cast<RedisConnection *>(ac->data);
    if (!self || self->m_destroying)
        return;
    QString why = self->m_lastError;
    if (why.isEmpty())
        why = status == REDIS_OK ? u"closed"_s : QString::fromUtf8(ac->errstr);
    self->m_ac = nullptr; // hiredis frees it after this returns
    self->lost(why);
}

void RedisConnection::lost(const QString &why)
{
    m_lastError = why.isEmpty() ? u"connection lost"_s : why;
    setReady(false);
    // What still waits was sent and may have run.
    std::deque<Pending> waiting;
    waiting.swap(m_pending);
    m_timeout.stop();
    for (Pending &p : waiting)
        answer(p, RedisReply::error("UNAVAILABLE outcome unknown: " + m_lastError.toUtf8()));
    if (m_open && !m_destroying && !m_reconnect.isActive()) {
        m_reconnect.start(m_delayMs);
        m_delayMs = std::min(m_maxDelayMs, m_delayMs * 2);
    }
}

void RedisConnection::setReady(bool ready)
{
    if (ready == m_ready)
        return;
    m_ready = ready;
    Q_EMIT readyChanged(ready);
}

void RedisConnection::command(const QList<QByteArray> &argv, const QObject *context, Done done)
{
    if (!m_ready) {
        // It never reached Redis: say so at once (and in the caller's own turn of the loop, not inside this call).
        const QByteArray message = "UNAVAILABLE not connected to " + m_url.toString().toUtf8()
            + (m_lastError.isEmpty() ? QByteArray() : ": " + m_lastError.toUtf8());
        QMetaObject::invokeMethod(
            this,
            [context = QPointer<const QObject>(context), done = std::move(done), message] {
                if (context)
                    done(RedisReply::error(message));
            },
            Qt::QueuedConnection);
        return;
    }
    send(argv, context, std::move(done));
}

void RedisConnection::send(const QList<QByteArray> &argv, const QObject *context, Done done)
{
    Argv args(argv);
    Pending p;
    p.id = m_nextId++;
    p.deadline = m_clock.elapsed() + m_timeoutMs;
    p.context = context;
    p.done = std::move(done);
    // The id, not a pointer, travels through hiredis: the deque may move its elements.
    const int rc = redisAsyncCommandArgv(m_ac, &RedisConnection::onReply, reinterpret_cast<void *>(quintptr(p.id)),
        args.size(), args.pointers.data(), args.lengths.data());
    if (rc != REDIS_OK) {
        answer(p, RedisReply::error("UNAVAILABLE not sent: " + QByteArray(m_ac->errstr)));
        return;
    }
    m_pending.push_back(std::move(p));
    if (!m_timeout.isActive())
        armTimeout();
}

void RedisConnection::onReply(redisAsyncContext *ac, void *reply, void *privdata)
{
    auto *self = static_cast<RedisConnection *>(ac->data);
    if (!self || self->m_destroying)
        return;
    const quint64 id = quint64(quintptr(privdata));
    // Replies come in order; a null reply means the context is going away (lost() answers those).
    if (!reply || self->m_pending.empty() || self->m_pending.front().id != id)
        return;
    Pending p = std::move(self->m_pending.front());
    self->m_pending.pop_front();
    self->armTimeout();
    self->answer(p, copyReply(static_cast<const redisReply *>(reply)));
}

void RedisConnection::armTimeout()
{
    if (m_pending.empty()) {
        m_timeout.stop();
        return;
    }
    m_timeout.start(int(std::max<qint64>(0, m_pending.front().deadline - m_clock.elapsed())));
}

void RedisConnection::onTimeout()
{
    if (m_pending.empty() || m_pending.front().deadline > m_clock.elapsed()) {
        armTimeout();
        return;
    }
    m_lastError = u"no reply within %1 ms"_s.arg(m_timeoutMs);
    // Dropping the context answers everything sent on it; the next attempt starts after the backoff.
    redisAsyncContext *ac = m_ac;
    m_ac = nullptr;
    if (ac) {
        ac->data = nullptr; // its callbacks during the free are not ours to handle any more
        redisAsyncFree(ac);
    }
    lost(m_lastError);
}

void RedisConnection::answer(Pending &p, const RedisReply &reply)
{
    if (p.context && p.done)
        p.done(reply);
}

QStringList durabilityProblems(const RedisReply &config)
{
    QHash<QByteArray, QByteArray> settings;
    for (size_t i = 0; i + 1 < config.elements.size(); i += 2)
        settings.insert(config.elements[i].string, config.elements[i + 1].string);
    QStringList problems;
    if (settings.value("appendonly") != "yes")
        problems << u"appendonly is %1, not yes: acknowledged writes and queued ops are lost when Redis restarts"_s.arg(
            QString::fromUtf8(settings.value("appendonly")));
    else if (settings.value("appendfsync") != "always")
        problems << u"appendfsync is %1, not always: about a second of acknowledged writes can be lost on power loss"_s
                        .arg(QString::fromUtf8(settings.value("appendfsync")));
    if (settings.value("maxmemory-policy") != "noeviction")
        problems << u"maxmemory-policy is %1, not noeviction: Redis may evict data or sessions when memory is full"_s
                        .arg(QString::fromUtf8(settings.value("maxmemory-policy")));
    return problems;
}

void checkDurability(
    RedisConnection &redis, const QObject *context, std::function<void(QStringList problems, QString error)> done)
{
    redis.command({"CONFIG", "GET", "*"}, context, [done = std::move(done)](const RedisReply &r) {
        if (r.isError() || r.type != RedisReply::Type::Array)
            return done({}, u"cannot read the configuration: %1"_s.arg(QString::fromUtf8(r.string)));
        done(durabilityProblems(r), {});
    });
}

BlockingRedis::~BlockingRedis()
{
    if (m_c)
        redisFree(m_c);
}

bool BlockingRedis::connect(const RedisUrl &url, int timeoutMs, QString *error)
{
    if (m_c)
        redisFree(std::exchange(m_c, nullptr));
    m_url = url;
    const timeval tv {timeoutMs / 1000, (timeoutMs % 1000) * 1000};
    m_c = redisConnectWithTimeout(url.host.toUtf8().constData(), url.port, tv);
    if (!m_c || m_c->err) {
        if (error)
            *error = u"cannot connect to %1: %2"_s.arg(
                url.toString(), m_c ? QString::fromUtf8(m_c->errstr) : u"out of memory"_s);
        if (m_c)
            redisFree(std::exchange(m_c, nullptr));
        return false;
    }
    redisSetTimeout(m_c, tv);
    RedisReply r;
    if (!url.password.isEmpty() && (r = command({"AUTH", url.password.toUtf8()})).isError()) {
        if (error)
            *error = u"%1 refused the password: %2"_s.arg(url.toString(), QString::fromUtf8(r.string));
        return false;
    }
    if (url.db != 0 && (r = command({"SELECT", QByteArray::number(url.db)})).isError()) {
        if (error)
            *error = u"%1 refused the database number: %2"_s.arg(url.toString(), QString::fromUtf8(r.string));
        return false;
    }
    return true;
}

RedisReply BlockingRedis::command(const QList<QByteArray> &argv)
{
    if (!m_c)
        return RedisReply::error("UNAVAILABLE not connected to " + m_url.toString().toUtf8());
    Argv args(argv);
    auto *reply
        = static_cast<redisReply *>(redisCommandArgv(m_c, args.size(), args.pointers.data(), args.lengths.data()));
    if (!reply) {
        // The context is unusable after an I/O error or a timeout: the next call reconnects first.
        const QByteArray why = "UNAVAILABLE outcome unknown: " + QByteArray(m_c->errstr);
        redisFree(std::exchange(m_c, nullptr));
        return RedisReply::error(why);
    }
    RedisReply out = copyReply(reply);
    freeReplyObject(reply);
    return out;
}

} // namespace lark::redis
