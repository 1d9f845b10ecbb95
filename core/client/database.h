// SPDX-License-Identifier: MIT
#pragma once

#include "db/query.h"
#include "reference.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <list>
#include <map>

class QWebSocket;

namespace lark::client
{

struct DatabaseOptions {
    /** Reconnect backoff, as the JS SDK: start, growth per attempt, cap; reset after a connection lived this long. */
    int minReconnectDelayMs = 1000;
    double reconnectMultiplier = 1.3;
    int maxReconnectDelayMs = 300000;
    int resetBackoffAfterMs = 30000;
    /** "owner" signs in as the admin (gauth); a JWT (e.g. an emulator mock token) as a user (auth). */
    QString authToken;
    /** A connection attempt without a hello by then is abandoned and retried (the JS SDK's 30 s health timeout). */
    int connectTimeoutMs = 30000;
    /** Connect from the constructor; otherwise call goOnline(). */
    bool connectImmediately = true;
};

/**
 * A client of one namespace on a Lark (or Firebase-protocol) server: the C++ SDK.
 *
 * Like the JS SDK it keeps a local cache with optimistic events, reconnects with jittered exponential backoff,
 * resumes its session with `ls`, and re-sends listens (with hashes) and unacknowledged writes in order. Unlike
 * it, onDisconnect requests that were in flight when the connection dropped are re-sent too, so their
 * completions always run. Everything runs on the thread that owns the object; nothing blocks.
 *
 * Callbacks take a context object (see Completion in reference.h); none runs once the Database is destroyed. A
 * Subscription may outlive it (and then does nothing); its References and Queries must not be used after it.
 */
class Database : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool connected READ isConnected NOTIFY connectedChanged)
    Q_PROPERTY(qint64 serverTimeOffset READ serverTimeOffset NOTIFY serverTimeOffsetChanged)
    Q_PROPERTY(QString sessionId READ sessionId NOTIFY sessionIdChanged)
    Q_PROPERTY(bool resumed READ lastConnectResumed NOTIFY sessionIdChanged)
    Q_PROPERTY(ConnectionState state READ state NOTIFY stateChanged)
    Q_PROPERTY(int reconnectAttempt READ reconnectAttempt NOTIFY stateChanged)
    Q_PROPERTY(qint64 nextReconnectAt READ nextReconnectAt NOTIFY stateChanged)
public:
    enum class ConnectionState {
        Offline, /**< goOffline(), or never started */
        Connecting, /**< socket opening, waiting for the hello */
        Connected, /**< hello received */
        WaitingToReconnect, /**< lost; the next attempt is scheduled at nextReconnectAt */
    };
    Q_ENUM(ConnectionState)

    /** url: the server, e.g. ws://127.0.0.1:9000 (http:// works too). */
    Database(const QUrl &url, const QString &ns, const DatabaseOptions &options = {}, QObject *parent = nullptr);
    ~Database() override;

    [[nodiscard]] Reference ref(const QString &path = {});
    [[nodiscard]] const QString &ns() const { return m_ns; }
    [[nodiscard]] const QUrl &url() const { return m_url; }

    [[nodiscard]] bool isConnected() const { return m_state == ConnectionState::Connected; }
    [[nodiscard]] ConnectionState state() const { return m_state; }
    [[nodiscard]] qint64 serverTimeOffset() const { return m_serverTimeOffset; }
    /** Local time corrected by the server's clock, in epoch ms. */
    [[nodiscard]] qint64 serverTimeMs() const;
    /** The current session id (a bearer secret: show it shortened). */
    [[nodiscard]] const QString &sessionId() const { return m_sessionId; }
    /** Whether the last hello resumed the previous session (a blip the server forgave). */
    [[nodiscard]] bool lastConnectResumed() const { return m_resumed; }
    [[nodiscard]] int reconnectAttempt() const { return m_attempt; }
    /**
     * Why the last connection attempt failed or the last connection was lost ("Connection refused", "no answer
     * within 30 s"), as the socket said; empty once a hello arrives. Updated before stateChanged().
     */
    [[nodiscard]] const QString &lastConnectionError() const { return m_lastError; }
    [[nodiscard]] qint64 nextReconnectAt() const { return m_nextReconnectAt; }

    void goOnline();
    void goOffline();
    /** Changes the credential; sent at once when connected, and after every reconnect. */
    void setAuthToken(const QString &token);

    using ExtensionReply = std::function<void(const Error &, const QJsonValue &data)>;
    /** Sends a Lark extension request (e.g. "lark.watch"); reply gets the answer. Queued while offline. */
    void sendExtension(const QString &action, const QJsonObject &body, const QObject *context, ExtensionReply reply);

Q_SIGNALS:
    void connectedChanged(bool connected);
    void serverTimeOffsetChanged(qint64 offset);
    void sessionIdChanged();
    void stateChanged();
    /** The server refused the credential. */
    void authFailed(const lark::client::Error &error);
    /** A push of a Lark extension action (docs/protocol-extensions.md). */
    void extensionPush(const QString &action, const QJsonValue &body);

