// SPDX-License-Identifier: MIT
#include "eventlogmodel.h"

#include "server/server.h"

#include <QDateTime>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

EventLogModel::EventLogModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

void EventLogModel::attachServer(lark::Server *server)
{
    forgetSessions();
    lark::AdminFeed *feed = server->adminFeed();
    connect(feed, &lark::AdminFeed::sessionChanged, this, &EventLogModel::sessionChanged);
    connect(feed, &lark::AdminFeed::sessionRemoved, this, &EventLogModel::sessionRemoved);
    connect(feed, &lark::AdminFeed::opsFired, this, &EventLogModel::opsFired);
    connect(feed, &lark::AdminFeed::requestDenied, this, &EventLogModel::requestDenied);
    connect(feed, &lark::AdminFeed::opDropped, this, &EventLogModel::opDropped);
    connect(feed, &lark::AdminFeed::streamOpened, this, &EventLogModel::streamOpened);
    connect(feed, &lark::AdminFeed::streamEnded, this, &EventLogModel::streamEnded);
    connect(server, &lark::Server::connectionCountChanged, this, [this](int n) {
        append(u"connections"_s, {}, u"%1 open connection%2"_s.arg(n).arg(n == 1 ? QString() : u"s"_s));
    });
}

void EventLogModel::requestDenied(const QJsonObject &d)
{
    const auto text = [&d](const QString &key) { return d.value(key).toString(); };
    const QString handle = text(u"handle"_s);
    append(u"denied"_s, handle,
        u"%1%2 as %3 at %4 (%5), by %6"_s.arg(handle.isEmpty() ? QString() : handle + u' ', text(u"action"_s),
            text(u"identity"_s), text(u"path"_s), text(u"namespace"_s), text(u"rule"_s)));
}

void EventLogModel::streamOpened(const QJsonObject &s)
{
    const auto text = [&s](const QString &key) { return s.value(key).toString(); };
    const QString query = text(u"query"_s);
    append(u"stream"_s, text(u"handle"_s),
        u"%1 %2 stream at %3%4 (%5) opened by %6 as %7"_s.arg(text(u"handle"_s), text(u"kind"_s), text(u"path"_s),
            query.isEmpty() ? QString() : u" with query "_s + query, text(u"namespace"_s), text(u"remote"_s),
            text(u"identity"_s)));
}

void EventLogModel::streamEnded(const QJsonObject &s)
{
    const auto text = [&s](const QString &key) { return s.value(key).toString(); };
    append(u"stream"_s, text(u"handle"_s),
        u"%1 %2 stream at %3 (%4) ended: %5"_s.arg(
            text(u"handle"_s), text(u"kind"_s), text(u"path"_s), text(u"namespace"_s), text(u"endReason"_s)));
}

void EventLogModel::opDropped(const QJsonObject &d)
{
    const auto text = [&d](const QString &key) { return d.value(key).toString(); };
    append(u"dropped"_s, text(u"session"_s),
        u"%1 onDisconnect %2 at %3 (%4) will not fire: now denied to %5 by %6"_s.arg(text(u"session"_s),
            text(u"kind"_s), text(u"path"_s), text(u"namespace"_s), text(u"identity"_s), text(u"rule"_s)));
}

void EventLogModel::append(const QString &kind, const QString &handle, const QString &text)
{
    const int row = int(m_rows.size());
    beginInsertRows({}, row, row);
    m_rows.append(Row {QDateTime::currentMSecsSinceEpoch(), kind, handle, text});
    endInsertRows();
    if (m_rows.size() > m_maxRows) {
        const int extra = int(m_rows.size()) - m_maxRows;
        beginRemoveRows({}, 0, extra - 1);
        m_rows.remove(0, extra);
        endRemoveRows();
    }
    Q_EMIT countChanged();
}

