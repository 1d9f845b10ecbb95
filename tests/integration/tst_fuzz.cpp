// SPDX-License-Identifier: MIT
// A seeded, structure-aware fuzz of the protocol layer through the real server over 127.0.0.1. Random bytes are
// tst_websocket_frames' job (randomBytesNeverHarm); here every frame is a well-formed WebSocket text frame carrying
// JSON whose structure is random: envelope, request number, action, paths, values, queries, merges (fuzzgenerator.h).
// The fate of each message is predicted from the contract (fuzzoracle.h: docs/semantics.md §7, docs/wire-protocol.md
// §3 and §6) and checked:
// - a data message with an integer r is a request: exactly one reply, in the order sent, with a known status and,
//   when it is not ok, a readable message;
// - a control ping gets a pong; other control messages and "0" keep-alives get nothing;
// - what cannot be a request (not JSON, not a v5 envelope, no integer r, over the cap) closes the connection with
//   a close frame, a code and a reason, after the replies to everything sent before it, and leaves the session
//   suspended with its ops (grace applies).
// After every round the stored tree is one a Firebase database could hold; after every seed it reads the same over
// the wire as in the server, the fuzz sessions' onDisconnect ops fired into it, and a bystander was never harmed.
// What the fuzz found, reduced to a few requests each, is tst_fuzz_regressions'.

#include "fuzzfixture.h"
#include "fuzzgenerator.h"
#include "fuzzoracle.h"
#include "testserver.h"

#include <QTemporaryDir>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

using namespace Qt::Literals::StringLiterals;

namespace
{

/** Messages per seed: 600, or LARK_FUZZ_MESSAGES for a longer hunt by hand (state that builds up over a session). */
int messagesPerSeed()
{
    bool ok = false;
    const int n = qEnvironmentVariableIntValue("LARK_FUZZ_MESSAGES", &ok);
    return ok && n > 0 ? n : 600;
}
constexpr int Connections = 3;

/** A request that must be answered. */
struct Expected {
    Fate fate;
    QString text;
};

/** One fuzz connection and what it is owed. */
struct FuzzConnection {
    std::unique_ptr<RawClient> client;
    QString sessionId;
    QString handle; // the session's public name, S<n>
    qint64 nextR = 1;
    QList<Expected> replies; // in the order sent
    qsizetype answered = 0;
    int pongsExpected = 0;
    int pongsSeen = 0;
    qsizetype checked = 0; // client->messages looked at
    std::optional<Expected> closing; // the message the server must close the connection for
    QStringList recent; // the last messages sent, for failure reports

    [[nodiscard]] int pongsArrived() const
    {
        int n = 0;
        for (const QJsonObject &m : std::as_const(client->messages)) {
            if (m.value(u"t"_s) == QJsonValue(u"c"_s) && m.value(u"d"_s).toObject().value(u"t"_s) == QJsonValue(u"o"_s))
                ++n;
        }
        return n;
    }
    /** Everything owed has arrived, or the connection is gone. */
    [[nodiscard]] bool settled() const
    {
        if (client->closed)
            return true;
        return !closing && client->replyOrder.size() >= replies.size() && pongsArrived() >= pongsExpected;
    }
};

} // namespace

class TstFuzz : public FuzzFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup() { stopServer(); }

    void protocolFuzz_data();
    void protocolFuzz();
    void protocolFuzzWithDataFile_data();
    void protocolFuzzWithDataFile();

private:
    const QJsonArray *firedOps(const QString &handle) const;

    void open(FuzzConnection &c, Generator &gen);
    void sendOne(FuzzConnection &c, Generator &gen);
    void waitForAll(std::vector<FuzzConnection> &conns);
    void check(FuzzConnection &c, int index);
    void checkReply(FuzzConnection &c, const QJsonObject &d);
    void checkPush(const QJsonObject &d);
    void checkClosed(FuzzConnection &c, Generator &gen);
    void checkBystander();
    void runSeed(quint32 seed);
    void finish(std::vector<FuzzConnection> &conns);

    QTemporaryDir m_dir; // protocolFuzzWithDataFile's data file
    int m_bystanderWrites = 0;
    QList<std::pair<QString, int>> m_awaitingFire; // sessions the server closed: handle, ops queued (-1: unseen)
};

