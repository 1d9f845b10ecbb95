// SPDX-License-Identifier: MIT
// A randomized fault run of the cluster mode (docs/cluster.md, "Randomized fault run"): three lark-server --redis
// nodes on one Redis, raw v5 clients that connect, write, close, blip, drop for good, while nodes are killed
// (kill -9, then started again under the same name) and paused past their lease (SIGSTOP). Every session queues
// one op, an increment of /fired/<session>, so the tree itself counts how often each session fired. At the end
// every session must have fired exactly once, every client that came back within the grace must have resumed its
// session, and every acknowledged write must be there.
//
// Size and seed: LARK_FAULT_ROUNDS (default 40, what ./test.sh runs) and LARK_FAULT_SEED (default: random, printed).
#include "rawclient.h"
#include "redisserver.h"
#include "serverprocess.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QRandomGenerator>

#include <algorithm>
#include <csignal>
#include <memory>

using namespace Qt::Literals::StringLiterals;

namespace
{

constexpr int LeaseMs = 600; // dead-after: a node (and a client) silent this long is dead
constexpr int GraceMs = 2000;

struct Node {
    QString name;
    std::unique_ptr<QProcess> process;
    quint16 port = 0;
};

struct Client {
    std::unique_ptr<RawClient> socket;
    QString session;
    int node = -1;
    int writes = 0;
};

QJsonObject put(const QString &path, const QJsonValue &value)
{
    return {{u"p"_s, path}, {u"d"_s, value}};
}

} // namespace

class TstClusterFaults : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void randomizedFaults();

private:
    bool startNode(Node &n);
    /** A new client on node i with its op queued; nullptr (and a failure noted) if that did not work. */
    std::unique_ptr<Client> connectClient(int i);
    /** Reconnects c with ls to node i; false (noted) if the session did not resume. */
    bool resume(Client &c, int i, const QString &why);
    bool openWithRetry(std::unique_ptr<RawClient> &socket, int i, const QString &ls);
    int randomRunningNode(int except = -1);
    void removeClient(const Client *c)
    {
        m_clients.erase(std::remove_if(m_clients.begin(), m_clients.end(), [c](const auto &p) { return p.get() == c; }),
            m_clients.end());
    }
    void note(const QString &failure);

    std::unique_ptr<RedisServer> m_redis;
    std::vector<Node> m_nodes;
    std::vector<std::unique_ptr<Client>> m_clients;
    QSet<QString> m_sessions; // every session ever opened: each must fire exactly once
    QList<std::pair<QString, int>> m_acked; // (session, write number) of every acknowledged write
    QStringList m_failures;
    QRandomGenerator m_random;
};

bool TstClusterFaults::startNode(Node &n)
{
    n.process = std::make_unique<QProcess>();
    n.process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"QT_LOGGING_RULES"_s, u"lark.*.info=false"_s);
    n.port = startServerProcess(*n.process,
        {u"--port"_s, u"0"_s, u"--redis"_s, u"redis://127.0.0.1:%1"_s.arg(m_redis->port()), u"--node-name"_s, n.name,
            u"--ping-interval"_s, u"150ms"_s, u"--dead-after"_s, u"%1ms"_s.arg(LeaseMs), u"--grace"_s,
            u"%1ms"_s.arg(GraceMs)},
        env);
    return n.port != 0;
}

void TstClusterFaults::note(const QString &failure)
{
    qWarning().noquote() << "FAULT RUN:" << failure;
    m_failures << failure;
}

int TstClusterFaults::randomRunningNode(int except)
{
    QList<int> running;
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        if (i != except && m_nodes[size_t(i)].process->state() == QProcess::Running)
            running << i;
    }
    return running.isEmpty() ? -1 : running.at(int(m_random.bounded(running.size())));
}

// A node that is registering again (just started, or fenced) closes new clients with 1013: like the SDK, try again
// a little later.
bool TstClusterFaults::openWithRetry(std::unique_ptr<RawClient> &socket, int i, const QString &ls)
{
    for (int attempt = 0; attempt < 50; ++attempt) {
        if (socket->open(m_nodes[size_t(i)].port, u"test"_s, ls))
            return true;
        QTest::qWait(100);
        socket = std::make_unique<RawClient>();
    }
    return false;
}

