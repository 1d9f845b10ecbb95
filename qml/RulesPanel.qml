// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import Lark.Dashboard

// One namespace's security rules on the server (docs/rules.md): the text in force, edited here and applied
// through the server's rules endpoint, as firebase-tools does; a refused file keeps the old rules, and the editor
// puts the cursor where the server's line:column points. Denied requests and dropped ops show in the event log.
ColumnLayout {
    id: root
    spacing: 4

    readonly property RulesEditor rules: Hub.rules
    // The editor's text differs from the rules in force.
    readonly property bool edited: editor.text !== root.rules.source

    // The 0-based offset of a 1-based line and column (columns count UTF-16 units, as the server's do).
    function offsetOf(text: string, line: int, column: int): int {
        let at = 0;
        for (let l = 1; l < line; ++l) {
            const next = text.indexOf("\n", at);
            if (next < 0)
                return text.length;
            at = next + 1;
        }
        return Math.min(text.length, at + Math.max(0, column - 1));
    }

    Connections {
        target: Hub
        function onRunningChanged() {
            nsPicker.currentIndex = Math.max(0, nsPicker.indexOfValue(Hub.namespaceName));
        }
    }
    Connections {
        target: root.rules
        function onSourceChanged() {
            editor.text = root.rules.source;
        }
        function onStateChanged() {
            if (root.rules.errorLine > 0) {
                editor.cursorPosition = root.offsetOf(editor.text, root.rules.errorLine, root.rules.errorColumn);
                editor.forceActiveFocus();
            }
        }
    }

    RowLayout {
        Layout.fillWidth: true
        Label {
            text: "Security rules"
            font.bold: true
            font.pixelSize: Theme.titleSize
        }
        ComboBox {
            id: nsPicker
            objectName: "rulesNamespace"
            enabled: root.rules.available
            model: Hub.namespaces.length > 0 ? Hub.namespaces : [Hub.namespaceName]
            Component.onCompleted: currentIndex = Math.max(0, indexOfValue(Hub.namespaceName))
            onActivated: root.rules.load(currentText)
            onPressedChanged: if (pressed) Hub.refreshNamespaces()
        }
        Label {
            objectName: "rulesStatus"
            text: root.rules.status + (root.edited ? " · edited, not applied" : "")
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
    }

    ScrollView {
        Layout.fillWidth: true
        Layout.fillHeight: true
        Layout.minimumHeight: 120
        TextArea {
            id: editor
            objectName: "rulesText"
            enabled: root.rules.available
            font.family: "monospace"
            selectByMouse: true
            wrapMode: TextEdit.NoWrap
            placeholderText: "{\"rules\": {\".read\": true, \".write\": true}}"
        }
    }

    Label {
        objectName: "rulesError"
        visible: root.rules.error !== ""
        text: root.rules.error
        color: Theme.danger
        wrapMode: Text.Wrap
        Layout.fillWidth: true
    }

    RowLayout {
        Layout.fillWidth: true
        Button {
            objectName: "applyRules"
            text: "Apply"
            enabled: root.rules.available && !root.rules.busy
            onClicked: root.rules.apply(editor.text)
        }
        Button {
            objectName: "checkRules"
            text: "Check"
            enabled: root.rules.available && !root.rules.busy
            onClicked: root.rules.check(editor.text)
        }
        Button {
            objectName: "revertRules"
            text: "Revert"
            enabled: root.rules.available && !root.rules.busy
            onClicked: root.rules.load(root.rules.namespaceName)
        }
        Button {
            objectName: "loadRulesFile"
            text: "Load file…"
            enabled: root.rules.available
            onClicked: rulesDialog.open()
        }
        Item {
            Layout.fillWidth: true
        }
    }

    FileDialog {
        id: rulesDialog
        objectName: "rulesDialog"
        parentWindow: root.Window.window
        title: "Load security rules into the editor"
        nameFilters: ["Rules files (*.json)", "All files (*)"]
        onAccepted: {
            const text = root.rules.readFile(rulesDialog.selectedFile);
            if (text !== "")
                editor.text = text;
        }
    }
}
