// SPDX-License-Identifier: MIT
#include "subscription.h"

#include "database.h"

#include <utility>

namespace lark::client
{

Subscription::Subscription(Database *db, quint64 id)
    : m_db(db)
    , m_id(id)
{
}

Subscription::Subscription(Subscription &&other) noexcept
    : m_db(std::exchange(other.m_db, nullptr))
    , m_id(std::exchange(other.m_id, 0))
{
}

Subscription &Subscription::operator=(Subscription &&other) noexcept
{
    if (this != &other) {
        cancel();
        m_db = std::exchange(other.m_db, nullptr);
        m_id = std::exchange(other.m_id, 0);
    }
    return *this;
}

Subscription::~Subscription()
{
    cancel();
}

void Subscription::cancel()
{
    if (m_db && m_id != 0)
        m_db->removeListener(m_id);
    m_db = nullptr;
    m_id = 0;
}

bool Subscription::isActive() const
{
    return m_db && m_id != 0 && m_db->hasListener(m_id);
}

} // namespace lark::client
