// SPDX-License-Identifier: MIT
// Runs the presence example of docs/client.md (compiled from the page) as real processes: two copies count as
// two connections, and a killed copy's entry is removed by the server once it is detected dead.

#include "testserver.h"

#include "client/database.h"

#include <QJsonObject>
#include <QProcess>
#include <QTest>

#include <memory>

using namespace Qt::Literals::StringLiterals;
using namespace lark::client;

class TstPresenceExample : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void twoCopiesThenOneKilled();
};

namespace
{

std::unique_ptr<QProcess> startExample(const lark::Server &server, const QString &uid)
{
    auto p = std::make_unique<QProcess>();
    p->setProgram(QStringLiteral(LARK_EXAMPLE_PATH));
    p->setArguments({server.url(), uid});
    p->start();
    return p;
}

} // namespace

void TstPresenceExample::twoCopiesThenOneKilled()
{
    auto server = startTestServer();
    Database observer(QUrl(server->url()), server->config().defaultNamespace);
    int count = -1;
    bool lastSeen = false;
    const Subscription listen
        = observer.ref(u"presence/carol"_s).on(Event::Value, this, [&](const DataSnapshot &s, const QString &) {
              count = s.child(u"connections"_s).childCount();
              lastSeen = s.child(u"lastSeen"_s).exists();
          });

    auto first = startExample(*server, u"carol"_s);
    QVERIFY(first->waitForStarted());
    QString output;
    QTRY_VERIFY_WITH_TIMEOUT(
        (output += QString::fromUtf8(first->readAllStandardOutput())).contains(u"carol is online"_s), 15000);
    QTRY_COMPARE_WITH_TIMEOUT(count, 1, 10000);

    auto second = startExample(*server, u"carol"_s);
    QVERIFY(second->waitForStarted());
    QTRY_COMPARE_WITH_TIMEOUT(count, 2, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(
        (output += QString::fromUtf8(first->readAllStandardOutput())).contains(u"carol has 2 connection(s)"_s), 10000);
    QVERIFY(!lastSeen);

    // A killed process sends no close frame: the server fires its ops after detection and grace.
    second->kill();
    QVERIFY(second->waitForFinished());
    QTRY_COMPARE_WITH_TIMEOUT(count, 1, 15000);
    QVERIFY(lastSeen);
    first->kill();
    QVERIFY(first->waitForFinished());
    QTRY_COMPARE_WITH_TIMEOUT(count, 0, 15000);
}

QTEST_GUILESS_MAIN(TstPresenceExample)
#include "tst_presence_example.moc"
