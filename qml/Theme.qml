// SPDX-License-Identifier: MIT
pragma Singleton
import QtQuick

// One place for the dashboard's colours, so the state colours mean the same in every panel.
QtObject {
    readonly property color connected: "#2e7d32"
    readonly property color reconnecting: "#e09a00"
    readonly property color offline: "#757575"
    readonly property color suspended: "#e09a00"
    readonly property color silent: "#c77800"
    readonly property color ended: "#9e9e9e"
    readonly property color danger: "#c62828"
    readonly property color flash: "#fff59d"
    readonly property color panel: "#f5f5f5"
    readonly property color border: "#d0d0d0"
    readonly property color text: "#212121"
    readonly property color muted: "#616161"

    function stateColor(state: string): color {
        switch (state) {
        case "live":
        case "connected":
        case "online":
            return connected;
        case "silent":
            return silent;
        case "suspended":
        case "reconnecting":
        case "connecting":
        case "registering":
            return reconnecting;
        default:
            return offline;
        }
    }

    function seconds(ms: real): string {
        return (ms / 1000).toFixed(1) + " s";
    }

    function ago(now: real, then: real): string {
        if (then <= 0)
            return "never";
        const s = Math.max(0, Math.round((now - then) / 1000));
        if (s < 60)
            return s + " s ago";
        if (s < 3600)
            return Math.floor(s / 60) + " min ago";
        return Math.floor(s / 3600) + " h ago";
    }
}
