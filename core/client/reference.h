// SPDX-License-Identifier: MIT
#pragma once

#include "error.h"
#include "snapshot.h"
#include "subscription.h"

#include <QJsonObject>
#include <QJsonValue>

#include <functional>
#include <optional>

namespace lark::client
{

class Database;

/**
 * Callbacks and their context. Every call that takes a callback takes a context object just before it, as
 * QTimer::singleShot(ms, context, f) and QObject::connect() do: the callback runs only while the context lives, so it
 * never runs after its receiver is gone. A listener whose context is destroyed is removed, as if its Subscription were
 * cancelled. Nothing runs after the Database is gone either. Callbacks run on the database's thread, directly from its
 * event handling, so the context must live in that thread; a null context is a mistake, and its callback never runs.
 *
 * Writes and onDisconnect ops, whose outcome may be ignored, also have a form without a callback (fire and
 * forget). No call takes a callback without a context.
 */
using Completion = std::function<void(const Error &)>;
using GetCallback = std::function<void(const Error &, const DataSnapshot &)>;
using TransactionUpdate = std::function<std::optional<QJsonValue>(const QJsonValue &current)>;
using TransactionDone = std::function<void(const Error &, bool committed, const DataSnapshot &)>;

enum class Event { Value, ChildAdded, ChildChanged, ChildRemoved, ChildMoved };
/** previousChildKey: for child events, the key before this child in the query's order (empty for the first). */
using EventCallback = std::function<void(const DataSnapshot &snapshot, const QString &previousChildKey)>;
using CancelCallback = std::function<void(const Error &)>;

/** ServerValue placeholders, resolved by the server (and locally for optimistic events). */
namespace ServerValue
{
[[nodiscard]] QJsonValue timestamp();
[[nodiscard]] QJsonValue increment(double delta);
} // namespace ServerValue

/**
 * A location plus optional ordering, bounds and limit (the JS SDK's Query). Builders return new queries; a
 * query with bounds or a limit is filtered by the server, tagged on the wire.
 */
class Query
{
public:
    Query() = default;

    [[nodiscard]] Database *database() const { return m_db; }
    [[nodiscard]] const Path &path() const { return m_path; }
    /** The wire `q` object; empty for a plain location. */
    [[nodiscard]] const QJsonObject &wireQuery() const { return m_q; }

    [[nodiscard]] Query orderByChild(const QString &childPath) const;
    [[nodiscard]] Query orderByKey() const;
    [[nodiscard]] Query orderByValue() const;
    [[nodiscard]] Query orderByPriority() const;
    [[nodiscard]] Query startAt(const QJsonValue &value, const QString &key = {}) const;
    [[nodiscard]] Query startAfter(const QJsonValue &value, const QString &key = {}) const;
    [[nodiscard]] Query endAt(const QJsonValue &value, const QString &key = {}) const;
    [[nodiscard]] Query endBefore(const QJsonValue &value, const QString &key = {}) const;
    [[nodiscard]] Query equalTo(const QJsonValue &value, const QString &key = {}) const;
    [[nodiscard]] Query limitToFirst(int limit) const;
    [[nodiscard]] Query limitToLast(int limit) const;

    /**
     * Registers a listener for as long as the returned Subscription (and context) live. The first events come
     * from the event loop, after this returns. cancelled runs, and the listener is removed, if the server refuses
     * or revokes the listen.
     */
    Subscription on(Event event, const QObject *context, EventCallback callback, CancelCallback cancelled = {}) const;
    /** The value from the server (or from a complete local cache while offline). */
    void get(const QObject *context, GetCallback callback) const;

protected:
    Query(Database *db, Path path, QJsonObject q = {})
        : m_db(db)
        , m_path(std::move(path))
        , m_q(std::move(q))
    {
    }
    [[nodiscard]] Query with(const QJsonObject &changes) const;
    [[nodiscard]] bool isKeyIndex() const;

    Database *m_db = nullptr;
    Path m_path;
    QJsonObject m_q;

    friend class Database;
    friend class OnDisconnect;
};

class OnDisconnect;

/** A location in the database: reads (via Query), writes and onDisconnect. Cheap to copy. */
class Reference : public Query
{
public:
    Reference() = default;

    [[nodiscard]] QString key() const { return m_path.isRoot() ? QString() : m_path.back(); }
    [[nodiscard]] Reference child(const QString &relativePath) const;
    [[nodiscard]] Reference parent() const;
    [[nodiscard]] Reference root() const;
    /** A new child with a push id (time-ordered, unique): write to it with set(). */
    [[nodiscard]] Reference push() const;
    [[nodiscard]] bool isValid() const { return m_db != nullptr; }

    /** Writes are shown to this client's listeners at once and completed once the server confirmed them. */
    void set(const QJsonValue &value) const;
    void set(const QJsonValue &value, const QObject *context, Completion done) const;
    void setWithPriority(const QJsonValue &value, const QJsonValue &priority) const;
    void setWithPriority(
        const QJsonValue &value, const QJsonValue &priority, const QObject *context, Completion done) const;
    void setPriority(const QJsonValue &priority) const;
    void setPriority(const QJsonValue &priority, const QObject *context, Completion done) const;
    /** Multi-path update: keys may be paths ("a/b"); null values delete. */
    void update(const QJsonObject &children) const;
    void update(const QJsonObject &children, const QObject *context, Completion done) const;
    void remove() const;
    void remove(const QObject *context, Completion done) const;
    /**
     * Runs update on the current value until the server accepts the result (it retries on concurrent changes).
     * Returning std::nullopt aborts. Fails with Error::Code::Disconnected if the connection drops while the write
     * is in flight, like the JS SDK. Once context is gone, update no longer runs: the transaction ends uncommitted
     * (a write already sent still lands).
     */
    void transaction(const QObject *context, TransactionUpdate update, TransactionDone done = {}) const;
    [[nodiscard]] OnDisconnect onDisconnect() const;

private:
    using Query::Query;
    friend class Database;
};

/** Writes the server runs when this client is gone (docs/semantics.md §1). Each completes once the server confirmed it.
 */
class OnDisconnect
{
public:
    void set(const QJsonValue &value) const;
    void set(const QJsonValue &value, const QObject *context, Completion done) const;
    void setWithPriority(const QJsonValue &value, const QJsonValue &priority) const;
    void setWithPriority(
        const QJsonValue &value, const QJsonValue &priority, const QObject *context, Completion done) const;
    void update(const QJsonObject &children) const;
    void update(const QJsonObject &children, const QObject *context, Completion done) const;
    void remove() const;
    void remove(const QObject *context, Completion done) const;
    /** Drops the ops queued for this location (and below). */
    void cancel() const;
    void cancel(const QObject *context, Completion done) const;

private:
    explicit OnDisconnect(Reference ref)
        : m_ref(std::move(ref))
    {
    }
    Reference m_ref;
    friend class Reference;
};

} // namespace lark::client
