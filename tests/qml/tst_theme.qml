// SPDX-License-Identifier: MIT
import QtQuick
import QtTest
import Lark.Dashboard

// The palette (issue #16): every session and tab state has a colour of its own, and white text on it (badges,
// banners) and the muted and error colours on the panels have a contrast ratio of at least 4.5:1 (WCAG 2 AA).
TestCase {
    name: "Theme"

    readonly property color white: "white"

    function luminance(c) {
        const f = v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
    }

    function contrast(a, b) {
        const la = luminance(a);
        const lb = luminance(b);
        return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
    }

    function init() {
        Theme.scheme = "light";
    }

    function cleanup() {
        Theme.scheme = "system";
    }

    function test_schemes_data() {
        return [{ tag: "light", scheme: "light" }, { tag: "dark", scheme: "dark" }];
    }

    function test_schemes(data) {
        Theme.scheme = data.scheme;
        compare(Theme.dark, data.scheme === "dark");
        test_stateColoursAreDistinctAndReadable();
        // Text on panels, the window and a row's flash.
        for (const name of ["text", "muted", "danger", "warning", "connected", "reconnecting", "suspended", "silent", "offline", "focus"]) {
            for (const bg of [Theme.panel, Theme.window, Theme.flash, Theme.focusBand])
                verify(contrast(Theme[name], bg) >= 4.5, data.scheme + ": " + name + " " + Theme[name] + " on " + bg + " is " + contrast(Theme[name], bg).toFixed(2) + ":1");
        }
        for (const name of ["text", "muted"]) {
            for (const bg of [Theme.flashAdded, Theme.flashRemoved])
                verify(contrast(Theme[name], bg) >= 4.5, data.scheme + ": " + name + " on " + bg + " is " + contrast(Theme[name], bg).toFixed(2) + ":1");
        }
        verify(Theme.panel.hslLightness < 0.5 === (data.scheme === "dark"));
        // B17: the focus ring (the palette's highlight, see DashboardWindow) stands out from the window: 3:1, as
        // WCAG asks of focus indicators.
        verify(contrast(Theme.focusRing, Theme.window) >= 3, data.scheme + ": focus ring " + contrast(Theme.focusRing, Theme.window).toFixed(2) + ":1");
        verify(contrast(Theme.focusRing, Theme.panel) >= 3, data.scheme + ": focus ring on a panel " + contrast(Theme.focusRing, Theme.panel).toFixed(2) + ":1");
        verify(contrast(Theme.focusRingText, Theme.focusRing) >= 4.5, data.scheme + ": selected text");
    }

    function test_stateColoursAreDistinctAndReadable() {
        const states = ["live", "silent", "suspended", "reconnecting", "offline"];
        const seen = {};
        for (const s of states) {
            const c = Theme.stateColor(s);
            const key = String(c);
            verify(!(key in seen), s + " has the colour of " + seen[key]);
            seen[key] = s;
            verify(contrast(c, white) >= 4.5, s + ": white on " + c + " is " + contrast(c, white).toFixed(2) + ":1");
        }
        // The two states a user told apart by colour alone, and could not (silent, suspended).
        verify(String(Theme.silent) !== String(Theme.suspended));
    }

}