void TstFuzz::init()
{
    m_awaitingFire.clear();
    m_bystanderWrites = 0;
    startServer(QTest::currentTestFunction() == QByteArrayView("protocolFuzzWithDataFile")
            ? m_dir.filePath(QString::fromUtf8(QTest::currentDataTag()).replace(u' ', u'-') + u".lark"_s)
            : QString());
}

const QJsonArray *TstFuzz::firedOps(const QString &handle) const
{
    for (const auto &[h, ops] : m_fired) {
        if (h == handle)
            return &ops;
    }
    return nullptr;
}

/** Rows "seed N" for first..last, or for the range in LARK_FUZZ_SEEDS=first-last (a longer hunt by hand). */
static void addSeedRows(quint32 first, quint32 last)
{
    QTest::addColumn<quint32>("seed");
    const QStringList range = qEnvironmentVariable("LARK_FUZZ_SEEDS").split(u'-');
    if (range.size() == 2 && range.at(0).toUInt() > 0 && range.at(1).toUInt() >= range.at(0).toUInt()) {
        first = range.at(0).toUInt();
        last = range.at(1).toUInt();
    }
    for (quint32 seed = first; seed <= last; ++seed)
        QTest::addRow("seed %u", seed) << seed;
}

void TstFuzz::protocolFuzz_data()
{
    addSeedRows(1, 5);
}

void TstFuzz::protocolFuzz()
{
    QFETCH(quint32, seed);
    runSeed(seed);
}

void TstFuzz::protocolFuzzWithDataFile_data()
{
    addSeedRows(1001, 1002);
}

void TstFuzz::protocolFuzzWithDataFile()
{
    // The same fuzz with --data: every reply still as predicted (write_failed is not among them), and a restart
    // from the file brings back exactly the tree the server held (docs/semantics.md §6).
    QFETCH(quint32, seed);
    QVERIFY(m_dir.isValid());
    runSeed(seed);
    if (QTest::currentTestFailed())
        return;
    const QJsonValue before = m_db->valueJson(lark::Path());
    m_bystander.reset();
    m_db = nullptr;
    m_server.reset();
    m_server = startConfiguredServer(m_config);
    m_db = m_server->database(u"test"_s);
    FUZZ_VERIFY(sameJson(m_db->valueJson(lark::Path()), before),
        u"the tree after a restart from the data file differs: %1"_s.arg(
            firstDifference(m_db->valueJson(lark::Path()), before, u"/"_s)));
    // Only the bystander's session was left; it comes back suspended.
    const QList<lark::Session *> sessions = m_server->sessions();
    FUZZ_VERIFY(sessions.size() == 1 && sessions.constFirst()->state() == lark::Session::State::Suspended,
        u"%1 sessions after the restart, expected the bystander's, suspended"_s.arg(sessions.size()));
}

void TstFuzz::runSeed(quint32 seed)
{
    m_case = u"seed %1"_s.arg(seed);
    Generator gen(seed);
    std::vector<FuzzConnection> conns(Connections);
    for (FuzzConnection &c : conns) {
        open(c, gen);
        if (QTest::currentTestFailed())
            return;
    }
    int sent = 0;
    const int messages = messagesPerSeed();
    for (int round = 1; sent < messages; ++round) {
        for (FuzzConnection &c : conns) {
            const int n = 1 + gen.below(12);
            for (int i = 0; i < n && !c.closing; ++i, ++sent)
                sendOne(c, gen);
        }
        waitForAll(conns);
        if (QTest::currentTestFailed())
            return;
        for (int i = 0; i < Connections; ++i) {
            check(conns[size_t(i)], i);
            if (QTest::currentTestFailed())
                return;
            if (conns[size_t(i)].closing)
                checkClosed(conns[size_t(i)], gen);
            if (QTest::currentTestFailed())
                return;
        }
        checkStoredTree();
        if (QTest::currentTestFailed())
            return;
        if (round % 10 == 0)
            checkBystander();
        if (QTest::currentTestFailed())
            return;
    }
    finish(conns);
}

