// SPDX-License-Identifier: MIT
#pragma once

#include "reference.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QMap>
#include <QObject>

namespace lark::client
{

class Database;

/**
 * The server's sessions and their queued onDisconnect ops, live (docs/protocol-extensions.md). Needs a database
 * signed in as the admin (auth token "owner"); it subscribes after every (re)connect.
 */
class AdminFeed : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QJsonArray sessions READ sessions NOTIFY sessionsChanged)
    Q_PROPERTY(QJsonArray streams READ streams NOTIFY streamsChanged)
    Q_PROPERTY(QString storeFailure READ storeFailure NOTIFY storeChanged)
    /** In cluster mode, the nodes and their leases: [{lease, node, expiresInMs, alive, self}]; empty otherwise. */
    Q_PROPERTY(QJsonArray nodes READ nodes NOTIFY storeChanged)
    /**
     * In cluster mode, every session of the cluster as Redis holds it, by handle (which is per node) and without its
     * id: [{ns, handle, state, node (live) or firesInMs (suspended)}], refreshed with each lease renewal.
     */
    Q_PROPERTY(QJsonArray clusterSessions READ clusterSessions NOTIFY storeChanged)
public:
    explicit AdminFeed(Database *db, QObject *parent = nullptr);

    /** Live and suspended sessions, ordered by handle number. */
    [[nodiscard]] QJsonArray sessions() const;
    [[nodiscard]] QJsonObject session(const QString &handle) const { return m_sessions.value(handle); }
    /** The open REST event streams (kind "sse"), ordered by handle number (E1, E2…). */
    [[nodiscard]] QJsonArray streams() const;
    /** Why the server's data file failed (it refuses writes until it restarts); empty while it has not. */
    [[nodiscard]] const QString &storeFailure() const { return m_storeFailure; }
    [[nodiscard]] const QJsonArray &nodes() const { return m_nodes; }
    [[nodiscard]] const QJsonArray &clusterSessions() const { return m_clusterSessions; }

Q_SIGNALS:
    void sessionsChanged();
    void sessionUpdated(const QJsonObject &session);
    /** A session ended; its ops (if any) were applied. */
    void sessionEnded(const QJsonObject &session);
    /** A session's ops were applied (just before it ended): what they wrote, resolved, at firedAt (epoch ms). */
    void opsFired(const QJsonObject &session, const QJsonArray &ops, qint64 firedAt);
    /** storeFailure() or nodes() changed: from a snapshot after (re)connecting, or the server's lark.store push. */
    void storeChanged();
    /** The server's rules denied a request (lark.denied: handle, identity, action, path, rule, message, at). */
    void requestDenied(const QJsonObject &denial);
    /** New rules or a new identity dropped a queued op (lark.dropped: session, identity, path, kind, rule, ...). */
    void opDropped(const QJsonObject &drop);
    /** streams() changed: a snapshot, or a stream opened (lark.stream) or ended (lark.stream.ended). */
    void streamsChanged();
    void streamOpened(const QJsonObject &stream);
    void streamEnded(const QJsonObject &stream);
    void error(const lark::client::Error &error);

private:
    void subscribe();
    static int number(const QString &handle) { return handle.mid(1).toInt(); }
    void setStore(const QJsonObject &store);

    Database *m_db;
    QMap<int, QJsonObject> m_byNumber;
    QMap<QString, QJsonObject> m_sessions;
    QMap<int, QJsonObject> m_streams; // by handle number
    QString m_storeFailure;
    QJsonArray m_nodes;
    QJsonArray m_clusterSessions;
};

} // namespace lark::client