void EventLogModel::sessionChanged(const QJsonObject &s)
{
    const QString handle = s.value(u"handle"_s).toString();
    const QString state = s.value(u"state"_s).toString();
    const int resumes = s.value(u"resumes"_s).toInt();
    const int ops = int(s.value(u"ops"_s).toArray().size());
    const auto it = m_known.constFind(handle);
    const Known before = it == m_known.cend() ? Known {} : *it;
    const QString identity = s.value(u"identity"_s).toString();
    const bool silent = state == u"live"_s && s.value(u"silent"_s).toBool();
    m_known.insert(handle, Known {state, resumes, ops, identity, silent});
    if (it == m_known.cend() && state == u"suspended"_s) {
        // First seen suspended: a stored session back after a restart, or one that was suspended before this log
        // looked. It did not connect; say what the card says (B9).
        const qint64 in = qint64(s.value(u"fireAt"_s).toDouble()) - QDateTime::currentMSecsSinceEpoch();
        append(u"suspend"_s, handle,
            u"%1 back suspended (%2, ns %3): %4 op(s) fire in %5 s unless it resumes"_s.arg(handle, identity,
                s.value(u"namespace"_s).toString(), QString::number(ops),
                QString::number(double(std::max<qint64>(0, in)) / 1000.0, 'f', 1)));
    } else if (it == m_known.cend() && !(state == u"live"_s && resumes > 0)) {
        append(u"connect"_s, handle,
            u"%1 connected as %2 from %3 (ns %4)"_s.arg(handle, s.value(u"identity"_s).toString(),
                s.value(u"remote"_s).toString(), s.value(u"namespace"_s).toString()));
    } else if (state == u"suspended"_s && before.state != state) {
        const qint64 in = qint64(s.value(u"fireAt"_s).toDouble()) - QDateTime::currentMSecsSinceEpoch();
        append(u"suspend"_s, handle,
            u"%1 suspended: connection lost without a close frame; %2 op(s) fire in %3 s unless it resumes"_s
                .arg(handle)
                .arg(ops)
                .arg(double(std::max<qint64>(0, in)) / 1000.0, 0, 'f', 1));
    } else if (state == u"live"_s && resumes > before.resumes) {
        // (Also a session first seen live after a resume: a log that started late.)
        append(u"resume"_s, handle,
            u"%1 resumed (ls=its session id) from %2; %3 op(s) still queued"_s.arg(
                handle, s.value(u"remote"_s).toString(), QString::number(ops)));
    }
    // The server says when it stops hearing from a live session and when it hears again: the first sign of a dead
    // link, long before dead-after.
    if (it != m_known.cend() && state == u"live"_s && silent != before.silent) {
        if (silent)
            append(u"silent"_s, handle,
                u"%1 silent: no word for %2 s; dropped at %3 s"_s.arg(handle)
                    .arg(s.value(u"lastActivityMsAgo"_s).toDouble() / 1000.0, 0, 'f', 1)
                    .arg(s.value(u"deadAfterMs"_s).toDouble() / 1000.0, 0, 'f', 1));
        else
            append(u"silent"_s, handle, u"%1 heard from again"_s.arg(handle));
    }
    if (it != m_known.cend() && identity != before.identity && state != u"ended"_s)
        append(u"auth"_s, handle, u"%1 signed in as %2"_s.arg(handle, identity));
    if (it != m_known.cend() && ops != before.ops && state != u"ended"_s)
        append(u"ops"_s, handle, u"%1 now has %2 queued op(s) (was %3)"_s.arg(handle).arg(ops).arg(before.ops));
}

void EventLogModel::sessionRemoved(const QJsonObject &s)
{
    const QString handle = s.value(u"handle"_s).toString();
    m_known.remove(handle);
    append(u"end"_s, handle, u"%1 ended: %2"_s.arg(handle, s.value(u"endReason"_s).toString()));
}

void EventLogModel::opsFired(const QJsonObject &s, const QJsonArray &ops)
{
    if (ops.isEmpty())
        return;
    QStringList paths;
    for (const QJsonValue &op : ops)
        paths.append(op.toObject().value(u"path"_s).toString());
    const QString handle = s.value(u"handle"_s).toString();
    append(u"fire"_s, handle,
        u"%1 fired %2 op(s) (%3): %4"_s.arg(handle)
            .arg(ops.size())
            .arg(s.value(u"endReason"_s).toString(), paths.join(u", "_s)));
}

int EventLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case AtRole:
        return double(r.at);
    case KindRole:
        return r.kind;
    case HandleRole:
        return r.handle;
    case Qt::DisplayRole:
    case TextRole:
        return r.text;
    case LineRole:
        return u"%1 %2 %3"_s.arg(QDateTime::fromMSecsSinceEpoch(r.at).toString(u"hh:mm:ss.zzz"_s), r.kind, r.text);
    default:
        return {};
    }
}

QHash<int, QByteArray> EventLogModel::roleNames() const
{
    return {{AtRole, "at"}, {KindRole, "kind"}, {HandleRole, "handle"}, {TextRole, "text"}, {LineRole, "line"}};
}

EventLogFilter::EventLogFilter(EventLogModel *source, QObject *parent)
    : QSortFilterProxyModel(parent)
    , m_log(source)
{
    setSourceModel(source);
    setFilterRole(EventLogModel::LineRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
    connect(this, &QAbstractItemModel::rowsInserted, this, &EventLogFilter::countChanged);
    connect(this, &QAbstractItemModel::rowsRemoved, this, &EventLogFilter::countChanged);
    connect(this, &QAbstractItemModel::modelReset, this, &EventLogFilter::countChanged);
}

QString EventLogFilter::lineAt(int row) const
{
    return index(row, 0).data(EventLogModel::LineRole).toString();
}

void EventLogFilter::setFilterText(const QString &text)
{
    if (text == m_text)
        return;
    m_text = text;
    setFilterFixedString(text);
    Q_EMIT filterTextChanged();
    Q_EMIT countChanged();
}

} // namespace lark::models
