#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds, and starts Lark.
#   ./run.sh            the server on 127.0.0.1:9000 (the dashboard comes with a later release)
#   ./run.sh --server   the headless server, in the foreground; any further options go to lark-server
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=packaging/deps.sh
. "$top/packaging/deps.sh"

mode=server
if [ "${1:-}" = "--server" ]; then
    shift
fi

lark_setup "$top"
lark_build "$top" default

case "$mode" in
server)
    echo "lark: starting lark-server (Ctrl+C stops it). Connect a Firebase app with"
    echo "      connectDatabaseEmulator(getDatabase(app), '127.0.0.1', 9000)"
    exec "$top/build/default/app/server/lark-server" "$@"
    ;;
esac
