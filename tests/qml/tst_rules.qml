// SPDX-License-Identifier: MIT
import QtQuick
import QtTest
import Lark.Dashboard

// The Rules panel against the Hub's embedded server: the rules in force are shown, a refused file shows the
// server's line:column and puts the cursor there, and an applied one is in force on the server.
Item {
    id: root
    width: 800
    height: 600

    RulesPanel {
        id: panel
        anchors.fill: parent
    }

    TestCase {
        name: "Rules"
        when: windowShown

        property var editor: findChild(panel, "rulesText")
        property var errorLabel: findChild(panel, "rulesError")
        property var status: findChild(panel, "rulesStatus")

        function test_1_showsTheRulesInForce() {
            tryVerify(() => Hub.rules.available && !Hub.rules.busy && Hub.rules.source !== "", 10000);
            compare(Hub.rules.namespaceName, Hub.namespaceName);
            compare(JSON.parse(editor.text).rules[".write"], true); // no rules yet: the open default
            verify(!errorLabel.visible);
        }

        function test_2_refusedFileShowsWhereAndKeepsTheRules() {
            const before = Hub.rules.source;
            editor.text = '{"rules": {\n  "presence": {".read": "auth.uid"}\n}}';
            verify(status.text.indexOf("edited, not applied") >= 0, status.text);
            mouseClick(findChild(panel, "applyRules"));
            tryVerify(() => errorLabel.visible, 10000);
            verify(errorLabel.text.indexOf("2:25: ") === 0, errorLabel.text);
            // The cursor is on the rule's string, the 25th column of line 2.
            compare(editor.cursorPosition, editor.text.indexOf('"auth.uid"'));
            compare(Hub.rules.source, before);
        }

        function test_3_appliedRulesAreInForce() {
            const text = '{"rules": {\n  // each user writes only their own entry\n'
                + '  "presence": {"$uid": {".read": true, ".write": "$uid === auth.uid"}}\n}}\n';
            editor.text = text;
            mouseClick(findChild(panel, "checkRules"));
            tryVerify(() => !Hub.rules.busy && Hub.rules.status.indexOf("would accept") > 0, 10000);
            verify(!errorLabel.visible);
            mouseClick(findChild(panel, "applyRules"));
            tryVerify(() => Hub.rules.status.indexOf("applied at") === 0, 10000);
            compare(Hub.rules.source, text);
            verify(status.text.indexOf("edited") < 0, status.text);
            // Revert reads them back from the server, byte for byte.
            editor.text = "{}";
            mouseClick(findChild(panel, "revertRules"));
            tryCompare(editor, "text", text, 10000);
        }
    }
}
