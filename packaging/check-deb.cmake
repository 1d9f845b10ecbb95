# SPDX-License-Identifier: MIT
# Builds the .deb with cpack into a temporary folder and checks it (run by ctest as `cmake -P`):
#  - Depends names the qml6-module-* package of every module that qml/*.qml imports, derived from the imports
#    themselves, so a new import without its Depends entry fails here rather than on a user's machine
#    (dpkg-shlibdeps cannot see QML imports, docs/house-style.md, 6.4 pitfall 8), and libqt6svg6 for the SVG window
#    icon;
#  - the binaries, desktop file, metainfo and icon are inside.
# Arguments: -DBINARY_DIR=<build dir> -DQML_DIR=<source qml/> -DAPP_ID=<io.github.lark.Lark>
cmake_minimum_required(VERSION 3.25)
foreach(var BINARY_DIR QML_DIR APP_ID)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "check-deb.cmake needs -D${var}=...")
    endif()
endforeach()

string(RANDOM LENGTH 8 suffix)
set(tmp "${BINARY_DIR}/packaging/deb-check-${suffix}")
file(MAKE_DIRECTORY "${tmp}")
execute_process(COMMAND ${CMAKE_CPACK_COMMAND} --config "${BINARY_DIR}/CPackConfig.cmake" -G DEB -B "${tmp}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    file(REMOVE_RECURSE "${tmp}")
    message(FATAL_ERROR "cpack failed (${rc}):\n${out}\n${err}")
endif()
file(GLOB debs "${tmp}/*.deb")
list(LENGTH debs count)
if(NOT count EQUAL 1)
    file(REMOVE_RECURSE "${tmp}")
    message(FATAL_ERROR "expected one .deb in ${tmp}, found ${count}: ${debs}")
endif()
execute_process(COMMAND dpkg-deb -I "${debs}" OUTPUT_VARIABLE info RESULT_VARIABLE rc1)
execute_process(COMMAND dpkg-deb -c "${debs}" OUTPUT_VARIABLE contents RESULT_VARIABLE rc2)
file(REMOVE_RECURSE "${tmp}")
if(NOT rc1 EQUAL 0 OR NOT rc2 EQUAL 0)
    message(FATAL_ERROR "dpkg-deb could not read the package")
endif()

string(REGEX MATCH "\n Depends: [^\n]*" depends_line "${info}")
string(REGEX REPLACE "^\n Depends: " "" depends_line "${depends_line}")
string(REPLACE "," ";" depends "${depends_line}")
set(packages "")
foreach(d IN LISTS depends)
    string(STRIP "${d}" d)
    string(REGEX REPLACE " .*" "" d "${d}") # drop version constraints
    list(APPEND packages "${d}")
endforeach()

# Every import of the dashboard's QML, except its own module. Debian names QML module packages after the URI:
# QtQuick.Controls -> qml6-module-qtquick-controls, Qt.labs.qmlmodels -> qml6-module-qt-labs-qmlmodels.
file(GLOB qml_files "${QML_DIR}/*.qml")
set(required "")
foreach(f IN LISTS qml_files)
    file(STRINGS "${f}" imports REGEX "^import [A-Za-z]")
    foreach(line IN LISTS imports)
        string(REGEX REPLACE "^import ([A-Za-z0-9_.]+).*" "\\1" uri "${line}")
        if(uri MATCHES "^Lark(\\.|$)")
            continue()
        endif()
        string(TOLOWER "${uri}" name)
        string(REPLACE "." "-" name "${name}")
        list(APPEND required "qml6-module-${name}")
        # The non-native FileDialog of QtQuick.Dialogs (the only one on most Linux desktops) loads
        # Qt.labs.folderlistmodel at run time; the Debian package does not depend on it.
        if(uri STREQUAL "QtQuick.Dialogs")
            list(APPEND required "qml6-module-qt-labs-folderlistmodel")
        endif()
    endforeach()
endforeach()
list(REMOVE_DUPLICATES required)
list(LENGTH required n_required)
if(n_required LESS 3)
    message(FATAL_ERROR "found only ${n_required} QML imports in ${QML_DIR}: the scan is broken")
endif()
# Plugins loaded at run time, not through an import: the SVG window icon (qml/appicon.h).
list(APPEND required libqt6svg6)
set(missing "")
foreach(p IN LISTS required)
    if(NOT p IN_LIST packages)
        list(APPEND missing "${p}")
    endif()
endforeach()
if(missing)
    message(FATAL_ERROR "the .deb's Depends lacks ${missing} (imported by qml/*.qml or loaded as plugins).\nDepends: ${depends_line}")
endif()

foreach(path usr/bin/lark usr/bin/lark-server usr/share/applications/${APP_ID}.desktop
        usr/share/metainfo/${APP_ID}.metainfo.xml usr/share/icons/hicolor/scalable/apps/${APP_ID}.svg)
    string(REPLACE "." "\\." pattern "${path}")
    if(NOT contents MATCHES " \\./${pattern}\n")
        message(FATAL_ERROR "the .deb lacks /${path}:\n${contents}")
    endif()
endforeach()
message(STATUS "the .deb depends on ${required} and holds the binaries, desktop file, metainfo and icon")
