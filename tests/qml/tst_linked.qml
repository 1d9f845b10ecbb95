// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Layouts
import QtTest
import Lark.Dashboard

// What belongs together is shown together (issue #16): a tab names its session and the session its tab, both
// light up on hover, every session says its namespace, short events leave a timeline and a badge, presence
// follows the namespace picker, and "Connect your app" gives the code for this very server and namespace.
Item {
    id: root
    width: 1400
    height: 1000

    RowLayout {
        anchors.fill: parent
        ColumnLayout {
            Layout.preferredWidth: 600
            Layout.fillHeight: true
            TabsPanel {
                id: tabs
                windowId: 0
                Layout.fillWidth: true
                Layout.fillHeight: true
            }
            ConnectBox {
                id: connect
                Layout.fillWidth: true
            }
        }
        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
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
    }

    TestCase {
        id: test
        name: "Linked"
        when: windowShown

        function registered(tab) {
            tryCompare(tab, "presenceState", "online", 10000);
            tryVerify(() => Hub.sessions.opCountOfShortId(tab.sessionShort) === 3, 10000);
        }

        function test_1_tabAndSessionNameEachOther() {
            const t = Hub.tabs.openTab("alice", 0);
            test.registered(t);
            const tabCard = findChild(tabs, "tabCard-" + t.tabId);
            let card = null;
            tryVerify(() => (card = findChild(sessions, "session-" + t.sessionShort)) !== null, 5000);
            const handle = Hub.sessions.handleOfShortId(t.sessionShort);
            tryCompare(findChild(tabCard, "tabSession"), "text", "session " + handle, 5000);
            tryCompare(findChild(card, "sessionTab"), "text", "Tab " + t.tabId, 5000);
            compare(findChild(card, "sessionNamespace").text, "ns " + Hub.namespaceName);
            // Hovering one lights up both.
            verify(!card.linked && !tabCard.linked);
            mouseMove(tabCard, 10, 10);
            tryVerify(() => card.linked && tabCard.linked, 2000);
            mouseMove(root, 1, 1);
            tryVerify(() => !card.linked, 2000);
            // The lastSeen op reads as the app wrote it.
            const op = findChild(card, "op-/presence/alice/lastSeen");
            verify(op.text.indexOf("serverTimestamp()") > 0, op.text);
            Hub.tabs.closeTab(t.tabId);
            // Once fired, the resolved timestamp says which moment it is, not only the epoch number.
            let fired = null;
            tryVerify(() => (fired = findChild(sessions, "fired-/presence/alice/lastSeen")) !== null, 5000);
            verify(/= \d{13}  \(\d\d:\d\d:\d\d · \d+ s ago\)$/.test(fired.text), fired.text);
        }

        function test_2_blipLeavesATimelineAndBadges() {
            const t = Hub.tabs.openTab("bob", 0);
            test.registered(t);
            const id = t.sessionShort;
            const tabCard = findChild(tabs, "tabCard-" + t.tabId);
            t.blip();
            tryVerify(() => t.resumed && t.status === "connected", 10000);
            // The tab says it reconnected, and the session card that it was suspended and resumed, with when.
            tryVerify(() => findChild(tabCard, "tabBadge").visible, 5000);
            verify(/^reconnected, session resumed after \d+ ms$/.test(findChild(tabCard, "tabBadge").text), findChild(tabCard, "tabBadge").text);
            const card = findChild(sessions, "session-" + id);
            tryVerify(() => findChild(card, "moment-resumed") !== null, 5000);
            verify(findChild(card, "moment-suspended") !== null);
            verify(/^→ resumed \+\d+ ms$/.test(findChild(card, "moment-resumed").text), findChild(card, "moment-resumed").text);
            tryVerify(() => /^resumed after \d+ ms$/.test(findChild(card, "sessionBadge").text), 5000);
            // Badges go after a few seconds; the timeline stays.
            tryVerify(() => !findChild(tabCard, "tabBadge").visible, 8000);
            verify(findChild(card, "moment-resumed") !== null);
            Hub.tabs.closeTab(t.tabId);
        }

        function test_3_presenceFollowsTheNamespacePicker() {
            verify(Hub.setTreeNamespace("other"));
            compare(Hub.tree.setJson("/presence/zoe/connections/c1", "true"), "");
            tryVerify(() => findChild(presence, "presence-zoe") !== null, 5000);
            verify(Hub.setTreeNamespace(Hub.namespaceName));
            tryVerify(() => findChild(presence, "presence-zoe") === null, 5000);
        }

        function test_4_connectYourAppSnippet() {
            const snippet = findChild(connect, "snippet").text;
            const port = String(Hub.port());
            verify(snippet.indexOf("connectDatabaseEmulator(db, '127.0.0.1', " + port + ")") >= 0, snippet);
            verify(snippet.indexOf("?ns=" + Hub.namespaceName + "'") >= 0, snippet);
            compare(connect.pageUrlAs("bob"), Hub.pageUrl.replace("uid=alice", "uid=bob"));
            mouseClick(findChild(connect, "copySnippet"));
            compare(Clipboard.text(), snippet);
            verify(Notices.last.indexOf("Copied") === 0, Notices.last);
        }
    }
}
