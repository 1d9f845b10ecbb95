// SPDX-License-Identifier: MIT
#pragma once

#include <QAbstractListModel>
#include <QJsonArray>
#include <QJsonObject>

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
 * The log of fired onDisconnect ops, newest first, capped at maxRows: from the embedded server's opsFired signal
 * (host mode) or the admin feed's lark.fired pushes (connect mode).
 */
class FiredOpsModel : public QAbstractListModel
{
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    enum Roles {
        FiredAtRole = Qt::UserRole + 1, /**< epoch ms */
        HandleRole, /**< session that fired, "S3" */
        ReasonRole, /**< why it ended: "clean close", "timeout", ... */
        PathRole, /**< where the op wrote */
        ValueRole, /**< the resolved value as JSON text */
    };
    Q_ENUM(Roles)

    explicit FiredOpsModel(QObject *parent = nullptr);
    void attachServer(lark::Server *server);
    void attachFeed(lark::client::AdminFeed *feed);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    /** A session fired ops; firedAt in epoch ms (0: now). */
    void addFired(const QJsonObject &session, const QJsonArray &ops, qint64 firedAt = 0);

    static constexpr int maxRows = 200;

Q_SIGNALS:
    void countChanged();

private:
    struct Row {
        qint64 firedAt;
        QString handle;
        QString reason;
        QString path;
        QString value;
    };
    QList<Row> m_rows;
};

} // namespace lark::models
