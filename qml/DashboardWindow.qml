// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Lark.Dashboard

// A top-level window. The first one is the dashboard (tabs, presence, sessions, data); the others are further
// "browser windows" that only hold tabs.
ApplicationWindow {
    id: root
    required property int windowId
    readonly property bool primary: root.windowId === 0

    width: root.primary ? 1440 : 760
    height: root.primary ? 900 : 600
    title: root.primary ? "Lark — " + (Hub.running ? Hub.serverUrl : "not running") : "Lark — window " + root.windowId

    header: ToolBar {
        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 8
            anchors.rightMargin: 8
            Label {
                text: "Lark"
                font.bold: true
                font.pixelSize: 18
            }
            TextField {
                objectName: "serverUrl"
                readOnly: true
                selectByMouse: true
                text: (Hub.remote ? "watching " : "") + (Hub.running ? Hub.serverUrl + "  (ns " + Hub.namespaceName + ")" : "server not running")
                Layout.preferredWidth: 260
            }
            ModePanel {
                visible: root.primary
            }
            Label {
                visible: Hub.hostMessage !== ""
                text: Hub.hostMessage
                color: Hub.running ? Theme.reconnecting : Theme.danger
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
            Item {
                visible: Hub.hostMessage === ""
                Layout.fillWidth: true
            }
            Button {
                objectName: "newWindow"
                text: "New window"
                onClicked: Hub.newWindow()
            }
        }
    }

    RowLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 12

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.preferredWidth: root.primary ? 620 : 740
            spacing: 10
            TabsPanel {
                windowId: root.windowId
                Layout.fillWidth: true
                Layout.fillHeight: true
            }
            CasesPanel {
                visible: root.primary
                Layout.fillWidth: true
            }
            ServerPanel {
                visible: root.primary
                Layout.fillWidth: true
                Layout.preferredHeight: 230
            }
        }

        ColumnLayout {
            visible: root.primary
            Layout.fillHeight: true
            Layout.preferredWidth: 780
            Layout.fillWidth: true
            spacing: 10
            PresencePanel {
                Layout.fillWidth: true
            }
            SessionsPanel {
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.preferredHeight: 380
            }
            // The data and the rules that guard it share the space: one is looked at at a time.
            TabBar {
                id: dataTabs
                objectName: "dataTabs"
                Layout.fillWidth: true
                TabButton {
                    text: "Data"
                }
                TabButton {
                    objectName: "rulesTab"
                    text: "Rules"
                }
            }
            StackLayout {
                currentIndex: dataTabs.currentIndex
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.preferredHeight: 300
                DataTreePanel {
                }
                RulesPanel {
                }
            }
        }
    }
}
