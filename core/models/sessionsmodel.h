// SPDX-License-Identifier: MIT
#pragma once

#include <QAbstractListModel>
#include <QJsonObject>
#include <QPointer>
#include <QTimer>

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
 * The server's sessions with their queued onDisconnect ops, one row per session, in session order. Fed by an
 * embedded lark::Server (host mode) or by an AdminFeed (a remote server's lark.watch). Ended sessions stay for
 * endedLingerMs with their end reason, so a viewer can see what just happened, then leave.
 *
 * A ticker refreshes only what time changes (grace countdowns, how long a live session has been silent) with
 * dataChanged on those rows; updates from the server touch their one row.
 */
class SessionsModel : public QAbstractListModel
{
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(int queuedOpCount READ queuedOpCount NOTIFY queuedOpCountChanged)
    Q_PROPERTY(int activeCount READ activeCount NOTIFY countChanged)
    Q_PROPERTY(int endedLingerMs READ endedLingerMs WRITE setEndedLingerMs NOTIFY endedLingerMsChanged)
    Q_PROPERTY(int cancelledLingerMs READ cancelledLingerMs WRITE setCancelledLingerMs NOTIFY cancelledLingerMsChanged)
public:
    enum Roles {
        HandleRole = Qt::UserRole + 1, /**< "S3" */
        ShortIdRole, /**< first characters of the session id */
        StateRole, /**< "live", "silent" (no word for 1.5 pings), "suspended", "ended" */
        IdentityRole, /**< "anonymous", "admin", "user:alice" */
        RemoteRole, /**< client address:port */
        ResumesRole, /**< times resumed or taken over */
        OpsRole, /**< queued ops, then recently cancelled ones: list of {path, kind, value (JSON text), registeredAt
                    (epoch ms), cancelled (bool), cancelledAt (epoch ms, 0 while queued)} */
        OpCountRole, /**< number of queued ops */
        GraceRemainingMsRole, /**< while suspended: ms until its ops fire */
        SilentForMsRole, /**< while live: ms since the server last heard from it */
        DeadAfterMsRole, /**< while live: the silence limit */
        EndReasonRole, /**< once ended: "clean close", "timeout", ... */
        NamespaceRole, /**< the database the session writes to */
        NodeRole, /**< in cluster mode, the node the session is on (the one the dashboard is connected to) */
        TimelineRole, /**< the states it went through, oldest first: list of {state ("live", "silent", "suspended",
                         "resumed", "ended"), at (epoch ms), detail (the end reason)}; short ones stay readable */
    };
    Q_ENUM(Roles)

    explicit SessionsModel(QObject *parent = nullptr);
    ~SessionsModel() override;

    /** Follows an embedded server's sessions (host mode). */
    void attachServer(lark::Server *server);
    /** Stops following the embedded server and removes every row (the server is about to go away). */
    void detachServer();
    /** Follows a remote server through its admin feed. */
    void attachFeed(lark::client::AdminFeed *feed);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] int queuedOpCount() const;
    [[nodiscard]] int endedLingerMs() const { return m_lingerMs; }
    void setEndedLingerMs(int ms);
    /** How long a cancelled op stays listed (struck through) after it left the session's queue. */
    [[nodiscard]] int cancelledLingerMs() const { return m_cancelLingerMs; }
    void setCancelledLingerMs(int ms);
    /** Sessions that have not ended (live, silent or suspended). */
    [[nodiscard]] int activeCount() const;
    /** The embedded server's ping interval changed: "silent" means no word for a ping and a half. */
    void setPingInterval(int ms) { m_silentAfterMs = ms * 3 / 2 + 100; }

    /** The row of a session by its short id (as a client shows it), or -1. */
    [[nodiscard]] Q_INVOKABLE int rowOfShortId(const QString &shortId) const;
    /** Queued ops of a session by its short id (what a tab's panel shows); 0 when it has none or is unknown. */
    [[nodiscard]] Q_INVOKABLE int opCountOfShortId(const QString &shortId) const;
    /** What StateRole says of a session by its short id; empty when unknown. */
    [[nodiscard]] Q_INVOKABLE QString stateOfShortId(const QString &shortId) const;
    /** The handle ("S3") of a session by its short id, so a tab card can name its session; empty when unknown. */
    [[nodiscard]] Q_INVOKABLE QString handleOfShortId(const QString &shortId) const;

    /** The highest handle number (S<n>) this model has shown, ended and removed rows included. */
    [[nodiscard]] quint64 highestNumberSeen() const { return m_highestNumber; }
    /** A session description (docs/protocol-extensions.md SESSION) was created or changed. */
    void updateSession(const QJsonObject &session);
    /** A session ended. */
    void endSession(const QJsonObject &session);

Q_SIGNALS:
    void countChanged();
    void queuedOpCountChanged();
    void endedLingerMsChanged();
    void cancelledLingerMsChanged();

private:
    struct Row {
        QJsonObject session;
        int number = 0;
        qint64 receivedAt = 0; // monotonic ms when `session` arrived, to age lastActivityMsAgo
        qint64 endedAt = 0; // monotonic ms, once ended
        QString lastState; // what StateRole last reported, to signal only real changes
        QVariantList timeline; // TimelineRole
        int resumes = 0; // as last seen, to put each resume on the timeline
        QList<QPair<QJsonObject, qint64>> cancelled; // ops that left the queue without firing, with when (epoch ms)
    };
    void tick();
    void replaceAll(const QJsonArray &sessions);
    [[nodiscard]] int rowOfHandle(const QString &handle) const;
    [[nodiscard]] QString stateOf(const Row &row) const;
    [[nodiscard]] qint64 silentFor(const Row &row) const;
    /** Brings lastState and the timeline up to date; true when the shown state changed. */
    bool noteState(Row &row) const;

    QList<Row> m_rows;
    QPointer<lark::Server> m_server;
    QTimer m_ticker;
    qint64 m_silentAfterMs = 1500;
    int m_lingerMs = 8000;
    int m_cancelLingerMs = 6000;
    int m_lastOpCount = 0;
    quint64 m_highestNumber = 0;
};

} // namespace lark::models
