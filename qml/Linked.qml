// SPDX-License-Identifier: MIT
pragma Singleton
import QtQuick

// What the pointer is on, so that what belongs to it lights up in every panel: a tab card and its session card
// (by the session's short id).
QtObject {
    property string session: ""
}
