// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Lark.Dashboard

// "Connect your app": the exact Firebase JS SDK lines for the server shown (host, port and namespace, so an app
// lands where the panels look), a copy button, and the server's presence page in a real browser as a user.
ColumnLayout {
    id: root
    spacing: 4

    readonly property var address: /^wss?:\/\/([^:\/?]+):(\d+)/.exec(Hub.serverUrl)
    readonly property string host: root.address ? root.address[1] : "127.0.0.1"
    readonly property string port: root.address ? root.address[2] : "9000"
    // Hub.pageUrl is the page as the first user; the same page as anyone else.
    function pageUrlAs(uid: string): string {
        return Hub.pageUrl.replace(/uid=[^&]*/, "uid=" + encodeURIComponent(uid));
    }
    readonly property string snippet:
        "import { initializeApp } from 'firebase/app';\n"
        + "import { getDatabase, connectDatabaseEmulator } from 'firebase/database';\n\n"
        + "// ?ns= picks the namespace; without it the SDK uses <projectId>-default-rtdb.\n"
        + "const app = initializeApp({ projectId: '" + Hub.namespaceName + "', databaseURL: 'http://" + root.host + ":"
        + root.port + "?ns=" + Hub.namespaceName + "' });\n"
        + "const db = getDatabase(app);\n"
        + "connectDatabaseEmulator(db, '" + root.host + "', " + root.port + ");\n"

    Label {
        text: "Connect your app"
        font.bold: true
        font.pixelSize: Theme.titleSize
    }
    Label {
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: Theme.muted
        text: Hub.running ? "With the Firebase JS SDK, into namespace " + Hub.namespaceName + " (the one these panels show):"
                          : "The server is not running."
    }
    TextArea {
        objectName: "snippet"
        visible: Hub.running
        readOnly: true
        selectByMouse: true
        text: root.snippet
        font.family: "monospace"
        font.pixelSize: Theme.smallSize
        wrapMode: TextEdit.WrapAnywhere
        Layout.fillWidth: true
        Accessible.name: "Code to connect an app"
    }
    Flow {
        visible: Hub.running
        Layout.fillWidth: true
        spacing: 6
        Button {
            objectName: "copySnippet"
            text: "Copy"
            onClicked: {
                Clipboard.setText(root.snippet);
                Notices.post("Copied the code for " + root.host + ":" + root.port + ", namespace " + Hub.namespaceName);
            }
        }
        Label {
            text: "Presence page as"
            height: openPage.height
            verticalAlignment: Text.AlignVCenter
        }
        TextField {
            id: pageUser
            objectName: "pageUser"
            text: "alice"
            width: 100
            Accessible.name: "User for the presence page"
        }
        Button {
            id: openPage
            objectName: "openInBrowser"
            text: "Open in browser"
            enabled: Hub.pageUrl.length > 0 && Hub.uidProblem(pageUser.text) === ""
            ToolTip.visible: hovered
            ToolTip.text: root.pageUrlAs(pageUser.text)
            onClicked: {
                const url = root.pageUrlAs(pageUser.text);
                if (Qt.openUrlExternally(url))
                    Notices.post("Opened " + url);
                else {
                    Clipboard.setText(url);
                    Notices.post("No browser to open " + url + " (copied instead)");
                }
            }
        }
    }
}
