// SPDX-License-Identifier: MIT
#include "hub.h"

#include "client/adminfeed.h"
#include "client/database.h"
#include "client/pushid.h"
#include "server/server.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostInfo>
#include <QJsonDocument>
#include <QSaveFile>
#include <QUrlQuery>

#include <utility>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

namespace
{
// The writes that turn `have` into `want`, at paths that do not overlap, so a copy changes only where the source
// did: equal subtrees (by their SDK hash) are skipped, and objects are compared key by key.
void diffInto(const Node *have, const Node *want, const Path &at, std::vector<Write> &out)
{
    const bool haveNull = !have || have->isNull();
    const bool wantNull = !want || want->isNull();
    if (haveNull && wantNull)
        return;
    if (!haveNull && !wantNull && have->hash() == want->hash())
        return;
    if (!haveNull && !wantNull && have->isObject() && want->isObject() && have->priority() == want->priority()) {
        for (const auto &[key, child] : have->children()) {
            if (!want->child(key))
                out.push_back({at.child(key), Node()});
        }
        for (const auto &[key, child] : want->children())
            diffInto(have->child(key), child.get(), at.child(key), out);
        return;
    }
    out.push_back({at, wantNull ? Node() : want->clone()});
}
} // namespace

Hub::Hub(const HubConfig &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_tabs(new lark::tabs::TabsModel(this))
    , m_sessions(new SessionsModel(this))
    , m_firedOps(new FiredOpsModel(this))
    , m_presence(new PresenceModel(defaultUsers(), this))
    , m_events(new EventLogModel(this))
    , m_eventFilter(new EventLogFilter(m_events, this))
{
    m_lastConnectUrl = m_config.connectUrl.isValid() ? m_config.connectUrl.toString() : m_config.lastConnectUrl;
    m_hostNs = m_config.ns;
    m_users = defaultUsers();
    // Users come and go with the presence data (any source) and with tabs opened as someone new.
    for (QAbstractItemModel *m :
        {static_cast<QAbstractItemModel *>(m_presence), static_cast<QAbstractItemModel *>(m_tabs)}) {
        connect(m, &QAbstractItemModel::rowsInserted, this, &Hub::refreshUsers);
        connect(m, &QAbstractItemModel::rowsRemoved, this, &Hub::refreshUsers);
        connect(m, &QAbstractItemModel::modelReset, this, &Hub::refreshUsers);
    }
    connect(m_sessions, &SessionsModel::countChanged, this, [this] {
        // Clients create namespaces on first use: a new session is when the picker may have a new entry.
        if (m_server && m_server->databases().size() != m_namespaces.size())
            refreshNamespaces();
    });
}

Hub::~Hub()
{
    // Tabs first: they are clients of the server and must not outlive it half-way.
    delete m_tabs;
    m_tabs = nullptr;
    delete m_feed;
    delete m_admin;
    delete m_tree;
    delete m_mirror;
    delete m_server;
}

QStringList Hub::defaultUsers()
{
    return {u"alice"_s, u"bob"_s, u"carol"_s};
}

QString Hub::uidProblem(const QString &uid) const
{
    return lark::tabs::Tab::uidProblem(uid);
}

void Hub::refreshUsers()
{
    QStringList seen;
    for (int r = 0; r < m_presence->rowCount(); ++r)
        seen.append(m_presence->index(r).data(PresenceModel::UidRole).toString());
    for (int r = 0; m_tabs && r < m_tabs->rowCount(); ++r)
        seen.append(m_tabs->at(r)->uid());
    const QStringList defaults = defaultUsers();
    seen.removeIf([&defaults](const QString &uid) {
        return defaults.contains(uid) || !lark::tabs::Tab::uidProblem(uid).isEmpty();
    });
    seen.sort();
    seen.removeDuplicates();
    const QStringList users = defaults + seen;
    if (users != m_users) {
        m_users = users;
        Q_EMIT usersChanged();
    }
}

bool Hub::start()
{
    if (m_server || m_admin)
        return true;
    if (isRemote())
        return startRemote();
    m_config.ns = m_hostNs;
    lark::ServerConfig sc;
    sc.host = QHostAddress::LocalHost;
    sc.port = m_config.port;
    sc.defaultNamespace = m_config.ns;
    sc.pingIntervalMs = m_config.pingIntervalMs;
    sc.deadAfterMs = m_config.deadAfterMs;
    sc.graceMs = m_config.graceMs;
    if (m_config.keepData && !m_config.dataFile.isEmpty()) {
        QDir().mkpath(QFileInfo(m_config.dataFile).absolutePath());
        sc.dataFile = m_config.dataFile;
    }
    auto *server = new lark::Server(sc, this);
    QString error;
    QString storeProblem;
    if (!server->openStore(&error)) {
        // A locked or foreign file must not leave the dashboard without a server: run in memory and say why.
        storeProblem = u"data is not kept: %1"_s.arg(error);
        delete server;
        sc.dataFile.clear();
        server = new lark::Server(sc, this);
    }
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
    if (!storeProblem.isEmpty())
        m_hostMessage = m_hostMessage.isEmpty() ? storeProblem : m_hostMessage + u"; "_s + storeProblem;
    m_server = server;
    lark::tabs::Tab::Options options;
    options.minReconnectDelayMs = m_config.reconnectDelayMs;
    options.ns = m_config.ns;
    m_tabs->setTarget(QHostAddress::LocalHost, server->port(), options);
    m_sessions->attachServer(server);
    m_firedOps->attachServer(server);
    m_events->attachServer(server);
    connect(server, &lark::Server::connectionCountChanged, this, &Hub::connectionCountChanged);
    connect(server, &lark::Server::storeFailed, this, [this](const QString &reason) {
        // Writes are refused from now on: the header says so until the next (re)start clears it.
        m_hostMessage = u"the data file failed (%1): writes are refused until the server restarts"_s.arg(reason);
        m_events->append(u"server"_s, {}, m_hostMessage);
        Q_EMIT runningChanged();
    });
    m_events->append(u"server"_s, {}, u"embedded server listening on %1"_s.arg(server->url()));
    if (isPersistent()) {
        const qsizetype restored = server->sessions().size();
        m_events->append(u"server"_s, {},
            u"data kept in %1; %2 stored session%3 back suspended"_s.arg(sc.dataFile)
                .arg(restored)
                .arg(restored == 1 ? QString() : u"s"_s));
    }
    lark::Database *db = server->database(m_config.ns);
    m_presence->attachDatabase(db);
    m_treeNs = m_config.ns;
    m_tree = new DataTreeModel(db, this);
    refreshNamespaces();
    Q_EMIT runningChanged();
    Q_EMIT connectionCountChanged();
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
    m_config.ns = ns.isEmpty() ? m_hostNs : ns;
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
    m_remoteBase = base;

    // The admin feed needs the admin credential ("owner", what the Admin SDK sends to an emulator).
    lark::client::DatabaseOptions admin;
    admin.authToken = m_config.adminToken;
    m_admin = new lark::client::Database(base, m_config.ns, admin, this);
    m_feed = new lark::client::AdminFeed(m_admin, this);
    connect(m_admin, &lark::client::Database::authFailed, this, [this](const lark::client::Error &e) {
        // The feed's own refusal follows; this one says why (a wrong token, or a server that cannot store it).
        m_hostMessage = u"the server refused the admin sign-in: %1"_s.arg(e.toString());
        m_adminRefused = true;
        m_events->append(u"server"_s, {}, m_hostMessage);
        Q_EMIT runningChanged();
    });
    connect(m_feed, &lark::client::AdminFeed::error, this, [this](const lark::client::Error &e) {
        if (m_adminRefused)
            return;
        m_hostMessage = u"admin feed refused: %1"_s.arg(e.toString());
        Q_EMIT runningChanged();
    });
    connect(m_admin, &lark::client::Database::connectedChanged, this, [this](bool connected) {
        m_hostMessage = connected ? QString() : u"not connected to %1; retrying"_s.arg(serverUrl());
        m_adminRefused = false;
        Q_EMIT runningChanged();
    });
    connect(m_feed, &lark::client::AdminFeed::storeChanged, this, [this] {
        // As in host mode: a server that refuses writes says so in the header, not only in its own log.
        const QString &failure = m_feed->storeFailure();
        if (failure.isEmpty()) {
            m_events->append(u"server"_s, {}, u"the server's data file works again"_s);
            return; // the reconnect that brought the fresh snapshot has cleared the header already
        }
        m_hostMessage = u"the server's data file failed (%1): it refuses writes until it restarts"_s.arg(failure);
        m_events->append(u"server"_s, {}, m_hostMessage);
        Q_EMIT runningChanged();
    });
    m_sessions->attachFeed(m_feed);
    m_events->forgetSessions();
    m_events->append(u"server"_s, {}, u"watching %1 through its admin feed"_s.arg(base.toString()));
    connect(m_feed, &lark::client::AdminFeed::sessionUpdated, m_events, &EventLogModel::sessionChanged);
    connect(m_feed, &lark::client::AdminFeed::sessionEnded, m_events, &EventLogModel::sessionRemoved);
    m_firedOps->attachFeed(m_feed);
    connect(m_feed, &lark::client::AdminFeed::opsFired, m_events,
        [this](const QJsonObject &session, const QJsonArray &ops) { m_events->opsFired(session, ops); });
    // The data tree shows a local copy of the namespace, kept in step by a root listen of the admin client; the
    // copy only learns what changed, not who changed it.
    m_mirror = new lark::Database(m_config.ns, this);
    m_treeNs = m_config.ns;
    m_adminListens.push_back(m_admin->ref().on(
        lark::client::Event::Value, this, [this](const lark::client::DataSnapshot &s, const QString &) {
            std::vector<Write> writes;
            diffInto(&m_mirror->root(), s.node(), Path(), writes);
            if (!writes.empty())
                m_mirror->write(Path(), std::move(writes), {WriteOrigin::Kind::Client, QString()});
            if (!m_tree) {
                // Made once the first snapshot is in, as host mode's tree is made on data that is already there:
                // rows flash for what changes from now on, not for being loaded.
                m_tree = new DataTreeModel(m_mirror, this);
                // Edits go to the server as the admin client's writes; the copy changes with the listen, as for
                // anyone's write, and the server's verdict comes back to the tree (while there is one).
                m_tree->setMirror([admin = QPointer<lark::client::Database>(m_admin), tree = m_tree](
                                      const Path &path, const QJsonValue &value, DataTreeModel::EditDone done) {
                    if (!admin)
                        return done(u"not connected"_s);
                    admin->ref(path.toString())
                        .set(value, tree, [done = std::move(done)](const lark::client::Error &e) {
                            done(e.isOk() ? QString() : e.toString());
                        });
                });
                Q_EMIT runningChanged();
            }
        }));
    m_adminListens.push_back(
        m_admin->ref(u"presence"_s)
            .on(lark::client::Event::Value, this, [this](const lark::client::DataSnapshot &s, const QString &) {
                m_presenceJson = s.value().toObject();
                m_presence->setValues(m_presenceJson, m_statusJson);
            }));
    m_adminListens.push_back(
        m_admin->ref(u"status"_s)
            .on(lark::client::Event::Value, this, [this](const lark::client::DataSnapshot &s, const QString &) {
                m_statusJson = s.value().toObject();
                m_presence->setValues(m_presenceJson, m_statusJson);
            }));
    lark::tabs::Tab::Options options;
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
        return m_remoteBase.toString();
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
    if (isPersistent() && m_config.keepData)
        return restartKeepingSessions(port);
    return useHost(port);
}

bool Hub::acceptPort(int port)
{
    if (port >= 0 && port <= 65535)
        return true;
    m_hostMessage = u"a port is a number from 0 to 65535"_s;
    Q_EMIT runningChanged();
    return false;
}

void Hub::dropTree()
{
    DataTreeModel *oldTree = std::exchange(m_tree, nullptr);
    Q_EMIT runningChanged(); // views drop the old tree before it goes
    delete oldTree;
}

bool Hub::restartKeepingSessions(int port)
{
    if (!acceptPort(port))
        return false;
    // To the tabs this is their server going away and coming back, as after a crash: they are not closed (which
    // would fire their ops) but reconnect by themselves, with their session ids.
    m_events->append(u"server"_s, {}, u"restarting; sessions are kept in %1"_s.arg(m_config.dataFile));
    m_sessions->detachServer();
    dropTree();
    m_server->shutdown();
    delete m_server;
    m_server = nullptr;
    m_hostMessage.clear();
    m_treeNs.clear();
    m_config.port = quint16(port);
    return start();
}

bool Hub::isPersistent() const
{
    return m_server && m_server->store();
}

void Hub::setKeepData(bool keep)
{
    if (keep == m_config.keepData)
        return;
    m_config.keepData = keep;
    Q_EMIT persistenceChanged();
}

void Hub::stop()
{
    // Tabs go first: they are clients of the old server, which is dropped without firing anything (as at shutdown).
    while (m_tabs->rowCount() > 0)
        m_tabs->closeTab(m_tabs->at(0)->tabId());
    m_sessions->detachServer();
    dropTree();
    delete m_mirror;
    m_mirror = nullptr;
    delete m_feed;
    m_feed = nullptr;
    delete m_admin;
    m_admin = nullptr;
    m_presenceJson = {};
    m_statusJson = {};
    delete m_server;
    m_server = nullptr;
    m_presence->setValues({}, {});
    m_hostMessage.clear();
    m_treeNs.clear();
    if (!m_namespaces.isEmpty()) {
        m_namespaces.clear();
        Q_EMIT namespacesChanged();
    }
    Q_EMIT connectionCountChanged();
}

bool Hub::useHost(int port)
{
    if (!acceptPort(port))
        return false;
    const bool wasRemote = isRemote();
    stop();
    m_config.port = quint16(port);
    m_config.connectUrl = QUrl();
    if (wasRemote)
        Q_EMIT modeChanged();
    return start();
}

bool Hub::useConnect(const QString &text, const QString &adminToken)
{
    const QUrl url(text.trimmed());
    if (!url.isValid() || url.host().isEmpty() || (url.scheme() != u"ws"_s && url.scheme() != u"http"_s)) {
        m_hostMessage = u"connect takes a URL such as ws://127.0.0.1:9000 (TLS is not supported)"_s;
        Q_EMIT runningChanged();
        return false;
    }
    stop();
    m_config.connectUrl = url;
    m_config.adminToken = adminToken.isEmpty() ? u"owner"_s : adminToken;
    m_lastConnectUrl = url.toString();
    Q_EMIT modeChanged();
    return start();
}

int Hub::connectionCount() const
{
    return m_server ? m_server->connectionCount() : 0;
}

QStringList Hub::namespaces() const
{
    return m_namespaces;
}

void Hub::refreshNamespaces()
{
    QStringList names;
    if (m_server) {
        const QList<lark::Database *> dbs = m_server->databases();
        for (const lark::Database *db : dbs)
            names.append(db->name());
    }
    names.removeAll(QString());
    names.sort();
    if (names != m_namespaces) {
        m_namespaces = names;
        Q_EMIT namespacesChanged();
    }
}

bool Hub::setTreeNamespace(const QString &ns)
{
    if (!m_server || ns.isEmpty())
        return false;
    if (ns == m_treeNs)
        return true;
    dropTree();
    m_treeNs = ns;
    m_tree = new DataTreeModel(m_server->database(ns), this);
    refreshNamespaces();
    Q_EMIT runningChanged();
    return true;
}

QString Hub::setTimers(int pingIntervalMs, int deadAfterMs, int graceMs)
{
    if (!m_server)
        return u"the timers of a remote server are set where it runs (lark-server options)"_s;
    if (pingIntervalMs < 10 || deadAfterMs < 10 || graceMs < 0)
        return u"ping and dead-after take at least 10 ms, grace at least 0"_s;
    if (deadAfterMs <= pingIntervalMs)
        return u"dead-after must be longer than the ping interval, or live clients look dead"_s;
    m_server->setTimers(pingIntervalMs, deadAfterMs, graceMs);
    m_config.pingIntervalMs = pingIntervalMs;
    m_config.deadAfterMs = deadAfterMs;
    m_config.graceMs = graceMs;
    m_sessions->setPingInterval(pingIntervalMs);
    m_events->append(u"server"_s, {},
        u"timers changed: ping %1 ms, dead after %2 ms, grace %3 ms"_s.arg(pingIntervalMs)
            .arg(deadAfterMs)
            .arg(graceMs));
    Q_EMIT timersChanged();
    return {};
}

QString Hub::newPushId() const
{
    return lark::client::generatePushId(QDateTime::currentMSecsSinceEpoch());
}

QString Hub::importJson(const QString &text, const QString &json)
{
    if (!m_server && !m_tree)
        return u"import needs a running server"_s;
    Path path;
    QString error;
    if (!Path::parse(text.isEmpty() ? u"/"_s : text, &path, &error))
        return error;
    if (!m_server) {
        // Connect mode: the same checks as Server::importJson, then one write sent through the tree's sink.
        Node node;
        if (!Node::fromJsonText(json.toUtf8(), path, &node, &error))
            return error;
        return m_tree->write(path, std::move(node), WriteOrigin::Kind::Import);
    }
    if (!m_server->importJson(m_treeNs, path, json.toUtf8(), &error))
        return error.isEmpty() ? u"not imported"_s : error;
    return {};
}

QString Hub::importFile(const QString &path, const QUrl &file)
{
    QFile f(file.isLocalFile() ? file.toLocalFile() : file.toString());
    if (!f.open(QIODevice::ReadOnly))
        return u"cannot read %1: %2"_s.arg(f.fileName(), f.errorString());
    return importJson(path, QString::fromUtf8(f.readAll()));
}

QString Hub::exportJson(const QString &text) const
{
    if (!m_server && !m_mirror)
        return {};
    Path path;
    QString error;
    if (!Path::parse(text.isEmpty() ? u"/"_s : text, &path, &error))
        return {};
    const lark::Database *db = m_server ? m_server->database(m_treeNs) : m_mirror;
    const Node *node = db ? db->root().at(path) : nullptr;
    if (!node)
        return u"null"_s;
    const QJsonValue value = node->toJson();
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Indented));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Indented));
    // A leaf: wrap it so QJsonDocument writes it, then unwrap.
    const QByteArray wrapped = QJsonDocument(QJsonArray {value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(wrapped.mid(1, wrapped.size() - 2)) + u'\n';
}

QString Hub::exportFile(const QString &path, const QUrl &file) const
{
    if (!m_server && !m_mirror)
        return u"export needs a running server"_s;
    QSaveFile f(file.isLocalFile() ? file.toLocalFile() : file.toString());
    if (!f.open(QIODevice::WriteOnly))
        return u"cannot write %1: %2"_s.arg(f.fileName(), f.errorString());
    f.write(exportJson(path).toUtf8());
    if (!f.commit())
        return u"cannot write %1: %2"_s.arg(f.fileName(), f.errorString());
    return {};
}

QString Hub::clearData()
{
    if (!m_server) {
        if (!m_tree)
            return u"clearing data needs a running server"_s;
        return m_tree->write(Path(), Node(), WriteOrigin::Kind::Admin); // one write of null at the root
    }
    // One atomic admin write of null at the root: listeners see everything go at once, the tree says "admin edit".
    std::vector<Write> writes;
    writes.push_back({Path(), Node()});
    m_server->database(m_treeNs)->write(Path(), std::move(writes), {WriteOrigin::Kind::Admin, QString()});
    return {};
}

void Hub::setEventFilter(const QString &text)
{
    m_eventFilter->setFilterText(text);
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
