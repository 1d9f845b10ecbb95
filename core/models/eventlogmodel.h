// SPDX-License-Identifier: MIT
#pragma once

#include <QAbstractListModel>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QSortFilterProxyModel>

namespace lark
{
class Server;
}

namespace lark::models
{

/**
 * The server's event log, oldest first: sessions connecting, resuming, being suspended, queueing ops, firing and
 * ending with their reasons, and the connection count. Fed by an embedded server's signals (or any source of
 * session descriptions). Rows are appended one at a time and the oldest removed beyond maxRows: never a reset.
 */
class EventLogModel : public QAbstractListModel
{
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(int maxRows READ maxRows WRITE setMaxRows)
public:
    enum Roles {
        AtRole = Qt::UserRole + 1, /**< epoch ms */
        KindRole, /**< "connect", "auth", "silent", "resume", "suspend", "ops", "fire", "end", "connections",
                     "denied", "dropped", "server" */
        HandleRole, /**< session, "S3"; empty for server-wide events */
        TextRole, /**< what happened, in words (Qt::DisplayRole too) */
        LineRole, /**< "hh:mm:ss.zzz kind text": what the filter matches */
    };
    Q_ENUM(Roles)

    explicit EventLogModel(QObject *parent = nullptr);
    void attachServer(lark::Server *server);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    void sessionChanged(const QJsonObject &session);
    void sessionRemoved(const QJsonObject &session);
    void opsFired(const QJsonObject &session, const QJsonArray &ops);
    /** A request the rules denied (the admin feed's lark.denied): path, operation, identity and the rule. */
    void requestDenied(const QJsonObject &denial);
    /** A REST event stream opened or ended (lark.stream, lark.stream.ended). */
    void streamOpened(const QJsonObject &stream);
    void streamEnded(const QJsonObject &stream);
    /** A queued op dropped when rules or identity changed (lark.dropped). */
    void opDropped(const QJsonObject &drop);
    /** Appends an event; the oldest goes beyond maxRows. */
    void append(const QString &kind, const QString &handle, const QString &text);
    /** Forgets what it knew of sessions (a new server): their next description reads as a connect. */
    void forgetSessions() { m_known.clear(); }

    void setMaxRows(int rows) { m_maxRows = std::max(1, rows); }
    [[nodiscard]] int maxRows() const { return m_maxRows; }

Q_SIGNALS:
    void countChanged();

private:
    struct Row {
        qint64 at;
        QString kind;
        QString handle;
        QString text;
    };
    struct Known {
        QString state;
        int resumes = 0;
        int ops = 0;
        QString identity;
        bool silent = false;
    };
    QList<Row> m_rows;
    QHash<QString, Known> m_known; // what the last description of each session said, to tell what changed
    int m_maxRows = 1000;
};

/** The event log filtered by a case-insensitive text on the whole line. */
class EventLogFilter : public QSortFilterProxyModel
{
    Q_OBJECT
    Q_PROPERTY(QString filterText READ filterText WRITE setFilterText NOTIFY filterTextChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    explicit EventLogFilter(EventLogModel *source, QObject *parent = nullptr);
    [[nodiscard]] const QString &filterText() const { return m_text; }
    void setFilterText(const QString &text);
    [[nodiscard]] EventLogModel *log() const { return m_log; }
    /** The whole line of a shown row ("hh:mm:ss.zzz kind text"), or empty. */
    [[nodiscard]] Q_INVOKABLE QString lineAt(int row) const;

Q_SIGNALS:
    void filterTextChanged();
    void countChanged();

private:
    EventLogModel *m_log;
    QString m_text;
};

} // namespace lark::models
