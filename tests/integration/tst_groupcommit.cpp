// SPDX-License-Identifier: MIT
// Group commit of the --data store against a real server over loopback: an `ok` goes out only after the commit
// that made its request durable (docs/semantics.md §4, §6), replies on a connection stay in request order when
// some of them wait for a commit (docs/wire-protocol.md §6), and a lost commit answers the waiting requests with
// write_failed. Also what queued ops cost the file: each o/om/oc its own size, not its queue's.

#include "rawclient.h"
#include "testserver.h"

#include "server/server.h"
#include "server/session.h"
#include "server/sqlitebackend.h"
#include "server/store.h"

#include <QTemporaryDir>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

class TstGroupCommit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void okWaitsForTheCommit();
    void pipelinedRequestsStayInOrder();
    void lostCommitAnswersWriteFailed();
    void lostCommitIsToldToWatchers();
    void badInputClosesAfterTheHeldReplies();
    void opsCostLinearBytes();

private:
    std::unique_ptr<Server> startServer(const QString &file);
    QTemporaryDir m_dir;
};

namespace
{

QJsonObject getBody(const QString &path)
{
    return {{u"p"_s, path}, {u"q"_s, QJsonObject()}};
}

QJsonObject putBody(const QString &path, const QJsonValue &value)
{
    return {{u"p"_s, path}, {u"d"_s, value}};
}

/** Whether c has any reply to a request numbered from first to last. */
bool anyReply(const RawClient &c, qint64 first, qint64 last)
{
    for (qint64 r = first; r <= last; ++r) {
        if (c.replies.contains(r))
            return true;
    }
    return false;
}

} // namespace

std::unique_ptr<Server> TstGroupCommit::startServer(const QString &file)
{
    ServerConfig config;
    config.port = 0;
    config.graceMs = 60000;
    config.dataFile = m_dir.filePath(file);
    return startConfiguredServer(config);
}

void TstGroupCommit::okWaitsForTheCommit()
{
    auto server = startServer(u"ok.lark"_s);
    RawClient writer, other;
    QVERIFY(writer.open(server->port()));
    QVERIFY(other.open(server->port()));
    QCOMPARE(replyStatus(writer.call(u"q"_s, {{u"p"_s, u"/x"_s}, {u"h"_s, u""_s}})), u"ok"_s);
    QTRY_COMPARE(lark::sqliteStore(server->backend())->openBatch(), quint64(0)); // the sessions' rows are committed

    server->setCommitsPausedForTesting(true);
    const quint64 commits = lark::sqliteStore(server->backend())->commitCount();
    const qint64 put = writer.request(u"p"_s, putBody(u"/x"_s, 1));
    const qint64 get = writer.request(u"g"_s, getBody(u"/x"_s));
    // The writer's own listener hears of the write before it is durable (docs/wire-protocol.md §0.3) ...
    QVERIFY(!writer.waitPush([](const QJsonObject &p) { return pushData(p) == QJsonValue(1); }).isEmpty());
    // ... and another connection may read it, while the writer's ok, and the get queued behind it, still wait.
    QCOMPARE(other.call(u"g"_s, getBody(u"/x"_s)).value(u"d"_s), QJsonValue(1));
    QVERIFY(lark::sqliteStore(server->backend())->openBatch() != 0);
    QCOMPARE(lark::sqliteStore(server->backend())->commitCount(), commits);
    QVERIFY(!anyReply(writer, put, get));

    server->setCommitsPausedForTesting(false);
    QTRY_VERIFY(writer.replies.contains(get));
    QVERIFY(lark::sqliteStore(server->backend())->commitCount() > commits);
    QCOMPARE(replyStatus(writer.replies.value(put)), u"ok"_s);
    QCOMPARE(writer.replies.value(get).value(u"d"_s), QJsonValue(1));
    QCOMPARE(writer.replyOrder.mid(writer.replyOrder.size() - 2), (QList<qint64> {put, get}));

    // The same for an onDisconnect op and an auth that changes the stored identity.
    server->setCommitsPausedForTesting(true);
    const qint64 op = writer.request(u"o"_s, putBody(u"/x"_s, u"gone"_s));
    const qint64 auth = writer.request(u"gauth"_s, {{u"cred"_s, u"owner"_s}});
    const qint64 marker = writer.request(u"p"_s, putBody(u"/x"_s, 2));
    QVERIFY(!writer.waitPush([](const QJsonObject &p) { return pushData(p) == QJsonValue(2); }).isEmpty());
    QVERIFY(!anyReply(writer, op, marker));
    server->setCommitsPausedForTesting(false);
    QTRY_VERIFY(writer.replies.contains(marker));
    QCOMPARE(writer.replyOrder.mid(writer.replyOrder.size() - 3), (QList<qint64> {op, auth, marker}));
    for (qint64 r : {op, auth, marker})
        QCOMPARE(replyStatus(writer.replies.value(r)), u"ok"_s);
}

