// SPDX-License-Identifier: MIT
#pragma once

#include <QPointer>

namespace lark::client
{

class Database;

/**
 * A listener registered with Query::on(), for as long as this object lives: destroying it (or cancel()) removes
 * the listener, and once a location has no listeners left the server is told to stop sending it. Move-only.
 *
 * It may outlive its Database: then it does nothing. The listener also goes when the context object given to
 * on() is destroyed, or when the server cancels the listen; isActive() then turns false.
 */
class [[nodiscard]] Subscription
{
public:
    /** Subscribed to nothing. */
    Subscription() = default;
    Subscription(Subscription &&other) noexcept;
    /** Cancels what this subscription had, then takes over other's. */
    Subscription &operator=(Subscription &&other) noexcept;
    Subscription(const Subscription &) = delete;
    Subscription &operator=(const Subscription &) = delete;
    ~Subscription();

    /** Removes the listener now; its callbacks do not run again. Does nothing when not active. */
    void cancel();
    /** Whether the listener is still registered: not cancelled, and its database, context and listen still there. */
    [[nodiscard]] bool isActive() const;

private:
    Subscription(Database *db, quint64 id);

    QPointer<Database> m_db;
    quint64 m_id = 0;

    friend class Query;
};

} // namespace lark::client
