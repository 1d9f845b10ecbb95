// SPDX-License-Identifier: MIT
import QtQuick
import QtTest
import Lark.Dashboard

// The live data view against a real embedded server: rows appear, expand lazily, page with "load more", flash
// with the cause of a write, and the admin editor writes through the UI.
Item {
    id: root
    width: 900
    height: 700

    DataTreePanel {
        id: panel
        anchors.fill: parent
    }

    TestCase {
        id: test
        name: "Tree"
        when: windowShown

        property var tree: findChild(panel, "dataTree")

        // The delegate showing a path, if it is in view (delegates are children of the view's content item).
        function rowItem(path) {
            const items = test.tree.contentItem.children;
            for (let i = 0; i < items.length; ++i) {
                if (items[i].path === path && items[i].visible && !items[i].isLoadMore)
                    return items[i];
            }
            return null;
        }

        function rowOf(path) {
            const item = test.rowItem(path);
            return item ? item.row : -1;
        }

        function test_1_rowsAppearAndExpand() {
            verify(test.tree);
            compare(Hub.tree.setJson("/rooms/general/title", "\"General\""), "");
            tryCompare(test.tree, "rows", 1);
            tryVerify(() => test.rowItem("/rooms") !== null);
            test.tree.expand(test.rowOf("/rooms"));
            tryCompare(test.tree, "rows", 2);
            test.tree.expand(test.rowOf("/rooms/general"));
            tryCompare(test.tree, "rows", 3);
            tryVerify(() => test.rowItem("/rooms/general/title") !== null);
            compare(test.rowItem("/rooms/general/title").value, "\"General\"");
        }

        function test_2_changeFlashesWithItsCause() {
            compare(Hub.tree.setJson("/rooms/general/title", "42"), "");
            const row = test.rowItem("/rooms/general/title");
            verify(row);
            compare(row.value, "42");
            compare(row.type, "number");
            compare(row.cause, "admin edit");
            verify(row.flashing);
            // The rows above it changed too (their summaries), and say why.
            compare(test.rowItem("/rooms").cause, "admin edit");
            compare(test.tree.rows, 3); // no row came or went, and nothing collapsed
        }

        function test_3_editorWritesThroughTheUi() {
            const path = findChild(panel, "editPath");
            const value = findChild(panel, "editValue");
            path.text = "/rooms/general/members";
            value.text = "3";
            mouseClick(findChild(panel, "editSet"));
            tryVerify(() => test.rowItem("/rooms/general/members") !== null);
            compare(test.tree.rows, 4);
            mouseClick(findChild(panel, "editDelete"));
            tryCompare(test.tree, "rows", 3);
            value.text = "{not json";
            mouseClick(findChild(panel, "editSet"));
            compare(test.tree.rows, 3);
        }

        function test_4_bigListsLoadMore() {
            let many = {};
            for (let i = 0; i < 60; ++i)
                many["k" + String(i).padStart(3, "0")] = i;
            compare(Hub.tree.setJson("/many", JSON.stringify(many)), "");
            tryVerify(() => test.rowItem("/many") !== null);
            const before = test.tree.rows;
            test.tree.expand(test.rowOf("/many"));
            tryCompare(test.tree, "rows", before + 51); // a page of 50, then the load-more row
            const moreRow = test.rowOf("/many") + 51;
            const more = test.tree.modelIndex(Qt.point(0, moreRow));
            verify(Hub.tree.data(more, DataTreeModel.IsLoadMoreRow));
            compare(Hub.tree.data(more, DataTreeModel.RemainingRole), 10);
            Hub.tree.loadMore(more);
            tryCompare(test.tree, "rows", before + 60);
        }

        function test_5_restartGivesAnEmptyServerAndTheViewFollows() {
            const oldPort = Hub.port();
            verify(test.tree.rows > 0);
            verify(Hub.restart(0));
            verify(Hub.running);
            verify(Hub.port() !== oldPort);
            tryCompare(test.tree, "rows", 0);
            compare(Hub.tree.setJson("/fresh", "1"), "");
            tryCompare(test.tree, "rows", 1);
        }
    }
}
