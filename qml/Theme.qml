// SPDX-License-Identifier: MIT
pragma Singleton
import QtQuick

// One place for the dashboard's colours, so the state colours mean the same in every panel. Every state has a hue
// of its own, and white text on it (the badges and banners) has a contrast ratio of at least 4.5:1 (WCAG AA;
// tst_theme.qml checks it).
QtObject {
    readonly property color connected: "#2e7d32" // green: live, connected, online
    readonly property color reconnecting: "#1565c0" // blue: on its way (connecting, reconnecting, registering)
    readonly property color offline: "#616161"
    readonly property color suspended: "#5e35b1" // purple: gone, ops held for the grace
    readonly property color silent: "#9a5b00" // amber: connected but not answering pings
    readonly property color ended: "#616161"
    readonly property color danger: "#c62828"
    readonly property color warning: "#9a5b00" // notices and "who wrote" marks, not a session state
    readonly property color flash: "#fff59d"
    readonly property color focus: "#1565c0"
    readonly property color focusBand: "#e3f2fd"
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
            return suspended;
        case "reconnecting":
        case "connecting":
        case "registering":
            return reconnecting;
        default:
            return offline;
        }
    }

    // A value as an app developer wrote it: serverTimestamp() and increment(n) rather than their wire form.
    function valueText(json: string): string {
        return json.replace(/\{"\.sv":"timestamp"\}/g, "serverTimestamp()")
                   .replace(/\{"\.sv":\{"increment":(-?[0-9.eE+]+)\}\}/g, "increment($1)");
    }

    // hh:mm:ss.zzz of an epoch-ms moment: sub-second events need the milliseconds.
    function clock(ms: real): string {
        return new Date(ms).toLocaleTimeString(Qt.locale(), "hh:mm:ss.zzz");
    }

    // A span for a timeline: "9 ms", "1.5 s", "2 min".
    function duration(ms: real): string {
        if (ms < 1000)
            return Math.round(ms) + " ms";
        if (ms < 60000)
            return (ms / 1000).toFixed(1) + " s";
        return Math.round(ms / 60000) + " min";
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
