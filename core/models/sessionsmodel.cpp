// SPDX-License-Identifier: MIT
#include "sessionsmodel.h"

#include "client/adminfeed.h"
#include "jsontext.h"
#include "server/server.h"

#include <QDateTime>
#include <QJsonArray>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

namespace
{
qint64 monotonicNow()
{
    static QElapsedTimer clock = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return clock.elapsed();
}
} // namespace

SessionsModel::SessionsModel(QObject *parent)
    : QAbstractListModel(parent)
{
    m_ticker.setInterval(250);
    connect(&m_ticker, &QTimer::timeout, this, &SessionsModel::tick);
    m_ticker.start();
}

SessionsModel::~SessionsModel() = default;

void SessionsModel::attachServer(lark::Server *server)
{
    m_server = server;
    // A healthy connection answers every ping: silence beyond a ping interval and a half means something is wrong.
    m_silentAfterMs = server->config().pingIntervalMs * 3 / 2 + 100;
    const lark::AdminFeed *feed = server->adminFeed();
    connect(feed, &lark::AdminFeed::sessionChanged, this, &SessionsModel::updateSession);
    connect(feed, &lark::AdminFeed::sessionRemoved, this, &SessionsModel::endSession);
    QJsonArray current;
    const QList<Session *> sessions = server->sessions();
    for (const Session *s : sessions)
        current.append(feed->describeSession(*s));
    replaceAll(current);
}

void SessionsModel::detachServer()
{
    if (m_server)
        m_server->adminFeed()->disconnect(this);
    m_server = nullptr;
    if (!m_rows.isEmpty()) {
        // One removal of all rows rather than a reset: views keep their own state.
        beginRemoveRows({}, 0, int(m_rows.size()) - 1);
        m_rows.clear();
        endRemoveRows();
        Q_EMIT countChanged();
    }
    if (m_lastOpCount != 0) {
        m_lastOpCount = 0;
        Q_EMIT queuedOpCountChanged();
    }
}

void SessionsModel::attachFeed(lark::client::AdminFeed *feed)
{
    connect(feed, &lark::client::AdminFeed::sessionUpdated, this, &SessionsModel::updateSession);
    connect(feed, &lark::client::AdminFeed::sessionEnded, this, &SessionsModel::endSession);
    // A (re)subscription brings a whole snapshot: sessions may have ended meanwhile.
    connect(feed, &lark::client::AdminFeed::sessionsChanged, this, [this, feed] { replaceAll(feed->sessions()); });
    replaceAll(feed->sessions());
}

void SessionsModel::replaceAll(const QJsonArray &sessions)
{
    // Row by row, so views keep their state: update or add what is listed, end what is missing.
    QStringList listed;
    for (const QJsonValue &v : sessions) {
        const QJsonObject s = v.toObject();
        listed.append(s.value(u"handle"_s).toString());
        const int row = rowOfHandle(listed.back());
        if (row < 0 || m_rows.at(row).session != s)
            updateSession(s);
    }
    for (const Row &r : std::as_const(m_rows)) {
        if (r.endedAt == 0 && !listed.contains(r.session.value(u"handle"_s).toString())) {
            QJsonObject ended = r.session;
            ended.insert(u"state"_s, u"ended"_s);
            ended.insert(u"ops"_s, QJsonArray());
            endSession(ended);
        }
    }
}

int SessionsModel::rowOfHandle(const QString &handle) const
{
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).session.value(u"handle"_s).toString() == handle)
            return int(i);
    }
    return -1;
}

int SessionsModel::rowOfShortId(const QString &shortId) const
{
    if (shortId.isEmpty())
        return -1;
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).session.value(u"id"_s).toString() == shortId.left(6))
            return int(i);
    }
    return -1;
}

int SessionsModel::opCountOfShortId(const QString &shortId) const
{
    const int row = rowOfShortId(shortId);
    return row < 0 ? 0 : int(m_rows.at(row).session.value(u"ops"_s).toArray().size());
}

