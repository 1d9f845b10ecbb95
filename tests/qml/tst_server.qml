// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtTest
import Lark.Dashboard

// The mode choice and the server panel against a real embedded server (short timers from tst_qml.cpp's setup):
// timers applied live from the fields, the event log and its filter, switching Host ↔ Connect with the UI, and
// whether the data is kept.
Item {
    id: root
    width: 1200
    height: 700

    ColumnLayout {
        anchors.fill: parent
        ModePanel {
            id: mode
        }
        ServerPanel {
            id: panel
            Layout.fillWidth: true
            Layout.fillHeight: true
        }
    }

    TestCase {
        id: test
        name: "Server"
        when: windowShown

        function setField(name, text) {
            const f = findChild(panel, name) || findChild(mode, name);
            verify(f, name);
            f.text = text;
        }

        function logLines() {
            const lines = [];
            for (let r = 0; r < Hub.eventLog.count; ++r)
                lines.push(Hub.eventLog.lineAt(r));
            return lines;
        }

        function test_0_persistenceIsShown() {
            // The setup's hub runs in memory; the toggle says what the next restart will do.
            const box = findChild(panel, "keepData");
            const where = findChild(panel, "persistence");
            verify(box.visible);
            tryVerify(() => !isPolishScheduled(panel) && box.width > 0, 5000);
            compare(Hub.persistent, false);
            compare(box.checked, false);
            compare(where.text, "in memory only");
            mouseClick(box);
            compare(Hub.keepData, true);
            compare(where.text, "in memory until the next restart");
            mouseClick(box);
            compare(Hub.keepData, false);
            compare(where.text, "in memory only");
        }

        function test_1_summaryAndTimers() {
            const t = Hub.tabs.openTab("alice", 0);
            tryCompare(t, "presenceState", "online", 10000);
            const summary = findChild(panel, "serverSummary");
            tryVerify(() => summary.text.indexOf("1 connection ") >= 0 && summary.text.indexOf("1 session") >= 0, 5000, summary.text);
            verify(summary.text.indexOf(Hub.serverUrl) === 0);

            test.setField("pingField", "0.05");
            test.setField("deadField", "0.4");
            test.setField("graceField", "0.3");
            mouseClick(findChild(panel, "applyTimers"));
            compare(findChild(panel, "timerError").text, "");
            compare(Hub.deadAfterMs, 400);
            compare(Hub.graceMs, 300);
            // A refused combination says why and changes nothing.
            test.setField("deadField", "0.01");
            mouseClick(findChild(panel, "applyTimers"));
            verify(findChild(panel, "timerError").text !== "");
            compare(Hub.deadAfterMs, 400);

            // The new timers rule: a dropped tab's session is suspended, then fires, within about a second.
            t.dropNetwork();
            tryVerify(() => test.logLines().some(l => l.indexOf(" suspend ") > 0), 5000, "suspend logged");
            tryVerify(() => test.logLines().some(l => l.indexOf(" fire ") > 0), 5000, "fire logged");
            tryVerify(() => test.logLines().some(l => l.indexOf(" end ") > 0), 5000);
            Hub.tabs.closeTab(t.tabId);
        }

        function test_2_filter() {
            const all = Hub.eventLog.count;
            verify(all > 3);
            test.setField("logFilter", "fire");
            verify(Hub.eventLog.count >= 1 && Hub.eventLog.count < all);
            for (const line of test.logLines())
                verify(line.toLowerCase().indexOf("fire") >= 0, line);
            test.setField("logFilter", "");
            compare(Hub.eventLog.count, all);
        }

        function test_3_switchModesWithTheUi() {
            const connect = findChild(mode, "modeConnect");
            mouseClick(connect);
            verify(findChild(mode, "urlField").visible);
            verify(!findChild(mode, "portField").visible);
            // Nothing listens on port 1: connect mode starts and keeps retrying, which the UI says.
            test.setField("urlField", "ws://127.0.0.1:1");
            wait(100);
            mouseClick(findChild(mode, "applyMode"));
            compare(Hub.mode, "connect");
            verify(Hub.remote);
            compare(Hub.tree, null); // the remote namespace's copy appears with its first snapshot: nothing answers
            compare(Hub.connectUrl, "ws://127.0.0.1:1");
            verify(!findChild(panel, "applyTimers").enabled); // a remote server's timers are its own
            verify(!findChild(panel, "keepData").enabled); // and so is its data file
            compare(findChild(panel, "persistence").text, "set on the remote server (lark-server --data)");

            mouseClick(findChild(mode, "modeHost"));
            test.setField("portField", "0");
            tryVerify(() => findChild(mode, "portField").visible);
            wait(100); // the row lays itself out again before the button is where a click lands
            mouseClick(findChild(mode, "applyMode"));
            compare(Hub.mode, "host");
            verify(Hub.running);
            verify(Hub.tree !== null);
            verify(Hub.port() > 0);
            compare(Hub.connectUrl, "ws://127.0.0.1:1"); // kept for the next switch
        }
    }
}
