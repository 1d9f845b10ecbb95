// SPDX-License-Identifier: MIT
// The Rules panel's model against a real embedded server over loopback: it reads and replaces the rules through
// the server's endpoint, keeps the rules in force when the server refuses a file and says where, and checks
// without installing.
#include "modelfixtures.h"
#include "models/ruleseditor.h"
#include "server/server.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using namespace Qt::Literals::StringLiterals;
using lark::models::RulesEditor;

namespace
{

const QString Presence = u"{\"rules\": {\n  // each user writes only their own entry\n"
                         "  \"presence\": {\"$uid\": {\".read\": true, \".write\": \"$uid === auth.uid\"}}\n}}\n"_s;

bool settle(RulesEditor &e)
{
    return QTest::qWaitFor([&] { return !e.isBusy(); }, 10000);
}

} // namespace

class TstRulesEditor : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void loadsApplyAndChecks();
    void refusedFileKeepsTheRulesAndSaysWhere();
    void wrongCredentialIsReported();
    void readsAFileIntoTheEditor();
};

void TstRulesEditor::loadsApplyAndChecks()
{
    auto server = startServer(50, 400, 300);
    RulesEditor e;
    QVERIFY(!e.isAvailable());
    e.setServer(QUrl(server->url()), u"owner"_s);
    QVERIFY(e.isAvailable());
    e.load(u"test"_s);
    QVERIFY(e.isBusy());
    QVERIFY(settle(e));
    // No rules: the server's open default.
    QCOMPARE(QJsonDocument::fromJson(e.source().toUtf8()).object(),
        (QJsonObject {{u"rules"_s, QJsonObject {{u".read"_s, true}, {u".write"_s, true}}}}));
    QVERIFY(e.error().isEmpty());

    QSignalSpy applied(&e, &RulesEditor::applied);
    e.apply(Presence);
    QVERIFY(settle(e));
    QCOMPARE(applied.size(), 1);
    QVERIFY2(e.error().isEmpty(), qPrintable(e.error()));
    QVERIFY(e.status().startsWith(u"applied at "_s));
    QCOMPARE(e.source(), Presence);
    QVERIFY(server->rules().hasRules(u"test"_s));
    QCOMPARE(server->rules().ruleset(u"test"_s)->source(), Presence.toUtf8());

    // A check installs nothing.
    e.check(u"{\"rules\": {\".read\": false}}"_s);
    QVERIFY(settle(e));
    QVERIFY(e.error().isEmpty());
    QVERIFY(e.status().startsWith(u"the server would accept"_s));
    QCOMPARE(server->rules().ruleset(u"test"_s)->source(), Presence.toUtf8());
    QCOMPARE(applied.size(), 1);

    // Another namespace has rules of its own.
    e.load(u"other"_s);
    QVERIFY(settle(e));
    QCOMPARE(e.namespaceName(), u"other"_s);
    QVERIFY(e.source() != Presence);

    e.setServer({}, {});
    QVERIFY(!e.isAvailable());
    QVERIFY(e.source().isEmpty());
}

void TstRulesEditor::refusedFileKeepsTheRulesAndSaysWhere()
{
    auto server = startServer(50, 400, 300);
    RulesEditor e;
    e.setServer(QUrl(server->url()), u"owner"_s);
    e.load(u"test"_s);
    QVERIFY(settle(e));
    e.apply(Presence);
    QVERIFY(settle(e));

    QSignalSpy applied(&e, &RulesEditor::applied);
    e.apply(u"{\"rules\": {\n  \".read\": \"auth.uid\"\n}}"_s); // not a boolean
    QVERIFY(settle(e));
    QCOMPARE(applied.size(), 0);
    QCOMPARE(e.errorLine(), 2);
    QCOMPARE(e.errorColumn(), 12); // the rule's string, where the server points
    QVERIFY2(e.error().startsWith(u"2:12: "_s), qPrintable(e.error()));
    QVERIFY(!e.error().endsWith(u'\n'));
    QCOMPARE(e.source(), Presence); // still the rules in force
    QCOMPARE(server->rules().ruleset(u"test"_s)->source(), Presence.toUtf8());

    // The next success clears the error.
    e.apply(Presence);
    QVERIFY(settle(e));
    QVERIFY(e.error().isEmpty());
    QCOMPARE(e.errorLine(), 0);
}

void TstRulesEditor::wrongCredentialIsReported()
{
    auto server = startServer(50, 400, 300);
    RulesEditor e;
    e.setServer(QUrl(server->url()), u"not-the-admin"_s);
    e.load(u"test"_s);
    QVERIFY(settle(e));
    QVERIFY2(e.error().contains(u"admin"_s), qPrintable(e.error()));
    QCOMPARE(e.errorLine(), 0);
    e.apply(Presence);
    QVERIFY(settle(e));
    QVERIFY(!server->rules().hasRules(u"test"_s));

    // A server that is gone.
    const QUrl gone = QUrl(server->url());
    server.reset();
    e.setServer(gone, u"owner"_s);
    e.load(u"test"_s);
    QVERIFY(settle(e));
    QVERIFY2(e.error().startsWith(u"the server did not answer"_s), qPrintable(e.error()));
}

void TstRulesEditor::readsAFileIntoTheEditor()
{
    QTemporaryDir dir;
    QFile f(dir.filePath(u"database.rules.json"_s));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(Presence.toUtf8());
    f.close();
    RulesEditor e;
    QCOMPARE(e.readFile(QUrl::fromLocalFile(f.fileName())), Presence);
    QVERIFY(e.error().isEmpty());
    QVERIFY(e.readFile(QUrl::fromLocalFile(dir.filePath(u"missing.json"_s))).isEmpty());
    QVERIFY(e.error().startsWith(u"cannot read "_s));
}

QTEST_MAIN(TstRulesEditor)
#include "tst_ruleseditor.moc"
