// SPDX-License-Identifier: MIT
#include "adminfeed.h"

#include "database.h"

using namespace Qt::Literals::StringLiterals;

namespace lark::client
{

AdminFeed::AdminFeed(Database *db, QObject *parent)
    : QObject(parent)
    , m_db(db)
{
    connect(db, &Database::connectedChanged, this, [this](bool connected) {
        if (connected)
            subscribe();
    });
    connect(db, &Database::extensionPush, this, [this](const QString &action, const QJsonValue &body) {
        const QJsonObject s = body.toObject();
        const QString handle = s.value(u"handle"_s).toString();
        if (action == u"lark.session"_s) {
            m_sessions.insert(handle, s);
            m_byNumber.insert(number(handle), s);
            Q_EMIT sessionUpdated(s);
            Q_EMIT sessionsChanged();
        } else if (action == u"lark.fired"_s) {
            Q_EMIT opsFired(s.value(u"session"_s).toObject(), s.value(u"ops"_s).toArray(),
                qint64(s.value(u"firedAt"_s).toDouble()));
        } else if (action == u"lark.session.ended"_s) {
            m_sessions.remove(handle);
            m_byNumber.remove(number(handle));
            Q_EMIT sessionEnded(s);
            Q_EMIT sessionsChanged();
        } else if (action == u"lark.store"_s) {
            setStore(s);
        } else if (action == u"lark.denied"_s) {
            Q_EMIT requestDenied(s);
        } else if (action == u"lark.dropped"_s) {
            Q_EMIT opDropped(s);
        } else if (action == u"lark.stream"_s) {
            m_streams.insert(number(handle), s);
            Q_EMIT streamOpened(s);
            Q_EMIT streamsChanged();
        } else if (action == u"lark.stream.ended"_s) {
            m_streams.remove(number(handle));
            Q_EMIT streamEnded(s);
            Q_EMIT streamsChanged();
        }
    });
    if (db->isConnected())
        subscribe();
}

QJsonArray AdminFeed::sessions() const
{
    QJsonArray list;
    for (const QJsonObject &s : m_byNumber)
        list.append(s);
    return list;
}

QJsonArray AdminFeed::streams() const
{
    QJsonArray list;
    for (const QJsonObject &s : m_streams)
        list.append(s);
    return list;
}

void AdminFeed::subscribe()
{
    m_db->sendExtension(u"lark.watch"_s, {}, this, [this](const Error &e, const QJsonValue &d) {
        if (!e.isOk()) {
            Q_EMIT error(e);
            return;
        }
        // A fresh snapshot replaces what we had: sessions may have ended while we were away.
        m_sessions.clear();
        m_byNumber.clear();
        for (const QJsonValue &v : d.toObject().value(u"sessions"_s).toArray()) {
            const QJsonObject s = v.toObject();
            const QString handle = s.value(u"handle"_s).toString();
            m_sessions.insert(handle, s);
            m_byNumber.insert(number(handle), s);
        }
        Q_EMIT sessionsChanged();
        m_streams.clear();
        for (const QJsonValue &v : d.toObject().value(u"streams"_s).toArray())
            m_streams.insert(number(v.toObject().value(u"handle"_s).toString()), v.toObject());
        Q_EMIT streamsChanged();
        // A server restarted from its file has a working store again: the snapshot says so.
        setStore(d.toObject().value(u"store"_s).toObject());
    });
}

void AdminFeed::setStore(const QJsonObject &store)
{
    const QString failure = store.value(u"failure"_s).toString();
    const QJsonArray nodes = store.value(u"nodes"_s).toArray();
    const QJsonArray sessions = store.value(u"sessions"_s).toArray();
    if (failure == m_storeFailure && nodes == m_nodes && sessions == m_clusterSessions)
        return;
    m_storeFailure = failure;
    m_nodes = nodes;
    m_clusterSessions = sessions;
    Q_EMIT storeChanged();
}

} // namespace lark::client
