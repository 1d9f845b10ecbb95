// SPDX-License-Identifier: MIT
pragma Singleton
import QtQuick

// One place for the dashboard's colours, so the state colours mean the same in every panel, in light and dark.
// Fills (stateColor: banners, badges) are the same in both and carry white text at 4.5:1 or more; text colours
// (connected, danger, ...) have a light and a dark variant, each at 4.5:1 or more on its panels (WCAG AA;
// tst_theme.qml checks both schemes).
QtObject {
    id: theme

    // "system" follows the desktop (a dark window colour means dark), or "light" / "dark" (lark --theme).
    property string scheme: "system"
    readonly property SystemPalette system: SystemPalette {
        colorGroup: SystemPalette.Active
    }
    readonly property bool dark: theme.scheme === "dark" || (theme.scheme === "system" && theme.system.window.hslLightness < 0.5)

    // The type scale: the app's name, panel titles, card titles, body (the style's), small print (times, code).
    readonly property int appTitleSize: 18
    readonly property int titleSize: 16
    readonly property int cardTitleSize: 15
    readonly property int smallSize: 11

    // Fills with white text on them.
    readonly property color fillLive: "#2e7d32" // green
    readonly property color fillReconnecting: "#1565c0" // blue: on its way
    readonly property color fillSuspended: "#5e35b1" // purple: gone, ops held for the grace
    readonly property color fillSilent: "#9a5b00" // amber: connected but not answering pings
    readonly property color fillOffline: "#616161"
    readonly property color fillDanger: "#c62828"

    // Text on the panels.
    readonly property color connected: theme.dark ? "#81c784" : "#2e7d32"
    readonly property color reconnecting: theme.dark ? "#90caf9" : "#1565c0"
    readonly property color suspended: theme.dark ? "#b39ddb" : "#5e35b1"
    readonly property color silent: theme.dark ? "#ffb74d" : "#9a5b00"
    readonly property color offline: theme.dark ? "#b0b0b0" : "#616161"
    readonly property color ended: theme.offline
    readonly property color danger: theme.dark ? "#ef9a9a" : "#c62828"
    readonly property color warning: theme.dark ? "#ffb74d" : "#9a5b00" // notices and "who wrote" marks
    readonly property color focus: theme.dark ? "#90caf9" : "#1565c0"
    readonly property color text: theme.dark ? "#e6e6e6" : "#212121"
    readonly property color muted: theme.dark ? "#b0b0b0" : "#616161"

    // Surfaces: panels are cards (window) on a canvas.
    readonly property color canvas: theme.dark ? "#121212" : "#e9ecef"
    readonly property color window: theme.dark ? "#1e1e1e" : "#ffffff"
    readonly property color panel: theme.dark ? "#2b2b2b" : "#f5f5f5"
    readonly property color border: theme.dark ? "#4a4a4a" : "#d0d0d0"
    readonly property color flash: theme.dark ? "#3d3400" : "#fff59d"
    readonly property color flashAdded: theme.dark ? "#1b3d1e" : "#c8e6c9"
    readonly property color flashRemoved: theme.dark ? "#4a1c1c" : "#ffdde1"
    // The keyboard's focus ring and text selection (palette.highlight), with its text.
    readonly property color focusRing: theme.dark ? "#64b5f6" : "#1565c0"
    readonly property color focusRingText: theme.dark ? "#000000" : "#ffffff"
    readonly property color focusBand: theme.dark ? "#0d2a45" : "#eef6fd"

    // The five looks every state name maps to (session states, tab statuses, presence).
    function stateKind(state: string): string {
        switch (state) {
        case "live":
        case "connected":
        case "online":
        case "resumed":
            return "live";
        case "silent":
        case "suspended":
            return state;
        case "reconnecting":
        case "connecting":
        case "registering":
            return "reconnecting";
        default:
            return "offline";
        }
    }

    // A state as a fill, under white text (banners, badges).
    function stateColor(state: string): color {
        return ({ live: theme.fillLive, silent: theme.fillSilent, suspended: theme.fillSuspended,
                  reconnecting: theme.fillReconnecting, offline: theme.fillOffline })[theme.stateKind(state)];
    }

    // The same states as text on a panel.
    function stateText(state: string): color {
        return ({ live: theme.connected, silent: theme.silent, suspended: theme.suspended,
                  reconnecting: theme.reconnecting, offline: theme.offline })[theme.stateKind(state)];
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

    // A moment in the data: the time (the date too when not today) and how long ago.
    function moment(ms: real, now: real): string {
        const d = new Date(ms);
        const today = d.toDateString() === new Date(now).toDateString();
        return (today ? "" : d.toLocaleDateString(Qt.locale(), Locale.ShortFormat) + " ")
               + d.toLocaleTimeString(Qt.locale(), "hh:mm:ss") + " · "
               + (ms > now + 1000 ? "in the future" : theme.ago(now, ms));
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
