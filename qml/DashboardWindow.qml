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
                Layout.preferredWidth: 300
            }
            TextField {
                id: portField
                objectName: "portField"
                visible: root.primary && !Hub.remote
                text: Hub.running ? String(Hub.port()) : ""
                validator: IntValidator {
                    bottom: 0
                    top: 65535
                }
                Layout.preferredWidth: 70
                ToolTip.visible: hovered
                ToolTip.text: "Port of the embedded server; 0 picks a free one"
            }
            Button {
                objectName: "restartServer"
                visible: root.primary && !Hub.remote
                text: "Restart server"
                enabled: portField.acceptableInput
                ToolTip.visible: hovered
                ToolTip.text: "Closes every tab and starts a new, empty server on this port (the data is in memory only)"
                onClicked: Hub.restart(parseInt(portField.text))
            }
            Label {
                visible: !Hub.remote
                text: "ping " + Theme.seconds(Hub.pingIntervalMs) + " · dead after " + Theme.seconds(Hub.deadAfterMs)
                      + " · grace " + Theme.seconds(Hub.graceMs)
                color: Theme.muted
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
            DataTreePanel {
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.preferredHeight: 300
            }
        }
    }
}
