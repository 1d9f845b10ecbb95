// SPDX-License-Identifier: MIT
// The resource caps of docs/semantics.md §7 against a real server over loopback: queued ops per session, listens
// per connection and namespaces per server. Reaching one is refused with a clear status (or close reason) naming
// the option, keeps nothing of the refused request, and leaves everything under the cap working.

#include "rawclient.h"
#include "testserver.h"

#include "server/server.h"
#include "server/session.h"
#include "server/sqlitebackend.h"
#include "server/store.h"

#include <QTemporaryDir>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TstLimits : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void opsPerSession();
    void listensPerConnection();
    void namespacesPerServer();
    void storedNamespacesStillWork();

private:
    QTemporaryDir m_dir;
};

namespace
{

ServerConfig testConfig()
{
    ServerConfig config;
    config.port = 0;
    config.graceMs = 60000;
    return config;
}

QJsonObject putBody(const QString &path, const QJsonValue &value)
{
    return {{u"p"_s, path}, {u"d"_s, value}};
}

QJsonObject listenBody(const QString &path, const QJsonObject &query = {})
{
    QJsonObject b {{u"p"_s, path}, {u"h"_s, u""_s}};
    if (!query.isEmpty())
        b.insert(u"q"_s, query);
    return b;
}

QStringList queuedPaths(const Server &server)
{
    QStringList paths;
    for (const OnDisconnectQueue::Op &op : server.sessions().constFirst()->queue().ops())
        paths.append(op.path.toString());
    return paths;
}

} // namespace

void TstLimits::opsPerSession()
{
    // With a data file, so that a refused op is also seen to record nothing.
    ServerConfig config = testConfig();
    config.maxOpsPerSession = 3;
    config.dataFile = m_dir.filePath(u"ops.lark"_s);
    auto server = startConfiguredServer(config);
    RawClient c;
    QVERIFY(c.open(server->port()));
    for (const QString &p : {u"/p/a"_s, u"/p/b"_s, u"/p/c"_s})
        QCOMPARE(replyStatus(c.call(u"o"_s, putBody(p, true))), u"ok"_s);

    // A fourth op, as o or as om, is refused with a reason that names the cap and its option.
    const quint64 records = lark::sqliteStore(server->backend())->recordCount();
    const QJsonObject refused = c.call(u"o"_s, putBody(u"/p/d"_s, true));
    QCOMPARE(replyStatus(refused), u"too_many_ops"_s);
    QVERIFY2(refused.value(u"d"_s).toString().contains(u"3"_s), qPrintable(refused.value(u"d"_s).toString()));
    QVERIFY2(refused.value(u"d"_s).toString().contains(u"--max-ops-per-session"_s),
        qPrintable(refused.value(u"d"_s).toString()));
    QVERIFY(!refused.contains(u"error"_s));
    QCOMPARE(replyStatus(c.call(u"om"_s, putBody(u"/q"_s, QJsonObject {{u"x"_s, 1}}))), u"too_many_ops"_s);
    QCOMPARE(lark::sqliteStore(server->backend())->recordCount(), records);
    QCOMPARE(queuedPaths(*server), (QStringList {u"/p/a"_s, u"/p/b"_s, u"/p/c"_s}));

    // What does not add an op is fine at the cap: replacing one, writing into one, cancelling.
    QCOMPARE(replyStatus(c.call(u"o"_s, putBody(u"/p/a"_s, false))), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"o"_s, putBody(u"/p/b/deep"_s, 1))), u"ok"_s);
    QCOMPARE(queuedPaths(*server).size(), 3);
    QCOMPARE(replyStatus(c.call(u"o"_s, putBody(u"/p"_s, QJsonValue::Null))), u"ok"_s); // replaces all three
    QCOMPARE(queuedPaths(*server), QStringList {u"/p"_s});
    QCOMPARE(replyStatus(c.call(u"om"_s, putBody(u"/q"_s, QJsonObject {{u"x"_s, 1}, {u"y"_s, 2}}))), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"oc"_s, {{u"p"_s, u"/q/x"_s}})), u"ok"_s);
    // An update that would go over is refused whole: none of its children is queued.
    QCOMPARE(replyStatus(c.call(u"om"_s, putBody(u"/r"_s, QJsonObject {{u"a"_s, 1}, {u"b"_s, 2}}))), u"too_many_ops"_s);
    QCOMPARE(queuedPaths(*server), (QStringList {u"/p"_s, u"/q/y"_s}));
    QCOMPARE(replyStatus(c.call(u"om"_s, putBody(u"/r"_s, QJsonObject {{u"a"_s, 1}}))), u"ok"_s);

    // The cap is per session.
    RawClient other;
    QVERIFY(other.open(server->port()));
    for (const QString &p : {u"/o/a"_s, u"/o/b"_s, u"/o/c"_s})
        QCOMPARE(replyStatus(other.call(u"o"_s, putBody(p, true))), u"ok"_s);
}

