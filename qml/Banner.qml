// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import Lark.Dashboard

// The tab's view of .info/connected and its session, as an app would show it.
Rectangle {
    id: root
    required property SimulatedTab tab
    readonly property string status: root.tab ? root.tab.status : "offline"

    objectName: "banner"
    implicitHeight: label.implicitHeight + 12
    implicitWidth: label.implicitWidth + 12
    radius: 4
    color: Theme.stateColor(root.status)

    Label {
        id: label
        objectName: "bannerText"
        x: 6
        y: 6
        width: root.width - 12
        color: "white"
        font.bold: true
        wrapMode: Text.Wrap
        text: {
            const t = root.tab;
            if (!t)
                return "";
            switch (root.status) {
            case "connected":
                return "Connected · session " + t.sessionShort + "…" + (t.resumed ? " · resumed" : "")
                        + " · clock offset " + t.serverTimeOffset + " ms";
            case "reconnecting":
                return "Reconnecting · attempt " + t.reconnectAttempt
                        + (t.nextRetryInMs > 0 ? " · next retry in " + Theme.seconds(t.nextRetryInMs) : " · trying now");
            case "connecting":
                return "Connecting…";
            default:
                return "Offline";
            }
        }
    }
}
