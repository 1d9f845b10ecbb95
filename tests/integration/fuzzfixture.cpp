// SPDX-License-Identifier: MIT
#include "fuzzfixture.h"

#include "fuzzoracle.h"
#include "testserver.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QTimer>

#include <algorithm>

using namespace Qt::Literals::StringLiterals;

bool waitFor(const std::function<bool()> &predicate, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    QTimer tick; // wakes the loop up when nothing arrives, so the deadline is seen
    tick.start(5);
    while (!predicate()) {
        if (deadline.hasExpired())
            return false;
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    }
    return true;
}

void FuzzFixture::startServer(const QString &dataFile)
{
    // Long dead-after: the fuzz connections are never silent, and a slow (sanitized) run must not drop them. A short
    // grace: the sessions the server closes fire while the other connections go on writing.
    m_config = lark::ServerConfig();
    m_config.port = 0;
    m_config.pingIntervalMs = 1000;
    m_config.deadAfterMs = 60000;
    m_config.graceMs = 100;
    m_config.maxMessageBytes = Cap;
    m_config.dataFile = dataFile;
    m_server = startConfiguredServer(m_config);
    m_db = m_server->database(u"test"_s);
    m_fired.clear();
    m_endReasons.clear();
    m_okWrites.clear();
    connect(m_server->adminFeed(), &lark::AdminFeed::opsFired, this,
        [this](const QJsonObject &session, const QJsonArray &ops) {
            m_fired.append({session.value(u"handle"_s).toString(), ops});
        });
    connect(m_server->adminFeed(), &lark::AdminFeed::sessionRemoved, this, [this](const QJsonObject &session) {
        m_endReasons.insert(session.value(u"handle"_s).toString(), session.value(u"endReason"_s).toString());
    });
    m_bystander = std::make_unique<RawClient>();
    QVERIFY(m_bystander->open(m_server->port()));
    m_bystander->call(u"p"_s, {{u"p"_s, u"/data"_s}, {u"d"_s, QJsonObject {{u"a"_s, 1}, {u"b"_s, u"two"_s}}}});
    m_bystander->call(u"q"_s, {{u"p"_s, u"/data"_s}, {u"h"_s, u""_s}});
    m_bystander->call(u"q"_s, {{u"p"_s, u"/bystander"_s}, {u"h"_s, u""_s}});
    m_dataBefore = m_bystander->call(u"g"_s, {{u"p"_s, u"/data"_s}, {u"q"_s, QJsonObject()}});
    QCOMPARE(m_dataBefore.value(u"d"_s), QJsonValue(QJsonObject {{u"a"_s, 1}, {u"b"_s, u"two"_s}}));
}

void FuzzFixture::stopServer()
{
    m_bystander.reset();
    m_db = nullptr;
    m_server.reset();
}

QString FuzzFixture::context(const QString &what) const
{
    return m_case + u": "_s + what;
}

lark::Session *FuzzFixture::sessionById(const QString &id) const
{
    for (lark::Session *s : m_server->sessions()) {
        if (s->id() == id)
            return s;
    }
    return nullptr;
}

QString FuzzFixture::culprits(const QString &problem) const
{
    // The last key named in the problem ("/fuzz/a/.info: key ..." → ".info"), searched in what the server accepted.
    const QString path = problem.section(u": "_s, 0, 0);
    const QString key = path.section(u'/', -1);
    QStringList found;
    for (const QString &w : m_okWrites) {
        if (!key.isEmpty() && w.contains(key))
            found.append(w);
    }
    for (const auto &[handle, ops] : m_fired) {
        for (const QJsonValue &op : ops) {
            const QString text = compact(op.toObject());
            if (!key.isEmpty() && text.contains(key))
                found.append(u"fired by %1: %2"_s.arg(handle, shown(text)));
        }
    }
    if (found.isEmpty())
        return {};
    return u"\n  accepted writes that name \"%1\" (last 3):\n    "_s.arg(shown(key))
        + found.mid(std::max<qsizetype>(0, found.size() - 3)).join(u"\n    "_s);
}

void FuzzFixture::checkStoredTree()
{
    const lark::Node &root = m_db->root();
    if (root.isNull())
        return;
    const QString why = nodeProblem(root, u"/"_s, 0);
    FUZZ_VERIFY(why.isEmpty(), u"the stored tree is corrupt: "_s + why + culprits(why));
    // Every write is under /fuzz: /data and /bystander belong to the bystander.
    for (const auto &[key, child] : root.children()) {
        FUZZ_VERIFY(key == u"data"_s || key == u"fuzz"_s || key == u"bystander"_s,
            u"a fuzz write landed outside /fuzz, at /%1%2"_s.arg(shown(key), culprits(u"/"_s + key + u": "_s)));
    }
    FUZZ_VERIFY(root.priority().isNull(), u"the root got a priority"_s);
}

void FuzzFixture::checkTreeOverTheWire()
{
    // A fresh client reads the whole tree: it must be what the server holds, and a tree Firebase could hold.
    RawClient reader;
    FUZZ_VERIFY(reader.open(m_server->port()), u"a fresh reader got no hello"_s);
    const QJsonObject got = reader.call(u"g"_s, {{u"p"_s, u"/"_s}, {u"q"_s, QJsonObject()}});
    FUZZ_VERIFY(replyStatus(got) == u"ok"_s, u"reading the root failed: "_s + shown(compact(got)));
    const QJsonValue wire = got.value(u"d"_s);
    const QJsonValue local = m_db->valueJson(lark::Path());
    FUZZ_VERIFY(sameJson(wire, local),
        u"the tree over the wire differs from the server's own at "_s + firstDifference(wire, local, u"/"_s));
    const QString why = exportProblem(wire, u"/"_s, 0);
    FUZZ_VERIFY(why.isEmpty(), u"the tree over the wire is not a Firebase tree: "_s + why + culprits(why));
    FUZZ_VERIFY(sameJson(wire.toObject().value(u"data"_s), m_dataBefore.value(u"d"_s)), u"/data changed"_s);

    // The same through a listen (a hash the client cannot have, so the data is pushed even when it is null).
    const lark::Path fuzz(QStringList {u"fuzz"_s});
    FUZZ_VERIFY(replyStatus(reader.call(u"q"_s, {{u"p"_s, u"/fuzz"_s}, {u"h"_s, u"-"_s}})) == u"ok"_s,
        u"listening to /fuzz failed"_s);
    const QJsonObject push = reader.waitPush(pushAt(u"d"_s, u"/fuzz"_s), WaitMs);
    FUZZ_VERIFY(!push.isEmpty(), u"a listen to /fuzz got no data"_s);
    FUZZ_VERIFY(sameJson(pushData(push), m_db->valueJson(fuzz)),
        u"the listen's /fuzz differs from the server's own at "_s
            + firstDifference(pushData(push), m_db->valueJson(fuzz), u"/fuzz"_s));
}