void TstGroupCommit::pipelinedRequestsStayInOrder()
{
    auto server = startServer(u"order.lark"_s);
    RawClient c, watcher;
    QVERIFY(c.open(server->port()));
    QVERIFY(watcher.open(server->port()));
    QCOMPARE(replyStatus(watcher.call(u"q"_s, {{u"p"_s, u"/items"_s}, {u"h"_s, u""_s}})), u"ok"_s);

    // Every kind of request, interleaved; each get must see the write just before it. Paused first, so that the
    // whole first half is held behind the first write; then with batches of 3 records, so that commits also
    // happen in the middle of a round and replies are released batch by batch.
    struct Expect {
        qint64 r;
        QString action;
        QJsonValue data; // for g: the value
    };
    std::vector<Expect> expected;
    auto pipeline = [&](int from, int to) {
        for (int i = from; i < to; ++i) {
            const QString item = u"/items/i%1"_s.arg(i);
            expected.push_back({c.request(u"p"_s, putBody(item, i)), u"p"_s, {}});
            expected.push_back({c.request(u"g"_s, getBody(item)), u"g"_s, i});
            expected.push_back({c.request(u"q"_s, {{u"p"_s, item}, {u"h"_s, u""_s}}), u"q"_s, {}});
            expected.push_back({c.request(u"m"_s, {{u"p"_s, item}, {u"d"_s, QJsonObject {{u"n"_s, i}}}}), u"m"_s, {}});
            expected.push_back({c.request(u"g"_s, getBody(item + u"/n"_s)), u"g"_s, i});
            expected.push_back({c.request(u"o"_s, putBody(u"/od/i%1"_s.arg(i), true)), u"o"_s, {}});
            expected.push_back(
                {c.request(u"om"_s, {{u"p"_s, u"/od"_s}, {u"d"_s, QJsonObject {{u"m%1"_s.arg(i), i}}}}), u"om"_s, {}});
            if (i % 2)
                expected.push_back({c.request(u"oc"_s, putBody(u"/od/i%1"_s.arg(i), {})), u"oc"_s, {}});
            expected.push_back({c.request(u"n"_s, {{u"p"_s, item}}), u"n"_s, {}});
            expected.push_back({c.request(u"s"_s, {{u"c"_s, QJsonObject()}}), u"s"_s, {}});
        }
    };
    auto lastItemPushed = [&](int i) { return !watcher.waitPush(pushAt(u"d"_s, u"/items/i%1/n"_s.arg(i))).isEmpty(); };

    QTRY_COMPARE(lark::sqliteStore(server->backend())->openBatch(), quint64(0));
    server->setCommitsPausedForTesting(true);
    pipeline(0, 20);
    QVERIFY(lastItemPushed(19)); // the server has handled all of them
    QVERIFY(c.replies.isEmpty()); // and answered none: everything waits behind the first write's commit
    lark::sqliteStore(server->backend())->setMaxBatchRecords(3);
    const quint64 commits = lark::sqliteStore(server->backend())->commitCount();
    server->setCommitsPausedForTesting(false);
    pipeline(20, 60);
    QVERIFY(lastItemPushed(59));
    QTRY_COMPARE(c.replies.size(), qsizetype(expected.size()));

    QList<qint64> order;
    for (const Expect &e : expected)
        order.append(e.r);
    QCOMPARE(c.replyOrder, order);
    for (const Expect &e : expected) {
        const QJsonObject reply = c.replies.value(e.r);
        QVERIFY2(replyStatus(reply) == u"ok"_s, qPrintable(e.action + u" "_s + QString::number(e.r)));
        if (e.action == u"g"_s)
            QCOMPARE(reply.value(u"d"_s), e.data);
    }
    // 40 items of 4 or 5 records each, at most 3 per commit.
    QVERIFY(lark::sqliteStore(server->backend())->commitCount() - commits >= 60);
    // The queued ops are what the pipeline left: o for every item, cancelled for odd ones, plus the om keys.
    Session *s = nullptr;
    for (Session *candidate : server->sessions()) {
        if (candidate->id() == c.sessionId())
            s = candidate;
    }
    QVERIFY(s);
    QCOMPARE(s->queue().ops().size(), size_t(30 + 60));
}