void TstFuzz::open(FuzzConnection &c, Generator &gen)
{
    c = FuzzConnection();
    c.client = std::make_unique<RawClient>();
    // WebSocket-level fragmentation too: the server joins a message's frames before it reads the JSON.
    static const QList<quint64> frameSizes = {512 * 1024, 512 * 1024, 125, 1000, 16384};
    c.client->socket.setOutgoingFrameSize(frameSizes.at(gen.below(int(frameSizes.size()))));
    // RawClient::open(), without its 10 ms polling.
    c.client->socket.open(QUrl(u"ws://127.0.0.1:%1/.ws?v=5&ns=test"_s.arg(m_server->port())));
    FUZZ_VERIFY(waitFor([&c] { return !c.client->hello.isEmpty() || c.client->closed; }) && !c.client->hello.isEmpty(),
        u"a new connection got no hello"_s);
    c.sessionId = c.client->sessionId();
    const lark::Session *s = sessionById(c.sessionId);
    FUZZ_VERIFY(s, u"a new connection has no session"_s);
    c.handle = s->handle();
    FUZZ_VERIFY(c.client->messages.size() == 1, u"more than the hello before any request"_s);
    c.checked = 1;
}

void TstFuzz::sendOne(FuzzConnection &c, Generator &gen)
{
    const QString text = gen.next(&c.nextR);
    const Fate fate = predict(text.toUtf8());
    c.recent.append(shown(text));
    if (c.recent.size() > 6)
        c.recent.removeFirst();
    gen.send(*c.client, text);
    switch (fate.kind) {
    case Fate::Kind::Reply:
        c.replies.append({fate, text});
        break;
    case Fate::Kind::Pong:
        ++c.pongsExpected;
        break;
    case Fate::Kind::Close:
        c.closing = Expected {fate, text};
        break;
    case Fate::Kind::Nothing:
        break;
    }
}

void TstFuzz::waitForAll(std::vector<FuzzConnection> &conns)
{
    const auto settled = [&conns] {
        return std::all_of(conns.cbegin(), conns.cend(), [](const FuzzConnection &c) { return c.settled(); });
    };
    if (waitFor(settled, WaitMs))
        return;
    QString report;
    for (size_t i = 0; i < conns.size(); ++i) {
        const FuzzConnection &c = conns[i];
        report += u"\n  connection %1: %2 of %3 replies, %4 of %5 pongs, %6; last sent:\n    %7"_s.arg(i)
                      .arg(c.client->replyOrder.size())
                      .arg(c.replies.size())
                      .arg(c.pongsArrived())
                      .arg(c.pongsExpected)
                      .arg(c.closing ? u"waiting for the close of: "_s + shown(c.closing->text) : u"open"_s)
                      .arg(c.recent.join(u"\n    "_s));
    }
    QFAIL(qPrintable(context(u"the server did not answer everything it owes:"_s + report)));
}