std::unique_ptr<Client> TstClusterFaults::connectClient(int i)
{
    auto c = std::make_unique<Client>();
    c->socket = std::make_unique<RawClient>();
    c->node = i;
    if (!openWithRetry(c->socket, i, QString())) {
        note(u"a new client of %1 got no hello"_s.arg(m_nodes[size_t(i)].name));
        return nullptr;
    }
    c->session = c->socket->sessionId();
    m_sessions.insert(c->session);
    const QJsonObject once {{u".sv"_s, QJsonObject {{u"increment"_s, 1}}}};
    const QJsonObject reply = c->socket->call(u"o"_s, put(u"/fired/"_s + c->session, once));
    if (replyStatus(reply) != u"ok"_s) {
        note(u"queueing the op of %1 failed: %2"_s.arg(c->session.left(6), replyStatus(reply)));
        return nullptr;
    }
    return c;
}

bool TstClusterFaults::resume(Client &c, int i, const QString &why)
{
    c.socket = std::make_unique<RawClient>();
    c.node = i;
    if (!openWithRetry(c.socket, i, c.session)) {
        note(u"%1: no hello on %2 for %3"_s.arg(why, m_nodes[size_t(i)].name, c.session.left(6)));
        return false;
    }
    if (c.socket->sessionId() != c.session) {
        note(u"%1: session %2 did not resume on %3 (got a new one)"_s.arg(
            why, c.session.left(6), m_nodes[size_t(i)].name));
        // The new session fires once at the end, as any session: it needs its op too.
        c.session = c.socket->sessionId();
        m_sessions.insert(c.session);
        const QJsonObject once {{u".sv"_s, QJsonObject {{u"increment"_s, 1}}}};
        if (replyStatus(c.socket->call(u"o"_s, put(u"/fired/"_s + c.session, once))) != u"ok"_s)
            note(u"queueing the op of %1 failed"_s.arg(c.session.left(6)));
        return false;
    }
    return true;
}