void TstGroupCommit::lostCommitAnswersWriteFailed()
{
    const QString file = u"lost.lark"_s;
    {
        auto server = startServer(file);
        RawClient c;
        QVERIFY(c.open(server->port()));
        QCOMPARE(replyStatus(c.call(u"p"_s, putBody(u"/kept"_s, 1))), u"ok"_s);
        QCOMPARE(replyStatus(c.call(u"o"_s, putBody(u"/od/a"_s, 1))), u"ok"_s);

        server->setCommitsPausedForTesting(true);
        const qint64 put = c.request(u"p"_s, putBody(u"/lost"_s, 2));
        const qint64 op = c.request(u"o"_s, putBody(u"/od/b"_s, 2));
        const qint64 get = c.request(u"g"_s, getBody(u"/lost"_s));
        QTRY_VERIFY(server->sessions().constFirst()->queue().ops().size() == 2);
        lark::sqliteStore(server->backend())->setCommitFailureForTesting(u"disk on fire"_s);
        server->setCommitsPausedForTesting(false);
        QTRY_VERIFY(c.replies.contains(get));
        QCOMPARE(c.replyOrder.mid(c.replyOrder.size() - 3), (QList<qint64> {put, op, get}));
        QCOMPARE(replyStatus(c.replies.value(put)), u"write_failed"_s);
        QVERIFY(c.replies.value(put).value(u"d"_s).toString().contains(u"disk on fire"_s));
        QCOMPARE(replyStatus(c.replies.value(op)), u"write_failed"_s);
        // The write cannot be taken back from memory (it was pushed); the op can, and is.
        QCOMPARE(c.replies.value(get).value(u"d"_s), QJsonValue(2));
        QCOMPARE(server->sessions().constFirst()->queue().ops().size(), size_t(1));
        QVERIFY(!lark::sqliteStore(server->backend())->failure().isEmpty());

        // From now on writes are refused at once, until a restart; reads still work.
        lark::sqliteStore(server->backend())->setCommitFailureForTesting({});
        const QJsonObject refused = c.call(u"p"_s, putBody(u"/after"_s, 3));
        QCOMPARE(replyStatus(refused), u"write_failed"_s);
        QCOMPARE(c.call(u"g"_s, getBody(u"/after"_s)).value(u"d"_s), QJsonValue());
        QCOMPARE(replyStatus(c.call(u"o"_s, putBody(u"/od/c"_s, 3))), u"write_failed"_s);
        QCOMPARE(c.call(u"g"_s, getBody(u"/kept"_s)).value(u"d"_s), QJsonValue(1));
    }
    // The file is as of the last commit: every acknowledged write and op, none of the lost batch.
    auto server = startServer(file);
    RawClient c;
    QVERIFY(c.open(server->port()));
    QCOMPARE(c.call(u"g"_s, getBody(u"/kept"_s)).value(u"d"_s), QJsonValue(1));
    QCOMPARE(c.call(u"g"_s, getBody(u"/lost"_s)).value(u"d"_s), QJsonValue());
    QCOMPARE(server->sessions().size(), 2);
    QCOMPARE(server->sessions().constFirst()->queue().ops().size(), size_t(1));
}

