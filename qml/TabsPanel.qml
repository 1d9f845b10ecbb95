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

    RowLayout {
        Layout.fillWidth: true
        Label {
            text: "Open a tab as"
        }
        ComboBox {
            id: userPicker
            objectName: "userPicker"
            model: Hub.users
        }
        Button {
            objectName: "openTab"
            text: "Open tab"
            enabled: Hub.running
            onClicked: Hub.tabs.openTab(userPicker.currentText, root.windowId)
        }
        Item {
            Layout.fillWidth: true
        }
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
