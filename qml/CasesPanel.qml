// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Lark.Dashboard

// The disconnect cases of docs/semantics.md §1, with this server's timers: which button shows which case.
GridLayout {
    id: root
    columns: 3
    columnSpacing: 12
    rowSpacing: 2

    // Cells share the width and wrap, so the table never widens the column it sits in and nothing is cut.
    component Cell: Label {
        Layout.fillWidth: true
        Layout.preferredWidth: 1
        wrapMode: Text.Wrap
    }

    readonly property string silentDelay: Hub.remote ? "dead-after + grace"
                                                     : Theme.seconds(Hub.deadAfterMs) + " + " + Theme.seconds(Hub.graceMs)

    Label {
        Layout.columnSpan: 3
        text: "What each button shows"
        font.bold: true
        font.pixelSize: Theme.titleSize
    }
    Cell { text: "button"; font.bold: true }
    Cell { text: "what the server sees"; font.bold: true }
    Cell { text: "when the tab's ops fire"; font.bold: true }

    Cell { text: "Close tab, Go offline" }
    Cell { text: "a close frame" }
    Cell { text: "at once" }

    Cell { text: "Drop network" }
    Cell { text: "silence, no close frame" }
    Cell { text: "after " + root.silentDelay }

    Cell { text: "Blip" }
    Cell { text: "a reset; the session resumes" }
    Cell { text: "never (the ops stay queued)" }

    Cell { text: "Reload" }
    Cell { text: "a reset; a new session" }
    Cell { text: "the old session's, after grace" }

    // §1's last row. Without a data file the embedded server forgets everything, so there is nothing to resume.
    Cell { text: "Restart server" }
    Cell {
        text: Hub.persistent ? "sessions come back suspended"
                             : "a new, empty server"
    }
    Cell {
        text: Hub.persistent ? "after grace, if it stays away"
                             : "never: tabs close with it"
    }
}
