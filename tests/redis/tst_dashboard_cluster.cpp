// SPDX-License-Identifier: MIT
// The dashboard in connect mode to a cluster node (docs/cluster.md): it lists the nodes with whether each lease is
// alive, each of its sessions with the node it is on, and every session of the cluster, the other nodes' too. Real
// lark-server --redis processes on a Redis the test starts.
#include "client/database.h"
#include "models/hub.h"
#include "models/sessionsmodel.h"
#include "redisserver.h"
#include "serverprocess.h"
#include "tabs/tab.h"
#include "tabs/tabsmodel.h"

#include <QProcess>
#include <QTest>

#include <memory>

using namespace Qt::Literals::StringLiterals;

class TstDashboardCluster : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void showsNodesAndWhereSessionsAre();
};

namespace
{

/** The hub's cluster nodes as "name+" (alive) or "name-" (lease expired), "*" marking the one it is connected to. */
QStringList nodes(const lark::models::Hub &hub)
{
    QStringList out;
    for (const QVariant &v : hub.clusterNodes()) {
        const QVariantMap n = v.toMap();
        out << n.value(u"node"_s).toString() + (n.value(u"alive"_s).toBool() ? u"+"_s : u"-"_s)
                + (n.value(u"self"_s).toBool() ? u"*"_s : QString());
    }
    out.sort();
    return out;
}

/** The hub's cluster sessions of namespace test as "<node>" (live there) or "suspended". */
QStringList clusterSessions(const lark::models::Hub &hub)
{
    QStringList out;
    for (const QVariant &v : hub.clusterSessions()) {
        const QVariantMap s = v.toMap();
        if (s.value(u"ns"_s) == u"test"_s)
            out << (s.value(u"state"_s) == u"live"_s ? s.value(u"node"_s).toString() : u"suspended"_s);
    }
    out.sort();
    return out;
}

} // namespace

void TstDashboardCluster::showsNodesAndWhereSessionsAre()
{
    RedisServer redis;
    QVERIFY(redis.start());
    QProcess first, second;
    const QStringList common {u"--port"_s, u"0"_s, u"--redis"_s, u"redis://127.0.0.1:%1"_s.arg(redis.port()),
        u"--ping-interval"_s, u"200ms"_s, u"--dead-after"_s, u"1s"_s, u"--grace"_s, u"1s"_s};
    const quint16 port = startServerProcess(first, common + QStringList {u"--node-name"_s, u"n1"_s});
    QVERIFY(port != 0);
    const quint16 secondPort = startServerProcess(second, common + QStringList {u"--node-name"_s, u"n2"_s});
    QVERIFY(secondPort != 0);

    lark::models::HubConfig config;
    config.connectUrl = QUrl(u"ws://127.0.0.1:%1?ns=test"_s.arg(port));
    config.reconnectDelayMs = 50;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QTRY_COMPARE_WITH_TIMEOUT(nodes(hub), (QStringList {u"n1+*"_s, u"n2+"_s}), 10000);

    lark::tabs::Tab *tab = hub.tabs()->openTab(u"bob"_s, 0);
    QTRY_VERIFY_WITH_TIMEOUT(hub.sessions()->rowOfShortId(tab->sessionShort()) >= 0, 10000);
    const QModelIndex row = hub.sessions()->index(hub.sessions()->rowOfShortId(tab->sessionShort()));
    QCOMPARE(row.data(lark::models::SessionsModel::NodeRole).toString(), u"n1"_s);
    QTRY_VERIFY_WITH_TIMEOUT(clusterSessions(hub).contains(u"n1"_s), 10000);
    QVERIFY(!clusterSessions(hub).contains(u"n2"_s));

    // A client of the other node: the dashboard on n1 lists its session on n2.
    lark::client::Database other(QUrl(u"ws://127.0.0.1:%1"_s.arg(secondPort)), u"test"_s);
    other.goOnline();
    QTRY_VERIFY_WITH_TIMEOUT(other.isConnected(), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(clusterSessions(hub).count(u"n2"_s), 1, 10000);

    // A node that dies: its lease runs out (1 s) and the dashboard says so; its session is suspended, then fires.
    second.kill();
    QTRY_VERIFY_WITH_TIMEOUT(!nodes(hub).contains(u"n2+"_s), 10000);
    QVERIFY(nodes(hub).contains(u"n1+*"_s));
    QTRY_VERIFY_WITH_TIMEOUT(clusterSessions(hub).contains(u"suspended"_s), 10000);
    QVERIFY(!clusterSessions(hub).contains(u"n2"_s));
    QTRY_VERIFY_WITH_TIMEOUT(!clusterSessions(hub).contains(u"suspended"_s), 10000);
    first.terminate();
    QVERIFY(first.waitForFinished(10000));
}

QTEST_GUILESS_MAIN(TstDashboardCluster)
#include "tst_dashboard_cluster.moc"
