// SPDX-License-Identifier: MIT
#pragma once

#include <QAbstractListModel>
#include <QJsonArray>
#include <QJsonObject>
#include <QPointer>

namespace lark
{
class Server;
}

namespace lark::client
{
class AdminFeed;
}

namespace lark::models
{

/**
 * The server's open REST event streams (GET with Accept: text/event-stream), one row per stream by handle (E1,
 * E2…): the clients that hold a connection without a session, such as the Python Admin SDK's listen(). Fed by an
 * embedded lark::Server or a remote one's admin feed, as SessionsModel is; a stream leaves its row when it ends.
 */
class StreamsModel : public QAbstractListModel
{
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    enum Roles {
        HandleRole = Qt::UserRole + 1, /**< "E3" */
        KindRole, /**< "sse" */
        NamespaceRole,
        PathRole, /**< the location it streams, e.g. "/rooms/lobby" */
        QueryRole, /**< the query's identifier, empty without one */
        IdentityRole, /**< "anonymous", "admin", "user:alice" */
        RemoteRole, /**< client address */
        OpenedAtRole, /**< epoch ms */
    };
    Q_ENUM(Roles)

    explicit StreamsModel(QObject *parent = nullptr);

    void attachServer(lark::Server *server);
    /** Stops following the embedded server and removes every row. */
    void detachServer();
    void attachFeed(lark::client::AdminFeed *feed);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    void addStream(const QJsonObject &stream);
    void removeStream(const QJsonObject &stream);
    /** Replaces every row with streams (a snapshot), row by row so views keep their state. */
    void replaceAll(const QJsonArray &streams);

Q_SIGNALS:
    void countChanged();

private:
    [[nodiscard]] int rowOf(const QString &handle) const;

    QPointer<lark::Server> m_server;
    QList<QJsonObject> m_rows; // by handle number
};

} // namespace lark::models
