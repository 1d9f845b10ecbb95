// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls
import QtTest
import Lark.Dashboard

// The whole dashboard window at the sizes people use (issue #16): at 1024×700 and at 1920×1080 every visible
// control lies inside the window (or inside a scrollable area that holds it), no text is cut off without a way to
// read it, and Tab walks the window in reading order, header first, data tree included.
Item {
    id: root
    width: 200
    height: 100

    Component {
        id: windowComponent
        DashboardWindow {
            windowId: 0
        }
    }

    TestCase {
        id: test
        name: "Layout"
        when: windowShown

        // Every item under item, depth first in tree order.
        function collect(item, out) {
            for (let i = 0; i < item.children.length; ++i) {
                const child = item.children[i];
                out.push(child);
                test.collect(child, out);
            }
            return out;
        }

        function isFlickable(item) {
            return item.contentItem !== undefined && item.contentY !== undefined && item.flicking !== undefined;
        }

        // The nearest Flickable above item (a ScrollView's, a ListView), or null.
        function flickableOf(item) {
            for (let p = item.parent; p; p = p.parent) {
                if (test.isFlickable(p))
                    return p;
            }
            return null;
        }

        function describe(item) {
            let names = [];
            for (let p = item; p; p = p.parent) {
                if (p.objectName)
                    names.unshift(p.objectName);
            }
            return String(item) + (item.text !== undefined ? " \"" + item.text + "\"" : "") + " in " + names.join("/");
        }

        function openWindow(width, height) {
            const w = createTemporaryObject(windowComponent, null, { width: width, height: height });
            verify(w);
            w.show();
            tryCompare(w, "visible", true);
            waitForRendering(w.contentItem);
            return w;
        }

        // Controls and texts that are shown, with a size (Popups and their contents are not in the tree until open).
        function shownControls(w) {
            return test.collect(w.contentItem, []).filter(item => item.visible && item.width > 0 && item.height > 0
                                                                  && item.font !== undefined && item.opacity > 0);
        }

        function checkInside(w) {
            const problems = [];
            for (const item of test.shownControls(w)) {
                const p = item.mapToItem(null, 0, 0);
                const flick = test.flickableOf(item);
                if (!flick) {
                    if (p.x < -0.5 || p.y < -0.5 || p.x + item.width > w.width + 0.5 || p.y + item.height > w.height + 0.5)
                        problems.push(test.describe(item) + " at " + p.x + "," + p.y + " " + item.width + "×" + item.height);
                    continue;
                }
                // In a scrollable area: inside what it scrolls over, and across within its visible width when it
                // does not scroll sideways.
                const c = item.mapToItem(flick.contentItem, 0, 0);
                const f = flick.mapToItem(null, 0, 0);
                const scrollsAcross = flick.contentWidth > flick.width + 0.5;
                const right = scrollsAcross ? flick.contentWidth : flick.width;
                if (c.x - flick.contentX < -0.5 && !scrollsAcross || c.x + item.width > right + flick.contentX + 0.5 && !scrollsAcross)
                    problems.push(test.describe(item) + " sticks out of its scroll area sideways at " + c.x + " (" + item.width + " wide, area " + flick.width + ")");
                // A scroll area inside another is checked against that one, as the item was.
                if (!test.flickableOf(flick) && (f.x + flick.width > w.width + 0.5 || f.y + flick.height > w.height + 0.5))
                    problems.push(test.describe(flick) + " (a scroll area) extends past the window");
            }
            return [...new Set(problems)];
        }

        function checkElision(w) {
            const problems = [];
            for (const item of test.shownControls(w)) {
                if (item.truncated === true && item.fullTextOnHover !== true)
                    problems.push(test.describe(item) + " is cut off with no way to read it");
            }
            return problems;
        }

        function settle() {
            // A tab, sessions, presence and data, as a user has them.
            const t = Hub.tabs.openTab("alice", 0);
            tryCompare(t, "presenceState", "online", 10000);
            tryVerify(() => Hub.sessions.opCountOfShortId(t.sessionShort) === 3, 10000);
            return t;
        }

        function test_1_smallWindow() {
            const t = test.settle();
            const w = test.openWindow(1024, 700);
            verify(!w.wide);
            wait(200);
            verify(test.shownControls(w).length > 80, "only " + test.shownControls(w).length + " controls shown");
            const inside = test.checkInside(w);
            verify(inside.length === 0, inside.join("\n"));
            const cut = test.checkElision(w);
            verify(cut.length === 0, cut.join("\n"));
            Hub.tabs.closeTab(t.tabId);
        }

        function test_2_largeWindow() {
            const t = test.settle();
            const w = test.openWindow(1920, 1080);
            verify(w.wide);
            wait(200);
            verify(test.shownControls(w).length > 80, "only " + test.shownControls(w).length + " controls shown");
            const inside = test.checkInside(w);
            verify(inside.length === 0, inside.join("\n"));
            const cut = test.checkElision(w);
            verify(cut.length === 0, cut.join("\n"));
            Hub.tabs.closeTab(t.tabId);
        }

        function test_3_minimumSize() {
            const w = test.openWindow(1024, 700);
            verify(w.minimumWidth >= 800 && w.minimumWidth <= 1024, "minimum width " + w.minimumWidth);
            verify(w.minimumHeight >= 500 && w.minimumHeight <= 700, "minimum height " + w.minimumHeight);
            // B17: a strong focus ring (tst_theme.qml checks its contrast).
            compare(String(w.palette.highlight), String(Theme.focusRing));
            // B14: the platform adds the application's name; the title says which server, once.
            verify(w.title.indexOf("Lark") < 0, w.title);
            verify(w.title.indexOf(Hub.serverUrl) === 0, w.title);
        }

        // The panel an item belongs to, by the objectNames DashboardWindow gives them.
        function panelOf(item) {
            const panels = ["header", "tabsPanel", "casesPanel", "connectBox", "serverPanel", "presencePanel", "sessionsPanel", "dataTabs", "dataPanel"];
            for (let p = item; p; p = p.parent) {
                const i = panels.indexOf(p.objectName);
                if (i >= 0)
                    return i;
            }
            return -1;
        }

        function test_4_keyboardWalk() {
            const t = test.settle();
            const w = test.openWindow(1920, 1080);
            w.requestActivate();
            const first = w.contentItem.nextItemInFocusChain(true);
            verify(first);
            compare(test.panelOf(first), 0, "Tab starts in the header, not at " + test.describe(first));
            const seen = [];
            let item = first;
            let lastPanel = 0;
            for (let i = 0; i < 400 && item; ++i) {
                const panel = test.panelOf(item);
                if (panel >= 0) {
                    // Reading order: the header, the left column top to bottom, then the right column.
                    verify(panel >= lastPanel, test.describe(item) + " comes after a later panel");
                    lastPanel = panel;
                }
                seen.push(item);
                item = item.nextItemInFocusChain(true);
                if (item === first)
                    break;
            }
            compare(item, first, "the chain comes back to the start");
            const tree = seen.find(i => i.objectName === "dataTree");
            verify(tree, "the data tree is reachable with Tab");
            // Every shown, enabled button can be reached.
            for (const b of test.shownControls(w)) {
                if (b.checkable !== undefined && b.clicked !== undefined && b.enabled && b.focusPolicy !== Qt.NoFocus)
                    verify(seen.indexOf(b) >= 0, test.describe(b) + " cannot be reached with Tab");
            }
            // In the tree the arrows move the current row.
            tree.forceActiveFocus();
            verify(tree.activeFocus);
            keyClick(Qt.Key_Down);
            tryVerify(() => tree.selectionModel.currentIndex.valid, 2000, "Down picks a row");
            Hub.tabs.closeTab(t.tabId);
        }
    }
}