void TstGroupCommit::badInputClosesAfterTheHeldReplies()
{
    // Bad input closes the connection, but only after every request before it is answered (docs/wire-protocol.md §6):
    // with a data file, those replies may still be waiting for their commit.
    auto server = startServer(u"bad.lark"_s);
    RawClient c;
    QVERIFY(c.open(server->port()));
    server->setCommitsPausedForTesting(true);
    const qint64 put = c.request(u"p"_s, putBody(u"/x"_s, 1));
    const qint64 get = c.request(u"g"_s, getBody(u"/x"_s));
    c.sendRaw(u"[\"not an envelope\"]"_s);
    const qint64 after = c.request(u"p"_s, putBody(u"/y"_s, 2)); // after the bad input: never handled
    // A WebSocket ping is answered below the protocol, in order: its pong means the bad input has been read.
    bool ponged = false;
    connect(&c.socket, &QWebSocket::pong, &c.socket, [&] { ponged = true; });
    c.socket.ping();
    QTRY_VERIFY(ponged || c.closed);
    QVERIFY2(!c.closed, "closed before the held replies were sent");
    QVERIFY(c.replies.isEmpty());

    server->setCommitsPausedForTesting(false);
    QTRY_VERIFY(c.closed);
    QCOMPARE(c.replyOrder, (QList<qint64> {put, get}));
    QCOMPARE(replyStatus(c.replies.value(put)), u"ok"_s);
    QCOMPARE(c.replies.value(get).value(u"d"_s), QJsonValue(1));
    QVERIFY(!c.replies.contains(after));
    QCOMPARE(int(c.socket.closeCode()), 1002);
    QVERIFY2(c.socket.closeReason().contains(u"envelope"_s), qPrintable(c.socket.closeReason()));
    QCOMPARE(server->database(u"test"_s)->valueJson(Path(QStringList {u"y"_s})), QJsonValue());
    // An abnormal loss: the session waits for its grace.
    QTRY_COMPARE(server->sessions().constFirst()->state(), Session::State::Suspended);
}

void TstGroupCommit::lostCommitIsToldToWatchers()
{
    // A dashboard watching from elsewhere cannot read the server's log: the admin feed says why writes are refused.
    const QString file = u"watched.lark"_s;
    const auto watch = [](RawClient &admin) {
        if (replyStatus(admin.call(u"gauth"_s, {{u"cred"_s, u"owner"_s}})) != u"ok"_s)
            return QJsonObject();
        return admin.call(u"lark.watch"_s, {}).value(u"d"_s).toObject().value(u"store"_s).toObject();
    };
    {
        auto server = startServer(file);
        RawClient admin, writer;
        QVERIFY(admin.open(server->port()));
        QVERIFY(writer.open(server->port()));
        QCOMPARE(watch(admin), (QJsonObject {{u"persistent"_s, true}}));

        lark::sqliteStore(server->backend())->setCommitFailureForTesting(u"disk on fire"_s);
        QCOMPARE(replyStatus(writer.call(u"p"_s, putBody(u"/x"_s, 1))), u"write_failed"_s);
        const QJsonObject push
            = admin.waitPush([](const QJsonObject &p) { return p.value(u"a"_s) == u"lark.store"_s; });
        const QJsonObject told = push.value(u"b"_s).toObject();
        QCOMPARE(told.value(u"persistent"_s), QJsonValue(true));
        QVERIFY2(told.value(u"failure"_s).toString().contains(u"disk on fire"_s),
            qPrintable(told.value(u"failure"_s).toString()));
        // Only watchers hear of it.
        QVERIFY(std::none_of(writer.pushes.cbegin(), writer.pushes.cend(),
            [](const QJsonObject &p) { return p.value(u"a"_s).toString().startsWith(u"lark."_s); }));

        // The watcher reconnects and resumes its session (a blip): its fresh snapshot still says so.
        const QString adminSession = admin.sessionId();
        admin.socket.abort();
        RawClient resumed;
        QVERIFY(resumed.open(server->port(), u"test"_s, adminSession));
        QCOMPARE(watch(resumed), told);

        // A watcher that comes later cannot sign in (an identity is a record too), and is told why.
        RawClient late;
        QVERIFY(late.open(server->port()));
        const QJsonObject refused = late.call(u"gauth"_s, {{u"cred"_s, u"owner"_s}});
        QCOMPARE(replyStatus(refused), u"write_failed"_s);
        QVERIFY2(
            refused.value(u"d"_s).toString().contains(u"disk on fire"_s), qPrintable(refused.value(u"d"_s).toString()));
    }
    // Restarted from its file, the server keeps data again.
    auto server = startServer(file);
    RawClient admin;
    QVERIFY(admin.open(server->port()));
    QCOMPARE(watch(admin), (QJsonObject {{u"persistent"_s, true}}));
}

