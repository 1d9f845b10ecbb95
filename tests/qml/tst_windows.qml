// SPDX-License-Identifier: MIT
import QtQuick
import QtTest
import Lark.Dashboard

// The app's main window as main.cpp loads it, and "New window" (which opens a real second top-level window).
TestCase {
    id: test
    name: "Windows"

    Component {
        id: mainComponent
        Main {}
    }

    function test_newWindowOpensAndClosesWithItsTabs() {
        failOnWarning(/.*/); // any QML error in the windows' bindings fails the test
        const main = createTemporaryObject(mainComponent, null);
        verify(main);
        compare(main.windowId, 0);
        tryVerify(() => main.visible);
        mouseClick(findChild(main, "newWindow"));
        tryCompare(main, "extraWindowCount", 1);
        compare(Hub.windowIds.length, 2);
        gc(); // the new window must survive a garbage collection: something holds it
        wait(50);
        verify(main.extraWindows[0] && main.extraWindows[0].visible);
        const windowId = Hub.windowIds[1];
        const t = Hub.tabs.openTab("alice", windowId);
        tryCompare(t, "presenceState", "online", 10000);
        Hub.closeWindow(windowId);
        compare(Hub.tabs.countInWindow(windowId), 0);
        compare(Hub.windowIds.length, 1);
        tryCompare(main, "extraWindowCount", 0); // the window closed with it
    }
}
