// SPDX-License-Identifier: MIT
import QtQuick
import QtTest
import Lark.Dashboard

// The tab controls against a real embedded server (short timers from tst_qml.cpp's setup).
Item {
    id: root
    width: 900
    height: 800

    TabsPanel {
        id: panel
        anchors.fill: parent
        windowId: 0
    }

    TestCase {
        id: test
        name: "Tabs"
        when: windowShown

        function cardOf(tab) {
            return findChild(panel, "tabCard-" + tab.tabId);
        }

        function buttonOf(tab, name) {
            const card = test.cardOf(tab);
            verify(card, "card of tab " + tab.tabId);
            const button = findChild(card, name);
            verify(button, name + " of tab " + tab.tabId);
            return button;
        }

        function waitRegistered(tab) {
            tryCompare(tab, "status", "connected", 10000);
            tryCompare(tab, "presenceState", "online", 10000);
            tryVerify(() => Hub.sessions.opCountOfShortId(tab.sessionShort) === 3, 10000);
        }

        function test_1_closeTabFiresItsOpsAtOnce() {
            verify(Hub.running);
            const a = Hub.tabs.openTab("alice", 0);
            const b = Hub.tabs.openTab("alice", 0);
            waitRegistered(a);
            waitRegistered(b);
            tryCompare(a, "connectionCount", 2, 10000);
            const before = Hub.sessions.queuedOpCount;
            const closed = a.sessionShort;
            const ended = Hub.tabs.count - 1;

            mouseClick(buttonOf(a, "closeTab"));

            compare(Hub.tabs.count, ended);
            // Detection (1 s) + grace (1.5 s) is 2.5 s here: only the close frame can fire within this timeout.
            tryCompare(b, "connectionCount", 1, 1800);
            tryVerify(() => Hub.sessions.opCountOfShortId(closed) === 0, 1800);
            compare(Hub.sessions.queuedOpCount, before - 3);
            compare(Hub.sessions.opCountOfShortId(b.sessionShort), 3);
            compare(Hub.presence.connectionCount("alice"), 1);
            Hub.tabs.closeTab(b.tabId);
            tryCompare(Hub.sessions, "queuedOpCount", before - 6, 5000);
        }

        function test_2_blipReconnectsAndKeepsOps() {
            const t = Hub.tabs.openTab("bob", 0);
            waitRegistered(t);
            const session = t.sessionShort;
            const banner = findChild(test.cardOf(t), "banner");
            verify(banner);
            compare(banner.status, "connected");
            let sawReconnecting = false;
            const watch = () => { if (t.status === "reconnecting") sawReconnecting = true; };
            t.changed.connect(watch);

            mouseClick(buttonOf(t, "blip"));

            tryVerify(() => sawReconnecting, 5000, "the banner went to Reconnecting");
            tryCompare(banner, "status", "connected", 10000);
            verify(t.resumed, "the session was resumed");
            compare(t.sessionShort, session);
            compare(Hub.sessions.opCountOfShortId(session), 3);
            verify(findChild(banner, "bannerText").text.indexOf("resumed") >= 0);
            Hub.tabs.closeTab(t.tabId);
        }

        function test_3_dropNetworkSuspendsThenFires() {
            const t = Hub.tabs.openTab("carol", 0);
            waitRegistered(t);
            const session = t.sessionShort;
            mouseClick(buttonOf(t, "dropNetwork"));
            compare(t.networkMode, "blackhole");
            // Detection (1 s) and grace (1.5 s): the ops stay queued until the grace ends, then fire.
            tryVerify(() => Hub.sessions.opCountOfShortId(session) === 0, 10000);
            compare(Hub.presence.connectionCount("carol"), 0);
            mouseClick(buttonOf(t, "restoreNetwork"));
            // Back on the network the client learns its link died and starts a new session.
            tryCompare(t, "status", "connected", 10000);
            tryVerify(() => t.sessionShort !== session, 10000);
            verify(!t.resumed);
            Hub.tabs.closeTab(t.tabId);
        }

        function test_4_reloadStartsANewSessionAndTheOldOneFiresAfterGrace() {
            const t = Hub.tabs.openTab("dave", 0);
            waitRegistered(t);
            const old = t.sessionShort;
            mouseClick(buttonOf(t, "reload"));
            waitRegistered(t);
            verify(t.sessionShort !== old, "a new session");
            verify(!t.resumed);
            // The old session lost its link without a close: it is suspended and still holds its entry.
            tryVerify(() => Hub.sessions.data(Hub.sessions.index(Hub.sessions.rowOfShortId(old), 0), SessionsModel.StateRole) === "suspended", 5000);
            compare(Hub.presence.connectionCount("dave"), 2);
            // When the grace (1.5 s) ends its ops fire: the stale entry goes, the new one stays.
            tryCompare(t, "connectionCount", 1, 10000);
            compare(Hub.sessions.opCountOfShortId(old), 0);
            compare(Hub.sessions.opCountOfShortId(t.sessionShort), 3);
            Hub.tabs.closeTab(t.tabId);
        }

        function test_6_goOfflineThenOnline() {
            const t = Hub.tabs.openTab("frank", 0);
            waitRegistered(t);
            const first = t.sessionShort;
            const banner = findChild(test.cardOf(t), "banner");
            const toggle = buttonOf(t, "goOffline");
            compare(toggle.text, "Go offline");
            mouseClick(toggle);
            // goOffline() is a clean close: the ops fire at once and the banner goes grey.
            compare(banner.status, "offline");
            compare(findChild(banner, "bannerText").text, "Offline");
            tryVerify(() => Hub.sessions.opCountOfShortId(first) === 0, 1800);
            tryVerify(() => Hub.presence.connectionCount("frank") === 0, 1800); // the server's view: the tab is offline
            compare(toggle.text, "Go online");
            mouseClick(toggle);
            waitRegistered(t);
            verify(t.sessionShort !== first, "a new session");
            compare(t.connectionCount, 1);
            Hub.tabs.closeTab(t.tabId);
        }

        function test_5_tabsBelongToTheirWindow() {
            const windowId = Hub.newWindow();
            verify(windowId > 0);
            const t = Hub.tabs.openTab("erin", windowId);
            waitRegistered(t);
            compare(Hub.presence.connectionCount("erin"), 1);
            const card = test.cardOf(t);
            verify(card);
            verify(!card.visible, "a tab of another window is not shown in this one");
            compare(Hub.tabs.countInWindow(windowId), 1);
            Hub.closeWindow(windowId);
            compare(Hub.tabs.countInWindow(windowId), 0);
            tryVerify(() => Hub.presence.connectionCount("erin") === 0, 10000);
        }
    }
}
