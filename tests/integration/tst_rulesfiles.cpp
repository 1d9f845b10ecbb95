// SPDX-License-Identifier: MIT
// --rules and --config on the real server: files loaded at start, reloaded when an editor saves them (by rename or
// in place), a bad reload keeping the rules in force, and the reload revoking what the new rules deny.
#include "rawclient.h"
#include "testserver.h"

#include "server/rulesfiles.h"

#include <QSaveFile>
#include <QTemporaryDir>

using namespace Qt::Literals::StringLiterals;
using namespace lark;

namespace
{

/** Saves as editors do: a new file renamed over the old one (QSaveFile), so the watched inode goes away. */
bool saveByRename(const QString &file, const QByteArray &text)
{
    QSaveFile f(file);
    return f.open(QIODevice::WriteOnly) && f.write(text) == text.size() && f.commit();
}

bool saveInPlace(const QString &file, const QByteArray &text)
{
    QFile f(file);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(text) == text.size();
}

} // namespace

class TestRulesFiles : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void reloadRevokesAndKeepsWatching();
    void badReloadKeepsTheRules();
    void firebaseConfigBothShapes();

private:
    std::unique_ptr<Server> m_server;
    QTemporaryDir m_dir;
};

void TestRulesFiles::init()
{
    QVERIFY(m_dir.isValid());
    m_server = startTestServer();
}

void TestRulesFiles::cleanup()
{
    m_server.reset();
}

void TestRulesFiles::reloadRevokesAndKeepsWatching()
{
    const QString file = m_dir.filePath(u"database.rules.json"_s);
    QVERIFY(saveByRename(file, R"({"rules": {".read": true}})"));
    RulesFiles files(&m_server->rules(), {{u"test"_s, file}});
    QString error;
    QVERIFY2(files.loadAll(&error), qPrintable(error));
    QVERIFY(m_server->rules().hasRules(u"test"_s));
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    QCOMPARE(replyStatus(c.call(u"q"_s, {{u"p"_s, u"/a"_s}, {u"h"_s, u""_s}})), u"ok"_s);

    QSignalSpy loaded(&files, &RulesFiles::loaded);
    QVERIFY(saveByRename(file, R"({"rules": {".read": false}})"));
    QVERIFY(loaded.wait(5000));
    QCOMPARE(loaded.last().at(0).toString(), u"test"_s);
    QVERIFY(!c.waitPush([](const QJsonObject &p) { return p.value(u"a"_s) == u"c"_s; }, 5000).isEmpty());

    // The renamed-over file is watched again: a second save, in place this time, is seen too.
    const int before = int(loaded.count());
    QVERIFY(saveInPlace(file, R"({"rules": {".read": true}})"));
    QTRY_VERIFY_WITH_TIMEOUT(loaded.count() > before, 5000);
    QCOMPARE(replyStatus(c.call(u"q"_s, {{u"p"_s, u"/a"_s}, {u"h"_s, u""_s}})), u"ok"_s);
}

void TestRulesFiles::badReloadKeepsTheRules()
{
    const QString file = m_dir.filePath(u"rules.json"_s);
    const QByteArray good = R"({"rules": {".read": "auth != null"}})";
    QVERIFY(saveByRename(file, good));
    RulesFiles files(&m_server->rules(), {{u"test"_s, file}});
    QString error;
    QVERIFY(files.loadAll(&error));
    QSignalSpy failed(&files, &RulesFiles::failed);
    QVERIFY(saveByRename(file, "{\n  \"rules\": {\n    \".read\": nope\n  }\n}"));
    QVERIFY(failed.wait(5000));
    QVERIFY2(failed.last().at(2).toString().startsWith(u"3:"_s), qPrintable(failed.last().at(2).toString()));
    QCOMPARE(m_server->rules().ruleset(u"test"_s)->source(), good);
}

void TestRulesFiles::firebaseConfigBothShapes()
{
    QVERIFY(QDir(m_dir.path()).mkpath(u"rules"_s));
    QVERIFY(saveByRename(m_dir.filePath(u"rules/a.json"_s), R"({"rules": {".read": false}})"));
    QVERIFY(saveByRename(m_dir.filePath(u"b.json"_s), R"({"rules": {".write": false}})"));
    const QString config = m_dir.filePath(u"firebase.json"_s);
    QVERIFY(saveByRename(config,
        R"({"database": [{"instance": "alpha", "rules": "rules/a.json"}, {"target": "beta", "rules": "b.json"}]})"));
    std::vector<RulesSource> sources;
    QString error;
    QVERIFY2(readFirebaseConfig(config, u"test"_s, &sources, &error), qPrintable(error));
    RulesFiles files(&m_server->rules(), sources);
    QVERIFY2(files.loadAll(&error), qPrintable(error));
    QVERIFY(m_server->rules().hasRules(u"alpha"_s));
    QVERIFY(m_server->rules().hasRules(u"beta"_s));
    RawClient alpha;
    QVERIFY(alpha.open(m_server->port(), u"alpha"_s));
    QCOMPARE(replyStatus(alpha.call(u"g"_s, {{u"p"_s, u"/"_s}})), u"permission_denied"_s);
    RawClient beta;
    QVERIFY(beta.open(m_server->port(), u"beta"_s));
    QCOMPARE(replyStatus(beta.call(u"p"_s, {{u"p"_s, u"/x"_s}, {u"d"_s, 1}})), u"permission_denied"_s);

    // The single-object shape names the default namespace; its file is watched the same way.
    QVERIFY(saveByRename(config, R"({"database": {"rules": "b.json"}})"));
    QVERIFY(readFirebaseConfig(config, u"test"_s, &sources, &error));
    QCOMPARE(sources, (std::vector<RulesSource> {{u"test"_s, m_dir.filePath(u"b.json"_s)}}));
    RulesFiles single(&m_server->rules(), sources);
    QVERIFY(single.loadAll(&error));
    RawClient c;
    QVERIFY(c.open(m_server->port()));
    QCOMPARE(replyStatus(c.call(u"p"_s, {{u"p"_s, u"/x"_s}, {u"d"_s, 1}})), u"permission_denied"_s);
    QSignalSpy loaded(&single, &RulesFiles::loaded);
    QVERIFY(saveByRename(m_dir.filePath(u"b.json"_s), R"({"rules": {".write": true}})"));
    QTRY_VERIFY_WITH_TIMEOUT(!loaded.isEmpty(), 5000);
    QCOMPARE(replyStatus(c.call(u"p"_s, {{u"p"_s, u"/x"_s}, {u"d"_s, 1}})), u"ok"_s);
}

QTEST_GUILESS_MAIN(TestRulesFiles)
#include "tst_rulesfiles.moc"
