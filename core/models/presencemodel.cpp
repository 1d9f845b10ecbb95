// SPDX-License-Identifier: MIT
#include "presencemodel.h"

#include "db/database.h"

#include <algorithm>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

namespace
{
// `.value` wraps leaves that carry a priority in export JSON.
QJsonValue plain(const QJsonValue &v)
{
    return v.isObject() && v.toObject().contains(u".value"_s) ? v.toObject().value(u".value"_s) : v;
}
} // namespace

PresenceModel::PresenceModel(const QStringList &users, QObject *parent)
    : QAbstractListModel(parent)
    , m_users(users)
{
    setValues({}, {});
}

void PresenceModel::attachDatabase(lark::Database *db)
{
    if (m_db)
        m_db->disconnect(this);
    m_db = db;
    connect(db, &lark::Database::changed, this, [this](const QList<lark::Path> &paths) {
        for (const Path &p : paths) {
            if (p.isRoot() || p.front() == u"presence"_s || p.front() == u"status"_s) {
                refresh();
                return;
            }
        }
    });
    refresh();
}

void PresenceModel::refresh()
{
    if (!m_db)
        return;
    Path presence, status;
    QString error;
    (void)Path::parse(u"presence"_s, &presence, &error);
    (void)Path::parse(u"status"_s, &status, &error);
    setValues(m_db->valueJson(presence).toObject(), m_db->valueJson(status).toObject());
}

void PresenceModel::setValues(const QJsonObject &presence, const QJsonObject &status)
{
    QStringList uids = m_users;
    for (const QString &k : presence.keys())
        uids.append(k);
    for (const QString &k : status.keys())
        uids.append(k);
    uids.removeAll(u".priority"_s);
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());

    QList<Row> wanted;
    for (const QString &uid : std::as_const(uids)) {
        const QJsonObject p = presence.value(uid).toObject();
        Row r;
        r.uid = uid;
        r.count = int(p.value(u"connections"_s).toObject().size());
        if (p.value(u"connections"_s).toObject().contains(u".priority"_s))
            --r.count;
        // Anything but a whole number of ms that fits (a client wrote junk there) reads as never (0).
        r.lastSeen = plain(p.value(u"lastSeen"_s)).toInteger(0);
        const QJsonValue flag = plain(status.value(uid).toObject().value(u"online"_s));
        if (flag.isBool())
            r.flag = flag.toBool();
        wanted.append(r);
    }

    // Both lists are sorted by uid: merge, so each user row is inserted, removed or changed on its own.
    qsizetype i = 0, j = 0;
    while (i < m_rows.size() || j < wanted.size()) {
        if (j >= wanted.size() || (i < m_rows.size() && m_rows.at(i).uid < wanted.at(j).uid)) {
            beginRemoveRows({}, int(i), int(i));
            m_rows.removeAt(i);
            endRemoveRows();
        } else if (i >= m_rows.size() || wanted.at(j).uid < m_rows.at(i).uid) {
            beginInsertRows({}, int(i), int(i));
            m_rows.insert(i, wanted.at(j));
            endInsertRows();
            ++i;
            ++j;
        } else {
            if (!(m_rows.at(i) == wanted.at(j))) {
                m_rows[i] = wanted.at(j);
                const QModelIndex idx = index(int(i));
                Q_EMIT dataChanged(idx, idx);
            }
            ++i;
            ++j;
        }
    }
}

int PresenceModel::rowOf(const QString &uid) const
{
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).uid == uid)
            return int(i);
    }
    return -1;
}

int PresenceModel::connectionCount(const QString &uid) const
{
    const int row = rowOf(uid);
    return row < 0 ? 0 : m_rows.at(row).count;
}

int PresenceModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant PresenceModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case UidRole:
        return r.uid;
    case OnlineRole:
        return r.count > 0;
    case ConnectionCountRole:
        return r.count;
    case LastSeenRole:
        return double(r.lastSeen);
    case FlagRole:
        return r.flag;
    default:
        return {};
    }
}

QHash<int, QByteArray> PresenceModel::roleNames() const
{
    return {{UidRole, "uid"}, {OnlineRole, "online"}, {ConnectionCountRole, "connectionCount"},
        {LastSeenRole, "lastSeen"}, {FlagRole, "flag"}};
}

} // namespace lark::models
