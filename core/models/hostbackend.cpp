// SPDX-License-Identifier: MIT
#include "hostbackend.h"

#include "datatreemodel.h"
#include "eventlogmodel.h"
#include "firedopsmodel.h"
#include "presencemodel.h"
#include "sessionsmodel.h"
#include "streamsmodel.h"

#include "server/server.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <utility>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

HostBackend::HostBackend(const Models &models, const QString &ns, QObject *parent)
    : DashboardBackend(models, ns, parent)
{
    connect(m_models.sessions, &SessionsModel::countChanged, this, [this] {
        // Clients create namespaces on first use: a new session is when the picker may have a new entry.
        if (m_server && m_server->namespaces().size() != m_namespaces.size())
            refreshNamespaces();
    });
}

HostBackend::~HostBackend()
{
    delete std::exchange(m_tree, nullptr);
    delete m_server;
}

QString HostBackend::mode() const
{
    return u"host"_s;
}

bool HostBackend::start(const HubConfig &config)
{
    if (m_server)
        return true;
    m_ns = config.ns;
    lark::ServerConfig sc;
    sc.host = QHostAddress::LocalHost;
    sc.port = config.port;
    sc.defaultNamespace = m_ns;
    sc.pingIntervalMs = config.pingIntervalMs;
    sc.deadAfterMs = config.deadAfterMs;
    sc.graceMs = config.graceMs;
    // After a restart the handles go on from the last one shown: S1 never names two sessions in the history (B8).
    sc.firstSessionNumber = m_models.sessions->highestNumberSeen() + 1;
    if (config.keepData && !config.dataFile.isEmpty()) {
        QDir().mkpath(QFileInfo(config.dataFile).absolutePath());
        sc.dataFile = config.dataFile;
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
        if (config.port == 0) {
            m_message = u"cannot start the server: %1"_s.arg(error);
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
            m_message = u"cannot start the server: %1"_s.arg(error2);
            delete server;
            Q_EMIT runningChanged();
            return false;
        }
        m_message = u"port %1 is busy (%2); using %3 instead"_s.arg(config.port).arg(error).arg(server->port());
    }
    if (!storeProblem.isEmpty())
        m_message = m_message.isEmpty() ? storeProblem : m_message + u"; "_s + storeProblem;
    m_server = server;
    aimTabs(QHostAddress::LocalHost, server->port(), config);
    m_models.sessions->attachServer(server);
    m_models.streams->attachServer(server);
    m_models.firedOps->attachServer(server);
    m_models.events->attachServer(server);
    connect(server, &lark::Server::connectionCountChanged, this, &DashboardBackend::connectionCountChanged);
    connect(server, &lark::Server::storeFailed, this, [this](const QString &reason) {
        // Writes are refused from now on: the header says so until the next (re)start clears it.
        m_message = u"the data file failed (%1): writes are refused until the server restarts"_s.arg(reason);
        m_models.events->append(u"server"_s, {}, m_message);
        Q_EMIT runningChanged();
    });
    m_models.events->append(u"server"_s, {}, u"embedded server listening on %1"_s.arg(server->url()));
    if (isPersistent()) {
        const qsizetype restored = server->sessions().size();
        m_models.events->append(u"server"_s, {},
            u"data kept in %1; %2 stored session%3 back suspended"_s.arg(sc.dataFile)
                .arg(restored)
                .arg(restored == 1 ? QString() : u"s"_s));
    }
    lark::Database *db = server->database(m_ns);
    m_models.presence->attachDatabase(db);
    m_treeNs = m_ns;
    m_tree = new DataTreeModel(db, this);
    refreshNamespaces();
    Q_EMIT runningChanged();
    Q_EMIT connectionCountChanged();
    return true;
}

void HostBackend::stop(Stop how)
{
    m_models.sessions->detachServer();
    m_models.streams->detachServer();
    dropTree();
    if (how == Stop::KeepSessions) {
        // To the tabs this is their server going away and coming back, as after a crash: they are not closed
        // (which would fire their ops) but reconnect by themselves, with their session ids.
        if (m_server)
            m_server->shutdown();
    }
    delete m_server;
    m_server = nullptr;
    if (how == Stop::Drop)
        m_models.presence->setValues({}, {});
    m_message.clear();
    m_treeNs.clear();
    if (how == Stop::Drop && !m_namespaces.isEmpty()) {
        m_namespaces.clear();
        Q_EMIT namespacesChanged();
    }
}

