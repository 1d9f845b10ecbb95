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
        // (Not the content item's children: pooled delegates stay there, culled, with their last row's data.)
        function rowItem(path) {
            for (let r = 0; r < test.tree.rows; ++r) {
                const item = test.tree.itemAtCell(Qt.point(0, r));
                if (item && item.path === path && !item.isLoadMore)
                    return item;
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
            verify(test.tree.rows > 0);
            verify(Hub.restart(0));
            verify(Hub.running);
            // Port 0 asks the kernel for any free port, which may be the one just released: the empty tree below
            // is what shows a new server, not a different port.
            verify(Hub.port() > 0);
            tryCompare(test.tree, "rows", 0);
            compare(Hub.tree.setJson("/fresh", "1"), "");
            tryCompare(test.tree, "rows", 1);
        }

        function test_6_pathBarNavigatesAndExpands() {
            compare(Hub.tree.setJson("/deep/a/b/c", "1"), "");
            tryVerify(() => test.rowItem("/deep") !== null);
            verify(test.rowItem("/deep/a") === null); // collapsed
            findChild(panel, "editPath").text = "/deep/a/b";
            mouseClick(findChild(panel, "goPath"));
            tryVerify(() => test.rowItem("/deep/a/b/c") !== null, 5000, "expanded down to the path");
            findChild(panel, "editPath").text = "/deep/nothing";
            mouseClick(findChild(panel, "goPath"));
            verify(findChild(panel, "editError").text.indexOf("not in the data") > 0);
        }

        function test_7_filterChildrenFromTheUi() {
            compare(Hub.tree.setJson("/people", '{"p1":{"age":30},"p2":{"age":40},"p3":{"age":50}}'), "");
            findChild(panel, "editPath").text = "/people";
            mouseClick(findChild(panel, "goPath"));
            tryVerify(() => test.rowItem("/people/p1") !== null);
            findChild(panel, "filterChild").text = "age";
            findChild(panel, "filterOp").currentIndex = 1; // >=
            findChild(panel, "filterValue").text = "40";
            mouseClick(findChild(panel, "applyFilter"));
            compare(findChild(panel, "editError").text, "");
            tryVerify(() => test.rowItem("/people/p1") === null, 5000, "p1 filtered out");
            verify(test.rowItem("/people/p2") !== null);
            verify(test.rowItem("/people").filter.indexOf("age >= 40") === 0, test.rowItem("/people").filter);
            compare(test.rowItem("/people").matched, 2);
            mouseClick(findChild(panel, "clearFilter"));
            tryVerify(() => test.rowItem("/people/p1") !== null, 5000, "p1 back");
        }

        function test_8_addChildEditInPlaceCopyPath() {
            findChild(panel, "editPath").text = "/people";
            mouseClick(findChild(panel, "copyPath"));
            compare(Clipboard.text(), "/people");
            mouseClick(findChild(panel, "addChild"));
            const path = findChild(panel, "editPath").text;
            verify(/^\/people\/[-_0-9A-Za-z]{20}$/.test(path), path);
            findChild(panel, "editValue").text = '{"age": 60}';
            mouseClick(findChild(panel, "editSet"));
            tryVerify(() => test.rowItem(path) !== null, 5000, "the new child is shown");
            compare(test.rowItem(path).cause, "admin edit");

            // Edit a leaf in place: the row's editor writes on Enter.
            findChild(panel, "editPath").text = "/people/p1";
            mouseClick(findChild(panel, "goPath"));
            let row = null;
            tryVerify(() => (row = test.rowItem("/people/p1/age")) !== null);
            mouseDoubleClickSequence(row, row.width * 0.25, row.height / 2);
            const editor = findChild(row, "inlineEditor");
            if (!row.editing) { // the value label may sit elsewhere in a narrow row
                row.editing = true;
                editor.text = row.value;
            }
            compare(editor.text, "30");
            editor.text = "31";
            editor.accepted();
            tryCompare(row, "value", "31");
            verify(!row.editing);
        }

        function test_9_deleteAtTheRootAsksFirst() {
            const confirm = findChild(panel, "clearConfirm");
            findChild(panel, "editPath").text = "/";
            mouseClick(findChild(panel, "editDelete"));
            tryCompare(confirm, "opened", true);
            confirm.reject();
            tryCompare(confirm, "visible", false);
            verify(test.tree.rows > 0); // nothing deleted without a yes
            mouseClick(findChild(panel, "clearData"));
            tryCompare(confirm, "opened", true);
            confirm.accept();
            tryCompare(test.tree, "rows", 0);
        }

        function test_9a_flashesStayWithTheirRows() {
            // B1: a row flashes only when a write touched it, with that write's cause, whatever delegate shows it.
            // Scrolling hands the delegates of rows that left the view to rows that come into it.
            panel.flashMs = 800;
            const children = {};
            for (let i = 0; i < 40; ++i)
                children["k" + String(i).padStart(2, "0")] = i;
            compare(Hub.tree.setJson("/b1", JSON.stringify(children)), "");
            tryVerify(() => test.rowItem("/b1") !== null);
            test.tree.expand(test.rowOf("/b1"));
            tryVerify(() => test.rowItem("/b1/k00") !== null);
            const shown = () => {
                const out = [];
                for (let r = 0; r < test.tree.rows; ++r) {
                    const item = test.tree.itemAtCell(Qt.point(0, r));
                    if (item)
                        out.push(item);
                }
                return out;
            };
            tryVerify(() => !shown().some(i => i.flashing), 3000, "flashes over");
            compare(Hub.tree.setJson("/b1/k00", "\"x\""), "");
            compare(Hub.tree.setJson("/b1/k01", "\"x\""), "");
            verify(test.rowItem("/b1/k00").flashing);
            test.tree.positionViewAtRow(test.tree.rows - 1, TableView.AlignBottom);
            tryVerify(() => test.rowItem("/b1/k39") !== null);
            wait(50);
            const wrong = shown().filter(i => i.flashing && ["/b1/k00", "/b1/k01", "/b1"].indexOf(i.path) < 0);
            verify(wrong.length === 0, "flashing without a write: " + wrong.map(i => i.path + " ← " + i.cause).join(", "));
            test.tree.positionViewAtRow(0, TableView.AlignTop);
            compare(Hub.tree.removePath("/b1"), "");
            panel.flashMs = 2500;
        }

        function test_9c_aColourPerChangeKind() {
            compare(Hub.tree.setJson("/ck/a", "1"), "");
            tryVerify(() => test.rowItem("/ck") !== null);
            compare(test.rowItem("/ck").changeKind, "added");
            test.tree.expand(test.rowOf("/ck"));
            tryVerify(() => test.rowItem("/ck/a") !== null);
            compare(Hub.tree.setJson("/ck/a", "2"), "");
            compare(test.rowItem("/ck/a").changeKind, "changed");
            compare(test.rowItem("/ck").changeKind, "changed");
            compare(Hub.tree.setJson("/ck/b", "3"), "");
            tryVerify(() => test.rowItem("/ck/b") !== null);
            compare(test.rowItem("/ck/b").changeKind, "added");
            compare(Hub.tree.removePath("/ck/a"), "");
            const ck = test.rowItem("/ck");
            compare(ck.changeKind, "removed");
            compare(ck.removed, "a");
            verify(ck.flashing);
            compare(findChild(ck, "changeNote").text, "removed a ← admin edit");
            // Each kind has its own colour.
            verify(String(Theme.flashAdded) !== String(Theme.flash) && String(Theme.flashRemoved) !== String(Theme.flash));
        }

        function test_9d_rowActionsKeysBreadcrumbAndMoments() {
            const path = findChild(panel, "editPath");
            compare(Hub.tree.setJson("/ck/t", String(Date.now() - 3000)), "");
            tryVerify(() => test.rowItem("/ck/t") !== null);
            const when = findChild(test.rowItem("/ck/t"), "when");
            verify(when.visible);
            verify(/^\d\d:\d\d:\d\d · \d+ s ago$/.test(when.text), when.text);
            verify(!findChild(test.rowItem("/ck/b"), "when").visible); // 3 is not a moment

            // The actions of a row: add a child.
            const b = test.rowItem("/ck/b");
            mouseMove(b, 20, 5);
            tryVerify(() => findChild(b, "rowActions").visible);
            mouseClick(findChild(b, "rowAddChild"));
            verify(path.text.indexOf("/ck/b/-") === 0, path.text);
            // The breadcrumb of that path goes back up.
            let crumb = null;
            tryVerify(() => (crumb = findChild(panel, "crumb-/ck")) !== null && crumb.visible && crumb.width > 0);
            wait(50); // laid out
            mouseClick(crumb);
            compare(path.text, "/ck");

            // Keyboard: the current row, then Delete asks before it removes.
            const idx = Hub.tree.indexForPath("/ck/b");
            test.tree.selectionModel.setCurrentIndex(idx, 0 /* NoUpdate */);
            test.tree.forceActiveFocus();
            keyClick(Qt.Key_Delete);
            const confirm = findChild(panel, "deleteConfirm");
            tryCompare(confirm, "opened", true);
            compare(confirm.path, "/ck/b");
            confirm.accept();
            tryVerify(() => test.rowItem("/ck/b") === null);
            compare(Hub.tree.removePath("/ck"), "");
        }

        function test_9b_exportAndImportOpenFileDialogs() {
            const exportDialog = findChild(panel, "exportDialog");
            verify(exportDialog);
            wait(300); // the confirmation's modal overlay of the previous test fades out first
            mouseClick(findChild(panel, "exportJson"));
            tryCompare(exportDialog, "visible", true);
            exportDialog.reject();
            const importDialog = findChild(panel, "importDialog");
            mouseClick(findChild(panel, "importJson"));
            tryCompare(importDialog, "visible", true);
            importDialog.reject();
        }
    }
}
