// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Lark.Dashboard

// The simulated tabs of one window, and the bar that opens more.
ColumnLayout {
    id: root
    required property int windowId
    spacing: 8

    // Opens a tab as the user in the picker, if that is a user id a tab can sign in as.
    function openTab(): void {
        if (userPicker.problem === "")
            Hub.tabs.openTab(userPicker.editText, root.windowId);
    }

    RowLayout {
        Layout.fillWidth: true
        Label {
            text: "Open a tab as"
        }
        // Any user id can be typed; the list offers the defaults and everyone seen in the presence data.
        ComboBox {
            id: userPicker
            objectName: "userPicker"
            readonly property string problem: Hub.uidProblem(userPicker.editText)
            editable: true
            Layout.preferredWidth: 200
            onAccepted: root.openTab()
            // Not a binding: a new model resets the field to the first entry, which would wipe what is being
            // typed whenever someone else's presence shows up. Swap the list, then put the text back.
            Component.onCompleted: userPicker.model = Hub.users
            Connections {
                target: Hub
                function onUsersChanged(): void {
                    const typed = userPicker.editText;
                    userPicker.model = Hub.users;
                    userPicker.currentIndex = userPicker.find(typed, Qt.MatchExactly);
                    userPicker.editText = typed;
                }
            }
        }
        Button {
            objectName: "openTab"
            text: "Open tab"
            enabled: Hub.running && userPicker.problem === ""
            onClicked: root.openTab()
        }
        // Firebase Anonymous Auth: a new user with a generated uid, as signInAnonymously() gives an app.
        Button {
            objectName: "openAnonymousTab"
            text: "Sign in anonymously"
            enabled: Hub.running
            onClicked: Hub.tabs.openAnonymousTab(root.windowId)
        }
        Item {
            Layout.fillWidth: true
        }
    }
    Label {
        objectName: "uidProblem"
        visible: userPicker.problem !== ""
        text: userPicker.problem
        color: Theme.danger
        Layout.fillWidth: true
        wrapMode: Text.Wrap
    }

    ScrollView {
        id: scroller
        Layout.fillWidth: true
        Layout.fillHeight: true
        clip: true
        contentWidth: availableWidth

        Flow {
            width: scroller.availableWidth
            spacing: 8
            Repeater {
                model: Hub.tabs
                delegate: TabCard {
                    required property int tabId
                    required property int windowId
                    objectName: "tabCard-" + tabId
                    // Positioners skip invisible items: each window shows only its own tabs.
                    visible: windowId === root.windowId
                    // Two columns when there is room for two readable cards.
                    width: scroller.availableWidth >= 688 ? (scroller.availableWidth - 8) / 2 : scroller.availableWidth
                }
            }
        }
    }

    Label {
        visible: Hub.tabs.count >= 0 && Hub.tabs.countInWindow(root.windowId) === 0
        text: "No tabs in this window yet."
        color: Theme.muted
    }
}