void TstLimits::listensPerConnection()
{
    ServerConfig config = testConfig();
    config.maxListensPerConnection = 2;
    auto server = startConfiguredServer(config);
    RawClient c, writer;
    QVERIFY(c.open(server->port()));
    QVERIFY(writer.open(server->port()));
    QCOMPARE(replyStatus(c.call(u"q"_s, listenBody(u"/a"_s))), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"q"_s, listenBody(u"/b"_s))), u"ok"_s);
    // Listening again to the same (path, query) is not a new listen; .info is served by the SDK, not counted.
    QCOMPARE(replyStatus(c.call(u"q"_s, listenBody(u"/a"_s))), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"q"_s, listenBody(u"/.info/connected"_s))), u"ok"_s);

    // A third one, a new path or a new query at a listened path, is refused and not listened to.
    const QJsonObject refused = c.call(u"q"_s, listenBody(u"/c"_s));
    QCOMPARE(replyStatus(refused), u"too_many_listens"_s);
    QVERIFY2(
        refused.value(u"d"_s).toString().contains(u"--max-listens"_s), qPrintable(refused.value(u"d"_s).toString()));
    QVERIFY(!refused.contains(u"error"_s));
    QCOMPARE(replyStatus(c.call(u"q"_s, listenBody(u"/a"_s, {{u"i"_s, u"n"_s}}))), u"too_many_listens"_s);
    QCOMPARE(replyStatus(writer.call(u"p"_s, putBody(u"/c"_s, 1))), u"ok"_s);
    QCOMPARE(replyStatus(writer.call(u"p"_s, putBody(u"/a"_s, 2))), u"ok"_s);
    // Pushes come in the order of the writes: once /a's is in, one for /c would have come before it.
    QVERIFY(!c.waitPush(pushAt(u"d"_s, u"/a"_s)).isEmpty());
    QVERIFY(std::none_of(c.pushes.cbegin(), c.pushes.cend(), pushAt(u"d"_s, u"/c"_s)));

    // An unlisten makes room.
    QCOMPARE(replyStatus(c.call(u"n"_s, {{u"p"_s, u"/b"_s}})), u"ok"_s);
    QCOMPARE(replyStatus(c.call(u"q"_s, listenBody(u"/c"_s))), u"ok"_s);
    // The cap is per connection.
    QCOMPARE(replyStatus(writer.call(u"q"_s, listenBody(u"/x"_s))), u"ok"_s);
    QCOMPARE(replyStatus(writer.call(u"q"_s, listenBody(u"/y"_s))), u"ok"_s);
}

void TstLimits::namespacesPerServer()
{
    ServerConfig config = testConfig();
    config.maxNamespaces = 2;
    auto server = startConfiguredServer(config);
    RawClient one, two, three;
    QVERIFY(one.open(server->port(), u"one"_s));
    QVERIFY(two.open(server->port(), u"two"_s));
    // A third namespace is refused right after the handshake, with a reason that names the cap and its option.
    QVERIFY(!three.open(server->port(), u"three"_s));
    QTRY_VERIFY(three.closed);
    QCOMPARE(three.socket.closeCode(), QWebSocketProtocol::CloseCodePolicyViolated);
    QVERIFY2(three.socket.closeReason().contains(u"--max-namespaces"_s), qPrintable(three.socket.closeReason()));
    QCOMPARE(server->namespaces().size(), 2);
    QCOMPARE(server->sessions().size(), 2);

    // Namespaces that exist keep working, and so does the default one (named or not).
    RawClient again, unnamed, named;
    QVERIFY(again.open(server->port(), u"one"_s));
    QCOMPARE(replyStatus(again.call(u"p"_s, putBody(u"/x"_s, 1))), u"ok"_s);
    QVERIFY(unnamed.open(server->port(), QString()));
    QVERIFY(named.open(server->port(), config.defaultNamespace));
    QCOMPARE(replyStatus(named.call(u"p"_s, putBody(u"/x"_s, 1))), u"ok"_s);
    QCOMPARE(server->namespaces().size(), 3);
}

void TstLimits::storedNamespacesStillWork()
{
    // Namespaces loaded from the data file exist: a lower cap after a restart refuses only new ones.
    ServerConfig config = testConfig();
    config.dataFile = m_dir.filePath(u"namespaces.lark"_s);
    {
        auto server = startConfiguredServer(config);
        for (const QString &ns : {u"a"_s, u"b"_s, u"c"_s}) {
            RawClient c;
            QVERIFY(c.open(server->port(), ns));
            QCOMPARE(replyStatus(c.call(u"p"_s, putBody(u"/x"_s, ns))), u"ok"_s);
        }
    }
    config.maxNamespaces = 1;
    auto server = startConfiguredServer(config);
    for (const QString &ns : {u"a"_s, u"b"_s, u"c"_s}) {
        RawClient c;
        QVERIFY(c.open(server->port(), ns));
        QCOMPARE(c.call(u"g"_s, {{u"p"_s, u"/x"_s}}).value(u"d"_s), QJsonValue(ns));
    }
    RawClient refused;
    QVERIFY(!refused.open(server->port(), u"d"_s));
    QTRY_VERIFY(refused.closed);
    QVERIFY2(refused.socket.closeReason().contains(u"too many namespaces"_s), qPrintable(refused.socket.closeReason()));
}

QTEST_GUILESS_MAIN(TstLimits)
#include "tst_limits.moc"
