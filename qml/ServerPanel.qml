// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Lark.Dashboard

// The server at a glance: where it listens, how many connections and sessions it has, its timers (editable live
// in host mode) and the log of session events, with a filter.
ColumnLayout {
    id: root
    spacing: 4

    RowLayout {
        Layout.fillWidth: true
        Label {
            text: "Server"
            font.bold: true
            font.pixelSize: 16
        }
        Label {
            objectName: "serverSummary"
            text: (Hub.running ? Hub.serverUrl : "not running")
                  + (Hub.remote ? "" : " · " + Hub.connectionCount + " connection" + (Hub.connectionCount === 1 ? "" : "s"))
                  + " · " + Hub.sessions.activeCount + " session" + (Hub.sessions.activeCount === 1 ? "" : "s")
                  + " · " + Hub.sessions.queuedOpCount + " queued op" + (Hub.sessions.queuedOpCount === 1 ? "" : "s")
            color: Theme.muted
            elide: Text.ElideRight
            Layout.fillWidth: true
        }
    }
    // The server's presence page (docs/rest.md §7): a real browser tab on the JS SDK, as the first user.
    Label {
        objectName: "pageUrl"
        visible: Hub.pageUrl.length > 0
        Layout.fillWidth: true
        wrapMode: Text.WrapAnywhere
        textFormat: Text.StyledText
        text: "Presence page in a browser: <a href=\"" + Hub.pageUrl + "\">" + Hub.pageUrl + "</a>"
        onLinkActivated: (link) => Qt.openUrlExternally(link)
    }

    // Seconds with decimals, as typed; the hub takes milliseconds.
    component SecondsField: TextField {
        required property int ms
        // A remote server's timers are not known here: show none rather than the dashboard's own.
        text: Hub.remote ? "" : (ms / 1000).toString()
        placeholderText: Hub.remote ? "—" : ""
        validator: DoubleValidator {
            bottom: 0
            decimals: 3
            notation: DoubleValidator.StandardNotation
        }
        Layout.preferredWidth: 56
        enabled: !Hub.remote
    }

    RowLayout {
        Layout.fillWidth: true
        Label { text: "ping every" }
        SecondsField {
            id: pingField
            objectName: "pingField"
            ms: Hub.pingIntervalMs
        }
        Label { text: "s · dead after" }
        SecondsField {
            id: deadField
            objectName: "deadField"
            ms: Hub.deadAfterMs
        }
        Label { text: "s · grace" }
        SecondsField {
            id: graceField
            objectName: "graceField"
            ms: Hub.graceMs
        }
        Label { text: "s" }
        Button {
            objectName: "applyTimers"
            text: "Apply"
            enabled: !Hub.remote && Hub.running && pingField.acceptableInput && deadField.acceptableInput
                     && graceField.acceptableInput
            ToolTip.visible: hovered
            ToolTip.text: "Applies from the next heartbeat sweep, and to sessions suspended from now on"
            onClicked: timerError.problem = Hub.setTimers(Math.round(parseFloat(pingField.text) * 1000),
                                                       Math.round(parseFloat(deadField.text) * 1000),
                                                       Math.round(parseFloat(graceField.text) * 1000))
        }
        Label {
            id: timerError
            objectName: "timerError"
            property string problem: ""
            visible: text !== ""
            text: Hub.remote ? "set on the remote server (lark-server options)" : timerError.problem
            color: Hub.remote ? Theme.muted : Theme.danger
            elide: Text.ElideRight
            Layout.fillWidth: true
        }
        Item {
            visible: !timerError.visible
            Layout.fillWidth: true
        }
    }

    // Persistence (lark-server --data): with it, "Restart server" brings the sessions back suspended.
    // Always shown (disabled in connect mode): a row hidden and shown again could lag a layout pass on 6.4.
    RowLayout {
        Layout.fillWidth: true
        CheckBox {
            objectName: "keepData"
            text: "Keep data between restarts"
            enabled: !Hub.remote
            checked: Hub.keepData
            onToggled: Hub.setKeepData(checked)
            ToolTip.visible: hovered
            ToolTip.text: "Data, sessions and queued ops in an SQLite file; applies from the next restart"
        }
        Label {
            objectName: "persistence"
            text: Hub.remote ? "set on the remote server (lark-server --data)"
                             : Hub.persistent ? "in " + Hub.dataFile
                                              : (Hub.keepData ? "in memory until the next restart" : "in memory only")
            color: Theme.muted
            elide: Text.ElideMiddle
            Layout.fillWidth: true
        }
    }

    RowLayout {
        Layout.fillWidth: true
        Label { text: "Event log" ; font.bold: true }
        TextField {
            objectName: "logFilter"
            placeholderText: "filter, e.g. S3, suspend, fire"
            Layout.fillWidth: true
            onTextChanged: Hub.setEventFilter(text)
        }
        Label {
            text: Hub.eventLog.count + " shown"
            color: Theme.muted
        }
    }
    ListView {
        id: log
        objectName: "eventLog"
        Layout.fillWidth: true
        Layout.fillHeight: true
        Layout.minimumHeight: 80
        clip: true
        model: Hub.eventLog
        ScrollBar.vertical: ScrollBar {}
        // Newest at the bottom, and kept in view while the user has not scrolled up.
        property bool following: true
        onMovementEnded: log.following = log.atYEnd
        onCountChanged: if (log.following) Qt.callLater(log.positionViewAtEnd)
        delegate: Label {
            required property string line
            required property string kind
            width: log.width - 12
            elide: Text.ElideRight
            font.family: "monospace"
            font.pixelSize: 11
            text: line
            color: kind === "fire" || kind === "end" || kind === "denied" || kind === "dropped" ? Theme.danger : kind === "suspend" ? Theme.reconnecting
                 : kind === "resume" || kind === "connect" ? Theme.connected : Theme.text
        }
    }
}
