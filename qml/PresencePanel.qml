// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Lark.Dashboard

// Presence per user, the right way (one entry per connection) beside the boolean flag that breaks with two tabs.
ColumnLayout {
    id: root
    property real now: Date.now()
    spacing: 4

    Timer {
        interval: 1000
        running: true
        repeat: true
        onTriggered: root.now = Date.now()
    }

    Label {
        text: "Presence"
        font.bold: true
        font.pixelSize: Theme.titleSize
    }
    RowLayout {
        Layout.fillWidth: true
        Label { text: "user"; font.bold: true; Layout.preferredWidth: 70 }
        Label { text: "presence/<uid>/connections"; font.bold: true; Layout.preferredWidth: 250 }
        Label { text: "lastSeen"; font.bold: true; Layout.preferredWidth: 110 }
        Label { text: "status/<uid>/online (boolean flag)"; font.bold: true; Layout.fillWidth: true }
    }
    ListView {
        id: list
        objectName: "presenceList"
        Layout.fillWidth: true
        Layout.preferredHeight: contentHeight
        interactive: false
        model: Hub.presence
        delegate: RowLayout {
            id: row
            required property string uid
            required property bool online
            required property int connectionCount
            required property real lastSeen
            required property var flag
            readonly property bool flagKnown: row.flag === true || row.flag === false
            // The boolean flag contradicts the connection count: the two-tab pitfall, live.
            readonly property bool flagWrong: row.flagKnown && row.flag !== row.online
            objectName: "presence-" + row.uid
            width: list.width

            Label { text: row.uid; Layout.preferredWidth: 70 }
            RowLayout {
                Layout.preferredWidth: 250
                Rectangle {
                    width: 10; height: 10; radius: 5
                    color: row.online ? Theme.connected : Theme.offline
                }
                Label {
                    text: (row.online ? "online · " : "offline · ") + row.connectionCount
                          + (row.connectionCount === 1 ? " connection" : " connections")
                }
            }
            Label { text: Theme.ago(root.now, row.lastSeen); Layout.preferredWidth: 110; color: Theme.muted }
            Label {
                objectName: "flag"
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: row.flagWrong ? Theme.danger : Theme.text
                text: !row.flagKnown ? "—" : (row.flag ? "true" : "false")
                      + (row.flagWrong ? (row.online ? "  ✗ says offline, but " + row.connectionCount + " tab(s) still open"
                                             : "  ✗ says online, but no tab is open") : "")
            }
        }
    }
}
