// SPDX-License-Identifier: MIT
#include "server/heartbeat.h"

#include <QTest>

using namespace lark;

class TestHeartbeat : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pingsEveryInterval();
    void silentAfterAnIntervalAndAHalf();
    void deadAfterDeadAfter();
    void waitingInputIsLife();
    void loopStall();
};

namespace
{
const auto NoInput = [] { return false; };
}

void TestHeartbeat::pingsEveryInterval()
{
    const Heartbeat h(1000, 3000);
    QVERIFY(!h.judge({10000, 9500}, 10000, NoInput).ping);
    QVERIFY(h.judge({10000, 9000}, 10000, NoInput).ping);
}

void TestHeartbeat::silentAfterAnIntervalAndAHalf()
{
    const Heartbeat h(1000, 3000);
    QVERIFY(!h.judge({10000, 10000}, 11600, NoInput).silent); // 1.6 s: within 1.5 intervals + 100 ms
    const Heartbeat::Verdict v = h.judge({10000, 10000}, 11601, NoInput);
    QVERIFY(v.silent);
    QVERIFY(!v.dead);
}

void TestHeartbeat::deadAfterDeadAfter()
{
    const Heartbeat h(1000, 3000);
    QVERIFY(!h.judge({10000, 12000}, 12999, NoInput).dead);
    const Heartbeat::Verdict v = h.judge({10000, 12000}, 13000, NoInput);
    QVERIFY(v.dead);
    QVERIFY(!v.ping); // nothing more is sent to a dead peer
}

void TestHeartbeat::waitingInputIsLife()
{
    const Heartbeat h(1000, 3000);
    int asked = 0;
    const auto waiting = [&] {
        ++asked;
        return true;
    };
    // Asked only when the peer would be dead (the question may cost a system call).
    (void)h.judge({10000, 10000}, 11000, waiting);
    QCOMPARE(asked, 0);
    const Heartbeat::Verdict v = h.judge({10000, 12000}, 13500, waiting);
    QCOMPARE(asked, 1);
    QVERIFY(v.touch);
    QVERIFY(!v.dead);
    QVERIFY(!v.silent);
}

void TestHeartbeat::loopStall()
{
    Heartbeat h(1000, 3000);
    QCOMPARE(h.loopStall(5000, 250), 0); // the first tick has nothing to compare with
    QCOMPARE(h.loopStall(5250, 250), 0);
    QCOMPARE(h.loopStall(6400, 250), 0); // 900 ms late: less than a ping interval, peers could still answer
    QCOMPARE(h.loopStall(8150, 250), 1500); // a SIGSTOP, a laptop's sleep: 1.5 s late
    QCOMPARE(h.loopStall(8400, 250), 0);
    h.setTimers(2000, 6000);
    QCOMPARE(h.loopStall(10150, 250), 0); // 1.5 s late is within the new, longer interval
}

QTEST_GUILESS_MAIN(TestHeartbeat)
#include "tst_heartbeat.moc"
