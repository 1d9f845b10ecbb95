// SPDX-License-Identifier: MIT
#include "firedopsmodel.h"

#include "client/adminfeed.h"
#include "jsontext.h"
#include "server/server.h"

#include <QDateTime>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

FiredOpsModel::FiredOpsModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

void FiredOpsModel::attachServer(lark::Server *server)
{
    connect(server->adminFeed(), &lark::AdminFeed::opsFired, this,
        [this](const QJsonObject &session, const QJsonArray &ops) { addFired(session, ops); });
}

void FiredOpsModel::attachFeed(lark::client::AdminFeed *feed)
{
    connect(feed, &lark::client::AdminFeed::opsFired, this, &FiredOpsModel::addFired);
}

void FiredOpsModel::addFired(const QJsonObject &session, const QJsonArray &ops, qint64 firedAt)
{
    if (ops.isEmpty())
        return;
    const qint64 now = firedAt > 0 ? firedAt : QDateTime::currentMSecsSinceEpoch();
    const QString handle = session.value(u"handle"_s).toString();
    const QString reason = session.value(u"endReason"_s).toString();
    // Newest first; the batch keeps its registration order inside.
    beginInsertRows({}, 0, int(ops.size()) - 1);
    for (qsizetype i = 0; i < ops.size(); ++i) {
        const QJsonObject op = ops.at(i).toObject();
        m_rows.insert(i, Row {now, handle, reason, op.value(u"path"_s).toString(), jsonText(op.value(u"value"_s))});
    }
    endInsertRows();
    if (m_rows.size() > maxRows) {
        beginRemoveRows({}, maxRows, int(m_rows.size()) - 1);
        m_rows.resize(maxRows);
        endRemoveRows();
    }
    Q_EMIT countChanged();
}

int FiredOpsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant FiredOpsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case FiredAtRole:
        return double(r.firedAt);
    case HandleRole:
        return r.handle;
    case ReasonRole:
        return r.reason;
    case PathRole:
    case Qt::DisplayRole:
        return r.path;
    case ValueRole:
        return r.value;
    default:
        return {};
    }
}

QHash<int, QByteArray> FiredOpsModel::roleNames() const
{
    return {{FiredAtRole, "firedAt"}, {HandleRole, "handle"}, {ReasonRole, "reason"}, {PathRole, "path"},
        {ValueRole, "value"}};
}

} // namespace lark::models
