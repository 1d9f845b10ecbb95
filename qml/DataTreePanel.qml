// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Lark.Dashboard

// The live data: rows flash when a write touches them and say who wrote (a client, an admin edit, an import,
// or the onDisconnect of a session). Below it, an admin editor: set JSON at a path, or delete it.
ColumnLayout {
    id: root
    spacing: 4

    Label {
        text: "Data (" + Hub.namespaceName + ")"
        font.bold: true
        font.pixelSize: 16
    }

    Label {
        visible: !Hub.tree
        text: Hub.remote ? "The data view needs host mode: start lark without --connect." : "The server is not running."
        color: Theme.muted
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

            // True while the row shows that a write just touched it (and who made it).
            readonly property bool flashing: fade.running

            implicitWidth: tree.width
            implicitHeight: 22

            Rectangle {
                id: flash
                anchors.fill: parent
                color: Theme.flash
                opacity: 0
            }
            NumberAnimation {
                id: fade
                target: flash
                property: "opacity"
                from: 1
                to: 0
                duration: 2500
            }
            // Reused delegates get an old changedAt too: only a write that just happened flashes.
            onChangedAtChanged: {
                if (cell.changedAt > 0 && Date.now() - cell.changedAt < 1000)
                    fade.restart();
            }

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
                Label {
                    visible: !cell.isLoadMore
                    text: cell.value
                    font.family: "monospace"
                    elide: Text.ElideRight
                    Layout.maximumWidth: 260
                }
                Label {
                    visible: !cell.isLoadMore
                    text: cell.type
                    color: Theme.muted
                    font.italic: true
                }
                Label {
                    visible: fade.running
                    text: "← " + cell.cause
                    color: Theme.reconnecting
                    font.bold: true
                }
                Item {
                    Layout.fillWidth: true
                }
            }

            TapHandler {
                onTapped: {
                    const idx = cell.treeView.modelIndex(Qt.point(cell.column, cell.row));
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

    RowLayout {
        Layout.fillWidth: true
        TextField {
            id: pathField
            objectName: "editPath"
            placeholderText: "/path"
            Layout.preferredWidth: 220
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
            onClicked: editError.text = Hub.tree.removePath(pathField.text)
        }
    }
    Label {
        id: editError
        visible: text !== ""
        color: Theme.danger
    }
}
