// SPDX-License-Identifier: MIT
#pragma once

#include <QAbstractListModel>
#include <QJsonObject>
#include <QPointer>

namespace lark
{
class Database;
}

namespace lark::models
{

/**
 * Presence per user, both ways side by side (docs/semantics.md §5):
 *  - the per-connection pattern: `presence/<uid>/connections/<key>` and `presence/<uid>/lastSeen`;
 *  - the naive boolean flag: `status/<uid>/online`, set true on connect and false by onDisconnect.
 * With two tabs of one user, closing one turns the flag false while the connection count says 1: the pitfall.
 *
 * Rows are users in key order; the given users always have a row. Fed by an embedded server's database, or by
 * setValues() with the two JSON objects from any source.
 */
class PresenceModel : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Roles {
        UidRole = Qt::UserRole + 1, /**< user id */
        OnlineRole, /**< connection count > 0 */
        ConnectionCountRole, /**< children of presence/<uid>/connections */
        LastSeenRole, /**< presence/<uid>/lastSeen, epoch ms; 0 if never */
        FlagRole, /**< status/<uid>/online: true, false, or undefined when never written */
    };
    Q_ENUM(Roles)

    explicit PresenceModel(const QStringList &users, QObject *parent = nullptr);

    /** Follows presence/ and status/ in an embedded server's database. */
    void attachDatabase(lark::Database *db);
    /** The values of `presence` and `status` (export JSON objects; empty when absent). */
    void setValues(const QJsonObject &presence, const QJsonObject &status);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    /** The row of a user, or -1. */
    [[nodiscard]] Q_INVOKABLE int rowOf(const QString &uid) const;
    [[nodiscard]] Q_INVOKABLE int connectionCount(const QString &uid) const;

private:
    struct Row {
        QString uid;
        int count = 0;
        qint64 lastSeen = 0;
        QVariant flag;
        bool operator==(const Row &o) const
        {
            return uid == o.uid && count == o.count && lastSeen == o.lastSeen && flag == o.flag;
        }
    };
    void refresh();

    QStringList m_users;
    QList<Row> m_rows;
    QPointer<lark::Database> m_db;
};

} // namespace lark::models
