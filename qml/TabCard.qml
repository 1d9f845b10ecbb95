// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Lark.Dashboard

// One simulated browser tab: its connection banner, presence, queued ops and the ways it can go away.
Frame {
    id: root
    required property SimulatedTab tab
    // Re-evaluated whenever any session's queue changes.
    readonly property int queuedOps: (Hub.sessions.queuedOpCount + Hub.sessions.count) >= 0 && root.tab ? Hub.sessions.opCountOfShortId(root.tab.sessionShort) : 0
    // The server's handle of this tab's session ("S3"), as the session cards show it.
    readonly property string sessionHandle: Hub.sessions.count >= 0 && root.tab ? Hub.sessions.handleOfShortId(root.tab.sessionShort) : ""
    readonly property bool linked: Linked.session !== "" && root.tab && Linked.session === root.tab.sessionShort

    // A reconnect can take milliseconds: say it for a few seconds once it is over ("reconnected after 9 ms").
    property string badge: ""
    property real leftAt: 0
    property string lastStatus: "" // not a binding: it must lag the tab's status by one change
    Component.onCompleted: root.lastStatus = root.tab ? root.tab.status : ""
    Connections {
        target: root.tab
        function onChanged() {
            const status = root.tab.status;
            if (status === root.lastStatus)
                return;
            if (root.lastStatus === "connected" && status !== "offline")
                root.leftAt = Date.now();
            if (status === "connected" && root.leftAt > 0) {
                root.badge = (root.tab.resumed ? "reconnected, session resumed after " : "reconnected, new session after ")
                             + Math.max(0, Math.round(Date.now() - root.leftAt)) + " ms";
                root.leftAt = 0;
                badgeTimer.restart();
            }
            root.lastStatus = status;
        }
    }
    Timer {
        id: badgeTimer
        interval: 4000
        onTriggered: root.badge = ""
    }

    HoverHandler {
        onHoveredChanged: Linked.session = hovered && root.tab ? root.tab.sessionShort : (root.linked ? "" : Linked.session)
    }
    background: Rectangle {
        color: "transparent"
        radius: 3
        border.color: root.linked ? Theme.focus : Theme.border
        border.width: root.linked ? 3 : 1
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 6

        RowLayout {
            Layout.fillWidth: true
            ElidedLabel {
                text: "Tab " + root.tab.tabId + " — " + root.tab.uid
                font.bold: true
                font.pixelSize: Theme.cardTitleSize
                elide: Text.ElideMiddle // an anonymous user's uid is 28 characters
                Layout.fillWidth: true
            }
            Label {
                objectName: "tabSession"
                visible: root.sessionHandle !== ""
                text: "session " + root.sessionHandle
                font.bold: true
                color: Theme.focus
            }
            Label {
                objectName: "anonymousBadge"
                visible: root.tab.anonymous
                text: "anonymous"
                color: Theme.muted
                ToolTip.visible: anonymousHover.hovered
                ToolTip.text: "Signed in anonymously (sign_in_provider \"anonymous\"): a user of its own, with a generated uid"
                HoverHandler {
                    id: anonymousHover
                }
            }
            Label {
                text: root.tab.networkMode === "pass" ? "network ok" : "network " + (root.tab.networkMode === "blackhole" ? "dropped" : root.tab.networkMode)
                color: root.tab.networkMode === "pass" ? Theme.muted : Theme.danger
            }
        }

        Banner {
            tab: root.tab
            Layout.fillWidth: true
        }
        Label {
            objectName: "tabBadge"
            visible: root.badge !== ""
            text: root.badge
            color: Theme.connected
            font.bold: true
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }

        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: Theme.muted
            // What the tab itself knows about the user's connections is only current while it is connected.
            text: "presence " + root.tab.presenceState + " · "
                  + (root.tab.status === "connected"
                     ? root.tab.uid + " has " + root.tab.connectionCount + (root.tab.connectionCount === 1 ? " connection" : " connections")
                     : "this tab cannot see the server now")
                  + " · " + root.queuedOps + " onDisconnect ops queued on the server"
        }
        Label {
            visible: root.tab.lastError !== ""
            text: root.tab.lastError
            color: Theme.danger
            Layout.fillWidth: true
            wrapMode: Text.Wrap
        }

        Flow {
            Layout.fillWidth: true
            spacing: 4
            Button {
                objectName: "closeTab"
                text: "Close tab"
                ToolTip.visible: hovered
                ToolTip.text: "Clean close (close frame): the server fires this tab's onDisconnect ops at once"
                onClicked: Hub.tabs.closeTab(root.tab.tabId)
            }
            Button {
                objectName: "dropNetwork"
                text: "Drop network"
                // An offline tab has no connection to silence or reset.
                enabled: root.tab.networkMode !== "blackhole" && root.tab.status !== "offline"
                ToolTip.visible: hovered
                ToolTip.text: "Silence, no close: ops fire after dead-after + grace unless the network comes back in time"
                onClicked: root.tab.dropNetwork()
            }
            Button {
                objectName: "blip"
                text: "Blip"
                enabled: root.tab.status !== "offline"
                ToolTip.visible: hovered
                ToolTip.text: "Reset the connection: the client reconnects and resumes its session; ops stay queued"
                onClicked: root.tab.blip()
            }
            Button {
                objectName: "restoreNetwork"
                text: "Restore network"
                enabled: root.tab.networkMode !== "pass"
                onClicked: root.tab.restoreNetwork()
            }
            Button {
                objectName: "reload"
                text: "Reload"
                ToolTip.visible: hovered
                ToolTip.text: "Like a reload after a crash or a new process: the old link dies without a close and a new session starts without resuming; the old session's ops fire when its grace ends"
                onClicked: root.tab.reload()
            }
            Button {
                objectName: "goOffline"
                text: root.tab.status === "offline" ? "Go online" : "Go offline"
                ToolTip.visible: hovered
                ToolTip.text: root.tab.status === "offline" ? "Reconnect: a new session, new presence entry" : "goOffline(): a clean close, ops fire at once; the tab stays open"
                onClicked: root.tab.status === "offline" ? root.tab.goOnline() : root.tab.goOffline()
            }
            Button {
                objectName: "cancelFlagOp"
                text: "Cancel op"
                enabled: root.tab.status === "connected"
                ToolTip.visible: hovered
                ToolTip.text: "onDisconnect().cancel() on status/" + root.tab.uid + "/online: the server drops that queued op (shown struck through)"
                onClicked: root.tab.cancelFlagOp()
            }
            Button {
                objectName: "writeOthersEntry"
                // Someone else: the first other user the dashboard knows.
                readonly property string other: Hub.users.find(u => u !== root.tab.uid) ?? ""
                text: "Write " + other + "'s entry"
                visible: other !== ""
                enabled: root.tab.status === "connected"
                ToolTip.visible: hovered
                ToolTip.text: "set presence/" + other + "/connections/… as " + root.tab.uid + ": presence rules refuse it (see the event log)"
                onClicked: root.tab.writeOthersEntry(other)
            }
        }
    }
}
