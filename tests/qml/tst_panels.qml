// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Layouts
import QtTest
import Lark.Dashboard

// The presence and sessions panels against a real embedded server (short timers from tst_qml.cpp's setup).
Item {
    id: root
    width: 1000
    height: 900

    ColumnLayout {
        anchors.fill: parent
        PresencePanel {
            id: presence
            Layout.fillWidth: true
        }
        SessionsPanel {
            id: sessions
            Layout.fillWidth: true
            Layout.fillHeight: true
        }
    }

    TestCase {
        id: test
        name: "Panels"
        when: windowShown

        function registered(tab) {
            tryCompare(tab, "presenceState", "online", 10000);
            tryVerify(() => Hub.sessions.opCountOfShortId(tab.sessionShort) === 3, 10000);
        }

        function stateText(tab) {
            const card = findChild(sessions, "session-" + tab.sessionShort);
            return card ? findChild(card, "sessionState").text : "";
        }

        function test_1_booleanFlagPitfallIsShown() {
            const a = Hub.tabs.openTab("alice", 0);
            const b = Hub.tabs.openTab("alice", 0);
            test.registered(a);
            test.registered(b);
            let row = null;
            tryVerify(() => (row = findChild(presence, "presence-alice")) !== null && row.connectionCount === 2, 10000);
            verify(row.online);
            verify(!row.flagWrong);
            compare(findChild(row, "flag").text, "true");
            compare(test.stateText(a), "live");

            const closed = a.sessionShort;
            Hub.tabs.closeTab(a.tabId);
            // One tab left: the per-connection count says online, the boolean flag says offline.
            tryCompare(row, "connectionCount", 1, 5000);
            verify(row.online);
            verify(row.flagWrong);
            verify(findChild(row, "flag").text.indexOf("says offline") >= 0, findChild(row, "flag").text);
            tryVerify(() => {
                const card = findChild(sessions, "session-" + closed);
                return card && findChild(card, "sessionState").text === "ended · clean close";
            }, 5000);
            Hub.tabs.closeTab(b.tabId);
            tryCompare(row, "online", false, 5000);
            verify(row.lastSeen > 0);
        }

        function test_2_silentThenSuspendedWithCountdown() {
            const t = Hub.tabs.openTab("bob", 0);
            test.registered(t);
            t.dropNetwork();
            // Detection is 1 s with 50 ms pings: first silent, then suspended with the grace (1.5 s) counting down.
            tryVerify(() => test.stateText(t).indexOf("silent") === 0, 5000, "silent");
            tryVerify(() => test.stateText(t).indexOf("suspended · fires in") === 0, 5000, "suspended");
            Hub.tabs.closeTab(t.tabId);
        }

        function test_3_queuedOpsShowTimeAndCancelledOnesStayStruckThrough() {
            Hub.sessions.cancelledLingerMs = 1500;
            const t = Hub.tabs.openTab("carol", 0);
            test.registered(t);
            let card = null;
            tryVerify(() => (card = findChild(sessions, "session-" + t.sessionShort)) !== null, 5000);
            let op = null;
            tryVerify(() => (op = findChild(card, "op-/status/carol/online")) !== null, 5000);
            verify(!op.cancelled);
            verify(!op.font.strikeout);
            // The registration time, as the server recorded it (hh:mm:ss).
            verify(/^  \d\d:\d\d:\d\d  set \/status\/carol\/online = false$/.test(op.text), op.text);

            t.cancelFlagOp();
            tryVerify(() => Hub.sessions.opCountOfShortId(t.sessionShort) === 2, 5000);
            tryVerify(() => (op = findChild(card, "op-/status/carol/online")) !== null && op.cancelled, 5000);
            verify(op.font.strikeout);
            verify(op.text.indexOf("(cancelled ") > 0, op.text);
            // It goes after a while; the other ops stay.
            tryVerify(() => findChild(card, "op-/status/carol/online") === null, 5000);
            verify(findChild(card, "op-/presence/carol/lastSeen") !== null);
            Hub.tabs.closeTab(t.tabId);
        }
    }
}
