// SPDX-License-Identifier: MIT
#include "hub.h"

#include "client/adminfeed.h"
#include "client/database.h"
#include "server/server.h"

#include <QHostInfo>
#include <QUrlQuery>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

Hub::Hub(const HubConfig &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_tabs(new TabsModel(this))
    , m_sessions(new SessionsModel(this))
    , m_firedOps(new FiredOpsModel(this))
    , m_presence(new PresenceModel(users(), this))
{
}

Hub::~Hub()
{
    // Tabs first: they are clients of the server and must not outlive it half-way.
    delete m_tabs;
    m_tabs = nullptr;
    delete m_feed;
    delete m_admin;
    delete m_tree;
    delete m_server;
}

QStringList Hub::users() const
{
    return {u"alice"_s, u"bob"_s, u"carol"_s};
}

bool Hub::start()
{
    if (m_server || m_admin)
        return true;
    if (isRemote())
        return startRemote();
    lark::ServerConfig sc;
    sc.host = QHostAddress::LocalHost;
    sc.port = m_config.port;
    sc.defaultNamespace = m_config.ns;
    sc.pingIntervalMs = m_config.pingIntervalMs;
    sc.deadAfterMs = m_config.deadAfterMs;
    sc.graceMs = m_config.graceMs;
    auto *server = new lark::Server(sc, this);
    QString error;
    if (!server->listen(&error)) {
        if (m_config.port == 0) {
            m_hostMessage = u"cannot start the server: %1"_s.arg(error);
            delete server;
            Q_EMIT runningChanged();
            return false;
        }
        // The default port is often taken by another emulator: a free port still gives a working dashboard.
        delete server;
        sc.port = 0;
        server = new lark::Server(sc, this);
        QString error2;
        if (!server->listen(&error2)) {
            m_hostMessage = u"cannot start the server: %1"_s.arg(error2);
            delete server;
            Q_EMIT runningChanged();
            return false;
        }
        m_hostMessage = u"port %1 is busy (%2); using %3 instead"_s.arg(m_config.port).arg(error).arg(server->port());
    }
    m_server = server;
    Tab::Options options;
    options.minReconnectDelayMs = m_config.reconnectDelayMs;
    options.ns = m_config.ns;
    m_tabs->setTarget(QHostAddress::LocalHost, server->port(), options);
    m_sessions->attachServer(server);
    m_firedOps->attachServer(server);
    lark::Database *db = server->database(m_config.ns);
    m_presence->attachDatabase(db);
    m_tree = new DataTreeModel(db, this);
    Q_EMIT runningChanged();
    return true;
}

bool Hub::startRemote()
{
    const QUrl &url = m_config.connectUrl;
    const auto fail = [this](const QString &why) {
        m_hostMessage = why;
        Q_EMIT runningChanged();
        return false;
    };
    if (url.scheme() != u"ws"_s && url.scheme() != u"http"_s)
        return fail(u"--connect takes ws://host:port (TLS is not supported for simulated tabs)"_s);
    const QString ns = QUrlQuery(url).queryItemValue(u"ns"_s);
    if (!ns.isEmpty())
        m_config.ns = ns;
    QHostAddress host(url.host());
    if (host.isNull()) {
        // A name: resolve once, the tabs' proxies connect to an address.
        const QHostInfo info = QHostInfo::fromName(url.host());
        if (info.addresses().isEmpty())
            return fail(u"cannot resolve %1: %2"_s.arg(url.host(), info.errorString()));
        host = info.addresses().constFirst();
    }
    const quint16 port = quint16(url.port(9000));
    QUrl base;
    base.setScheme(u"ws"_s);
    base.setHost(url.host());
    base.setPort(port);
    m_config.connectUrl = base;

    // The admin feed needs the admin credential ("owner", what the Admin SDK sends to an emulator).
    lark::client::DatabaseOptions admin;
    admin.authToken = u"owner"_s;
    m_admin = new lark::client::Database(base, m_config.ns, admin, this);
    m_feed = new lark::client::AdminFeed(m_admin, this);
    connect(m_feed, &lark::client::AdminFeed::error, this, [this](const lark::client::Error &e) {
        m_hostMessage = u"admin feed refused: %1"_s.arg(e.toString());
        Q_EMIT runningChanged();
    });
    connect(m_admin, &lark::client::Database::connectedChanged, this, [this](bool connected) {
        m_hostMessage = connected ? QString() : u"not connected to %1; retrying"_s.arg(serverUrl());
        Q_EMIT runningChanged();
    });
    m_sessions->attachFeed(m_feed);
    m_admin->ref(u"presence"_s)
        .on(lark::client::Event::Value, [this](const lark::client::DataSnapshot &s, const QString &) {
            m_presenceJson = s.value().toObject();
            m_presence->setValues(m_presenceJson, m_statusJson);
        });
    m_admin->ref(u"status"_s)
        .on(lark::client::Event::Value, [this](const lark::client::DataSnapshot &s, const QString &) {
            m_statusJson = s.value().toObject();
            m_presence->setValues(m_presenceJson, m_statusJson);
        });
    Tab::Options options;
    options.minReconnectDelayMs = m_config.reconnectDelayMs;
    options.ns = m_config.ns;
    m_tabs->setTarget(host, port, options);
    m_hostMessage = u"connecting to %1"_s.arg(serverUrl());
    Q_EMIT runningChanged();
    return true;
}

void Hub::startDemo()
{
    if (isRemote() && m_admin) {
        // Someone else's server: open tabs, but write no sample data into it.
        m_tabs->openTab(u"alice"_s, 0);
        m_tabs->openTab(u"alice"_s, 0);
        m_tabs->openTab(u"bob"_s, 0);
        return;
    }
    if (!m_server)
        return;
    // Sample content so the tree has something besides presence; it is written as an import and shown as one.
    const QByteArray demo = R"({"rooms":{"general":{"title":"General","members":3},"random":{"title":"Random",
        "members":2}},"messages":{"general":{"m1":{"from":"alice","text":"hello"},"m2":{"from":"bob","text":"hi!"}}}})";
    QString error;
    Path path;
    (void)Path::parse(u"demo"_s, &path, &error);
    if (!m_server->importJson(m_config.ns, path, demo, &error))
        qWarning("demo data not loaded: %s", qPrintable(error));
    m_tabs->openTab(u"alice"_s, 0);
    m_tabs->openTab(u"alice"_s, 0);
    m_tabs->openTab(u"bob"_s, 0);
}

