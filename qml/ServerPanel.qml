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
            font.pixelSize: Theme.titleSize
        }
        Label {
            objectName: "serverSummary"
            text: (Hub.running ? Hub.serverUrl : "not running")
                  + (Hub.remote ? "" : " · " + Hub.connectionCount + " connection" + (Hub.connectionCount === 1 ? "" : "s"))
                  + " · " + Hub.sessions.activeCount + " session" + (Hub.sessions.activeCount === 1 ? "" : "s")
                  + " · " + Hub.sessions.queuedOpCount + " queued op" + (Hub.sessions.queuedOpCount === 1 ? "" : "s")
            color: Theme.muted
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
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
            onClicked: {
                timerError.problem = Hub.setTimers(Math.round(parseFloat(pingField.text) * 1000),
                                                   Math.round(parseFloat(deadField.text) * 1000),
                                                   Math.round(parseFloat(graceField.text) * 1000));
                if (timerError.problem === "")
                    Notices.post("Timers applied");
            }
        }
        Item {
            Layout.fillWidth: true
        }
    }
    // On a line of its own and wrapped: the reason is never cut off.
    Label {
        id: timerError
        objectName: "timerError"
        property string problem: ""
        visible: text !== ""
        text: Hub.remote ? "set on the remote server (lark-server options)" : timerError.problem
        color: Hub.remote ? Theme.muted : Theme.danger
        wrapMode: Text.Wrap
        Layout.fillWidth: true
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
            wrapMode: Text.WrapAnywhere
            Layout.fillWidth: true
        }
    }

    // Connect mode to a cluster node (lark-server --redis): every node and whether its lease is alive.
    Label {
        objectName: "clusterNodes"
        visible: Hub.clusterNodes.length > 0
        text: "Cluster: " + Hub.clusterNodes.map(n => n.node + (n.self ? " (this node)" : "")
                                                 + (n.alive ? "" : " (lease expired)")).join(" · ")
        wrapMode: Text.Wrap
        Layout.fillWidth: true
    }
    // ... and where every session of the cluster is: handles are per node, so each is named with its node.
    Label {
        objectName: "clusterSessions"
        visible: Hub.clusterNodes.length > 0
        text: {
            const live = Hub.clusterSessions.filter(s => s.state === "live")
            const suspended = Hub.clusterSessions.filter(s => s.state !== "live")
            const byNode = Hub.clusterNodes.map(n => n.node + ": " + (live.filter(s => s.node === n.node)
                                                                      .map(s => s.handle).join(", ") || "none"))
            return "Sessions by node: " + byNode.join(" · ")
                    + (suspended.length > 0 ? " · suspended: " + suspended.map(
                                                  s => s.handle + " (fires in " + Math.ceil(s.firesInMs / 1000) + " s)")
                                              .join(", ") : "")
        }
        color: Theme.muted
        wrapMode: Text.Wrap
        Layout.fillWidth: true
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
        Button {
            objectName: "copyLog"
            text: "Copy"
            enabled: Hub.eventLog.count > 0
            ToolTip.visible: hovered
            ToolTip.text: "Copy the lines shown (the filter applies) as text"
            onClicked: {
                const lines = [];
                for (let i = 0; i < Hub.eventLog.count; ++i)
                    lines.push(Hub.eventLog.lineAt(i));
                Clipboard.setText(lines.join("\n") + "\n");
                Notices.post("Copied " + lines.length + (lines.length === 1 ? " line" : " lines") + " of the event log");
            }
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
        function followEnd(): void {
            if (log.following)
                Qt.callLater(log.positionViewAtEnd);
        }
        onMovementEnded: log.following = log.atYEnd
        // Wrapped lines get their height once laid out, after the view moved to the end: move again.
        onContentHeightChanged: log.followEnd()
        onHeightChanged: log.followEnd()
        // Not on count: once the log is full, every new line removes the oldest and the count stays (B18).
        Connections {
            target: Hub.eventLog
            function onRowsInserted() {
                log.followEnd();
            }
            function onRowsRemoved() {
                log.followEnd();
            }
            function onModelReset() {
                log.following = true;
                log.followEnd();
            }
        }
        // Columns: time, kind, session, then what happened, wrapped so that nothing is cut off.
        delegate: RowLayout {
            id: entry
            required property real at
            required property string kind
            required property string handle
            required property string text
            width: log.width - 12
            spacing: 8
            readonly property color tint: entry.kind === "fire" || entry.kind === "end" || entry.kind === "denied" || entry.kind === "dropped" ? Theme.danger
                                          : entry.kind === "suspend" ? Theme.suspended
                                          : entry.kind === "silent" ? Theme.silent
                                          : entry.kind === "resume" || entry.kind === "connect" ? Theme.connected : Theme.text
            Label {
                text: new Date(entry.at).toLocaleTimeString(Qt.locale(), "hh:mm:ss.zzz")
                font.family: "monospace"
                font.pixelSize: Theme.smallSize
                color: Theme.muted
                Layout.preferredWidth: 84
                Layout.alignment: Qt.AlignTop
            }
            Label {
                text: entry.kind
                color: entry.tint
                font.bold: true
                Layout.preferredWidth: 72
                Layout.alignment: Qt.AlignTop
            }
            Label {
                text: entry.handle
                font.family: "monospace"
                Layout.preferredWidth: 36
                Layout.alignment: Qt.AlignTop
            }
            Label {
                objectName: "logText"
                text: entry.text
                color: entry.tint
                wrapMode: Text.Wrap
                Layout.fillWidth: true
            }
        }
    }
}
