// SPDX-License-Identifier: MIT
#pragma once

#include "client/database.h"

#include <QHostAddress>
#include <QObject>
#include <QTimer>

namespace lark::client
{
class Presence;
}
namespace lark::netsim
{
class LinkProxy;
}

namespace lark::tabs
{

/**
 * One simulated browser tab: its own client Database, reaching the server through its own LinkProxy so its
 * network can be broken alone, signed in as a named user or anonymously (Firebase Anonymous Auth: a generated uid
 * whose token says sign_in_provider "anonymous"), with the multi-tab-safe Presence helper and, beside it, the naive
 * boolean flag (status/<uid>/online) that the dashboard contrasts it with.
 */
class Tab : public QObject
{
    Q_OBJECT
    Q_PROPERTY(int tabId READ tabId CONSTANT)
    Q_PROPERTY(QString uid READ uid CONSTANT)
    Q_PROPERTY(bool anonymous READ anonymous CONSTANT)
    Q_PROPERTY(int windowId READ windowId CONSTANT)
    Q_PROPERTY(QString status READ status NOTIFY changed)
    Q_PROPERTY(int reconnectAttempt READ reconnectAttempt NOTIFY changed)
    Q_PROPERTY(int nextRetryInMs READ nextRetryInMs NOTIFY changed)
    Q_PROPERTY(QString sessionShort READ sessionShort NOTIFY changed)
    Q_PROPERTY(bool resumed READ resumed NOTIFY changed)
    Q_PROPERTY(qint64 serverTimeOffset READ serverTimeOffset NOTIFY changed)
    Q_PROPERTY(QString networkMode READ networkMode NOTIFY changed)
    Q_PROPERTY(QString presenceState READ presenceState NOTIFY changed)
    Q_PROPERTY(int connectionCount READ connectionCount NOTIFY changed)
    Q_PROPERTY(QString lastError READ lastError NOTIFY changed)
    Q_PROPERTY(int reloads READ reloads NOTIFY changed)
public:
    struct Options {
        int minReconnectDelayMs = 1000;
        int maxReconnectDelayMs = 30000;
        QString ns = QStringLiteral("lark");
    };

    /** How the tab signs in: as uid with a custom token, or as an anonymous user whose uid is uid. */
    enum class SignIn { Custom, Anonymous };

    Tab(int tabId, const QString &uid, SignIn signIn, int windowId, const QHostAddress &serverHost, quint16 serverPort,
        const Options &options, QObject *parent = nullptr);
    ~Tab() override;

    [[nodiscard]] int tabId() const { return m_tabId; }
    [[nodiscard]] const QString &uid() const { return m_uid; }
    [[nodiscard]] bool anonymous() const { return m_signIn == SignIn::Anonymous; }
    [[nodiscard]] int windowId() const { return m_windowId; }
    /** "connected", "connecting", "reconnecting" or "offline", for the banner. */
    [[nodiscard]] QString status() const;
    [[nodiscard]] int reconnectAttempt() const;
    [[nodiscard]] int nextRetryInMs() const;
    [[nodiscard]] QString sessionShort() const;
    [[nodiscard]] bool resumed() const;
    [[nodiscard]] qint64 serverTimeOffset() const;
    /** "pass", "blackhole", ... : what the tab's simulated network does. */
    [[nodiscard]] QString networkMode() const;
    [[nodiscard]] QString presenceState() const;
    [[nodiscard]] int connectionCount() const;
    [[nodiscard]] const QString &lastError() const { return m_lastError; }

    [[nodiscard]] lark::client::Database *database() const { return m_db; }
    [[nodiscard]] lark::netsim::LinkProxy *proxy() const { return m_proxy; }

    /** A silent network drop: nothing passes and nobody is told (heartbeats find out). */
    Q_INVOKABLE void dropNetwork();
    /** A blip: the link is reset, the client reconnects and resumes its session. */
    Q_INVOKABLE void blip();
    Q_INVOKABLE void restoreNetwork();
    /** goOffline(): a clean close, the server fires this tab's ops at once. */
    Q_INVOKABLE void goOffline();
    Q_INVOKABLE void goOnline();
    /** A reload or a new process: the old connection dies without a close, a new client starts without `ls`. */
    Q_INVOKABLE void reload();
    [[nodiscard]] int reloads() const { return m_reloads; }
    /**
     * onDisconnect().cancel() on the boolean flag (status/<uid>/online): the server drops that queued op, so the
     * dashboard can show a cancelled op; the presence entry's ops stay.
     */
    Q_INVOKABLE void cancelFlagOp();
    /**
     * What an app must not be able to do: write another user's presence entry (presence/<uid>/connections/…).
     * Under presence rules the server refuses it; lastError() then says so, and the dashboard's event log shows the
     * denial with its rule. Without rules it is written, and lastError() says that too.
     */
    Q_INVOKABLE void writeOthersEntry(const QString &uid);
    /** Closing the tab: a clean close, then the tab goes away once the close frame is out. */
    void closeCleanly();

    /**
     * Why uid cannot sign a tab in, or empty when it can: it must be a Firebase key (non-empty, none of
     * `. $ # [ ] /` or control characters, at most 768 UTF-8 bytes), and the tab's deepest path,
     * presence/<uid>/connections/<push id>, must stay within the 768-byte path limit.
     */
    [[nodiscard]] static QString uidProblem(const QString &uid);
    /**
     * An unsigned emulator-style token that signs in as uid, as the JS SDK's mockUserToken makes it: its
     * firebase.sign_in_provider is "custom", or "anonymous" as the Auth emulator's signInAnonymously() gives.
     */
    [[nodiscard]] static QString mockToken(const QString &uid, SignIn signIn = SignIn::Custom);
    /** A new anonymous user's uid: 28 random letters and digits, the shape Firebase Auth gives one. */
    [[nodiscard]] static QString newAnonymousUid();

Q_SIGNALS:
    void changed();

private:
    void onConnected(bool connected);
    void createClient();

    int m_tabId;
    QString m_uid;
    SignIn m_signIn;
    int m_windowId;
    Options m_options;
    int m_reloads = 0;
    lark::netsim::LinkProxy *m_proxy = nullptr;
    lark::client::Database *m_db = nullptr;
    lark::client::Presence *m_presence = nullptr;
    QTimer m_countdown; // while waiting to reconnect, so "next retry in" counts down
    QString m_lastError;
};

} // namespace lark::tabs
