// SPDX-License-Identifier: MIT
#include "hub.h"

#include "hostbackend.h"
#include "remotebackend.h"

#include "db/pushid.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QStandardPaths>
#include <QUrlQuery>

using namespace Qt::Literals::StringLiterals;

namespace lark::models
{

using lark::tabs::Tab;

Hub::Hub(const HubConfig &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_tabs(new lark::tabs::TabsModel(this))
    , m_sessions(new SessionsModel(this))
    , m_streams(new StreamsModel(this))
    , m_firedOps(new FiredOpsModel(this))
    , m_presence(new PresenceModel(defaultUsers(), this))
    , m_events(new EventLogModel(this))
    , m_eventFilter(new EventLogFilter(m_events, this))
    , m_rules(new RulesEditor(this))
{
    m_lastConnectUrl = m_config.connectUrl.isValid() ? m_config.connectUrl.toString() : m_config.lastConnectUrl;
    m_users = defaultUsers();
    // Users come and go with the presence data (any source) and with tabs opened as someone new.
    for (QAbstractItemModel *m :
        {static_cast<QAbstractItemModel *>(m_presence), static_cast<QAbstractItemModel *>(m_tabs)}) {
        connect(m, &QAbstractItemModel::rowsInserted, this, &Hub::refreshUsers);
        connect(m, &QAbstractItemModel::rowsRemoved, this, &Hub::refreshUsers);
        connect(m, &QAbstractItemModel::modelReset, this, &Hub::refreshUsers);
    }
    makeBackend();
}

QString Hub::pageUrl(const QString &uid) const
{
    const QUrl server(serverUrl());
    if (!isRunning() || server.port() <= 0)
        return {};
    QUrl page;
    page.setScheme(u"http"_s);
    page.setHost(server.host());
    page.setPort(server.port());
    page.setPath(u"/"_s);
    QUrlQuery query;
    query.addQueryItem(u"uid"_s, uid);
    query.addQueryItem(u"ns"_s, namespaceName());
    page.setQuery(query);
    return page.toString(QUrl::FullyEncoded);
}

Hub::~Hub()
{
    // Tabs first: they are clients of the server and must not outlive it half-way.
    delete m_tabs;
    m_tabs = nullptr;
    m_backend.reset();
}

void Hub::makeBackend()
{
    const DashboardBackend::Models models {m_tabs, m_sessions, m_firedOps, m_presence, m_events, m_streams};
    if (isRemote())
        m_backend = std::make_unique<RemoteBackend>(models, m_config.ns);
    else
        m_backend = std::make_unique<HostBackend>(models, m_config.ns);
    connect(m_backend.get(), &DashboardBackend::runningChanged, this, &Hub::runningChanged);
    connect(m_backend.get(), &DashboardBackend::runningChanged, this, &Hub::refreshRules);
    connect(m_backend.get(), &DashboardBackend::connectionCountChanged, this, &Hub::connectionCountChanged);
    connect(m_backend.get(), &DashboardBackend::namespacesChanged, this, &Hub::namespacesChanged);
}

void Hub::refreshRules()
{
    if (!isRunning()) {
        m_rules->setServer({}, {});
        return;
    }
    // The embedded server runs in emulator mode, where "owner" is the admin; a watched one takes the feed's token.
    m_rules->setServer(QUrl(serverUrl()), isRemote() ? m_config.adminToken : u"owner"_s);
    m_rules->load(namespaceName());
}

QStringList Hub::defaultUsers()
{
    return {u"alice"_s, u"bob"_s, u"carol"_s};
}

QString Hub::uidProblem(const QString &uid) const
{
    return Tab::uidProblem(uid);
}

void Hub::refreshUsers()
{
    QStringList seen;
    for (int r = 0; r < m_presence->rowCount(); ++r)
        seen.append(m_presence->index(r).data(PresenceModel::UidRole).toString());
    for (int r = 0; m_tabs && r < m_tabs->rowCount(); ++r)
        seen.append(m_tabs->at(r)->uid());
    const QStringList defaults = defaultUsers();
    seen.removeIf(
        [&defaults](const QString &uid) { return defaults.contains(uid) || !Tab::uidProblem(uid).isEmpty(); });
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
    return m_backend->start(m_config);
}

void Hub::startDemo()
{
    // The backend writes sample data where the server is ours; the tabs are the same in both modes.
    if (!m_backend->prepareDemo())
        return;
    m_rules->load(namespaceName()); // the demo may have brought rules of its own
    m_tabs->openTab(u"alice"_s, 0);
    m_tabs->openTab(u"alice"_s, 0);
    m_tabs->openTab(u"bob"_s, 0);
}

QVariantList Hub::windowIds() const
{
    QVariantList ids;
    for (int id : m_windows)
        ids.append(id);
    return ids;
}

bool Hub::restart(int port)
{
    if (isRemote())
        return false; // someone else's server is restarted where it runs
    if (isPersistent() && m_config.keepData)
        return restartKeepingSessions(port);
    return useHost(port);
}

bool Hub::acceptPort(int port)
{
    if (port >= 0 && port <= 65535)
        return true;
    m_backend->setMessage(u"a port is a number from 0 to 65535"_s);
    return false;
}

bool Hub::restartKeepingSessions(int port)
{
    if (!acceptPort(port))
        return false;
    m_events->append(u"server"_s, {}, u"restarting; sessions are kept in %1"_s.arg(m_config.dataFile));
    m_backend->stop(DashboardBackend::Stop::KeepSessions);
    m_config.port = quint16(port);
    return start();
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
    m_backend->stop(DashboardBackend::Stop::Drop);
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
    if (wasRemote) {
        makeBackend();
        Q_EMIT modeChanged();
    }
    return start();
}

bool Hub::useConnect(const QString &text, const QString &adminToken)
{
    const QUrl url(text.trimmed());
    if (!url.isValid() || url.host().isEmpty() || (url.scheme() != u"ws"_s && url.scheme() != u"http"_s)) {
        m_backend->setMessage(u"connect takes a URL such as ws://127.0.0.1:9000 (TLS is not supported)"_s);
        return false;
    }
    const bool wasRemote = isRemote();
    stop();
    m_config.connectUrl = url;
    m_config.adminToken = adminToken.isEmpty() ? u"owner"_s : adminToken;
    m_lastConnectUrl = url.toString();
    if (!wasRemote)
        makeBackend();
    Q_EMIT modeChanged();
    return start();
}

void Hub::refreshNamespaces()
{
    m_backend->refreshNamespaces();
}

bool Hub::setTreeNamespace(const QString &ns)
{
    return m_backend->setTreeNamespace(ns);
}

QString Hub::setTimers(int pingIntervalMs, int deadAfterMs, int graceMs)
{
    const QString problem = m_backend->setTimers(pingIntervalMs, deadAfterMs, graceMs);
    if (!problem.isEmpty())
        return problem;
    // Kept for the next start and for the settings.
    m_config.pingIntervalMs = pingIntervalMs;
    m_config.deadAfterMs = deadAfterMs;
    m_config.graceMs = graceMs;
    Q_EMIT timersChanged();
    return {};
}

QString Hub::newPushId() const
{
    return lark::generatePushId(QDateTime::currentMSecsSinceEpoch());
}

QString Hub::importJson(const QString &text, const QString &json)
{
    // Both kinds of server have a tree exactly while they can take an import.
    if (!m_backend->tree())
        return u"import needs a running server"_s;
    Path path;
    QString error;
    if (!Path::parse(text.isEmpty() ? u"/"_s : text, &path, &error))
        return error;
    return m_backend->importJson(path, json.toUtf8());
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
    const lark::Database *db = m_backend->data();
    if (!db)
        return {};
    Path path;
    QString error;
    if (!Path::parse(text.isEmpty() ? u"/"_s : text, &path, &error))
        return {};
    const Node *node = db->root().at(path);
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

QString Hub::defaultExportFile(const QString &path) const
{
    QString folder = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    if (folder.isEmpty() || !QFileInfo(folder).isDir())
        folder = QStandardPaths::writableLocation(QStandardPaths::HomeLocation);
    QString name = u"lark-"_s + treeNamespace();
    for (const QString &key : path.split(u'/', Qt::SkipEmptyParts))
        name += u'-' + key;
    return folder + u'/' + name + u".json"_s;
}

QString Hub::exportFile(const QString &path, const QUrl &file) const
{
    if (!m_backend->data())
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
    return m_backend->clearData();
}

void Hub::setEventFilter(const QString &text)
{
    m_eventFilter->setFilterText(text);
}

void Hub::setSettingsNotes(const QStringList &saved, const QStringList &oneOff)
{
    m_savedSettings = saved;
    m_oneOffOptions = oneOff;
    Q_EMIT settingsNotesChanged();
}

void Hub::keepOneOffOptions()
{
    m_oneOffKept = true;
    m_oneOffOptions.clear();
    Q_EMIT settingsNotesChanged();
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
