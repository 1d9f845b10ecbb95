// SPDX-License-Identifier: MIT
#include "presence.h"

#include "database.h"
#include "db/pushid.h"
#include "protocol/messages.h"

using namespace Qt::Literals::StringLiterals;

namespace lark::client
{

Presence::Presence(Database *db, const QString &uid, const QString &root, QObject *parent)
    : QObject(parent)
    , m_db(db)
    , m_user(db->ref(root).child(uid))
{
    m_subscriptions.push_back(
        db->ref(u".info/connected"_s).on(Event::Value, this, [this](const DataSnapshot &s, const QString &) {
            onConnected(s.value().toBool());
        }));
    m_subscriptions.push_back(
        m_user.child(u"connections"_s).on(Event::Value, this, [this](const DataSnapshot &s, const QString &) {
            if (s.childCount() != m_count) {
                m_count = s.childCount();
                Q_EMIT connectionCountChanged(m_count);
            }
        }));
    m_subscriptions.push_back(
        m_user.child(u"lastSeen"_s).on(Event::Value, this, [this](const DataSnapshot &s, const QString &) {
            qint64 v = 0; // anything but a whole number of ms (a client wrote junk there) reads as never
            (void)protocol::toInt64(s.value(), &v);
            if (v != m_lastSeen) {
                m_lastSeen = v;
                Q_EMIT lastSeenChanged(v);
            }
        }));
}

void Presence::setState(State s)
{
    if (s == m_state)
        return;
    m_state = s;
    Q_EMIT stateChanged();
}

void Presence::onConnected(bool connected)
{
    ++m_generation;
    if (!connected) {
        setState(State::Offline);
        return;
    }
    if (m_key.isEmpty() || !m_db->lastConnectResumed())
        m_key = generatePushId(m_db->serverTimeMs());
    setState(State::Registering);
    const Reference entry = m_user.child(u"connections"_s).child(m_key);
    const quint64 generation = m_generation;
    auto pending = std::make_shared<int>(2);
    auto confirmed = [this, entry, generation, pending](const Error &e) {
        if (generation != m_generation)
            return;
        if (!e.isOk()) {
            Q_EMIT error(e);
            return;
        }
        if (--*pending > 0)
            return;
        // Both ops are queued on the server: only now is it safe to say we are here.
        entry.set(true, this, [this, generation](const Error &e) {
            if (generation != m_generation)
                return;
            if (e.isOk())
                setState(State::Online);
            else
                Q_EMIT error(e);
        });
    };
    entry.onDisconnect().remove(this, confirmed);
    m_user.child(u"lastSeen"_s).onDisconnect().set(ServerValue::timestamp(), this, confirmed);
}

} // namespace lark::client
