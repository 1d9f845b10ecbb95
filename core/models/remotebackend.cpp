// SPDX-License-Identifier: MIT
#include "remotebackend.h"

#include "datatreemodel.h"
#include "eventlogmodel.h"
#include "firedopsmodel.h"
#include "presencemodel.h"
#include "sessionsmodel.h"
#include "streamsmodel.h"

#include "client/adminfeed.h"
#include "client/database.h"

#include <QHostInfo>
#include <QPointer>
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

RemoteBackend::RemoteBackend(const Models &models, const QString &ns, QObject *parent)
    : DashboardBackend(models, ns, parent)
{
}

RemoteBackend::~RemoteBackend()
{
    delete m_feed;
    delete m_admin;
    delete std::exchange(m_tree, nullptr);
    delete m_mirror;
}

QString RemoteBackend::mode() const
{
    return u"connect"_s;
}

bool RemoteBackend::start(const HubConfig &config)
{
    if (m_admin)
        return true;
    const QUrl &url = config.connectUrl;
    const auto fail = [this](const QString &why) {
        m_message = why;
        Q_EMIT runningChanged();
        return false;
    };
    if (url.scheme() != u"ws"_s && url.scheme() != u"http"_s)
        return fail(u"--connect takes ws://host:port (TLS is not supported for simulated tabs)"_s);
    const QString ns = QUrlQuery(url).queryItemValue(u"ns"_s);
    m_ns = ns.isEmpty() ? config.ns : ns;
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
    admin.authToken = config.adminToken;
    m_admin = new lark::client::Database(base, m_ns, admin, this);
    m_feed = new lark::client::AdminFeed(m_admin, this);
    EventLogModel *events = m_models.events;
    connect(m_admin, &lark::client::Database::authFailed, this, [this](const lark::client::Error &e) {
        // The feed's own refusal follows; this one says why (a wrong token, or a server that cannot store it).
        m_message = u"the server refused the admin sign-in: %1"_s.arg(e.toString());
        m_adminRefused = true;
        m_models.events->append(u"server"_s, {}, m_message);
        Q_EMIT runningChanged();
    });
    connect(m_feed, &lark::client::AdminFeed::error, this, [this](const lark::client::Error &e) {
        if (m_adminRefused)
            return;
        m_message = u"admin feed refused: %1"_s.arg(e.toString());
        Q_EMIT runningChanged();
    });
    connect(m_admin, &lark::client::Database::connectedChanged, this, [this](bool connected) {
        m_message = connected ? QString() : u"not connected to %1; retrying"_s.arg(serverUrl());
        m_adminRefused = false;
        Q_EMIT runningChanged();
    });
    // Each failed attempt says why, so an unreachable server is not "connecting" for ever.
    connect(m_admin, &lark::client::Database::stateChanged, this, [this] {
        if (m_admin->state() != lark::client::Database::ConnectionState::WaitingToReconnect || m_adminRefused)
            return;
        const QString why = m_admin->lastConnectionError();
        m_message = u"cannot reach %1: %2; retrying (attempt %3)"_s.arg(
            serverUrl(), why.isEmpty() ? u"no answer"_s : why, QString::number(m_admin->reconnectAttempt()));
        Q_EMIT runningChanged();
    });
    connect(m_feed, &lark::client::AdminFeed::storeChanged, this, [this] {
        if (m_feed->nodes() != m_nodes || m_feed->clusterSessions() != m_clusterSessions) {
            m_nodes = m_feed->nodes();
            m_clusterSessions = m_feed->clusterSessions();
            Q_EMIT runningChanged(); // Hub.clusterNodes, Hub.clusterSessions
        }
        // As in host mode: a server that refuses writes says so in the header, not only in its own log.
        const QString &failure = m_feed->storeFailure();
        if (failure == m_lastFailure)
            return;
        m_lastFailure = failure;
        if (failure.isEmpty()) {
            m_models.events->append(u"server"_s, {}, u"the server's data file works again"_s);
            return; // the reconnect that brought the fresh snapshot has cleared the header already
        }
        m_message = u"the server's data file failed (%1): it refuses writes until it restarts"_s.arg(failure);
        m_models.events->append(u"server"_s, {}, m_message);
        Q_EMIT runningChanged();
    });
    m_models.sessions->attachFeed(m_feed);
    m_models.streams->attachFeed(m_feed);
    connect(m_feed, &lark::client::AdminFeed::streamOpened, events, &EventLogModel::streamOpened);
    connect(m_feed, &lark::client::AdminFeed::streamEnded, events, &EventLogModel::streamEnded);
    events->forgetSessions();
    events->append(u"server"_s, {}, u"watching %1 through its admin feed"_s.arg(base.toString()));
    connect(m_feed, &lark::client::AdminFeed::sessionUpdated, events, &EventLogModel::sessionChanged);
    connect(m_feed, &lark::client::AdminFeed::sessionEnded, events, &EventLogModel::sessionRemoved);
    m_models.firedOps->attachFeed(m_feed);
    connect(m_feed, &lark::client::AdminFeed::requestDenied, events, &EventLogModel::requestDenied);
    connect(m_feed, &lark::client::AdminFeed::opDropped, events, &EventLogModel::opDropped);
    connect(m_feed, &lark::client::AdminFeed::opsFired, events,
        [events](const QJsonObject &session, const QJsonArray &ops) { events->opsFired(session, ops); });
    // The data tree shows a local copy of the namespace, kept in step by a root listen of the admin client; the
    // copy only learns what changed, not who changed it.
    m_mirror = new lark::Database(m_ns, this);
    m_treeNs = m_ns;
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
                m_models.presence->setValues(m_presenceJson, m_statusJson);
            }));
    m_adminListens.push_back(
        m_admin->ref(u"status"_s)
            .on(lark::client::Event::Value, this, [this](const lark::client::DataSnapshot &s, const QString &) {
                m_statusJson = s.value().toObject();
                m_models.presence->setValues(m_presenceJson, m_statusJson);
            }));
    aimTabs(host, port, config);
    m_message = u"connecting to %1"_s.arg(serverUrl());
    Q_EMIT runningChanged();
    return true;
}

