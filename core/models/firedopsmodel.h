// SPDX-License-Identifier: MIT
#pragma once

#include <QAbstractListModel>
#include <QJsonArray>
#include <QJsonObject>

namespace lark
{
class Server;
}

namespace lark::models
{

/** The log of fired onDisconnect ops, newest first, capped at maxRows (host mode: the server's opsFired signal). */
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

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    void addFired(const QJsonObject &session, const QJsonArray &ops);

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
