// SPDX-License-Identifier: MIT
pragma ComponentBehavior: Bound
import QtQuick
import Lark.Dashboard

// The first window; "New window" adds more, each closing with its tabs.
DashboardWindow {
    id: root
    windowId: 0
    visible: true
    // lark --theme: system, light or dark.
    property string colorScheme: "system"
    Binding {
        target: Theme
        property: "scheme"
        value: root.colorScheme
    }

    // The "New window" windows. Held here: a parentless window that nothing references is garbage collected.
    // A JS array holds strong references (a list<QtObject> does not).
    property var extraWindows: []
    readonly property int extraWindowCount: root.extraWindows.length

    function forget(window: QtObject) {
        const kept = [];
        for (let i = 0; i < root.extraWindows.length; ++i) {
            if (root.extraWindows[i] !== window)
                kept.push(root.extraWindows[i]);
        }
        root.extraWindows = kept;
    }

    Component {
        id: extraWindow
        DashboardWindow {
            id: w
            onClosing: {
                Hub.closeWindow(w.windowId);
                root.forget(w);
                w.destroy();
            }
        }
    }

    Connections {
        target: Hub
        function onWindowOpened(windowId: int) {
            const w = extraWindow.createObject(null, { windowId: windowId });
            root.extraWindows = root.extraWindows.concat([w]);
            w.show();
        }
        // A window closed from elsewhere (Hub.closeWindow) closes here too.
        function onWindowIdsChanged() {
            for (let i = root.extraWindows.length - 1; i >= 0; --i) {
                const w = root.extraWindows[i];
                if (w && !Hub.windowIds.includes(w.windowId))
                    w.close();
            }
        }
    }
}
