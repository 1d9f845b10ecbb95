// SPDX-License-Identifier: MIT
#include "tab.h"

#include "client/presence.h"
#include "db/path.h"
#include "netsim/linkproxy.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QRandomGenerator>

using namespace Qt::Literals::StringLiterals;

namespace lark::tabs
{

using lark::client::Database;

Tab::Tab(int tabId, const QString &uid, SignIn signIn, int windowId, const QHostAddress &serverHost, quint16 serverPort,
    const Options &options, QObject *parent)
    : QObject(parent)
    , m_tabId(tabId)
    , m_uid(uid)
    , m_signIn(signIn)
    , m_windowId(windowId)
    , m_options(options)
    , m_proxy(new lark::netsim::LinkProxy(serverHost, serverPort, this))
{
    if (!m_proxy->listen())
        m_lastError = u"cannot open the simulated network (no free loopback port)"_s;
    connect(m_proxy, &lark::netsim::LinkProxy::modeChanged, this, &Tab::changed);
    m_countdown.setInterval(200);
    connect(&m_countdown, &QTimer::timeout, this, &Tab::changed);
    createClient();
}

void Tab::createClient()
{
    lark::client::DatabaseOptions o;
    o.authToken = mockToken(m_uid, m_signIn);
    o.minReconnectDelayMs = m_options.minReconnectDelayMs;
    o.maxReconnectDelayMs = m_options.maxReconnectDelayMs;
    m_db = new Database(QUrl(u"ws://127.0.0.1:%1"_s.arg(m_proxy->port())), m_options.ns, o, this);
    m_presence = new lark::client::Presence(m_db, m_uid, u"presence"_s, this);

    connect(m_db, &Database::stateChanged, this, [this] {
        if (m_db->state() == Database::ConnectionState::WaitingToReconnect)
            m_countdown.start();
        else
            m_countdown.stop();
        Q_EMIT changed();
    });
    connect(m_db, &Database::sessionIdChanged, this, &Tab::changed);
    connect(m_db, &Database::serverTimeOffsetChanged, this, &Tab::changed);
    connect(m_db, &Database::connectedChanged, this, &Tab::onConnected);
    connect(m_db, &Database::authFailed, this, [this](const lark::client::Error &e) {
        m_lastError = e.toString();
        Q_EMIT changed();
    });
    connect(m_presence, &lark::client::Presence::stateChanged, this, &Tab::changed);
    connect(m_presence, &lark::client::Presence::connectionCountChanged, this, &Tab::changed);
    connect(m_presence, &lark::client::Presence::error, this, [this](const lark::client::Error &e) {
        m_lastError = e.toString();
        Q_EMIT changed();
    });
}

void Tab::reload()
{
    // Like a killed process that starts again: the old link dies without a close frame (its session is suspended
    // and fires when the grace ends), and a fresh client connects without `ls`, so it gets a new session.
    m_proxy->setMode(lark::netsim::LinkProxy::Mode::Pass);
    m_proxy->blip();
    m_countdown.stop();
    m_presence->disconnect(this);
    m_db->disconnect(this);
    delete m_presence;
    m_presence = nullptr;
    m_db->deleteLater(); // its socket was reset under it; nothing reaches the server any more
    m_db = nullptr;
    m_lastError.clear();
    createClient();
    ++m_reloads;
    Q_EMIT changed();
}

Tab::~Tab()
{
    // The reverse of how they were made (children would die in creation order, the proxy first): presence, then
    // the client it listens through.
    delete m_presence;
    delete m_db;
}

QString Tab::uidProblem(const QString &uid)
{
    QString why;
    if (!Path::isValidKey(uid, &why))
        return uid.isEmpty() ? u"a user id cannot be empty"_s : why;
    // A valid key can still be too long once it sits in the presence entry's path, which the SDK would refuse
    // at registration: say so here rather than as a failed tab.
    Path path;
    if (!Path::parse(u"presence/%1/connections/%2"_s.arg(uid, QString(20, u'-')), &path, &why))
        return u"too long: presence/<uid>/connections/<push id> would exceed the 768-byte path limit"_s;
    return {};
}

QString Tab::mockToken(const QString &uid, SignIn signIn)
{
    const auto part = [](const QJsonObject &o) {
        return QJsonDocument(o)
            .toJson(QJsonDocument::Compact)
            .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    };
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const QByteArray token = part({{u"alg"_s, u"none"_s}, {u"typ"_s, u"JWT"_s}}) + '.'
        + part({{u"sub"_s, uid}, {u"user_id"_s, uid}, {u"iat"_s, double(now)}, {u"exp"_s, double(now + 3600)},
            {u"firebase"_s,
                QJsonObject {{u"sign_in_provider"_s, signIn == SignIn::Anonymous ? u"anonymous"_s : u"custom"_s},
                    {u"identities"_s, QJsonObject()}}}})
        + '.';
    return QString::fromLatin1(token);
}

QString Tab::newAnonymousUid()
{
    static constexpr char Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    QString uid(28, Qt::Uninitialized);
    for (QChar &c : uid)
        c = QLatin1Char(Alphabet[QRandomGenerator::global()->bounded(int(sizeof(Alphabet) - 1))]);
    return uid;
}

void Tab::onConnected(bool connected)
{
    if (connected) {
        // The naive pattern, shown beside Presence: one flag per user, whichever tab wrote last wins.
        const lark::client::Reference flag = m_db->ref(u"status"_s).child(m_uid).child(u"online"_s);
        flag.onDisconnect().set(false, this, [this, flag](const lark::client::Error &e) {
            if (e.isOk()) {
                flag.set(true);
            } else {
                m_lastError = e.toString();
                Q_EMIT changed();
            }
        });
    }
    Q_EMIT changed();
}

void Tab::writeOthersEntry(const QString &uid)
{
    const lark::client::Reference entry
        = m_db->ref(u"presence"_s).child(uid).child(u"connections"_s).child(u"intruder-"_s + m_uid);
    entry.set(true, this, [this, uid, entry](const lark::client::Error &e) {
        if (e.isOk()) {
            m_lastError
                = u"wrote %1's presence entry: nothing stops a user from writing another's (no rules)"_s.arg(uid);
            entry.remove(); // the demo's data stays honest
        } else {
            m_lastError = u"writing %1's presence entry: %2"_s.arg(uid, e.toString());
        }
        Q_EMIT changed();
    });
}

void Tab::cancelFlagOp()
{
    const lark::client::Reference flag = m_db->ref(u"status"_s).child(m_uid).child(u"online"_s);
    flag.onDisconnect().cancel(this, [this](const lark::client::Error &e) {
        if (!e.isOk()) {
            m_lastError = e.toString();
            Q_EMIT changed();
        }
    });
}

QString Tab::status() const
{
    switch (m_db->state()) {
    case Database::ConnectionState::Connected:
        return u"connected"_s;
    case Database::ConnectionState::Connecting:
        return m_db->reconnectAttempt() > 0 ? u"reconnecting"_s : u"connecting"_s;
    case Database::ConnectionState::WaitingToReconnect:
        return u"reconnecting"_s;
    case Database::ConnectionState::Offline:
        break;
    }
    return u"offline"_s;
}

int Tab::reconnectAttempt() const
{
    return m_db->reconnectAttempt();
}

int Tab::nextRetryInMs() const
{
    if (m_db->state() != Database::ConnectionState::WaitingToReconnect)
        return 0;
    return int(std::max<qint64>(0, m_db->nextReconnectAt() - QDateTime::currentMSecsSinceEpoch()));
}

QString Tab::sessionShort() const
{
    return m_db->sessionId().left(6);
}

bool Tab::resumed() const
{
    return m_db->lastConnectResumed();
}

qint64 Tab::serverTimeOffset() const
{
    return m_db->serverTimeOffset();
}

QString Tab::networkMode() const
{
    return lark::netsim::LinkProxy::modeName(m_proxy->mode());
}

QString Tab::presenceState() const
{
    switch (m_presence->state()) {
    case lark::client::Presence::State::Online:
        return u"online"_s;
    case lark::client::Presence::State::Registering:
        return u"registering"_s;
    case lark::client::Presence::State::Offline:
        break;
    }
    return u"offline"_s;
}

int Tab::connectionCount() const
{
    return m_presence->connectionCount();
}

void Tab::dropNetwork()
{
    m_proxy->setMode(lark::netsim::LinkProxy::Mode::Blackhole);
}

void Tab::blip()
{
    m_proxy->setMode(lark::netsim::LinkProxy::Mode::Pass);
    m_proxy->blip();
}

void Tab::restoreNetwork()
{
    m_proxy->setMode(lark::netsim::LinkProxy::Mode::Pass);
}

void Tab::goOffline()
{
    m_db->goOffline();
}

void Tab::goOnline()
{
    m_db->goOnline();
}

void Tab::closeCleanly()
{
    // The close frame must reach the server before the sockets go: if the network is dropped, nothing can be
    // said, exactly as with a real tab closed on a dead network.
    m_db->goOffline();
    QTimer::singleShot(1000, this, &QObject::deleteLater);
}

} // namespace lark::tabs
