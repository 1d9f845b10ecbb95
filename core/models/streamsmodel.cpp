// SPDX-License-Identifier: MIT
#include "streamsmodel.h"

#include "client/adminfeed.h"
#include "server/server.h"

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

namespace
{
int number(const QJsonObject &stream)
{
    return stream.value(u"handle"_s).toString().mid(1).toInt();
}
} // namespace

StreamsModel::StreamsModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

void StreamsModel::attachServer(lark::Server *server)
{
    m_server = server;
    connect(server->adminFeed(), &lark::AdminFeed::streamOpened, this, &StreamsModel::addStream);
    connect(server->adminFeed(), &lark::AdminFeed::streamEnded, this, &StreamsModel::removeStream);
    replaceAll(server->describeStreams());
}

void StreamsModel::detachServer()
{
    if (m_server)
        m_server->adminFeed()->disconnect(this);
    m_server = nullptr;
    replaceAll({});
}

void StreamsModel::attachFeed(lark::client::AdminFeed *feed)
{
    connect(feed, &lark::client::AdminFeed::streamsChanged, this, [this, feed] { replaceAll(feed->streams()); });
    replaceAll(feed->streams());
}

int StreamsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant StreamsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const QJsonObject &s = m_rows.at(index.row());
    switch (role) {
    case HandleRole:
        return s.value(u"handle"_s).toString();
    case KindRole:
        return s.value(u"kind"_s).toString();
    case NamespaceRole:
        return s.value(u"namespace"_s).toString();
    case PathRole:
        return s.value(u"path"_s).toString();
    case QueryRole:
        return s.value(u"query"_s).toString();
    case IdentityRole:
        return s.value(u"identity"_s).toString();
    case RemoteRole:
        return s.value(u"remote"_s).toString();
    case OpenedAtRole:
        return s.value(u"openedAt"_s).toDouble();
    default:
        return {};
    }
}

QHash<int, QByteArray> StreamsModel::roleNames() const
{
    return {{HandleRole, "handle"}, {KindRole, "kind"}, {NamespaceRole, "namespaceName"}, {PathRole, "path"},
        {QueryRole, "query"}, {IdentityRole, "identity"}, {RemoteRole, "remote"}, {OpenedAtRole, "openedAt"}};
}

int StreamsModel::rowOf(const QString &handle) const
{
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).value(u"handle"_s).toString() == handle)
            return int(i);
    }
    return -1;
}

void StreamsModel::addStream(const QJsonObject &stream)
{
    if (const int row = rowOf(stream.value(u"handle"_s).toString()); row >= 0) {
        m_rows[row] = stream;
        Q_EMIT dataChanged(index(row), index(row));
        return;
    }
    int row = 0;
    while (row < m_rows.size() && number(m_rows.at(row)) < number(stream))
        ++row;
    beginInsertRows({}, row, row);
    m_rows.insert(row, stream);
    endInsertRows();
    Q_EMIT countChanged();
}

void StreamsModel::removeStream(const QJsonObject &stream)
{
    const int row = rowOf(stream.value(u"handle"_s).toString());
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_rows.removeAt(row);
    endRemoveRows();
    Q_EMIT countChanged();
}

void StreamsModel::replaceAll(const QJsonArray &streams)
{
    QStringList listed;
    for (const QJsonValue &v : streams) {
        listed.append(v.toObject().value(u"handle"_s).toString());
        addStream(v.toObject());
    }
    for (qsizetype i = m_rows.size() - 1; i >= 0; --i) {
        if (!listed.contains(m_rows.at(i).value(u"handle"_s).toString())) {
            const QJsonObject gone = m_rows.at(i);
            removeStream(gone);
        }
    }
}

} // namespace lark::models