QString SessionsModel::handleOfShortId(const QString &shortId) const
{
    const int row = rowOfShortId(shortId);
    return row < 0 ? QString() : index(row).data(HandleRole).toString();
}

QString SessionsModel::stateOfShortId(const QString &shortId) const
{
    const int row = rowOfShortId(shortId);
    return row < 0 ? QString() : stateOf(m_rows.at(row));
}

int SessionsModel::queuedOpCount() const
{
    int n = 0;
    for (const Row &r : m_rows)
        n += int(r.session.value(u"ops"_s).toArray().size());
    return n;
}

void SessionsModel::setEndedLingerMs(int ms)
{
    if (ms == m_lingerMs)
        return;
    m_lingerMs = ms;
    Q_EMIT endedLingerMsChanged();
}

void SessionsModel::setCancelledLingerMs(int ms)
{
    if (ms == m_cancelLingerMs)
        return;
    m_cancelLingerMs = ms;
    Q_EMIT cancelledLingerMsChanged();
}

int SessionsModel::activeCount() const
{
    int n = 0;
    for (const Row &r : m_rows)
        n += r.endedAt == 0 && r.session.value(u"state"_s).toString() != u"ended"_s ? 1 : 0;
    return n;
}

namespace
{
// Whether a queued op at `path` still holds what an op at `old` wrote: the same path, or an ancestor that
// absorbed it (o at an ancestor replaces what was queued below).
bool covers(const QString &path, const QString &old)
{
    return path == old || path == u"/"_s || old.startsWith(path + u'/');
}

// Ops that were queued in `before` and are not in `after` any more: the client cancelled them (oc) or replaced
// them with a remove/update that no longer covers them.
QList<QJsonObject> droppedOps(const QJsonArray &before, const QJsonArray &after)
{
    QList<QJsonObject> dropped;
    for (const QJsonValue &b : before) {
        const QString old = b.toObject().value(u"path"_s).toString();
        bool kept = false;
        for (const QJsonValue &a : after)
            kept = kept || covers(a.toObject().value(u"path"_s).toString(), old);
        if (!kept)
            dropped.append(b.toObject());
    }
    return dropped;
}
} // namespace

bool SessionsModel::noteState(Row &r) const
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const auto note = [&](const QString &state, const QString &detail = {}) {
        r.timeline.append(QVariantMap {{u"state"_s, state}, {u"at"_s, now}, {u"detail"_s, detail}});
    };
    const int resumes = r.session.value(u"resumes"_s).toInt();
    if (resumes > r.resumes && !r.timeline.isEmpty())
        note(u"resumed"_s);
    r.resumes = resumes;
    const QString shown = stateOf(r);
    if (shown == r.lastState)
        return false;
    r.lastState = shown;
    // A resume says "resumed" already; the live that follows it is the same moment.
    const bool justResumed = !r.timeline.isEmpty()
        && r.timeline.constLast().toMap().value(u"state"_s).toString() == u"resumed"_s && shown == u"live"_s;
    if (!justResumed)
        note(shown, shown == u"ended"_s ? r.session.value(u"endReason"_s).toString() : QString());
    return true;
}

