// SPDX-License-Identifier: MIT
import QtQuick
import QtTest
import Lark.Dashboard

// The "Open a tab as" picker: any valid user id can be typed, invalid ones say why, and the list offers the
// defaults plus everyone seen in the presence data (real embedded server, tst_qml.cpp's setup).
Item {
    id: root
    width: 900
    height: 600

    TabsPanel {
        id: panel
        anchors.fill: parent
        windowId: 0
    }

    TestCase {
        id: test
        name: "UserPicker"
        when: windowShown

        function picker() {
            const p = findChild(panel, "userPicker");
            verify(p, "userPicker");
            return p;
        }

        function listed(uid) {
            const p = test.picker();
            return p.find(uid, Qt.MatchExactly) >= 0;
        }

        // Types into the picker's text field as a user would.
        function type(text) {
            const p = test.picker();
            mouseClick(p.contentItem);
            p.contentItem.selectAll();
            keyClick(Qt.Key_Backspace);
            for (let i = 0; i < text.length; ++i)
                keyClick(text[i]);
            compare(p.editText, text);
        }

        function test_1_defaultsAreListed() {
            const p = test.picker();
            verify(p.editable);
            compare(p.count, 3);
            verify(test.listed("alice") && test.listed("bob") && test.listed("carol"));
            compare(p.editText, "alice");
            verify(!findChild(panel, "uidProblem").visible);
            verify(findChild(panel, "openTab").enabled);
        }

        function test_2_invalidIdsSayWhyAndCannotOpen() {
            const problem = findChild(panel, "uidProblem");
            const open = findChild(panel, "openTab");
            const before = Hub.tabs.count;
            const cases = [
                ["dot.ted", "contains one of . $ # [ ] /"],
                ["a/b", "contains one of . $ # [ ] /"],
                ["$x", "contains one of . $ # [ ] /"],
                ["#x", "contains one of . $ # [ ] /"],
                ["[x", "contains one of . $ # [ ] /"],
                ["x]", "contains one of . $ # [ ] /"],
            ];
            for (const [uid, why] of cases) {
                test.type(uid);
                verify(problem.visible, uid);
                verify(problem.text.indexOf(why) >= 0, uid + ": " + problem.text);
                verify(!open.enabled, uid);
                keyClick(Qt.Key_Return); // Enter in the field opens a tab too, when the id is valid
                mouseClick(open);
                compare(Hub.tabs.count, before, uid);
            }
            // What cannot be typed on a keyboard is refused too.
            const p = test.picker();
            p.editText = "";
            verify(problem.text.indexOf("empty") >= 0, problem.text);
            p.editText = "tab\there";
            verify(problem.text.indexOf("control character") >= 0, problem.text);
            p.editText = "del\u007f";
            verify(problem.text.indexOf("control character") >= 0, problem.text);
            p.editText = "é".repeat(385); // 770 UTF-8 bytes in 385 characters
            verify(problem.text.indexOf("768 bytes") >= 0, problem.text);
            // A valid key that would not fit in presence/<uid>/connections/<push id> (768 bytes in all).
            p.editText = "u".repeat(726);
            verify(problem.text.indexOf("too long") >= 0, problem.text);
            verify(!open.enabled);
            compare(Hub.tabs.count, before);
            p.editText = "u".repeat(725);
            verify(!problem.visible, problem.text);
            verify(open.enabled);
        }

        function test_3_aTypedUserOpensATabAndIsListed() {
            const problem = findChild(panel, "uidProblem");
            test.type("zoe-42");
            verify(!problem.visible, problem.text);
            verify(!test.listed("zoe-42"));
            const before = Hub.tabs.count;
            mouseClick(findChild(panel, "openTab"));
            compare(Hub.tabs.count, before + 1);
            const t = Hub.tabs.at(Hub.tabs.count - 1);
            compare(t.uid, "zoe-42");
            tryCompare(t, "presenceState", "online", 10000);
            compare(Hub.presence.connectionCount("zoe-42"), 1);
            verify(test.listed("zoe-42"), "a new user is offered from then on");

            // Enter in the field opens a tab too; non-ASCII ids are keys like any other.
            const p = test.picker();
            p.editText = "zoë";
            p.contentItem.forceActiveFocus();
            keyClick(Qt.Key_Return);
            compare(Hub.tabs.count, before + 2);
            const u = Hub.tabs.at(Hub.tabs.count - 1);
            compare(u.uid, "zoë");
            tryCompare(u, "presenceState", "online", 10000);
            tryVerify(() => Hub.presence.connectionCount("zoë") === 1, 10000);
            Hub.tabs.closeTab(t.tabId);
            Hub.tabs.closeTab(u.tabId);
            // They went offline but left a lastSeen: still users of this database, still offered.
            tryVerify(() => Hub.presence.connectionCount("zoë") === 0, 10000);
            verify(test.listed("zoe-42") && test.listed("zoë"));
        }

        function test_4_usersSeenInPresenceDataAreListed() {
            verify(!test.listed("quinn"));
            // Someone else's client, as far as the dashboard knows: only the data says quinn exists.
            compare(Hub.importJson("/presence/quinn", '{"lastSeen": 1700000000000}'), "");
            tryVerify(() => test.listed("quinn"), 5000);
            const p = test.picker();
            p.currentIndex = p.find("quinn", Qt.MatchExactly);
            compare(p.editText, "quinn");
            mouseClick(findChild(panel, "openTab"));
            const t = Hub.tabs.at(Hub.tabs.count - 1);
            compare(t.uid, "quinn");
            tryCompare(t, "presenceState", "online", 10000);
            Hub.tabs.closeTab(t.tabId);
        }

        function test_5_typingSurvivesTheListChanging() {
            test.type("yara");
            // A new user shows up while the field holds an id that was typed but not opened yet.
            compare(Hub.importJson("/presence/walter", '{"lastSeen": 1700000000000}'), "");
            tryVerify(() => test.listed("walter"), 5000);
            compare(test.picker().editText, "yara");
            verify(!test.listed("yara"));
        }

        function test_6_signInAnonymouslyOpensANewUserEachTime() {
            const before = Hub.tabs.count;
            mouseClick(findChild(panel, "openAnonymousTab"));
            mouseClick(findChild(panel, "openAnonymousTab"));
            compare(Hub.tabs.count, before + 2);
            const a = Hub.tabs.at(before), b = Hub.tabs.at(before + 1);
            verify(a.anonymous && b.anonymous);
            verify(/^[A-Za-z0-9]{28}$/.test(a.uid), a.uid);
            verify(a.uid !== b.uid, "each anonymous sign-in is a user of its own");
            compare(test.picker().editText, "yara", "the picker is not involved");
            tryCompare(a, "presenceState", "online", 10000);
            tryCompare(b, "presenceState", "online", 10000);
            compare(Hub.presence.connectionCount(a.uid), 1);
            verify(findChild(panel, "tabCard-" + a.tabId), "its card");
            verify(findChild(findChild(panel, "tabCard-" + a.tabId), "anonymousBadge").visible);
            // A named tab has no badge.
            test.type("zed");
            mouseClick(findChild(panel, "openTab"));
            const z = Hub.tabs.at(Hub.tabs.count - 1);
            verify(!z.anonymous);
            verify(!findChild(findChild(panel, "tabCard-" + z.tabId), "anonymousBadge").visible);
            for (const t of [a, b, z])
                Hub.tabs.closeTab(t.tabId);
        }
    }
}