private:
    struct Listener {
        quint64 id;
        Event event;
        EventCallback callback; // guarded by the context, as is cancelled
        CancelCallback cancelled;
        QMetaObject::Connection contextGone; // removes the listener when its context is destroyed
        bool primed = false; // has had its initial events
    };
    struct View {
        Path path;
        lark::Query query;
        QJsonObject wire;
        qint64 tag = 0;
        bool complete = false;
        bool sent = false;
        Node queryData; // tagged queries keep the server's window apart from the shared tree
        std::shared_ptr<const Node> last; // what listeners were last told
        QStringList lastOrder;
        std::vector<Listener> listeners;
        int internalUsers = 0; // transactions keep a view alive
    };
    struct PendingWrite {
        quint64 id;
        QString action; // p or m
        Path path;
        QJsonObject body; // wire body, placeholders unresolved
        std::vector<std::pair<Path, Node>> local; // resolved for optimistic events; one entry with empty path for p
        Completion done;
        qint64 r = 0; // in flight on the current connection
        quint64 transaction = 0;
    };
    struct PendingRequest { // onDisconnect, gets and extensions: answered by callback, re-sent after a reconnect
        QString action;
        QJsonObject body;
        std::function<void(const QString &status, const QJsonValue &data)> reply;
        qint64 r = 0;
    };
    struct Transaction {
        quint64 id;
        Path path;
        QPointer<const QObject> context; // update and done run only while it lives
        TransactionUpdate update;
        TransactionDone done;
        int retries = 0;
        quint64 writeId = 0;
        QString viewKey;
    };

    friend class Query;
    friend class Reference;
    friend class OnDisconnect;
    friend class Subscription;

    // Called by Query/Reference/Subscription: callbacks come with their context, which the database guards.
    /** The listener's id; 0 when the context is null (nothing is registered). */
    quint64 addListener(
        const Query &q, Event event, const QObject *context, EventCallback cb, CancelCallback cancelled);
    void removeListener(quint64 listenerId);
    [[nodiscard]] bool hasListener(quint64 listenerId) const { return m_listenerViews.contains(listenerId); }
    void get(const Query &q, const QObject *context, GetCallback cb);
    void write(
        const QString &action, const Path &path, const QJsonObject &body, const QObject *context, Completion done);
    void onDisconnectRequest(
        const QString &action, const Path &path, const QJsonObject &body, const QObject *context, Completion done);
    void startTransaction(const Path &path, const QObject *context, TransactionUpdate update, TransactionDone done);
    qint64 nextTag() { return m_nextTag++; }

    // Connection.
    void connectNow();
    void onHello(const QJsonObject &hello);
    void onSocketClosed();
    void scheduleReconnect();
    void setState(ConnectionState s);
    void onFrame(const QString &frame);
    void onMessage(const QJsonObject &message);
    void onPush(const QString &action, const QJsonObject &body);
    qint64 send(const QString &action, const QJsonObject &body,
        std::function<void(const QString &status, const QJsonValue &data)> reply);
    void sendAuth();
    void sendListen(const QString &viewKey);
    void sendWrite(PendingWrite &w);
    void sendRequest(PendingRequest &request);

    // Cache and events.
    [[nodiscard]] static QString viewKey(const Path &path, const QJsonObject &q);
    [[nodiscard]] std::shared_ptr<const Node> localNode(const View &view) const;
    [[nodiscard]] Node localValue(const Path &path) const;
    /** base (the server's data at `at`) with our unacknowledged writes applied, in order. */
    [[nodiscard]] Node withPendingWrites(Node base, const Path &at) const;
    void refreshViews(const Path &changed);
    void refreshView(View &view);
    void refreshInfo();
    void dropView(const QString &key);
    /** The bookkeeping of a listener that has left its view's list. */
    void forgetListener(const Listener &listener);
    /** The server refused or dropped the view's listen: its listeners are removed and told, its transactions fail. */
    void cancelView(const QString &key, const Error &error);
    void ackWrite(quint64 id, const QString &status, const QJsonValue &data);
    void pumpTransactions();
    void runTransaction(Transaction &t);
    [[nodiscard]] bool coveredByPendingWrite(const Path &path) const;
    void finishTransaction(quint64 id, const Error &error, bool committed);
    [[nodiscard]] bool resolveLocal(const QJsonValue &json, const Path &at, Node *out, QString *error) const;

    QUrl m_url;
    QString m_ns;
    DatabaseOptions m_options;
    QWebSocket *m_socket = nullptr;
    ConnectionState m_state = ConnectionState::Offline;
    bool m_wantOnline = false;
    bool m_statsSent = false;
    QString m_sessionId;
    QString m_lastSessionId;
    bool m_resumed = false;
    qint64 m_serverTimeOffset = 0;
    qint64 m_nextR = 1;
    qint64 m_nextTag = 1;
    quint64 m_nextId = 1;
    int m_attempt = 0;
    QString m_lastError;
    qint64 m_nextReconnectAt = 0;
    double m_delayMs;
    QElapsedTimer m_attemptClock; // since the last attempt started
    QElapsedTimer m_connectedClock; // since the last hello
    QTimer m_reconnectTimer;
    QTimer m_connectTimer;
    int m_pendingFrames = 0;
    QString m_frameBuffer;

    Node m_server; // what the server told us, for untagged listens
    std::map<QString, View> m_views;
    QHash<quint64, QString> m_listenerViews; // listener id → view key
    QHash<quint64, lark::Query> m_listenerOrders; // listener id → its ordering
    std::list<PendingWrite> m_writes; // in order; unacked
    std::list<PendingRequest> m_requests; // onDisconnect, get, extension; in order
    std::map<quint64, Transaction> m_transactions;
    QHash<qint64, std::function<void(const QString &, const QJsonValue &)>> m_outstanding; // r → reply
};

} // namespace lark::client
