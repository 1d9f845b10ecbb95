// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtTest
import Lark.Dashboard

// docs/semantics.md §1, last row, through the UI: with kept data (this file's hub has a data file, see
// tst_qml.cpp), "Restart server" brings every session back suspended with a fresh grace; the tabs reconnect and
// resume with their ops; a tab whose network was dropped cannot, and its ops fire when the grace ends.
Item {
    id: root
    width: 1200
    height: 800

    ColumnLayout {
        anchors.fill: parent
        ModePanel {
            id: mode
        }
        ServerPanel {
            id: server
            Layout.fillWidth: true
            Layout.preferredHeight: 200
        }
        TabsPanel {
            id: tabs
            Layout.fillWidth: true
            Layout.fillHeight: true
            windowId: 0
        }
    }

    TestCase {
        id: test
        name: "Restart"
        when: windowShown

        function waitRegistered(tab) {
            tryCompare(tab, "status", "connected", 10000);
            tryCompare(tab, "presenceState", "online", 10000);
            tryVerify(() => Hub.sessions.opCountOfShortId(tab.sessionShort) === 3, 10000);
        }

        function test_restartBringsSessionsBack() {
            verify(Hub.persistent);
            const where = findChild(server, "persistence");
            verify(where.text.indexOf("in ") === 0 && where.text.indexOf("data.lark") > 0, where.text);

            const stays = Hub.tabs.openTab("alice", 0);
            const dropped = Hub.tabs.openTab("bob", 0);
            waitRegistered(stays);
            waitRegistered(dropped);
            const staysId = stays.sessionShort;
            const droppedId = dropped.sessionShort;
            const port = Hub.port();
            mouseClick(findChild(findChild(tabs, "tabCard-" + dropped.tabId), "dropNetwork"));
            compare(dropped.networkMode, "blackhole");

            const apply = findChild(mode, "applyMode");
            compare(apply.text, "Restart server");
            mouseClick(apply);

            // Same port, both tabs still open, both sessions back and suspended before anyone reconnected.
            verify(Hub.persistent);
            compare(Hub.port(), port);
            compare(Hub.tabs.count, 2);
            compare(Hub.sessions.stateOfShortId(staysId), "suspended");
            compare(Hub.sessions.stateOfShortId(droppedId), "suspended");
            compare(Hub.sessions.opCountOfShortId(droppedId), 3);

            // The tab reconnects by itself and resumes: same session, its three ops, nothing fired.
            // (Its status may still say connected from before: wait for the resumed hello itself.)
            tryVerify(() => Hub.sessions.stateOfShortId(staysId) === "live", 10000);
            tryVerify(() => stays.resumed && stays.status === "connected", 10000);
            compare(stays.sessionShort, staysId);
            compare(Hub.sessions.opCountOfShortId(staysId), 3);

            // The dropped tab cannot; its ops fire when the fresh grace (1.5 s) ends, and only its.
            tryVerify(() => Hub.presence.connectionCount("bob") === 0, 10000);
            tryVerify(() => Hub.sessions.stateOfShortId(droppedId) !== "suspended", 5000);
            verify(Hub.sessions.stateOfShortId(droppedId) === "ended" || Hub.sessions.stateOfShortId(droppedId) === "");
            compare(Hub.presence.connectionCount("alice"), 1);
            compare(Hub.sessions.opCountOfShortId(staysId), 3);
        }
    }
}