bool HostBackend::isRunning() const
{
    return m_server && m_server->isListening();
}

QString HostBackend::serverUrl() const
{
    return m_server ? m_server->url() : QString();
}

int HostBackend::port() const
{
    return m_server ? m_server->port() : 0;
}

int HostBackend::connectionCount() const
{
    return m_server ? m_server->connectionCount() : 0;
}

bool HostBackend::isPersistent() const
{
    return m_server && m_server->backend().isPersistent();
}

void HostBackend::refreshNamespaces()
{
    QStringList names = m_server ? m_server->namespaces().names() : QStringList();
    names.removeAll(QString());
    if (names != m_namespaces) {
        m_namespaces = names;
        Q_EMIT namespacesChanged();
    }
}

bool HostBackend::setTreeNamespace(const QString &ns)
{
    if (!m_server || ns.isEmpty())
        return false;
    if (ns == m_treeNs)
        return true;
    dropTree();
    m_treeNs = ns;
    m_tree = new DataTreeModel(m_server->database(ns), this);
    // Presence is read where the tree looks: an app on another namespace shows its own users.
    m_models.presence->attachDatabase(m_server->database(ns));
    refreshNamespaces();
    Q_EMIT runningChanged();
    return true;
}

QString HostBackend::setTimers(int pingIntervalMs, int deadAfterMs, int graceMs)
{
    if (!m_server)
        return u"the timers of a remote server are set where it runs (lark-server options)"_s;
    if (pingIntervalMs < 10 || deadAfterMs < 10 || graceMs < 0)
        return u"ping and dead-after take at least 10 ms, grace at least 0"_s;
    if (deadAfterMs <= pingIntervalMs)
        return u"dead-after must be longer than the ping interval, or live clients look dead"_s;
    m_server->setTimers(pingIntervalMs, deadAfterMs, graceMs);
    m_models.sessions->setPingInterval(pingIntervalMs);
    m_models.events->append(u"server"_s, {},
        u"timers changed: ping %1 ms, dead after %2 ms, grace %3 ms"_s.arg(pingIntervalMs)
            .arg(deadAfterMs)
            .arg(graceMs));
    return {};
}

QString HostBackend::importJson(const lark::Path &path, const QByteArray &json)
{
    if (!m_server)
        return u"import needs a running server"_s;
    QString error;
    if (!m_server->importJson(m_treeNs, path, json, &error))
        return error.isEmpty() ? u"not imported"_s : error;
    return {};
}

QString HostBackend::clearData()
{
    if (!m_server)
        return u"clearing data needs a running server"_s;
    // One atomic admin write of null at the root: listeners see everything go at once, the tree says "admin edit".
    std::vector<Write> writes;
    writes.push_back({Path(), Node()});
    m_server->database(m_treeNs)->write(Path(), std::move(writes), {WriteOrigin::Kind::Admin, QString()});
    return {};
}

const lark::Database *HostBackend::data() const
{
    return m_server ? m_server->database(m_treeNs) : nullptr;
}

bool HostBackend::prepareDemo()
{
    if (!m_server)
        return false;
    // Sample content so the tree has something besides presence; it is written as an import and shown as one.
    const QByteArray demo = R"({"rooms":{"general":{"title":"General","members":3},"random":{"title":"Random",
        "members":2}},"messages":{"general":{"m1":{"from":"alice","text":"hello"},"m2":{"from":"bob","text":"hi!"}}}})";
    QString error;
    Path path;
    (void)Path::parse(u"demo"_s, &path, &error);
    if (!m_server->importJson(m_ns, path, demo, &error))
        qWarning("demo data not loaded: %s", qPrintable(error));
    // The demo shows presence as it should run: each user writes only their own entries (the Rules tab shows them).
    QFile rules(u":/lark/rules/presence.rules.json"_s);
    const SecurityRules::Result loaded = rules.open(QIODevice::ReadOnly)
        ? m_server->rules().set(m_ns, rules.readAll())
        : SecurityRules::Result {false, rules.errorString()};
    if (loaded.ok)
        m_models.events->append(u"server"_s, {},
            u"demo presence rules loaded into %1: each user writes only their own entries"_s.arg(m_ns));
    else
        qWarning("demo rules not loaded: %s", qPrintable(loaded.error));
    return true;
}

} // namespace lark::models
