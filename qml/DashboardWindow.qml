// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Lark.Dashboard

// A top-level window. The first one is the dashboard (tabs, presence, sessions, data); the others are further
// "browser windows" that only hold tabs.
ApplicationWindow {
    id: root
    required property int windowId
    readonly property bool primary: root.windowId === 0
    // Side by side from this width; below it the two columns stack and the page scrolls (nothing is cut off).
    readonly property int wideWidth: 1300
    readonly property bool wide: root.width >= root.wideWidth

    width: root.primary ? 1440 : 760
    height: root.primary ? 900 : 600
    minimumWidth: root.primary ? 900 : 520
    minimumHeight: root.primary ? 600 : 400
    color: Theme.canvas
    // The scheme chosen with --theme wins over the desktop's: the controls follow the panels.
    readonly property bool forcedScheme: Theme.scheme !== "system"
    palette.window: root.forcedScheme ? Theme.window : Theme.system.window
    palette.windowText: root.forcedScheme ? Theme.text : Theme.system.windowText
    palette.base: root.forcedScheme ? (Theme.dark ? "#262626" : "#ffffff") : Theme.system.base
    palette.alternateBase: root.forcedScheme ? Theme.panel : Theme.system.alternateBase
    palette.text: root.forcedScheme ? Theme.text : Theme.system.text
    palette.button: root.forcedScheme ? (Theme.dark ? "#3a3a3a" : "#efefef") : Theme.system.button
    palette.buttonText: root.forcedScheme ? Theme.text : Theme.system.buttonText
    palette.placeholderText: root.forcedScheme ? Theme.muted : Theme.system.placeholderText
    palette.light: root.forcedScheme ? (Theme.dark ? "#505050" : "#ffffff") : Theme.system.light
    palette.mid: root.forcedScheme ? (Theme.dark ? "#2a2a2a" : "#b8b8b8") : Theme.system.mid
    palette.dark: root.forcedScheme ? (Theme.dark ? "#151515" : "#9f9f9f") : Theme.system.dark
    // Fusion draws the focus ring in the highlight colour: a strong one, so the keyboard's place is easy to see.
    palette.highlight: Theme.focusRing
    palette.highlightedText: Theme.focusRingText
    // Qt adds the application's name ("— Lark") where the platform shows it: the title says which server.
    title: (root.primary ? "" : "Window " + (root.windowId + 1) + " · ")
           + (Hub.running ? Hub.serverUrl + " · ns " + Hub.namespaceName : "server not running")

    Connections {
        target: Notices
        enabled: root.primary
        function onPosted(text: string) {
            notice.show(text);
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        // The header is the first item, so Tab starts there (an ApplicationWindow header comes last in the chain).
        ToolBar {
            objectName: "header"
            Layout.fillWidth: true
            ColumnLayout {
                anchors.fill: parent
                anchors.leftMargin: 8
                anchors.rightMargin: 8
                spacing: 2
                RowLayout {
                    Layout.fillWidth: true
                    Label {
                        text: "Lark"
                        font.bold: true
                        font.pixelSize: Theme.appTitleSize
                    }
                    TextField {
                        objectName: "serverUrl"
                        readOnly: true
                        selectByMouse: true
                        text: (Hub.remote ? "watching " : "") + (Hub.running ? Hub.serverUrl + "  (ns " + Hub.namespaceName + ")" : "server not running")
                        Layout.preferredWidth: 300
                        Accessible.name: "Server address"
                    }
                    ModePanel {
                        visible: root.primary
                    }
                    Item {
                        Layout.fillWidth: true
                    }
                    Button {
                        objectName: "newWindow"
                        text: "New window"
                        onClicked: Hub.newWindow()
                    }
                }
                // What this run uses besides the defaults, and why the server is not as asked.
                Label {
                    objectName: "hostMessage"
                    visible: Hub.hostMessage !== ""
                    text: Hub.hostMessage
                    color: Hub.running ? Theme.warning : Theme.danger
                    wrapMode: Text.Wrap
                    Layout.fillWidth: true
                }
                RowLayout {
                    visible: root.primary && (Hub.savedSettings.length > 0 || Hub.oneOffOptions.length > 0)
                    Layout.fillWidth: true
                    Label {
                        objectName: "savedSettings"
                        visible: Hub.savedSettings.length > 0
                        text: "Saved settings in use: " + Hub.savedSettings.join(" · ")
                        color: Theme.muted
                        wrapMode: Text.Wrap
                        Layout.fillWidth: true
                        HoverHandler {
                            id: savedHover
                        }
                        ToolTip.visible: savedHover.hovered
                        ToolTip.text: "From lark.conf in the settings folder (~/.config/lark). Changes made here are saved at exit."
                    }
                    Label {
                        objectName: "oneOffOptions"
                        visible: Hub.oneOffOptions.length > 0
                        text: "For this run only: " + Hub.oneOffOptions.join(" · ")
                        color: Theme.muted
                        wrapMode: Text.Wrap
                        Layout.fillWidth: true
                    }
                    Button {
                        objectName: "keepOneOff"
                        visible: Hub.oneOffOptions.length > 0
                        text: "Keep"
                        ToolTip.visible: hovered
                        ToolTip.text: "Save this run's command-line options at exit, as if they had been set here"
                        onClicked: {
                            Hub.keepOneOffOptions();
                            Notices.post("This run's options will be saved at exit");
                        }
                    }
                }
            }
        }

        ScrollView {
            id: page
            objectName: "page"
            Layout.fillWidth: true
            Layout.fillHeight: true
            contentWidth: page.availableWidth
            // Wide: the panels share the window's height (each list scrolls itself). Stacked: each panel has a
            // readable height and the page scrolls.
            contentHeight: root.wide || !root.primary ? Math.max(page.availableHeight, 560) : grid.implicitHeight + 16
            ScrollBar.horizontal.policy: ScrollBar.AlwaysOff

            GridLayout {
                id: grid
                x: 8
                y: 8
                width: page.availableWidth - 16
                height: page.contentHeight - 16
                columns: root.wide || !root.primary ? 2 : 1
                columnSpacing: 12
                rowSpacing: 16

                ColumnLayout {
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    Layout.preferredWidth: root.primary ? 620 : 740
                    Layout.minimumHeight: root.wide ? 0 : 900
                    spacing: 10
                    Surface {
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        Layout.minimumHeight: 280
                        TabsPanel {
                            objectName: "tabsPanel"
                            anchors.fill: parent
                            windowId: root.windowId
                        }
                    }
                    Surface {
                        visible: root.primary
                        Layout.fillWidth: true
                        CasesPanel {
                            objectName: "casesPanel"
                            anchors.fill: parent
                        }
                    }
                    Surface {
                        visible: root.primary
                        Layout.fillWidth: true
                        ConnectBox {
                            objectName: "connectBox"
                            anchors.fill: parent
                        }
                    }
                    Surface {
                        visible: root.primary
                        Layout.fillWidth: true
                        Layout.preferredHeight: 280
                        Layout.minimumHeight: 240
                        ServerPanel {
                            objectName: "serverPanel"
                            anchors.fill: parent
                        }
                    }
                }

                ColumnLayout {
                    visible: root.primary
                    Layout.fillHeight: true
                    Layout.preferredWidth: 780
                    Layout.fillWidth: true
                    Layout.minimumHeight: root.wide ? 0 : 1160
                    spacing: 10
                    Surface {
                        Layout.fillWidth: true
                        PresencePanel {
                            objectName: "presencePanel"
                            anchors.fill: parent
                        }
                    }
                    Surface {
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        Layout.preferredHeight: 380
                        Layout.minimumHeight: 280
                        SessionsPanel {
                            objectName: "sessionsPanel"
                            anchors.fill: parent
                        }
                    }
                    // The data and the rules that guard it share the space: one is looked at at a time.
                    Surface {
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        Layout.preferredHeight: 340
                        Layout.minimumHeight: 340
                        ColumnLayout {
                            anchors.fill: parent
                            spacing: 6
                            TabBar {
                                id: dataTabs
                                objectName: "dataTabs"
                                Layout.fillWidth: true
                                TabButton {
                                    text: "Data"
                                }
                                TabButton {
                                    objectName: "rulesTab"
                                    text: "Rules"
                                }
                            }
                            StackLayout {
                                currentIndex: dataTabs.currentIndex
                                Layout.fillWidth: true
                                Layout.fillHeight: true
                                DataTreePanel {
                                    objectName: "dataPanel"
                                }
                                RulesPanel {
                                    objectName: "rulesPanel"
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // A short notice at the bottom of the window; it goes by itself.
    Popup {
        id: notice
        objectName: "notice"
        property string text: ""
        function show(text: string): void {
            notice.text = text;
            notice.open();
            noticeTimer.restart();
        }
        x: (root.width - width) / 2
        y: root.height - height - 24
        closePolicy: Popup.CloseOnEscape | Popup.CloseOnPressOutside
        contentItem: Label {
            objectName: "noticeText"
            text: notice.text
            color: "white"
        }
        background: Rectangle {
            radius: 4
            color: "#323232"
        }
        Timer {
            id: noticeTimer
            interval: 3000
            onTriggered: notice.close()
        }
    }
}
