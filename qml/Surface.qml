// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls
import Lark.Dashboard

// A panel's surface: the window is a canvas and each panel a card on it, so the panels read as separate things.
// The panel goes inside with anchors.fill: parent.
Pane {
    padding: 10
    background: Rectangle {
        color: Theme.window
        radius: 6
        border.color: Theme.border
    }
}