void TstFuzz::check(FuzzConnection &c, int index)
{
    const QList<QJsonObject> &messages = c.client->messages;
    for (; c.checked < messages.size(); ++c.checked) {
        const QJsonObject &m = messages.at(c.checked);
        const QJsonObject d = m.value(u"d"_s).toObject();
        // The SDK throws on a data message with an error key (docs/wire-protocol.md §7).
        FUZZ_VERIFY(
            !m.contains(u"error"_s) && !d.contains(u"error"_s), u"a message with an error key: "_s + shown(compact(m)));
        const QString t = m.value(u"t"_s).toString();
        if (t == u"c"_s) {
            FUZZ_VERIFY(d.value(u"t"_s) == QJsonValue(u"o"_s) && d.contains(u"d"_s),
                u"connection %1: a control message other than a pong: %2"_s.arg(index).arg(shown(compact(m))));
            ++c.pongsSeen;
            FUZZ_VERIFY(c.pongsSeen <= c.pongsExpected, u"connection %1: a pong for no ping"_s.arg(index));
        } else if (t == u"d"_s && d.contains(u"r"_s)) {
            checkReply(c, d);
        } else if (t == u"d"_s) {
            checkPush(d);
        } else {
            QFAIL(qPrintable(context(u"connection %1: not a v5 message: %2"_s.arg(index).arg(shown(compact(m))))));
        }
        if (QTest::currentTestFailed())
            return;
    }
    if (c.closing)
        return; // checkClosed() looks at what arrived before the close
    FUZZ_VERIFY(!c.client->closed,
        u"connection %1 was closed (%2 \"%3\") though nothing it sent calls for that; last sent:\n    %4"_s.arg(index)
            .arg(int(c.client->socket.closeCode()))
            .arg(c.client->socket.closeReason(), c.recent.join(u"\n    "_s)));
    FUZZ_VERIFY(c.answered == c.replies.size() && c.pongsSeen == c.pongsExpected,
        u"connection %1: %2 replies for %3 requests, %4 pongs for %5 pings"_s.arg(index)
            .arg(c.answered)
            .arg(c.replies.size())
            .arg(c.pongsSeen)
            .arg(c.pongsExpected));
}

void TstFuzz::checkReply(FuzzConnection &c, const QJsonObject &d)
{
    const double r = d.value(u"r"_s).toDouble();
    FUZZ_VERIFY(c.answered < c.replies.size(), u"a reply (r=%1) to no request"_s.arg(r, 0, 'g', 17));
    const Expected &e = c.replies.at(c.answered++);
    // Order: every request is answered, in the order sent (docs/wire-protocol.md §6).
    FUZZ_VERIFY(r == e.fate.r,
        u"reply %1 carries r=%2, but the request it answers has r=%3: %4"_s.arg(c.answered)
            .arg(r, 0, 'g', 17)
            .arg(e.fate.r, 0, 'g', 17)
            .arg(shown(e.text)));
    const QJsonObject b = d.value(u"b"_s).toObject();
    const QJsonValue s = b.value(u"s"_s);
    FUZZ_VERIFY(d.value(u"b"_s).isObject() && s.isString() && KnownStatuses.contains(s.toString()),
        u"reply with no or an unknown status: %1 to %2"_s.arg(shown(compact(d)), shown(e.text)));
    if (s != QJsonValue(u"ok"_s)) {
        // docs/semantics.md §7: a refused request gets a readable message in d.
        FUZZ_VERIFY(b.value(u"d"_s).isString() && !b.value(u"d"_s).toString().isEmpty(),
            u"refusal without a message: %1 to %2"_s.arg(shown(compact(d)), shown(e.text)));
    }
    if (const QString must = statusFor(e.fate); !must.isEmpty()) {
        FUZZ_VERIFY(s.toString() == must,
            u"status %1 (%2) where %3 is due, to %4"_s.arg(
                s.toString(), shown(b.value(u"d"_s).toString()), must, shown(e.text)));
    }
    if (s == QJsonValue(u"ok"_s) && WriteActions.contains(e.fate.action.toString()))
        m_okWrites.append(shown(e.text));
}

