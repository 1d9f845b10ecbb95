// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Layouts
import QtTest
import Lark.Dashboard

// A dropped network that comes back within the grace, driven through the UI against the real embedded server:
// the session is resumed, nothing fires, presence never moves (docs/semantics.md §1, third row).
Item {
    id: root
    width: 1400
    height: 900

    RowLayout {
        anchors.fill: parent
        TabsPanel {
            id: tabs
            windowId: 0
            Layout.fillWidth: true
            Layout.fillHeight: true
        }
        SessionsPanel {
            id: sessions
            Layout.fillWidth: true
            Layout.fillHeight: true
        }
    }

    TestCase {
        id: test
        name: "Resume"
        when: windowShown

        // Its own process (one ctest per file): a grace long enough to press Restore on a loaded machine, while
        // detection stays 1 s.
        function initTestCase() {
            compare(Hub.setTimers(50, 1000, 4000), "");
        }

        function button(tab, name) {
            const card = findChild(tabs, "tabCard-" + tab.tabId);
            verify(card, "card of tab " + tab.tabId);
            const b = findChild(card, name);
            verify(b, name);
            return b;
        }

        function sessionCard(shortId) {
            return findChild(sessions, "session-" + shortId);
        }

        function stateText(shortId) {
            const card = test.sessionCard(shortId);
            return card ? findChild(card, "sessionState").text : "";
        }

        function opPaths(shortId) {
            const row = Hub.sessions.rowOfShortId(shortId);
            if (row < 0)
                return [];
            const ops = Hub.sessions.data(Hub.sessions.index(row, 0), SessionsModel.OpsRole);
            let paths = [];
            for (let i = 0; i < ops.length; ++i)
                paths.push((ops[i].cancelled ? "cancelled " : "") + ops[i].kind + " " + ops[i].path);
            return paths.sort();
        }

        function test_restoreWithinGraceResumes() {
            const t = Hub.tabs.openTab("zoe", 0);
            verify(t);
            tryCompare(t, "status", "connected", 10000);
            tryCompare(t, "presenceState", "online", 10000);
            tryVerify(() => Hub.sessions.opCountOfShortId(t.sessionShort) === 3, 10000);
            tryVerify(() => Hub.presence.connectionCount("zoe") === 1, 10000);
            const session = t.sessionShort;
            const handle = Hub.sessions.data(Hub.sessions.index(Hub.sessions.rowOfShortId(session), 0),
                                             SessionsModel.HandleRole);
            const queued = test.opPaths(session);
            compare(queued.length, 3);
            compare(Hub.firedOps.count, 0);

            // Everything the user sees from here on: the presence count and the tab's status, as they change.
            let counts = [];
            const watchPresence = () => counts.push(Hub.presence.connectionCount("zoe"));
            Hub.presence.dataChanged.connect(watchPresence);
            Hub.presence.rowsRemoved.connect(watchPresence);
            let statuses = [];
            const watchTab = () => { if (statuses[statuses.length - 1] !== t.status) statuses.push(t.status); };
            t.changed.connect(watchTab);

            mouseClick(test.button(t, "dropNetwork"));
            compare(t.networkMode, "blackhole");
            // The server stops hearing from it (pings every 50 ms), then drops it at dead-after (1 s) and suspends it.
            tryVerify(() => test.stateText(session).indexOf("silent") === 0, 5000, "silent: " + test.stateText(session));
            tryVerify(() => test.stateText(session).indexOf("suspended · fires in") === 0, 5000,
                      "suspended: " + test.stateText(session));
            compare(Hub.sessions.opCountOfShortId(session), 3);
            compare(t.status, "connected", "the tab itself has not noticed anything");
            const suspendedRow = Hub.sessions.index(Hub.sessions.rowOfShortId(session), 0);
            const fireAt = Date.now() + Hub.sessions.data(suspendedRow, SessionsModel.GraceRemainingMsRole);
            let fired = false;
            const watchFired = () => fired = true;
            Hub.firedOps.countChanged.connect(watchFired);

            mouseClick(test.button(t, "restoreNetwork"));
            compare(t.networkMode, "pass");
            // The proxy now tells the tab its link is gone: it reconnects with `ls` and resumes within the grace.
            tryVerify(() => statuses.indexOf("reconnecting") >= 0, 5000, "Reconnecting: " + statuses);
            const banner = findChild(findChild(tabs, "tabCard-" + t.tabId), "banner");
            tryCompare(banner, "status", "connected", 10000);
            tryVerify(() => t.resumed, 5000, "resumed");
            verify(findChild(banner, "bannerText").text.indexOf("resumed") >= 0, findChild(banner, "bannerText").text);
            compare(t.sessionShort, session, "the same session");

            // The server's side: the same row, live again, resumed once, with the same queued ops.
            tryVerify(() => test.stateText(session) === "live", 5000, "live: " + test.stateText(session));
            const row = Hub.sessions.rowOfShortId(session);
            compare(Hub.sessions.data(Hub.sessions.index(row, 0), SessionsModel.HandleRole), handle);
            compare(Hub.sessions.data(Hub.sessions.index(row, 0), SessionsModel.ResumesRole), 1);
            tryCompare(t, "presenceState", "online", 10000);
            compare(test.opPaths(session), queued);
            const card = test.sessionCard(session);
            verify(findChild(card, "op-/presence/zoe/lastSeen"), "lastSeen op listed");
            verify(findChild(card, "op-/status/zoe/online"), "flag op listed");

            // Nothing can be seen *not* firing before the grace the session had would have ended: wait past it.
            tryVerify(() => Date.now() > fireAt + 500, 10000);
            Hub.firedOps.countChanged.disconnect(watchFired);
            verify(!fired);
            compare(Hub.firedOps.count, 0);
            compare(findChild(sessions, "firedList").count, 0);
            compare(test.stateText(session), "live");
            compare(test.opPaths(session), queued);
            compare(Hub.presence.connectionCount("zoe"), 1);
            for (let i = 0; i < counts.length; ++i)
                compare(counts[i], 1, "presence count seen while dropped and restored: " + counts);

            Hub.presence.dataChanged.disconnect(watchPresence);
            Hub.presence.rowsRemoved.disconnect(watchPresence);
            t.changed.disconnect(watchTab);
            Hub.tabs.closeTab(t.tabId);
        }
    }
}
