// SPDX-License-Identifier: MIT
import QtQuick
import QtQuick.Controls

// A one-line label that may be cut short to keep a row tidy; hovering it shows the whole text. Use it, not a bare
// elide, wherever text can be longer than its place (tst_layout.qml rejects cut text with no way to read it).
Label {
    id: root
    readonly property bool fullTextOnHover: true
    elide: Text.ElideRight
    HoverHandler {
        id: hover
    }
    ToolTip.visible: hover.hovered && root.truncated
    ToolTip.text: root.text
    ToolTip.delay: 300
}