void TstFuzz::checkPush(const QJsonObject &d)
{
    const QString a = d.value(u"a"_s).toString();
    const QJsonObject b = d.value(u"b"_s).toObject();
    if (a.startsWith(u"lark."_s))
        return; // the admin feed of a connection that signed in as "owner" and watches
    FUZZ_VERIFY(a == u"d"_s || a == u"m"_s, u"a push with an unknown action: "_s + shown(compact(d)));
    const QString p = b.value(u"p"_s).toString();
    FUZZ_VERIFY(p.startsWith(u'/'), u"a push without an absolute path: "_s + shown(compact(d)));
    const int depth = int(p.split(u'/', Qt::SkipEmptyParts).size());
    QString why;
    if (a == u"d"_s) {
        const QJsonValue data = b.value(u"d"_s);
        if (!data.isNull())
            why = exportProblem(data, p, depth);
    } else {
        FUZZ_VERIFY(b.value(u"d"_s).isObject(), u"a merge push without an object: "_s + shown(compact(d)));
        const QJsonObject merge = b.value(u"d"_s).toObject();
        for (auto it = merge.constBegin(); it != merge.constEnd() && why.isEmpty(); ++it) {
            if (!it.value().isNull()) {
                why = exportProblem(
                    it.value(), childPath(p, it.key()), depth + int(it.key().split(u'/', Qt::SkipEmptyParts).size()));
            }
        }
    }
    FUZZ_VERIFY(why.isEmpty(),
        u"a push carries data no database can hold: %1 in %2%3"_s.arg(why, shown(compact(d)), culprits(why)));
}

void TstFuzz::checkClosed(FuzzConnection &c, Generator &gen)
{
    const Expected &e = *c.closing;
    FUZZ_VERIFY(c.client->closed, u"the connection stayed open after "_s + shown(e.text));
    // Everything before the closing message was answered, and the close says why (docs/semantics.md §7).
    FUZZ_VERIFY(c.answered == c.replies.size() && c.pongsSeen == c.pongsExpected,
        u"closed after %1 of %2 replies and %3 of %4 pongs; closing message: %5"_s.arg(c.answered)
            .arg(c.replies.size())
            .arg(c.pongsSeen)
            .arg(c.pongsExpected)
            .arg(shown(e.text)));
    const int code = int(c.client->socket.closeCode());
    const QString reason = c.client->socket.closeReason();
    FUZZ_VERIFY(code == e.fate.closeCode && !reason.isEmpty() && reason.contains(e.fate.reason),
        u"closed with %1 \"%2\" where %3 with a reason about \"%4\" is due, for %5"_s.arg(code)
            .arg(reason)
            .arg(e.fate.closeCode)
            .arg(e.fate.reason, shown(e.text)));
    // An abnormal loss: the session is suspended with its ops, which fire when the grace ends.
    const QString id = c.sessionId;
    FUZZ_VERIFY(waitFor(
                    [&] {
                        const lark::Session *s = sessionById(id);
                        return !s || s->state() != lark::Session::State::Live;
                    },
                    WaitMs),
        u"the session of a connection the server closed stayed live"_s);
    // (It may have fired already when the grace is over; finish() checks that it ended by its grace, not at once.)
    const lark::Session *s = sessionById(id);
    FUZZ_VERIFY(!s || s->state() == lark::Session::State::Suspended,
        u"the session of a connection closed for bad input was not suspended"_s);
    m_awaitingFire.append({c.handle, s ? int(s->queue().ops().size()) : -1});
    open(c, gen);
}

void TstFuzz::checkBystander()
{
    FUZZ_VERIFY(!m_bystander->closed, u"the bystander's connection was closed"_s);
    const QJsonObject data = m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}});
    FUZZ_VERIFY(data == m_dataBefore, u"the bystander's /data changed: "_s + shown(compact(data)));
    const QString path = u"/bystander/%1"_s.arg(++m_bystanderWrites);
    const QJsonObject reply = m_bystander->call(u"p"_s, {{u"p"_s, path}, {u"d"_s, m_bystanderWrites}});
    FUZZ_VERIFY(replyStatus(reply) == u"ok"_s, u"the bystander's write was refused: "_s + shown(compact(reply)));
    FUZZ_VERIFY(!m_bystander->waitPush(pushAt(u"d"_s, path), WaitMs).isEmpty(),
        u"the bystander did not get the push of its own write"_s);
}

