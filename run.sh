#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds, and starts Lark.
#   ./run.sh            the dashboard (lark): an embedded server on 127.0.0.1:9000 with simulated tabs;
#                       any further options go to lark (e.g. --demo, --port 0)
#   ./run.sh --server   the headless server, in the foreground; any further options go to lark-server
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=packaging/deps.sh
. "$top/packaging/deps.sh"

mode=dashboard
if [ "${1:-}" = "--server" ]; then
    mode=server
    shift
fi

lark_setup "$top"
lark_build "$top" default lark lark-server

case "$mode" in
dashboard)
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
        echo "lark: no display (neither \$DISPLAY nor \$WAYLAND_DISPLAY is set), so the dashboard cannot open a window." >&2
        echo "      Run it on a virtual display:  xvfb-run -s '-screen 0 1600x1000x24' ./run.sh" >&2
        echo "      or take a picture headless:   QT_QPA_PLATFORM=offscreen $top/build/default/app/dashboard/lark --demo --screenshot lark.png" >&2
        echo "      or start the server alone:    ./run.sh --server" >&2
        exit 1
    fi
    echo "lark: starting the dashboard; its embedded server takes Firebase apps on"
    echo "      connectDatabaseEmulator(getDatabase(app), '127.0.0.1', 9000) (or the port it shows, if 9000 is busy)"
    exec "$top/build/default/app/dashboard/lark" "$@"
    ;;
server)
    echo "lark: starting lark-server (Ctrl+C stops it). Connect a Firebase app with"
    echo "      connectDatabaseEmulator(getDatabase(app), '127.0.0.1', 9000)"
    exec "$top/build/default/app/server/lark-server" "$@"
    ;;
esac