void TstGroupCommit::opsCostLinearBytes()
{
    // 1,000 small ops on one session: registering each must cost the file about its own size. Rewriting the whole
    // queue at every op made the second 500 cost three times the first 500 (n ops cost O(n²) bytes).
    const QString file = u"linear.lark"_s;
    std::vector<OnDisconnectQueue::Op> ops;
    {
        auto server = startServer(file);
        RawClient c;
        QVERIFY(c.open(server->port()));
        QTRY_COMPARE(lark::sqliteStore(server->backend())->openBatch(), quint64(0)); // the new session's row is in
        auto registerOps = [&](int from, int to) {
            QList<qint64> requests;
            for (int i = from; i < to; ++i)
                requests.append(c.request(u"o"_s, putBody(u"/presence/c%1"_s.arg(i, 4, 10, QChar(u'0')), true)));
            (void)c.waitReply(requests.constLast()); // replies come in order: all of them are in
            return std::count_if(requests.cbegin(), requests.cend(),
                [&](qint64 r) { return replyStatus(c.replies.value(r)) == u"ok"_s; });
        };
        const qint64 start = lark::sqliteStore(server->backend())->sessionBytesWritten();
        QCOMPARE(registerOps(0, 500), 500);
        const qint64 half = lark::sqliteStore(server->backend())->sessionBytesWritten();
        QCOMPARE(registerOps(500, 1000), 500);
        const qint64 end = lark::sqliteStore(server->backend())->sessionBytesWritten();
        const qint64 first = half - start, second = end - half;
        qInfo("session bytes handed to SQLite: %lld for the first 500 ops, %lld for the second 500", first, second);
        QVERIFY2(first > 0 && second <= first * 3 / 2,
            qPrintable(u"the first 500 ops cost %1 bytes, the second 500 %2"_s.arg(first).arg(second)));
        ops = server->sessions().constFirst()->queue().ops();
        QCOMPARE(ops.size(), size_t(1000));
    }
    // And they all come back, in order, replayed from their rows.
    auto server = startServer(file);
    QCOMPARE(server->sessions().size(), 1);
    const std::vector<OnDisconnectQueue::Op> &loaded = server->sessions().constFirst()->queue().ops();
    QCOMPARE(loaded.size(), ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
        QCOMPARE(loaded[i].path, ops[i].path);
        QCOMPARE(loaded[i].value, ops[i].value);
        QCOMPARE(loaded[i].registeredAt, ops[i].registeredAt);
    }
}

QTEST_GUILESS_MAIN(TstGroupCommit)
#include "tst_groupcommit.moc"