void SessionsModel::updateSession(const QJsonObject &session)
{
    const QString handle = session.value(u"handle"_s).toString();
    const int number = handle.mid(1).toInt();
    m_highestNumber = std::max(m_highestNumber, quint64(std::max(number, 0)));
    int row = rowOfHandle(handle);
    if (row < 0) {
        row = 0;
        while (row < m_rows.size() && m_rows.at(row).number < number)
            ++row;
        beginInsertRows({}, row, row);
        Row fresh;
        fresh.session = session;
        fresh.number = number;
        fresh.receivedAt = monotonicNow();
        m_rows.insert(row, fresh);
        noteState(m_rows[row]);
        endInsertRows();
        Q_EMIT countChanged();
    } else {
        const bool wasActive = m_rows.at(row).session.value(u"state"_s).toString() != u"ended"_s;
        Row &r = m_rows[row];
        if (session.value(u"state"_s).toString() == u"ended"_s) {
            r.cancelled.clear(); // what was cancelled before the end is history; the fired-ops log has the rest
        } else {
            const qint64 now = QDateTime::currentMSecsSinceEpoch();
            const QJsonArray after = session.value(u"ops"_s).toArray();
            const QList<QJsonObject> dropped = droppedOps(r.session.value(u"ops"_s).toArray(), after);
            for (const QJsonObject &op : dropped)
                r.cancelled.append({op, now});
            // An op registered again at a cancelled path is queued, not cancelled.
            r.cancelled.removeIf([&after](const QPair<QJsonObject, qint64> &c) {
                for (const QJsonValue &a : after) {
                    if (covers(a.toObject().value(u"path"_s).toString(), c.first.value(u"path"_s).toString()))
                        return true;
                }
                return false;
            });
        }
        r.session = session;
        r.receivedAt = monotonicNow();
        r.endedAt = 0;
        noteState(r);
        const QModelIndex idx = index(row);
        Q_EMIT dataChanged(idx, idx);
        if (wasActive != (session.value(u"state"_s).toString() != u"ended"_s))
            Q_EMIT countChanged(); // activeCount changed
    }
    if (queuedOpCount() != m_lastOpCount) {
        m_lastOpCount = queuedOpCount();
        Q_EMIT queuedOpCountChanged();
    }
}

void SessionsModel::endSession(const QJsonObject &session)
{
    QJsonObject ended = session;
    ended.insert(u"state"_s, u"ended"_s);
    ended.insert(u"ops"_s, QJsonArray()); // they have fired (or were dropped at shutdown): nothing is queued now
    updateSession(ended);
    const int row = rowOfHandle(session.value(u"handle"_s).toString());
    if (row >= 0)
        m_rows[row].endedAt = monotonicNow();
}

qint64 SessionsModel::silentFor(const Row &row) const
{
    // Aged from when the description arrived: a feed pushes one when the session turns silent, so the count
    // is right while it matters.
    if (!row.session.contains(u"lastActivityMsAgo"_s))
        return 0;
    return qint64(row.session.value(u"lastActivityMsAgo"_s).toDouble()) + (monotonicNow() - row.receivedAt);
}

QString SessionsModel::stateOf(const Row &row) const
{
    const QString state = row.session.value(u"state"_s).toString();
    if (state != u"live"_s)
        return state;
    // A remote server says when a session turns silent and when it speaks again (lark.session with `silent`);
    // its lastActivityMsAgo is only as fresh as the last push, so it must not be aged into "silent" here.
    if (!m_server)
        return row.session.value(u"silent"_s).toBool() ? u"silent"_s : state;
    return silentFor(row) > m_silentAfterMs ? u"silent"_s : state;
}

void SessionsModel::tick()
{
    const qint64 now = monotonicNow();
    // Ended rows leave after a while (one remove each); the rest only get their clocks refreshed.
    for (qsizetype i = m_rows.size() - 1; i >= 0; --i) {
        if (m_rows.at(i).endedAt && now - m_rows.at(i).endedAt >= m_lingerMs) {
            beginRemoveRows({}, int(i), int(i));
            m_rows.removeAt(i);
            endRemoveRows();
            Q_EMIT countChanged();
        }
    }
    const qint64 wallNow = QDateTime::currentMSecsSinceEpoch();
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        Row &r = m_rows[i];
        const qsizetype before = r.cancelled.size();
        r.cancelled.removeIf(
            [&](const QPair<QJsonObject, qint64> &c) { return wallNow - c.second >= m_cancelLingerMs; });
        if (r.cancelled.size() != before) {
            const QModelIndex idx = index(int(i));
            Q_EMIT dataChanged(idx, idx, {OpsRole});
        }
    }
    if (m_server) {
        // lastActivityMsAgo is pushed only with other changes; in host mode ask the server for fresh values.
        const QList<Session *> sessions = m_server->sessions();
        for (const Session *s : sessions) {
            if (s->state() != Session::State::Live)
                continue;
            const int row = rowOfHandle(s->handle());
            if (row >= 0 && m_rows.at(row).endedAt == 0) {
                m_rows[row].session = m_server->adminFeed()->describeSession(*s);
                m_rows[row].receivedAt = now;
            }
        }
    }
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        Row &r = m_rows[i];
        const QString state = r.session.value(u"state"_s).toString();
        if (state == u"ended"_s)
            continue;
        QList<int> roles {GraceRemainingMsRole, SilentForMsRole};
        if (noteState(r))
            roles << StateRole << TimelineRole;
        const QModelIndex idx = index(int(i));
        Q_EMIT dataChanged(idx, idx, roles);
    }
}

int SessionsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant SessionsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    const QJsonObject &s = r.session;
    switch (role) {
    case Qt::DisplayRole:
    case HandleRole:
        return s.value(u"handle"_s).toString();
    case ShortIdRole:
        return s.value(u"id"_s).toString();
    case StateRole:
        return stateOf(r);
    case IdentityRole:
        return s.value(u"identity"_s).toString();
    case RemoteRole:
        return s.value(u"remote"_s).toString();
    case ResumesRole:
        return s.value(u"resumes"_s).toInt();
    case OpsRole: {
        QVariantList ops;
        for (const QJsonValue &v : s.value(u"ops"_s).toArray()) {
            const QJsonObject op = v.toObject();
            ops.append(QVariantMap {{u"path"_s, op.value(u"path"_s).toString()},
                {u"kind"_s, op.value(u"kind"_s).toString()}, {u"value"_s, jsonText(op.value(u"value"_s))},
                {u"registeredAt"_s, op.value(u"registeredAt"_s).toDouble()}, {u"cancelled"_s, false},
                {u"cancelledAt"_s, 0.0}});
        }
        for (const auto &[op, at] : r.cancelled) {
            ops.append(QVariantMap {{u"path"_s, op.value(u"path"_s).toString()},
                {u"kind"_s, op.value(u"kind"_s).toString()}, {u"value"_s, jsonText(op.value(u"value"_s))},
                {u"registeredAt"_s, op.value(u"registeredAt"_s).toDouble()}, {u"cancelled"_s, true},
                {u"cancelledAt"_s, double(at)}});
        }
        return ops;
    }
    case OpCountRole:
        return int(s.value(u"ops"_s).toArray().size());
    case GraceRemainingMsRole:
        if (!s.contains(u"fireAt"_s))
            return 0;
        return double(
            std::max<qint64>(0, qint64(s.value(u"fireAt"_s).toDouble()) - QDateTime::currentMSecsSinceEpoch()));
    case SilentForMsRole:
        return double(silentFor(r));
    case DeadAfterMsRole:
        return s.value(u"deadAfterMs"_s).toInt();
    case EndReasonRole:
        return s.value(u"endReason"_s).toString();
    case NamespaceRole:
        return s.value(u"namespace"_s).toString();
    case NodeRole:
        return s.value(u"node"_s).toString();
    case TimelineRole:
        return r.timeline;
    default:
        return {};
    }
}

QHash<int, QByteArray> SessionsModel::roleNames() const
{
    return {
        {HandleRole, "handle"},
        {ShortIdRole, "shortId"},
        {StateRole, "sessionState"},
        {IdentityRole, "identity"},
        {RemoteRole, "remote"},
        {ResumesRole, "resumes"},
        {OpsRole, "ops"},
        {OpCountRole, "opCount"},
        {GraceRemainingMsRole, "graceRemainingMs"},
        {SilentForMsRole, "silentForMs"},
        {DeadAfterMsRole, "deadAfterMs"},
        {EndReasonRole, "endReason"},
        {NamespaceRole, "namespace"},
        {NodeRole, "node"},
        {TimelineRole, "timeline"},
    };
}

} // namespace lark::models