bool Hub::isRunning() const
{
    return (m_server && m_server->isListening()) || m_admin;
}

QString Hub::serverUrl() const
{
    if (m_admin)
        return m_config.connectUrl.toString();
    return m_server ? m_server->url() : QString();
}

QVariantList Hub::windowIds() const
{
    QVariantList ids;
    for (int id : m_windows)
        ids.append(id);
    return ids;
}

int Hub::port() const
{
    return m_server ? m_server->port() : 0;
}

bool Hub::restart(int port)
{
    if (isRemote())
        return false;
    if (port < 0 || port > 65535) {
        m_hostMessage = u"a port is a number from 0 to 65535"_s;
        Q_EMIT runningChanged();
        return false;
    }
    // Tabs go first: they are clients of the old server, which is dropped without firing anything (as at shutdown).
    while (m_tabs->rowCount() > 0)
        m_tabs->closeTab(m_tabs->at(0)->tabId());
    m_sessions->detachServer();
    DataTreeModel *oldTree = m_tree;
    m_tree = nullptr;
    Q_EMIT runningChanged(); // views drop the old tree before it goes
    delete oldTree;
    delete m_server;
    m_server = nullptr;
    m_hostMessage.clear();
    m_config.port = quint16(port);
    return start();
}

int Hub::newWindow()
{
    const int id = m_nextWindow++;
    m_windows.append(id);
    Q_EMIT windowIdsChanged();
    Q_EMIT windowOpened(id);
    return id;
}

void Hub::closeWindow(int windowId)
{
    if (windowId == 0 || !m_windows.contains(windowId))
        return;
    m_tabs->closeWindowTabs(windowId);
    m_windows.removeAll(windowId);
    Q_EMIT windowIdsChanged();
}

} // namespace lark::models
