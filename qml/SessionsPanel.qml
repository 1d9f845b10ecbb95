// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Lark.Dashboard

// The server's sessions and what each will write when it is gone, then the log of what was written.
ColumnLayout {
    id: root
    spacing: 4
    // For the lingering badges: sub-second events stay readable for a few seconds.
    property real now: Date.now()
    readonly property int badgeMs: 4000
    Timer {
        interval: 250
        running: true
        repeat: true
        onTriggered: root.now = Date.now()
    }

    Label {
        text: "Sessions & queued onDisconnect ops (" + Hub.sessions.queuedOpCount + " queued)"
        font.bold: true
        font.pixelSize: Theme.titleSize
    }
    ListView {
        id: list
        objectName: "sessionsList"
        Layout.fillWidth: true
        Layout.fillHeight: true
        Layout.minimumHeight: 120
        clip: true
        spacing: 4
        model: Hub.sessions
        ScrollBar.vertical: ScrollBar {}
        delegate: Rectangle {
            id: card
            required property string handle
            required property string shortId
            required property string sessionState
            required property string identity
            required property string remote
            required property int resumes
            required property var ops
            required property int opCount
            required property real graceRemainingMs
            required property real silentForMs
            required property int deadAfterMs
            required property string endReason
            required property string namespace
            required property string node
            required property var timeline
            // The open tab on this session, 0 for none (another client, or a closed tab).
            readonly property int tabId: Hub.tabs.count >= 0 && card.shortId !== "" ? Hub.tabs.tabIdOfSession(card.shortId) : 0
            readonly property bool linked: Linked.session !== "" && Linked.session === card.shortId
            // The last short-lived event, while it is recent: "resumed after 9 ms".
            readonly property string badge: {
                const t = card.timeline;
                if (!t || t.length < 2 || root.now - t[t.length - 1].at > root.badgeMs)
                    return "";
                const last = t[t.length - 1];
                const before = t[t.length - 2];
                if (last.state === "resumed")
                    return "resumed after " + Math.max(0, Math.round(last.at - before.at)) + " ms";
                return "";
            }
            objectName: "session-" + card.shortId
            width: list.width - 12
            implicitHeight: col.implicitHeight + 10
            radius: 4
            color: Theme.panel
            border.color: card.linked ? Theme.focus : Theme.stateText(card.sessionState)
            border.width: card.linked ? 3 : 1
            opacity: card.sessionState === "ended" ? 0.6 : 1
            HoverHandler {
                onHoveredChanged: Linked.session = hovered ? card.shortId : (Linked.session === card.shortId ? "" : Linked.session)
            }

            ColumnLayout {
                id: col
                x: 6
                y: 5
                width: parent.width - 12
                spacing: 2
                RowLayout {
                    Layout.fillWidth: true
                    Label { text: card.handle; font.bold: true }
                    Label { text: card.shortId + "…"; color: Theme.muted; font.family: "monospace" }
                    Label { text: card.identity }
                    Label {
                        objectName: "sessionTab"
                        visible: card.tabId > 0
                        text: "Tab " + card.tabId
                        font.bold: true
                        color: Theme.focus
                    }
                    Label { objectName: "sessionNamespace"; text: "ns " + card.namespace; color: Theme.muted }
                    // Cluster mode: the node it is on (the sessions shown are the connected node's).
                    Label {
                        objectName: "sessionNode"
                        visible: card.node !== ""
                        text: "on " + card.node
                        color: Theme.muted
                    }
                    Label { text: card.remote; color: Theme.muted }
                    Label { visible: card.resumes > 0; text: "resumed ×" + card.resumes; color: Theme.muted }
                    Item { Layout.fillWidth: true }
                    Rectangle {
                        visible: card.badge !== ""
                        radius: 3
                        color: Theme.fillLive
                        implicitWidth: badgeLabel.implicitWidth + 10
                        implicitHeight: badgeLabel.implicitHeight + 4
                        Label {
                            id: badgeLabel
                            objectName: "sessionBadge"
                            anchors.centerIn: parent
                            color: "white"
                            text: card.badge
                        }
                    }
                    Rectangle {
                        radius: 3
                        color: Theme.stateColor(card.sessionState)
                        implicitWidth: stateLabel.implicitWidth + 10
                        implicitHeight: stateLabel.implicitHeight + 4
                        Label {
                            id: stateLabel
                            objectName: "sessionState"
                            anchors.centerIn: parent
                            color: "white"
                            font.bold: true
                            text: {
                                switch (card.sessionState) {
                                case "suspended":
                                    return "suspended · fires in " + Theme.seconds(card.graceRemainingMs);
                                case "silent":
                                    return "silent " + Theme.seconds(card.silentForMs) + " · dead after " + Theme.seconds(card.deadAfterMs);
                                case "ended":
                                    return "ended · " + card.endReason;
                                default:
                                    return card.sessionState;
                                }
                            }
                        }
                    }
                }
                // The states it went through, with when: a blip's suspend and resume are milliseconds apart.
                Flow {
                    objectName: "timeline"
                    Layout.fillWidth: true
                    spacing: 4
                    Repeater {
                        model: card.timeline
                        delegate: Label {
                            required property var modelData
                            required property int index
                            readonly property var previous: index > 0 ? card.timeline[index - 1] : null
                            objectName: "moment-" + modelData.state
                            font.pixelSize: Theme.smallSize
                            color: Theme.stateText(modelData.state)
                            text: (index > 0 ? "→ " : "") + modelData.state
                                  + (modelData.detail ? " (" + modelData.detail + ")" : "") + " "
                                  + (previous ? "+" + Theme.duration(modelData.at - previous.at) : Theme.clock(modelData.at))
                        }
                    }
                }
                Repeater {
                    model: card.ops
                    // Queued ops with the time the server accepted them; cancelled ones stay a while, struck through.
                    delegate: Label {
                        required property var modelData
                        readonly property bool cancelled: modelData.cancelled
                        objectName: "op-" + modelData.path
                        Layout.fillWidth: true
                        wrapMode: Text.WrapAnywhere
                        font.family: "monospace"
                        font.strikeout: cancelled
                        color: cancelled ? Theme.muted : Theme.text
                        text: "  " + new Date(modelData.registeredAt).toLocaleTimeString(Qt.locale(), "hh:mm:ss") + "  "
                              + modelData.kind + " " + modelData.path + (modelData.kind === "remove" ? "" : " = " + Theme.valueText(modelData.value))
                              + (cancelled ? "   (cancelled " + new Date(modelData.cancelledAt).toLocaleTimeString(Qt.locale(), "hh:mm:ss") + ")" : "")
                    }
                }
                Label {
                    visible: card.opCount === 0 && card.sessionState !== "ended"
                    text: "  no queued ops"
                    color: Theme.muted
                }
            }
        }
    }

    // REST event streams: clients with a connection and no session (nothing of theirs fires).
    Label {
        objectName: "streamsHeader"
        visible: Hub.streams.count > 0
        text: "Event streams (" + Hub.streams.count + ")"
        font.bold: true
    }
    Repeater {
        model: Hub.streams
        delegate: Label {
            required property string handle
            required property string kind
            required property string namespaceName
            required property string path
            required property string query
            required property string identity
            required property string remote
            required property real openedAt
            objectName: "stream-" + handle
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            text: handle + "  " + kind + "  " + path + (query.length > 0 ? " (" + query + ")" : "") + "  in " + namespaceName
                  + "  · " + identity + " · " + remote + " · since "
                  + new Date(openedAt).toLocaleTimeString(Qt.locale(), "hh:mm:ss")
        }
    }

    Label {
        text: "Fired ops"
        font.bold: true
    }
    ListView {
        id: fired
        objectName: "firedList"
        Layout.fillWidth: true
        Layout.preferredHeight: 110
        clip: true
        model: Hub.firedOps
        ScrollBar.vertical: ScrollBar {}
        delegate: Label {
            required property real firedAt
            required property string handle
            required property string reason
            required property string path
            required property string value
            // A resolved serverTimestamp() is an epoch number: say which moment it is.
            readonly property real moment: /^[0-9]{12,13}$/.test(value) ? Number(value) : 0
            objectName: "fired-" + path
            width: fired.width - 12
            wrapMode: Text.WrapAnywhere
            font.family: "monospace"
            text: new Date(firedAt).toLocaleTimeString(Qt.locale(), "hh:mm:ss") + "  " + handle + " (" + reason + ")  "
                  + path + " = " + value + (moment > 946684800000 ? "  (" + Theme.moment(moment, root.now) + ")" : "")
        }
        Label {
            visible: fired.count === 0
            width: fired.width
            wrapMode: Text.Wrap
            text: "nothing has fired yet"
            color: Theme.muted
        }
    }
}
