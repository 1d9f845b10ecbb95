// SPDX-License-Identifier: MIT
// The dashboard's Hub in host mode, on its embedded server with real clients over loopback: its models under
// QAbstractItemModelTester, a busy port, restarts with and without kept data, a failing data file, live timers,
// namespaces, import and export, and the users a tab can be opened as. Connect mode: tst_hub_remote.cpp.
#include "client/database.h"
#include "hubfixtures.h"
#include "modelfixtures.h"
#include "models/datatreemodel.h"
#include "models/hub.h"
#include "models/sessionsmodel.h"
#include "server/server.h"
#include "server/session.h"
#include "server/sqlitebackend.h"
#include "server/store.h"
#include "tabs/tab.h"
#include "tabs/tabsmodel.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using namespace Qt::Literals::StringLiterals;
using lark::client::Database;

class TstHubHost : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void busyPortFallsBackToAFreeOne();
    void restartOnAnotherPort();
    void restartWithDataKeepsSessions();
    void failedDataFileIsShown();
    void timersChangeLive();
    void namespacesImportExportClear();
    void usersAreValidKeysFromPresenceAndTabs();
    void demoRunsUnderPresenceRules();
};

void TstHubHost::busyPortFallsBackToAFreeOne()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    lark::models::HubConfig config;
    config.port = squatter.serverPort();
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QVERIFY(hub.isRunning());
    QVERIFY(!hub.serverUrl().endsWith(u":%1"_s.arg(squatter.serverPort())));
    QVERIFY2(hub.hostMessage().contains(u"is busy"_s), qPrintable(hub.hostMessage()));
    QVERIFY(hub.serverUrl().startsWith(u"ws://127.0.0.1:"_s));
}

