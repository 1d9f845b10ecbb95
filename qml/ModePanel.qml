// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Lark.Dashboard

// Host (an embedded server on a port) or Connect (watch a running server through its admin feed), switchable at
// any time. Switching closes every simulated tab: they belong to the server they were opened on.
RowLayout {
    id: root
    spacing: 6

    // What the fields say before Apply; follows the hub whenever it changes mode.
    property bool wantHost: Hub.mode === "host"
    Connections {
        target: Hub
        function onModeChanged() { root.wantHost = Hub.mode === "host"; }
    }

    ButtonGroup { id: modes }
    RadioButton {
        objectName: "modeHost"
        text: "Host"
        checked: root.wantHost
        ButtonGroup.group: modes
        onToggled: root.wantHost = checked
        ToolTip.visible: hovered
        ToolTip.text: "Run an embedded Lark server on 127.0.0.1"
    }
    RadioButton {
        objectName: "modeConnect"
        text: "Connect"
        checked: !root.wantHost
        ButtonGroup.group: modes
        onToggled: root.wantHost = !checked
        ToolTip.visible: hovered
        ToolTip.text: "Watch a running Lark server through its admin feed"
    }
    TextField {
        id: portField
        objectName: "portField"
        visible: root.wantHost
        text: Hub.remote ? String(Hub.requestedPort()) : (Hub.running ? String(Hub.port()) : String(Hub.requestedPort()))
        validator: IntValidator {
            bottom: 0
            top: 65535
        }
        Layout.preferredWidth: 70
        ToolTip.visible: hovered
        ToolTip.text: "Port of the embedded server; 0 picks a free one"
    }
    TextField {
        id: urlField
        objectName: "urlField"
        visible: !root.wantHost
        text: Hub.connectUrl !== "" ? Hub.connectUrl : "ws://127.0.0.1:9000"
        placeholderText: "ws://host:port[?ns=name]"
        Layout.preferredWidth: 220
    }
    TextField {
        id: tokenField
        objectName: "tokenField"
        visible: !root.wantHost
        text: Hub.adminToken
        echoMode: TextInput.Password
        placeholderText: "admin token"
        Layout.preferredWidth: 90
        ToolTip.visible: hovered
        ToolTip.text: "Admin credential for the admin feed (\"owner\" for a local server)"
    }
    Button {
        objectName: "applyMode"
        text: root.wantHost ? (Hub.remote ? "Start server" : "Restart server") : (Hub.remote ? "Reconnect" : "Connect")
        enabled: root.wantHost ? portField.acceptableInput : urlField.text !== ""
        ToolTip.visible: hovered
        ToolTip.text: !root.wantHost ? "Closes every tab and watches this server instead"
                      : (Hub.persistent && Hub.keepData && !Hub.remote)
                        ? "Restarts the server from its data file: the tabs reconnect and resume their sessions"
                        : "Closes every tab and starts a new, empty server on this port (the data is in memory only)"
        onClicked: {
            // restart() keeps the tabs when the server keeps its data; useHost() is the way back from Connect.
            if (root.wantHost && !Hub.remote)
                Hub.restart(parseInt(portField.text));
            else if (root.wantHost)
                Hub.useHost(parseInt(portField.text));
            else
                Hub.useConnect(urlField.text, tokenField.text);
        }
    }
}
