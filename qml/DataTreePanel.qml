// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import QtQml.Models
import Lark.Dashboard

// The live data: rows flash when a write touches them and say who wrote (a client, an admin edit, an import,
// or the onDisconnect of a session). Above it a namespace picker, the path bar and the node's tools (copy, import,
// export, clear, filter its children); below it an admin editor: set JSON at a path, add a child, or delete.
ColumnLayout {
    id: root
    spacing: 4

    // The path the tools act on: what the path bar says.
    readonly property string currentPath: pathField.text === "" ? "/" : pathField.text
    readonly property bool atRoot: root.currentPath === "/"
    // For "3 s ago" next to moments in the data.
    property real now: Date.now()
    Timer {
        interval: 1000
        running: root.visible
        repeat: true
        onTriggered: root.now = Date.now()
    }

    // Deleting a node always asks: it may hold a whole subtree.
    function askDelete(path: string): void {
        deleteConfirm.path = path;
        deleteConfirm.open();
    }

    // How long a row shows that a write touched it.
    property int flashMs: 2500
    // Where the filter is ("" for none): the path bar may have moved on since.
    property string filteredPath: ""
    Connections {
        target: Hub
        function onRunningChanged() {
            root.filteredPath = "";
        }
    }

    // Expands the tree down to a path (loading pages on the way) and shows it; false when there is no such path.
    function navigate(path: string): bool {
        const idx = Hub.tree.loadPath(path);
        if (path !== "/" && path !== "" && !idx.valid) {
            editError.text = path + " is not in the data";
            return false;
        }
        editError.text = "";
        if (!idx.valid)
            return true;
        tree.expandToIndex(idx);
        tree.forceLayout();
        const cell = tree.cellAtIndex(idx);
        if (cell.y >= 0) {
            tree.expand(cell.y);
            tree.positionViewAtRow(cell.y, TableView.AlignTop);
        }
        return true;
    }

    // Local path of a file: URL, as people read it (not file:///...).
    function localPath(url: url): string {
        const text = String(url);
        return text.startsWith("file://") ? decodeURIComponent(text.substring(7)) : text;
    }

    RowLayout {
        Layout.fillWidth: true
        Label {
            text: "Data"
            font.bold: true
            font.pixelSize: Theme.titleSize
        }
        ComboBox {
            id: nsPicker
            objectName: "nsPicker"
            readonly property var names: Hub.remote ? [Hub.namespaceName] : Hub.namespaces
            enabled: Hub.tree !== null
            model: nsPicker.names
            // Says the namespace the tree shows, whatever a new namespace did to the list's order (B2).
            currentIndex: nsPicker.names.indexOf(Hub.treeNamespace)
            displayText: Hub.treeNamespace
            Layout.preferredWidth: 150
            onPressedChanged: if (pressed) Hub.refreshNamespaces()
            onActivated: index => Hub.setTreeNamespace(nsPicker.textAt(index))
            ToolTip.visible: hovered
            ToolTip.text: "Namespace shown (clients create namespaces on first use)"
            Accessible.name: "Namespace"
        }
        TextField {
            id: pathField
            objectName: "editPath"
            placeholderText: "/path (Enter: go there)"
            Layout.fillWidth: true
            Layout.minimumWidth: 120
            onAccepted: root.navigate(pathField.text)
            Accessible.name: "Path"
        }
        Button {
            objectName: "goPath"
            text: "Go"
            enabled: Hub.tree !== null
            onClicked: root.navigate(pathField.text)
        }
    }

    // The node's tools, then a filter of its children with the server's query engine (what a client query would
    // get). A Flow: at any width every control stays in the panel.
    Flow {
        Layout.fillWidth: true
        spacing: 6
        Button {
            objectName: "copyPath"
            text: "Copy path"
            onClicked: {
                Clipboard.setText(root.currentPath);
                Notices.post("Copied " + root.currentPath);
            }
        }
        Button {
            objectName: "importJson"
            text: "Import…"
            enabled: Hub.tree !== null
            ToolTip.visible: hovered
            ToolTip.text: "Replace the value at the path with a JSON file"
            onClicked: importDialog.open()
        }
        Button {
            objectName: "exportJson"
            text: "Export…"
            enabled: Hub.tree !== null
            ToolTip.visible: hovered
            ToolTip.text: "Save the value at the path as a JSON file"
            onClicked: exportDialog.open()
        }
        Button {
            objectName: "clearData"
            text: "Clear data"
            enabled: Hub.tree !== null
            onClicked: clearConfirm.open()
        }
        Row {
            visible: Hub.tree !== null
            spacing: 6
            Label {
                text: "Children where"
                anchors.verticalCenter: parent.verticalCenter
            }
            TextField {
                id: filterChild
                objectName: "filterChild"
                placeholderText: "child (empty: key)"
                width: 120
            }
            ComboBox {
                id: filterOp
                objectName: "filterOp"
                model: ["==", ">=", "<="]
                width: 64
            }
            TextField {
                id: filterValue
                objectName: "filterValue"
                placeholderText: "value (JSON or text)"
                width: 130
            }
            Label {
                text: "first"
                anchors.verticalCenter: parent.verticalCenter
            }
            TextField {
                id: filterLimit
                objectName: "filterLimit"
                placeholderText: "all"
                validator: IntValidator { bottom: 0 }
                width: 50
            }
        }
        Button {
            objectName: "applyFilter"
            text: "Filter"
            enabled: Hub.tree !== null
            onClicked: {
                const path = root.currentPath;
                editError.text = Hub.tree.setFilter(path, filterChild.text, filterOp.currentText,
                                                    filterValue.text, filterLimit.text === "" ? 0 : parseInt(filterLimit.text));
                if (editError.text !== "")
                    return;
                // One filter at a time: the one Unfilter removes, wherever the path bar points then (B7).
                if (root.filteredPath !== "" && root.filteredPath !== path)
                    Hub.tree.clearFilter(root.filteredPath);
                root.filteredPath = path;
                root.navigate(path);
            }
        }
        Button {
            objectName: "clearFilter"
            text: root.filteredPath === "" ? "Unfilter" : "Unfilter " + root.filteredPath
            enabled: Hub.tree !== null && root.filteredPath !== ""
            onClicked: {
                Hub.tree.clearFilter(root.filteredPath);
                root.filteredPath = "";
            }
        }
    }

    Label {
        visible: !Hub.tree
        text: Hub.remote ? (Hub.running ? "Waiting for the remote server's data…" : "Not connected.") : "The server is not running."
        color: Theme.muted
    }
    // Connect mode shows a copy kept in step by the admin client's listen: it knows what changed, not who did it.
    Label {
        objectName: "remoteTreeNote"
        visible: Hub.tree !== null && Hub.remote
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: Theme.muted
        text: "A copy of the remote namespace " + Hub.treeNamespace
              + ", kept in step by the admin client: edits are sent to the server as admin writes. Rows flash"
              + " \"remote write\", or \"admin edit\"/\"import\" for our own edits."
    }

    // The path bar's path as a breadcrumb: each step goes there.
    Flow {
        objectName: "breadcrumb"
        visible: Hub.tree !== null
        Layout.fillWidth: true
        spacing: 2
        Repeater {
            model: {
                const keys = root.currentPath.split("/").filter(k => k !== "");
                const steps = [{ label: Hub.treeNamespace + " /", path: "/" }];
                for (let i = 0; i < keys.length; ++i)
                    steps.push({ label: keys[i], path: "/" + keys.slice(0, i + 1).join("/") });
                return steps;
            }
            delegate: Row {
                id: step
                required property var modelData
                required property int index
                spacing: 2
                Label {
                    visible: step.index > 1
                    text: "›"
                    color: Theme.muted
                    anchors.verticalCenter: parent.verticalCenter
                }
                ToolButton {
                    objectName: "crumb-" + step.modelData.path
                    text: step.modelData.label
                    implicitHeight: 22
                    padding: 2
                    onClicked: {
                        pathField.text = step.modelData.path === "/" ? "" : step.modelData.path;
                        root.navigate(step.modelData.path);
                    }
                }
            }
        }
    }

    TreeView {
        id: tree
        visible: Hub.tree !== null
        objectName: "dataTree"
        Layout.fillWidth: true
        Layout.fillHeight: true
        Layout.minimumHeight: 120
        clip: true
        model: Hub.tree
        ScrollBar.vertical: ScrollBar {}
        // Reachable with Tab; arrows move the current row, left and right collapse and expand it (B17).
        activeFocusOnTab: true
        keyNavigationEnabled: true
        selectionModel: ItemSelectionModel {
            model: tree.model
        }
        Keys.onPressed: event => {
            const idx = tree.selectionModel.currentIndex;
            if (!idx.valid)
                return;
            const item = tree.itemAtCell(tree.cellAtIndex(idx));
            if (!item)
                return;
            if (event.key === Qt.Key_Delete) {
                root.askDelete(item.path);
                event.accepted = true;
            } else if (event.key === Qt.Key_Insert) {
                item.addChild();
                event.accepted = true;
            } else if (event.key === Qt.Key_F2 || event.key === Qt.Key_Return || event.key === Qt.Key_Enter) {
                item.edit();
                event.accepted = true;
            }
        }
        Accessible.role: Accessible.Tree
        Accessible.name: "Data of namespace " + Hub.treeNamespace

        delegate: Item {
            id: cell
            required property TreeView treeView
            required property bool isTreeNode
            required property bool expanded
            required property bool hasChildren
            required property int depth
            required property int row
            required property int column
            required property string key
            required property string value
            required property string type
            required property string path
            required property bool isLoadMore
            required property real changedAt
            required property string cause
            required property string changeKind
            required property string removed
            required property bool current
            required property string filter
            required property int matched
            property bool editing: false
            readonly property bool hovered: rowHover.hovered

            // Edit in place (a leaf), or load the node's JSON into the editor row (an object).
            function edit(): void {
                if (cell.isLoadMore)
                    return;
                if (cell.type === "object") {
                    pathField.text = cell.path;
                    valueField.text = JSON.stringify(JSON.parse(Hub.exportJson(cell.path)));
                    valueField.forceActiveFocus();
                    return;
                }
                inlineEditor.text = cell.value;
                cell.editing = true;
                inlineEditor.forceActiveFocus();
            }
            function addChild(): void {
                pathField.text = (cell.path === "/" ? "" : cell.path) + "/" + Hub.newPushId();
                valueField.text = "";
                valueField.forceActiveFocus();
            }
            HoverHandler {
                id: rowHover
            }

            // True while the row shows that a write just touched it (and who made it).
            readonly property bool flashing: fade.running

            implicitWidth: tree.width
            implicitHeight: 22
            Accessible.role: Accessible.TreeItem
            Accessible.name: cell.key + (cell.isLoadMore ? "" : " " + cell.value)

            // The keyboard's row: a band and, while the tree has focus, a ring.
            Rectangle {
                anchors.fill: parent
                visible: cell.current
                color: tree.activeFocus ? Theme.focusBand : "transparent"
                border.color: Theme.focus
                border.width: tree.activeFocus ? 2 : 1
            }

            Rectangle {
                id: flash
                anchors.fill: parent
                // A colour per change: added, changed, or children removed.
                color: cell.changeKind === "added" ? Theme.flashAdded : cell.changeKind === "removed" ? Theme.flashRemoved : Theme.flash
                opacity: 0
            }
            NumberAnimation {
                id: fade
                target: flash
                property: "opacity"
                from: 1
                to: 0
                duration: root.flashMs
            }
            // The flash belongs to the row, not to this delegate: a delegate moved to another row (rows inserted
            // or removed above it, or reused) shows that row's flash, with what is left of it, or none (B1).
            function showFlash(): void {
                fade.stop();
                flash.opacity = 0;
                const age = Date.now() - cell.changedAt;
                if (cell.isLoadMore || cell.changedAt <= 0 || age >= root.flashMs)
                    return;
                fade.from = 1 - Math.max(0, age) / root.flashMs;
                fade.duration = root.flashMs - Math.max(0, age);
                fade.start();
            }
            onChangedAtChanged: cell.showFlash()
            onPathChanged: cell.showFlash()
            TableView.onReused: cell.showFlash()
            // The path bar follows the keyboard's row.
            onCurrentChanged: if (cell.current && !cell.isLoadMore) pathField.text = cell.path

            RowLayout {
                anchors.fill: parent
                anchors.leftMargin: 4 + cell.depth * 16
                spacing: 6
                Label {
                    text: cell.isLoadMore ? "" : (cell.hasChildren ? (cell.expanded ? "▾" : "▸") : " ")
                    Layout.preferredWidth: 12
                }
                Label {
                    text: cell.key
                    font.bold: !cell.isLoadMore
                    color: cell.isLoadMore ? Theme.connected : Theme.text
                }
                ElidedLabel {
                    id: valueLabel
                    visible: !cell.isLoadMore && !cell.editing
                    text: cell.value
                    font.family: "monospace"
                    Layout.maximumWidth: 260
                    // Double-click a leaf to edit it in place (Enter writes, Escape cancels).
                    TapHandler {
                        onDoubleTapped: cell.edit()
                    }
                }
                // A number that reads as a moment (lastSeen, serverTimestamp()): say when, not only the epoch.
                Label {
                    objectName: "when"
                    readonly property real ms: cell.type === "number" ? Number(cell.value) : 0
                    visible: !cell.isLoadMore && !cell.editing && ms >= 946684800000 && ms < 4102444800000
                    text: visible ? Theme.moment(ms, root.now) : ""
                    color: Theme.muted
                }
                TextField {
                    id: inlineEditor
                    objectName: "inlineEditor"
                    visible: cell.editing
                    font.family: "monospace"
                    Layout.preferredWidth: 260
                    Layout.preferredHeight: 22
                    topPadding: 0
                    bottomPadding: 0
                    onAccepted: {
                        editError.text = Hub.tree.setJson(cell.path, inlineEditor.text);
                        cell.editing = editError.text !== "";
                    }
                    Keys.onEscapePressed: cell.editing = false
                    onActiveFocusChanged: if (!activeFocus) cell.editing = false
                }
                Label {
                    visible: cell.filter !== ""
                    text: "filtered: " + cell.filter + " (" + cell.matched + " match)"
                    color: Theme.connected
                    font.italic: true
                }
                Label {
                    visible: !cell.isLoadMore
                    text: cell.type
                    color: Theme.muted
                    font.italic: true
                }
                Label {
                    visible: fade.running
                    objectName: "changeNote"
                    text: (cell.changeKind === "added" ? "added" : cell.changeKind === "removed" ? "removed " + cell.removed : "changed")
                          + " ← " + cell.cause
                    color: Theme.text
                    font.bold: true
                }
                Item {
                    Layout.fillWidth: true
                }
                // Per-row actions, as in the Emulator UI: on the row under the pointer and the keyboard's row.
                Row {
                    objectName: "rowActions"
                    visible: !cell.isLoadMore && (cell.hovered || cell.current)
                    spacing: 2
                    Layout.rightMargin: 16
                    component RowAction: ToolButton {
                        required property string tip
                        implicitHeight: 20
                        padding: 2
                        focusPolicy: Qt.NoFocus // the tree keeps the keyboard; Enter, Insert and Delete act on its row
                        ToolTip.visible: hovered
                        ToolTip.text: tip
                        Accessible.name: tip
                    }
                    RowAction {
                        objectName: "rowAddChild"
                        text: "+"
                        tip: "Add a child to " + cell.path
                        onClicked: cell.addChild()
                    }
                    RowAction {
                        objectName: "rowEdit"
                        text: "✎"
                        tip: "Edit " + cell.path
                        onClicked: cell.edit()
                    }
                    RowAction {
                        objectName: "rowDelete"
                        text: "✕"
                        tip: "Delete " + cell.path
                        onClicked: root.askDelete(cell.path)
                    }
                }
            }

            TapHandler {
                onTapped: {
                    const idx = cell.treeView.modelIndex(Qt.point(cell.column, cell.row));
                    tree.selectionModel.setCurrentIndex(idx, ItemSelectionModel.NoUpdate);
                    if (cell.isLoadMore) {
                        Hub.tree.loadMore(idx);
                        return;
                    }
                    pathField.text = cell.path;
                    // Leaves are shown as JSON already (strings quoted): ready to edit and Set.
                    if (cell.type !== "object")
                        valueField.text = cell.value;
                    if (cell.hasChildren) {
                        if (Hub.tree.canFetchMore(idx))
                            Hub.tree.fetchMore(idx);
                        cell.treeView.toggleExpanded(cell.row);
                    }
                }
            }
        }
    }

    // Above the editor row, so that a message never moves the row under the pointer (B12).
    Label {
        id: editError
        objectName: "editError"
        visible: text !== ""
        color: Theme.danger
        wrapMode: Text.Wrap
        Layout.fillWidth: true
    }
    // Connect mode: an edit is only done when the server answers; until then it is pending (the connection may be
    // down), and a refusal must not vanish with the rolled-back rows.
    Label {
        objectName: "editStatus"
        visible: text !== ""
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: Hub.tree && Hub.tree.editError !== "" ? Theme.danger : Theme.muted
        text: !Hub.tree ? ""
              : Hub.tree.editError !== "" ? Hub.tree.editError
              : Hub.tree.pendingEdits > 0 ? Hub.tree.pendingEdits + (Hub.tree.pendingEdits === 1 ? " edit" : " edits")
                                            + " waiting for the server"
              : ""
    }

    RowLayout {
        visible: Hub.tree !== null
        Layout.fillWidth: true
        Button {
            objectName: "addChild"
            text: "Add child"
            enabled: Hub.tree !== null
            ToolTip.visible: hovered
            ToolTip.text: "A new child of the path with a push id as its key: type a value and Set"
            onClicked: {
                pathField.text = (root.atRoot ? "" : root.currentPath) + "/" + Hub.newPushId();
                valueField.text = "";
                valueField.forceActiveFocus();
            }
        }
        TextField {
            id: valueField
            objectName: "editValue"
            placeholderText: "JSON value, e.g. 42, \"text\", {\"a\": true}"
            Layout.fillWidth: true
        }
        Button {
            objectName: "editSet"
            text: "Set"
            enabled: Hub.tree !== null && pathField.text !== ""
            onClicked: editError.text = Hub.tree.setJson(pathField.text, valueField.text)
        }
        Button {
            objectName: "editDelete"
            text: "Delete"
            enabled: Hub.tree !== null && pathField.text !== ""
            // Deleting the root is clearing everything: that asks first.
            onClicked: {
                if (root.atRoot)
                    clearConfirm.open();
                else
                    editError.text = Hub.tree.removePath(pathField.text);
            }
        }
    }
    Dialog {
        id: deleteConfirm
        objectName: "deleteConfirm"
        property string path: ""
        parent: Overlay.overlay
        anchors.centerIn: parent
        modal: true
        title: "Delete " + deleteConfirm.path + "?"
        standardButtons: Dialog.Yes | Dialog.Cancel
        width: 460
        Label {
            width: parent ? parent.width : 0
            wrapMode: Text.Wrap
            text: "This removes " + deleteConfirm.path + " and everything under it in namespace " + Hub.treeNamespace
                  + ". Clients see it as one write."
        }
        onAccepted: {
            editError.text = Hub.tree.removePath(deleteConfirm.path);
            if (editError.text === "")
                Notices.post("Deleted " + deleteConfirm.path);
        }
    }

    Dialog {
        id: clearConfirm
        objectName: "clearConfirm"
        parent: Overlay.overlay
        anchors.centerIn: parent
        modal: true
        title: "Clear all data?"
        standardButtons: Dialog.Yes | Dialog.Cancel
        width: 460
        Label {
            width: parent ? parent.width : 0
            wrapMode: Text.Wrap
            text: "This removes everything in namespace " + Hub.treeNamespace + ". Clients see it as one write."
        }
        onAccepted: {
            editError.text = Hub.clearData();
            if (editError.text === "")
                Notices.post("Cleared namespace " + Hub.treeNamespace);
        }
    }

    FileDialog {
        id: importDialog
        objectName: "importDialog"
        // 6.4 looks for the window only once, at creation, when a panel may not be in one yet.
        parentWindow: root.Window.window
        title: "Import JSON at " + root.currentPath
        nameFilters: ["JSON files (*.json)", "All files (*)"]
        onAccepted: {
            importConfirm.file = importDialog.selectedFile;
            importConfirm.open();
        }
    }
    Dialog {
        id: importConfirm
        objectName: "importConfirm"
        property url file
        parent: Overlay.overlay
        anchors.centerIn: parent
        modal: true
        title: "Replace the data at " + root.currentPath + "?"
        standardButtons: Dialog.Yes | Dialog.Cancel
        width: 460
        Label {
            objectName: "importConfirmText"
            width: parent ? parent.width : 0
            wrapMode: Text.WrapAnywhere
            text: "The file replaces everything at " + root.currentPath + " (it is not merged).\n"
                  + root.localPath(importConfirm.file)
        }
        onAccepted: {
            editError.text = Hub.importFile(root.currentPath, importConfirm.file);
            if (editError.text === "")
                Notices.post("Imported " + root.localPath(importConfirm.file) + " at " + root.currentPath);
        }
    }
    // Export: a path to save to, filled in, with Enter saving (B13); Browse… picks another with the file dialog.
    Dialog {
        id: exportDialog
        objectName: "exportDialog"
        parent: Overlay.overlay
        anchors.centerIn: parent
        modal: true
        title: "Export " + root.currentPath + " as JSON"
        standardButtons: Dialog.Save | Dialog.Cancel
        width: 560
        onOpened: {
            exportFile.text = Hub.defaultExportFile(root.currentPath);
            exportFile.forceActiveFocus();
        }
        onAccepted: {
            editError.text = Hub.exportFile(root.currentPath, exportFile.text);
            if (editError.text === "")
                Notices.post("Saved " + root.currentPath + " to " + exportFile.text);
        }
        RowLayout {
            width: parent ? parent.width : 0
            TextField {
                id: exportFile
                objectName: "exportFile"
                Layout.fillWidth: true
                selectByMouse: true
                Accessible.name: "File to save to"
                onAccepted: exportDialog.accept()
            }
            Button {
                objectName: "exportBrowse"
                text: "Browse…"
                onClicked: exportBrowse.open()
            }
        }
    }
    FileDialog {
        id: exportBrowse
        objectName: "exportBrowse"
        parentWindow: root.Window.window
        title: "Export " + root.currentPath + " as JSON"
        fileMode: FileDialog.SaveFile
        acceptLabel: "Choose"
        defaultSuffix: "json"
        nameFilters: ["JSON files (*.json)"]
        onAccepted: exportFile.text = root.localPath(exportBrowse.selectedFile)
    }
}
