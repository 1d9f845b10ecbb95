// SPDX-License-Identifier: MIT
#pragma once

#include "reference.h"

#include <QObject>

#include <vector>

namespace lark::client
{

class Database;

/**
 * Presence that stays right with several tabs (docs/semantics.md §5): one entry per connection under
 * `presence/<uid>/connections/<key>`, removed by onDisconnect, and `presence/<uid>/lastSeen` set to the server
 * time by onDisconnect. The entry is written only after the server confirmed both ops, so a crash between the
 * two can never leave a stale "online". A resumed session keeps its key (its ops are still queued); a new session
 * gets a new key, since the old session's queued remove will still fire for the old one.
 */
class Presence : public QObject
{
    Q_OBJECT
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(bool online READ isOnline NOTIFY stateChanged)
    Q_PROPERTY(QString connectionKey READ connectionKey NOTIFY stateChanged)
    Q_PROPERTY(int connectionCount READ connectionCount NOTIFY connectionCountChanged)
    Q_PROPERTY(qint64 lastSeen READ lastSeen NOTIFY lastSeenChanged)
public:
    enum class State {
        Offline, /**< not connected */
        Registering, /**< connected; waiting for the server to confirm the onDisconnect ops */
        Online, /**< the entry is written */
    };
    Q_ENUM(State)

    Presence(
        Database *db, const QString &uid, const QString &root = QStringLiteral("presence"), QObject *parent = nullptr);

    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] bool isOnline() const { return m_state == State::Online; }
    [[nodiscard]] const QString &connectionKey() const { return m_key; }
    /** Connections of this user (all tabs), as the server reports them. */
    [[nodiscard]] int connectionCount() const { return m_count; }
    /** Epoch ms when the user's last connection ended; 0 if never. */
    [[nodiscard]] qint64 lastSeen() const { return m_lastSeen; }
    [[nodiscard]] Reference userRef() const { return m_user; }

Q_SIGNALS:
    void stateChanged();
    void connectionCountChanged(int count);
    void lastSeenChanged(qint64 lastSeen);
    void error(const lark::client::Error &error);

private:
    void onConnected(bool connected);
    void setState(State s);

    Database *m_db;
    Reference m_user;
    QString m_key;
    State m_state = State::Offline;
    int m_count = 0;
    qint64 m_lastSeen = 0;
    quint64 m_generation = 0; // ignores completions from an earlier connection
    std::vector<Subscription> m_subscriptions;
};

} // namespace lark::client