void TstFuzz::finish(std::vector<FuzzConnection> &conns)
{
    // A last request on each connection: once it is answered, everything sent before it has been (in order).
    for (FuzzConnection &c : conns) {
        const QString text = Generator::plainRequest(c.nextR++, u"s"_s);
        c.replies.append({predict(text.toUtf8()), text});
        c.client->sendRaw(text);
    }
    waitForAll(conns);
    if (QTest::currentTestFailed())
        return;
    for (int i = 0; i < Connections; ++i) {
        check(conns[size_t(i)], i);
        if (QTest::currentTestFailed())
            return;
    }

    // The sessions the server closed fire when their grace ends, each with every op it had queued.
    FUZZ_VERIFY(waitFor(
                    [this] {
                        const QList<lark::Session *> sessions = m_server->sessions();
                        return std::all_of(sessions.cbegin(), sessions.cend(),
                            [](const lark::Session *s) { return s->state() == lark::Session::State::Live; });
                    },
                    WaitMs),
        u"suspended sessions did not end after their grace"_s);
    for (const auto &[handle, queued] : std::as_const(m_awaitingFire)) {
        FUZZ_VERIFY(m_endReasons.value(handle) == u"timeout"_s,
            u"%1, closed by the server for bad input, ended by \"%2\", not by its grace"_s.arg(
                handle, m_endReasons.value(handle)));
        if (queued < 0)
            continue; // it had fired before its ops were counted
        const QJsonArray *fired = firedOps(handle);
        FUZZ_VERIFY(queued == 0 ? !fired : fired && fired->size() == queued,
            u"%1 had %2 ops queued when the server closed it, and fired %3"_s.arg(handle).arg(queued).arg(
                fired ? fired->size() : 0));
    }
    checkStoredTree();
    if (QTest::currentTestFailed())
        return;

    // Clean closes fire at once; nothing else writes meanwhile, so each op's value is what the tree holds after.
    for (FuzzConnection &c : conns) {
        const lark::Session *s = sessionById(c.sessionId);
        FUZZ_VERIFY(s && s->state() == lark::Session::State::Live, u"a fuzz connection's session is not live"_s);
        const QString handle = s->handle();
        const qsizetype queued = qsizetype(s->queue().ops().size());
        c.client->socket.close();
        const QString id = c.sessionId;
        FUZZ_VERIFY(waitFor([&] { return !sessionById(id); }, WaitMs) && m_endReasons.value(handle) == u"clean close"_s,
            u"%1 did not end as a clean close: \"%2\""_s.arg(handle, m_endReasons.value(handle)));
        const QJsonArray *fired = firedOps(handle);
        FUZZ_VERIFY(queued == 0 ? !fired : fired && fired->size() == queued,
            u"%1 had %2 ops queued, and fired %3"_s.arg(handle).arg(queued).arg(fired ? fired->size() : 0));
        for (const QJsonValue &op : fired ? *fired : QJsonArray()) {
            const QString path = op.toObject().value(u"path"_s).toString();
            lark::Path at;
            QString why;
            if (!lark::Path::parse(path, &at, &why)) {
                // The writes that queued it name the path up to its first bad key.
                const QStringList keys = path.split(u'/', Qt::SkipEmptyParts);
                qsizetype bad = 0;
                while (bad < keys.size() - 1 && keyProblem(keys.at(bad)).isEmpty())
                    ++bad;
                const QString upToBad = u"/"_s + keys.mid(0, bad + 1).join(u'/');
                QFAIL(qPrintable(context(
                    u"%1 fired at a path it cannot name: %2%3"_s.arg(handle, why, culprits(upToBad + u": "_s)))));
            }
            // A priority lands only on a node that exists (Firebase drops it otherwise): not compared.
            if (!at.isRoot() && at.back() == u".priority"_s)
                continue;
            const QJsonValue value = op.toObject().value(u"value"_s);
            FUZZ_VERIFY(sameJson(m_db->valueJson(at), value),
                u"%1 fired %2, but the tree holds %3"_s.arg(
                    handle, shown(compact(op.toObject())), firstDifference(m_db->valueJson(at), value, path)));
        }
        checkStoredTree();
        if (QTest::currentTestFailed())
            return;
    }
    checkTreeOverTheWire();
    if (QTest::currentTestFailed())
        return;
    checkBystander();
}

QTEST_GUILESS_MAIN(TstFuzz)
#include "tst_fuzz.moc"