void RemoteBackend::stop(Stop)
{
    m_models.sessions->detachServer();
    m_models.streams->detachServer();
    dropTree();
    delete m_mirror;
    m_mirror = nullptr;
    delete m_feed;
    m_feed = nullptr;
    delete m_admin;
    m_admin = nullptr;
    m_adminListens.clear(); // their database is gone: they do nothing any more
    m_presenceJson = {};
    m_statusJson = {};
    m_models.presence->setValues({}, {});
    m_message.clear();
    m_treeNs.clear();
}

bool RemoteBackend::isRunning() const
{
    return m_admin;
}

QString RemoteBackend::serverUrl() const
{
    return m_admin ? m_remoteBase.toString() : QString();
}

bool RemoteBackend::setTreeNamespace(const QString &)
{
    return false;
}

QString RemoteBackend::setTimers(int, int, int)
{
    return u"the timers of a remote server are set where it runs (lark-server options)"_s;
}

QString RemoteBackend::importJson(const lark::Path &path, const QByteArray &json)
{
    if (!m_tree)
        return u"import needs a running server"_s;
    Node node;
    QString error;
    if (!Node::fromJsonText(json, path, &node, &error))
        return error;
    return m_tree->write(path, std::move(node), WriteOrigin::Kind::Import);
}

QString RemoteBackend::clearData()
{
    if (!m_tree)
        return u"clearing data needs a running server"_s;
    return m_tree->write(Path(), Node(), WriteOrigin::Kind::Admin); // one write of null at the root
}

const lark::Database *RemoteBackend::data() const
{
    return m_mirror;
}

bool RemoteBackend::prepareDemo()
{
    return m_admin;
}

} // namespace lark::models
