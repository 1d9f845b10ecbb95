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
        Layout.minimumWidth: 150
        Layout.fillWidth: true
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
            const loss = root.whatIsLost();
            if (loss === "")
                root.apply();
            else {
                applyConfirm.loss = loss;
                applyConfirm.open();
            }
        }
    }

    // What applying would throw away, in words; empty when nothing (then it applies without asking).
    function whatIsLost(): string {
        const tabs = Hub.tabs.count;
        const tabText = tabs + (tabs === 1 ? " open tab" : " open tabs");
        // A restart from the data file keeps everything: the tabs reconnect and resume.
        if (root.wantHost && !Hub.remote && Hub.persistent && Hub.keepData)
            return "";
        if (root.wantHost && !Hub.remote) {
            const parts = [];
            if (tabs > 0)
                parts.push(tabText + " (their ops fire as they close)");
            if (Hub.tree && Hub.tree.rowCount() > 0)
                parts.push("the data in memory");
            return parts.join(" and ");
        }
        return tabs > 0 ? tabText : "";
    }

    function apply(): void {
        // restart() keeps the tabs when the server keeps its data; useHost() is the way back from Connect.
        if (root.wantHost && !Hub.remote)
            Hub.restart(parseInt(portField.text));
        else if (root.wantHost)
            Hub.useHost(parseInt(portField.text));
        else
            Hub.useConnect(urlField.text, tokenField.text);
    }

    Dialog {
        id: applyConfirm
        objectName: "applyConfirm"
        property string loss: ""
        parent: Overlay.overlay
        anchors.centerIn: parent
        modal: true
        title: root.wantHost ? (Hub.remote ? "Start the embedded server?" : "Restart the server?")
                             : "Watch " + urlField.text + "?"
        standardButtons: Dialog.Ok | Dialog.Cancel
        width: 460
        Label {
            objectName: "applyConfirmText"
            width: parent ? parent.width : 0
            wrapMode: Text.Wrap
            text: "This closes " + applyConfirm.loss + "; it cannot be undone."
                  + (root.wantHost && !Hub.remote ? " To keep data and sessions across restarts, tick \"Keep data between restarts\" first." : "")
        }
        onAccepted: root.apply()
    }
}