void TstHubHost::restartOnAnotherPort()
{
    lark::models::HubConfig config;
    config.port = 0;
    config.reconnectDelayMs = 50;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QAbstractItemModelTester sessionsTester(hub.sessions(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester presenceTester(hub.presence(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy resets(hub.sessions(), &QAbstractItemModel::modelAboutToBeReset);
    lark::tabs::Tab *tab = hub.tabs()->openTab(u"alice"_s, 0);
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(u"alice"_s), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(tab->sessionShort()), 3, 10000);
    const int oldPort = hub.port();
    const int oldNumber = hub.sessions()->handleOfShortId(tab->sessionShort()).mid(1).toInt();
    QVERIFY(oldNumber > 0);

    QTcpServer probe; // a port that is free now
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const int newPort = probe.serverPort();
    probe.close();
    QVERIFY(hub.restart(newPort));
    QCOMPARE(hub.port(), newPort);
    QVERIFY(hub.port() != oldPort);
    QCOMPARE(hub.tabs()->rowCount(), 0);
    QCOMPARE(hub.sessions()->rowCount(), 0);
    QCOMPARE(hub.presence()->connectionCount(u"alice"_s), 0); // a new, empty database
    QVERIFY(hub.tree());
    QCOMPARE(hub.tree()->rowCount(), 0);

    // And it works like the first one.
    lark::tabs::Tab *again = hub.tabs()->openTab(u"bob"_s, 0);
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(u"bob"_s), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(again->sessionShort()), 3, 10000);
    QVERIFY(hub.tree()->rowCount() > 0);
    QCOMPARE(resets.size(), 0);
    // B8: the new server's handles go on from the old one's; the fired ops still name the old session alone.
    QVERIFY2(hub.sessions()->handleOfShortId(again->sessionShort()).mid(1).toInt() > oldNumber,
        qPrintable(hub.sessions()->handleOfShortId(again->sessionShort())));
}

void TstHubHost::restartWithDataKeepsSessions()
{
    // docs/semantics.md §1, last row, through the dashboard: "Restart server" with data kept brings every session
    // back suspended; the tabs reconnect and resume with their ops, a tab whose network is down cannot, and its
    // ops fire after the fresh grace.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    lark::models::HubConfig config;
    config.port = 0;
    config.pingIntervalMs = 50;
    config.deadAfterMs = 400;
    config.graceMs = 1500;
    config.reconnectDelayMs = 50;
    config.keepData = true;
    config.dataFile = dir.filePath(u"sub/data.lark"_s); // the folder is created
    lark::models::Hub hub(config);
    QSignalSpy persistence(&hub, &lark::models::Hub::persistenceChanged);
    QVERIFY(hub.start());
    QVERIFY(hub.isPersistent());
    QVERIFY(QFile::exists(config.dataFile));
    {
        // A second dashboard on the same file still gets a server, in memory, and says why.
        lark::models::Hub other(config);
        QVERIFY(other.start());
        QVERIFY(!other.isPersistent());
        QVERIFY2(other.hostMessage().contains(u"data is not kept"_s) && other.hostMessage().contains(u"in use"_s),
            qPrintable(other.hostMessage()));
    }
    QAbstractItemModelTester sessionsTester(hub.sessions(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester presenceTester(hub.presence(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    using S = lark::models::SessionsModel;
    const auto stateOf = [&](const QString &shortId) {
        const int row = hub.sessions()->rowOfShortId(shortId);
        return row < 0 ? QString() : hub.sessions()->index(row).data(S::StateRole).toString();
    };

    lark::tabs::Tab *stays = hub.tabs()->openTab(u"alice"_s, 0);
    lark::tabs::Tab *dropped = hub.tabs()->openTab(u"bob"_s, 0);
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(u"alice"_s), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(u"bob"_s), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(stays->sessionShort()), 3, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(dropped->sessionShort()), 3, 10000);
    const QString staysId = stays->sessionShort(), droppedId = dropped->sessionShort();
    dropped->dropNetwork();
    const int port = hub.port();

    QVERIFY(hub.restart(port));
    QVERIFY(hub.isPersistent());
    QCOMPARE(hub.port(), port);
    QCOMPARE(hub.tabs()->rowCount(), 2); // the tabs stay open
    // Both sessions are back, suspended, before anyone reconnected; the data too.
    QCOMPARE(stateOf(staysId), u"suspended"_s);
    QCOMPARE(stateOf(droppedId), u"suspended"_s);
    QCOMPARE(hub.presence()->connectionCount(u"bob"_s), 1);

    // The tab reconnects by itself and resumes: same session, ops kept, nothing fired.
    // (The server's side turns live before the client has read its hello: wait for the client's view too.)
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(staysId), u"live"_s, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(stays->resumed(), 10000);
    QCOMPARE(stays->sessionShort(), staysId);
    QCOMPARE(hub.sessions()->opCountOfShortId(staysId), 3);
    // The dropped tab cannot: its ops fire once the fresh grace ends, and only its.
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(u"bob"_s), 0, 10000);
    QVERIFY(stateOf(droppedId) == u"ended"_s || stateOf(droppedId).isEmpty()); // ended rows linger a while
    QVERIFY(stateOf(staysId) != u"ended"_s);
    QCOMPARE(hub.presence()->connectionCount(u"alice"_s), 1);

    // Keeping data off applies from the next restart, which is then the old one: tabs closed, an empty server.
    hub.setKeepData(false);
    QCOMPARE(persistence.size(), 1);
    QVERIFY(hub.isPersistent());
    QVERIFY(hub.restart(0));
    QVERIFY(!hub.isPersistent());
    QCOMPARE(hub.tabs()->rowCount(), 0);
    QCOMPARE(hub.sessions()->rowCount(), 0);
}

void TstHubHost::failedDataFileIsShown()
{
    // A commit that fails leaves the server refusing writes until a restart: the dashboard must say so, not
    // carry on as if data were kept.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    lark::models::HubConfig config;
    config.port = 0;
    config.keepData = true;
    config.dataFile = dir.filePath(u"data.lark"_s);
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QVERIFY(hub.isPersistent());
    QVERIFY2(hub.hostMessage().isEmpty(), qPrintable(hub.hostMessage()));
    QSignalSpy running(&hub, &lark::models::Hub::runningChanged);
    lark::sqliteStore(hostServer(hub)->backend())->setCommitFailureForTesting(u"disk full"_s);

    Database db(QUrl(hostServer(hub)->url()), config.ns, fast());
    QString status;
    db.ref(u"x"_s).set(1, &db, [&](const lark::client::Error &e) { status = e.isOk() ? u"ok"_s : e.toString(); });
    QTRY_VERIFY_WITH_TIMEOUT(!status.isEmpty(), 10000);
    QVERIFY2(status.contains(u"write_failed"_s, Qt::CaseInsensitive), qPrintable(status));
    QVERIFY(!running.isEmpty());
    QVERIFY2(hub.hostMessage().contains(u"data file failed"_s) && hub.hostMessage().contains(u"disk full"_s)
            && hub.hostMessage().contains(u"refused until the server restarts"_s),
        qPrintable(hub.hostMessage()));
}

void TstHubHost::timersChangeLive()
{
    lark::models::HubConfig config;
    config.port = 0;
    config.pingIntervalMs = 5000;
    config.deadAfterMs = 60000;
    config.graceMs = 60000;
    config.reconnectDelayMs = 50;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QSignalSpy timers(&hub, &lark::models::Hub::timersChanged);
    lark::tabs::Tab *tab = hub.tabs()->openTab(u"alice"_s, 0);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(tab->sessionShort()), 3, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(hub.connectionCount(), 1, 5000);
    QCOMPARE(hub.sessions()->activeCount(), 1);
    QVERIFY(!hub.setTimers(100, 50, 10).isEmpty()); // dead-after shorter than a ping: refused
    QCOMPARE(timers.size(), 0);
    QCOMPARE(hub.setTimers(50, 300, 200), QString());
    QCOMPARE(timers.size(), 1);
    QCOMPARE(hostServer(hub)->config().deadAfterMs, 300);
    QCOMPARE(hub.graceMs(), 200);
    // With the old timers a dropped tab would stay for over a minute; with the new ones it fires in well under 5 s.
    const QString shortId = tab->sessionShort();
    tab->dropNetwork();
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()
                                  ->index(hub.sessions()->rowOfShortId(shortId))
                                  .data(lark::models::SessionsModel::StateRole)
                                  .toString(),
        u"ended"_s, 5000);
    QCOMPARE(hub.sessions()->activeCount(), 0);
}

void TstHubHost::namespacesImportExportClear()
{
    using M = lark::models::DataTreeModel;
    lark::models::HubConfig config;
    config.port = 0;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    QCOMPARE(hub.namespaces(), QStringList {u"lark"_s});
    QTemporaryDir dir;
    const QString in = dir.filePath(u"in.json"_s);
    QFile f(in);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"rooms":{"a":{"n":1},"b":{"n":2}}})");
    f.close();
    QCOMPARE(hub.importFile(u"/imported"_s, QUrl::fromLocalFile(in)), QString());
    const QModelIndex imported = hub.tree()->index(0, 0);
    QCOMPARE(imported.data(M::KeyRole).toString(), u"imported"_s);
    QCOMPARE(imported.data(M::CauseRole).toString(), u"import"_s);
    QVERIFY(!hub.importJson(u"/x"_s, u"{broken"_s).isEmpty());

    const QString out = dir.filePath(u"out.json"_s);
    QCOMPARE(hub.exportFile(u"/imported/rooms"_s, QUrl::fromLocalFile(out)), QString());
    QFile o(out);
    QVERIFY(o.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(o.readAll()).object(),
        QJsonDocument::fromJson(R"({"a":{"n":1},"b":{"n":2}})").object());
    QCOMPARE(hub.exportJson(u"/imported/rooms/a/n"_s).trimmed(), u"1"_s);
    QCOMPARE(hub.exportJson(u"/nothing"_s), u"null"_s);

    // Another namespace: created on demand, listed, shown on its own.
    QVERIFY(hub.setTreeNamespace(u"other"_s));
    QCOMPARE(hub.treeNamespace(), u"other"_s);
    QCOMPARE(hub.namespaces(), (QStringList {u"lark"_s, u"other"_s}));
    QCOMPARE(hub.tree()->rowCount(), 0);
    QVERIFY(hub.setTreeNamespace(u"lark"_s));
    QCOMPARE(hub.tree()->rowCount(), 1);

    QAbstractItemModelTester tester(hub.tree(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(hub.clearData(), QString());
    QCOMPARE(hub.tree()->rowCount(), 0);
    QCOMPARE(hub.tree()->lastCause(), u"admin edit"_s);
    QCOMPARE(hub.newPushId().size(), 20);
}

void TstHubHost::usersAreValidKeysFromPresenceAndTabs()
{
    lark::models::HubConfig config;
    config.port = 0;
    config.reconnectDelayMs = 50;
    lark::models::Hub hub(config);
    QVERIFY(hub.start());
    const QStringList defaults {u"alice"_s, u"bob"_s, u"carol"_s};
    QCOMPARE(hub.users(), defaults);
    QSignalSpy changed(&hub, &lark::models::Hub::usersChanged);

    // Firebase key rules, each with its reason; and the presence entry's path must fit in 768 bytes.
    QCOMPARE(hub.uidProblem(u"zoe"_s), QString());
    QCOMPARE(hub.uidProblem(u"Zoë Ω 42"_s), QString());
    QVERIFY(hub.uidProblem(QString()).contains(u"empty"_s));
    for (const QString &bad : {u"a.b"_s, u"a$"_s, u"#a"_s, u"a[0]"_s, u"a/b"_s})
        QVERIFY2(hub.uidProblem(bad).contains(u". $ # [ ] /"_s), qPrintable(bad));
    QVERIFY(hub.uidProblem(u"a\nb"_s).contains(u"control character"_s));
    QVERIFY(hub.uidProblem(QString(1, QChar(127))).contains(u"control character"_s));
    QVERIFY(hub.uidProblem(QString(769, u'x')).contains(u"768 bytes"_s));
    QVERIFY(hub.uidProblem(QString(726, u'x')).contains(u"too long"_s));
    QCOMPARE(hub.uidProblem(QString(725, u'x')), QString());
    QCOMPARE(hub.tabs()->openTab(u"a.b"_s, 0), nullptr);
    QCOMPARE(hub.tabs()->openTab(QString(726, u'x'), 0), nullptr);
    QCOMPARE(hub.tabs()->rowCount(), 0);
    QCOMPARE(changed.size(), 0);

    // A tab opened as a new user lists that user at once; the longest id that fits really signs a tab in.
    lark::tabs::Tab *zoe = hub.tabs()->openTab(u"zoe"_s, 0);
    QVERIFY(zoe);
    QCOMPARE(hub.users(), defaults + QStringList {u"zoe"_s});
    QCOMPARE(changed.size(), 1);
    const QString longest(725, u'x');
    lark::tabs::Tab *x = hub.tabs()->openTab(longest, 0);
    QVERIFY(x);
    QTRY_COMPARE_WITH_TIMEOUT(x->presenceState(), u"online"_s, 10000);
    QCOMPARE(x->lastError(), QString());
    QTRY_COMPARE_WITH_TIMEOUT(hub.presence()->connectionCount(longest), 1, 10000);

    // Users only the data knows about (another client's) are listed too, in key order after the defaults.
    QCOMPARE(hub.importJson(u"/presence/quinn"_s, u"{\"lastSeen\": 1}"_s), QString());
    QCOMPARE(hub.importJson(u"/status/mallory"_s, u"{\"online\": false}"_s), QString());
    const QStringList seen = defaults + QStringList {u"mallory"_s, u"quinn"_s, longest, u"zoe"_s};
    QTRY_COMPARE_WITH_TIMEOUT(hub.users(), seen, 10000);

    // Gone from the data and from the tabs: no longer offered. The defaults always are.
    hub.tabs()->closeTab(zoe->tabId());
    hub.tabs()->closeTab(x->tabId());
    QCOMPARE(hub.clearData(), QString());
    QTRY_COMPARE_WITH_TIMEOUT(hub.users(), defaults, 10000);
}

void TstHubHost::demoRunsUnderPresenceRules()
{
    lark::models::Hub hub(hostConfig());
    QVERIFY(hub.start());
    hub.startDemo();
    lark::Server *server = hostServer(hub);
    QVERIFY(server->rules().hasRules(hub.namespaceName()));
    QVERIFY(eventsContain(hub, u"demo presence rules loaded"_s));
    // The Rules panel shows the file the demo loaded.
    QTRY_VERIFY_WITH_TIMEOUT(hub.rules()->source().contains(u"each user writes only their own entries"_s), 10000);
    // The tabs' own writes and onDisconnect ops pass the rules: each has its three ops queued, nothing denied.
    QCOMPARE(hub.tabs()->rowCount(), 3);
    for (int r = 0; r < 3; ++r) {
        lark::tabs::Tab *tab = hub.tabs()->at(r);
        QTRY_COMPARE_WITH_TIMEOUT(tab->presenceState(), u"online"_s, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(tab->sessionShort()), 3, 10000);
        QVERIFY2(tab->lastError().isEmpty(), qPrintable(tab->lastError()));
    }
    QVERIFY(!eventsContain(hub, u"), by /"_s));

    // alice writing bob's entry is refused, and the dashboard says by which rule.
    lark::tabs::Tab *alice = hub.tabs()->at(0);
    QCOMPARE(alice->uid(), u"alice"_s);
    alice->writeOthersEntry(u"bob"_s);
    QTRY_VERIFY_WITH_TIMEOUT(!alice->lastError().isEmpty(), 10000);
    QVERIFY2(alice->lastError().contains(u"PERMISSION_DENIED"_s), qPrintable(alice->lastError()));
    QTRY_VERIFY_WITH_TIMEOUT(
        eventsContain(hub, u" set as user:alice at /presence/bob/connections/intruder-alice (lark), by "_s), 5000);
    QVERIFY(eventsContain(hub, u"/presence/$uid .write: \"auth != null && auth.uid === $uid\""_s));

    // An anonymous tab is a signed-in user of its own under the same rules: its presence passes, the server knows
    // it as an anonymous sign-in, and it may not write alice's entry either.
    lark::tabs::Tab *anon = hub.tabs()->openAnonymousTab(0);
    QVERIFY(anon && anon->anonymous());
    QTRY_COMPARE_WITH_TIMEOUT(anon->presenceState(), u"online"_s, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(hub.sessions()->opCountOfShortId(anon->sessionShort()), 3, 10000);
    QVERIFY2(anon->lastError().isEmpty(), qPrintable(anon->lastError()));
    const lark::Session *session = nullptr;
    for (const lark::Session *s : server->sessions()) {
        if (s->id().startsWith(anon->sessionShort()))
            session = s;
    }
    QVERIFY(session);
    QCOMPARE(session->identity().uid, anon->uid());
    QCOMPARE(session->identity().provider, u"anonymous"_s);
    QCOMPARE(session->identity().toAuthJson().value(u"provider"_s).toString(), u"anonymous"_s);
    anon->writeOthersEntry(u"alice"_s);
    QTRY_VERIFY_WITH_TIMEOUT(anon->lastError().contains(u"PERMISSION_DENIED"_s), 10000);
}

QTEST_GUILESS_MAIN(TstHubHost)
#include "tst_hub_host.moc"
