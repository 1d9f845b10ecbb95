// SPDX-License-Identifier: MIT
pragma Singleton
import QtQuick

// Short notices ("Copied", "Saved to …") from any panel; the first window shows them at its bottom edge.
QtObject {
    // The last one, for the window that shows it (and for tests).
    property string last: ""
    signal posted(string text)

    function post(text: string): void {
        last = text;
        posted(text);
    }
}
