// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtTest
import Lark.Dashboard

// Issue #16's defects, one test each, through the panels against the real embedded server (tst_qml.cpp's hub,
// in memory). Each fails without its fix.
Item {
    id: root
    width: 1100
    height: 1000

    RowLayout {
        anchors.fill: parent
        ColumnLayout {
            Layout.preferredWidth: 520
            Layout.fillHeight: true
            ModePanel {
                id: mode
            }
            ServerPanel {
                id: server
                Layout.fillWidth: true
                Layout.preferredHeight: 300
            }
            TabsPanel {
                id: tabs
                windowId: 0
                Layout.fillWidth: true
                Layout.fillHeight: true
            }
        }
        DataTreePanel {
            id: data
            Layout.fillWidth: true
            Layout.fillHeight: true
        }
    }

    TestCase {
        id: test
        name: "Defects"
        when: windowShown

        function registered(tab) {
            tryCompare(tab, "presenceState", "online", 10000);
            tryVerify(() => Hub.sessions.opCountOfShortId(tab.sessionShort) === 3, 10000);
        }

        function button(tab, name) {
            return findChild(findChild(tabs, "tabCard-" + tab.tabId), name);
        }

        function setField(parent, name, text) {
            const f = findChild(parent, name);
            f.text = text;
            return f;
        }

        function test_B04_timerErrorIsReadInFull() {
            test.setField(server, "pingField", "5");
            test.setField(server, "deadField", "1");
            test.setField(server, "graceField", "1");
            mouseClick(findChild(server, "applyTimers"));
            const error = findChild(server, "timerError");
            verify(error.text.length > 30, error.text);
            verify(!error.truncated, "cut off: " + error.text);
            verify(error.width <= server.width);
            // Put the fields back as the hub has them.
            test.setField(server, "pingField", String(Hub.pingIntervalMs / 1000));
            test.setField(server, "deadField", String(Hub.deadAfterMs / 1000));
            test.setField(server, "graceField", String(Hub.graceMs / 1000));
        }

        function test_B11_offlineTabCannotBlipOrDrop() {
            const t = Hub.tabs.openTab("dora", 0);
            test.registered(t);
            verify(test.button(t, "blip").enabled);
            verify(test.button(t, "dropNetwork").enabled);
            t.goOffline();
            tryCompare(t, "status", "offline", 5000);
            verify(!test.button(t, "blip").enabled);
            verify(!test.button(t, "dropNetwork").enabled);
            verify(test.button(t, "goOffline").enabled); // "Go online" is what is left to do
            Hub.tabs.closeTab(t.tabId);
        }

        function test_B12_errorDoesNotMoveTheEditorRow() {
            const set = findChild(data, "editSet");
            test.setField(data, "editPath", "/b12");
            test.setField(data, "editValue", "1");
            mouseClick(set);
            tryVerify(() => findChild(data, "editError").text === "");
            wait(50);
            const before = set.mapToItem(root, 0, 0).y;
            test.setField(data, "editValue", "{not json");
            mouseClick(set);
            verify(findChild(data, "editError").text !== "");
            wait(50);
            compare(set.mapToItem(root, 0, 0).y, before);
            compare(Hub.tree.removePath("/b12"), "");
        }

        function test_B07_unfilterWorksWherePathBarPoints() {
            compare(Hub.tree.setJson("/b7/a", "1"), "");
            compare(Hub.tree.setJson("/b7/b", "2"), "");
            test.setField(data, "editPath", "/b7");
            mouseClick(findChild(data, "goPath"));
            test.setField(data, "filterChild", "");
            test.setField(data, "filterValue", "a");
            mouseClick(findChild(data, "applyFilter"));
            compare(findChild(data, "editError").text, "");
            compare(Hub.tree.filterOf("/b7"), "key == \"a\"");
            test.setField(data, "editPath", "/elsewhere");
            const unfilter = findChild(data, "clearFilter");
            verify(unfilter.enabled);
            verify(unfilter.text.indexOf("/b7") > 0, unfilter.text);
            mouseClick(unfilter);
            verify(!unfilter.enabled);
            compare(Hub.tree.filterOf("/b7"), "");
            compare(Hub.tree.removePath("/b7"), "");
        }

        function test_B02_namespacePickerSaysWhatTheTreeShows() {
            const picker = findChild(data, "nsPicker");
            compare(picker.displayText, Hub.treeNamespace);
            // A client creates a namespace that sorts before the shown one.
            verify(Hub.setTreeNamespace("aaa"));
            verify(Hub.setTreeNamespace("lark"));
            Hub.refreshNamespaces();
            tryVerify(() => Hub.namespaces.indexOf("aaa") === 0);
            compare(Hub.treeNamespace, "lark");
            compare(picker.displayText, "lark");
            compare(picker.currentText, "lark");
        }

        function test_B13_importConfirmationShowsAPath() {
            const confirm = findChild(data, "importConfirm");
            confirm.file = "file:///tmp/some%20file.json"; // what the file dialog hands over
            confirm.open();
            tryCompare(confirm, "opened", true);
            const text = findChild(confirm, "importConfirmText").text;
            verify(text.indexOf("/tmp/some file.json") > 0, text);
            verify(text.indexOf("file://") < 0, text);
            confirm.reject();
            tryCompare(confirm, "visible", false);
            // Export: a file name filled in; Enter saves, and a notice says where.
            compare(Hub.tree.setJson("/b13", "{\"a\": 1}"), "");
            findChild(data, "editPath").text = "/b13";
            const exportDialog = findChild(data, "exportDialog");
            mouseClick(findChild(data, "exportJson"));
            tryCompare(exportDialog, "opened", true);
            const file = findChild(data, "exportFile");
            verify(/lark-lark-b13\.json$/.test(file.text), file.text);
            file.text = "/tmp/lark-tst-defects-" + Date.now() + ".json"; // not the user's documents folder
            const saved = file.text;
            tryVerify(() => file.activeFocus);
            keyClick(Qt.Key_Return);
            tryCompare(exportDialog, "visible", false);
            compare(findChild(data, "editError").text, "");
            compare(Notices.last, "Saved /b13 to " + saved);
            compare(Hub.tree.removePath("/b13"), "");
        }

        function test_B06_eventLogLinesAreReadInFull() {
            // A line longer than the log is wide wraps instead of being cut.
            const t = Hub.tabs.openTab("a-user-with-a-rather-long-name-to-make-the-line-long", 0);
            test.registered(t);
            const log = findChild(server, "eventLog");
            log.positionViewAtEnd();
            wait(50);
            let seen = 0;
            const items = log.contentItem.children;
            for (let i = 0; i < items.length; ++i) {
                const item = items[i];
                const text = findChild(item, "logText");
                if (!text || !item.visible)
                    continue;
                ++seen;
                verify(!text.truncated, "cut off: " + text.text);
                verify(text.wrapMode !== Text.NoWrap);
            }
            verify(seen > 3, seen + " lines checked");
            Hub.tabs.closeTab(t.tabId);
        }

        function test_B18_eventLogFollowsTheEndWhenFull() {
            const full = 40;
            Hub.eventLog.sourceModel.maxRows = full;
            const log = findChild(server, "eventLog");
            // Fill the log, then go on: from then on each new line pushes the oldest out.
            for (let i = 0, after = 0; i < 30 && after < 2; ++i) {
                if (Hub.eventLog.count === full)
                    ++after;
                const t = Hub.tabs.openTab("erin", 0);
                test.registered(t);
                Hub.tabs.closeTab(t.tabId);
                tryVerify(() => Hub.presence.connectionCount("erin") === 0, 5000);
            }
            compare(Hub.eventLog.count, full);
            tryVerify(() => log.atYEnd, 2000, "the newest line is in view: contentY " + log.contentY + " of " + log.contentHeight + " in " + log.height + ", origin " + log.originY);
            verify(log.contentHeight > log.height);
            Hub.eventLog.sourceModel.maxRows = 1000;
        }

        function test_B05_restartInMemoryAsks() {
            const t = Hub.tabs.openTab("fred", 0);
            test.registered(t);
            verify(!Hub.persistent);
            const apply = findChild(mode, "applyMode");
            compare(apply.text, "Restart server");
            const port = Hub.port();
            mouseClick(apply);
            const confirm = findChild(mode, "applyConfirm");
            tryCompare(confirm, "opened", true);
            verify(findChild(confirm, "applyConfirmText").text.indexOf("1 open tab") > 0);
            compare(Hub.tabs.count, 1); // nothing happened yet
            confirm.reject();
            tryCompare(confirm, "visible", false);
            compare(Hub.tabs.count, 1);
            compare(Hub.port(), port);
            Hub.tabs.closeTab(t.tabId);
        }
    }
}