void TstClusterFaults::randomizedFaults()
{
    const int rounds = qEnvironmentVariableIntValue("LARK_FAULT_ROUNDS") > 0
        ? qEnvironmentVariableIntValue("LARK_FAULT_ROUNDS")
        : 40;
    const quint32 seed = qEnvironmentVariableIsSet("LARK_FAULT_SEED")
        ? quint32(qEnvironmentVariableIntValue("LARK_FAULT_SEED"))
        : QRandomGenerator::system()->generate();
    m_random.seed(seed);
    qInfo().noquote() << "fault run:" << rounds << "rounds, LARK_FAULT_SEED=" << seed;

    m_redis = std::make_unique<RedisServer>();
    QVERIFY(m_redis->start());
    for (int i = 0; i < 3; ++i) {
        m_nodes.push_back({u"n%1"_s.arg(i + 1), nullptr, 0});
        QVERIFY(startNode(m_nodes.back()));
    }
    QMap<QString, int> actions;
    QElapsedTimer clock;
    clock.start();
    for (int round = 0; round < rounds; ++round) {
        const quint32 roll = m_random.bounded(100);
        if (m_clients.size() < 4 || (roll < 25 && m_clients.size() < 16)) {
            ++actions[u"connect"_s];
            const int node = randomRunningNode();
            if (auto c = connectClient(node))
                m_clients.push_back(std::move(c));
            continue;
        }
        Client &c = *m_clients.at(size_t(m_random.bounded(int(m_clients.size()))));
        if (roll < 50) {
            ++actions[u"write"_s];
            const int n = c.writes++;
            const QJsonObject reply = c.socket->call(u"p"_s, put(u"/acked/%1/%2"_s.arg(c.session).arg(n), n));
            if (replyStatus(reply) == u"ok"_s)
                m_acked.append({c.session, n});
        } else if (roll < 60) {
            ++actions[u"close"_s];
            c.socket->socket.close(); // fires now; the session is done
            QTRY_VERIFY(c.socket->closed);
            removeClient(&c);
        } else if (roll < 75) {
            ++actions[u"blip"_s];
            c.socket->socket.abort();
            resume(c, randomRunningNode(), u"blip"_s);
        } else if (roll < 82) {
            ++actions[u"drop"_s];
            c.socket->socket.abort(); // gone for good: fires after the grace
            removeClient(&c);
        } else if (roll < 91) {
            ++actions[u"kill -9"_s];
            const int victim = randomRunningNode();
            m_nodes[size_t(victim)].process->kill();
            m_nodes[size_t(victim)].process->waitForFinished(5000);
            // Its clients notice and come back elsewhere at once (well within the fresh grace).
            for (auto &other : m_clients) {
                if (other->node != victim)
                    continue;
                QTRY_VERIFY(other->socket->closed);
                resume(*other, randomRunningNode(victim), u"after kill -9"_s);
            }
            if (!startNode(m_nodes[size_t(victim)]))
                note(u"%1 did not start again"_s.arg(m_nodes[size_t(victim)].name));
        } else {
            ++actions[u"SIGSTOP past the lease"_s];
            const int victim = randomRunningNode();
            const auto pid = pid_t(m_nodes[size_t(victim)].process->processId());
            ::kill(pid, SIGSTOP);
            QTest::qWait(LeaseMs + 300); // the lease runs out on Redis's clock: nothing to wait on but time
            ::kill(pid, SIGCONT);
            // Fenced, it drops its clients; they resume elsewhere (their sessions were taken over meanwhile).
            for (auto &other : m_clients) {
                if (other->node != victim)
                    continue;
                QTRY_VERIFY_WITH_TIMEOUT(other->socket->closed, 10000);
                resume(*other, randomRunningNode(victim), u"after SIGSTOP"_s);
            }
        }
    }

    // The end: every client closes cleanly, so every session has fired once it is quiet.
    for (auto &c : m_clients)
        c->socket->socket.close();
    const int reader = randomRunningNode();
    RawClient check;
    QVERIFY(check.open(m_nodes[size_t(reader)].port));
    QJsonObject fired;
    const auto allFired = [&] {
        fired = check.call(u"g"_s, {{u"p"_s, u"/fired"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toObject();
        for (const QString &s : std::as_const(m_sessions)) {
            if (!fired.contains(s))
                return false;
        }
        return true;
    };
    QTRY_VERIFY_WITH_TIMEOUT(allFired(), LeaseMs + GraceMs + 10000);
    QTest::qWait(500); // a second fire would come within a few sweeps (100 ms)
    fired = check.call(u"g"_s, {{u"p"_s, u"/fired"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toObject();
    for (const QString &s : std::as_const(m_sessions)) {
        if (fired.value(s) != QJsonValue(1))
            note(u"session %1 fired %2 times"_s.arg(s.left(6)).arg(fired.value(s).toDouble()));
    }
    if (fired.size() != m_sessions.size())
        note(u"%1 sessions fired, %2 were opened"_s.arg(fired.size()).arg(m_sessions.size()));
    const QJsonObject acked
        = check.call(u"g"_s, {{u"p"_s, u"/acked"_s}, {u"q"_s, QJsonObject()}}).value(u"d"_s).toObject();
    for (const auto &[session, n] : std::as_const(m_acked)) {
        if (acked.value(session).toObject().value(QString::number(n)) != QJsonValue(n))
            note(u"acknowledged write %1 of %2 is lost"_s.arg(n).arg(session.left(6)));
    }
    QStringList summary;
    for (auto it = actions.cbegin(); it != actions.cend(); ++it)
        summary << u"%1 × %2"_s.arg(it.value()).arg(it.key());
    qInfo().noquote() << "fault run:" << rounds << "rounds in" << clock.elapsed() << "ms," << m_sessions.size()
                      << "sessions," << m_acked.size() << "acknowledged writes;" << summary.join(u", "_s) << ";"
                      << m_failures.size() << "failures, seed" << seed;
    for (auto &n : m_nodes) {
        n.process->terminate();
        n.process->waitForFinished(5000);
    }
    QVERIFY2(m_failures.isEmpty(), qPrintable(m_failures.join(u"\n"_s)));
}

QTEST_GUILESS_MAIN(TstClusterFaults)
#include "tst_cluster_faults.moc"
