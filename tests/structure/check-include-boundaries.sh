#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fails when a source includes a header of a folder it may not depend on (README "Layout": the rooms and their
# arrows; core/CMakeLists.txt links the libraries the same way). Usage: check-include-boundaries.sh <source root>
#        check-include-boundaries.sh --self-test <source root>   (proves the check catches a crossing)
set -euo pipefail

# folder → the folders its sources may include from (besides its own files, included without a folder).
declare -A allowed=(
    [core/db]=""
    [core/protocol]=""
    [core/rules]="db"
    [core/server]="db protocol rules redis"
    [core/client]="db protocol"
    [core/netsim]=""
    [core/redis]=""
    [core/tabs]="db client netsim"
    [core/models]="db client server tabs rules"
    [qml]="models"
    [app/server]="server"
    # The dashboard's embedded server takes lark-server's flags (server/options.h) and its file limit.
    [app/dashboard]="models qml server"
)

check() {
    local root=$1 bad=0 folder file line target
    for folder in "${!allowed[@]}"; do
        [ -d "$root/$folder" ] || { echo "missing folder $folder (update this script with the layout)"; bad=1; continue; }
        while IFS= read -r file; do
            while IFS= read -r line; do
                target=$(sed -E 's/^[0-9]+:[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1/' <<<"${line}")
                case $target in
                    ../*|*/../*) echo "$file:${line%%:*}: relative include \"$target\" (name the folder)"; bad=1; continue ;;
                    */*) ;;
                    *) continue ;; # a file of the same folder
                esac
                local dep=${target%%/*} ok=0 a
                [ "$dep" = "${folder##*/}" ] && ok=1
                for a in ${allowed[$folder]}; do [ "$dep" = "$a" ] && ok=1; done
                if [ $ok -eq 0 ]; then
                    echo "$file:${line%%:*}: $folder may not include \"$target\" (allowed: ${allowed[$folder]:-nothing of ours})"
                    bad=1
                fi
            done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
        done < <(find "$root/$folder" -name '*.h' -o -name '*.cpp')
    done
    # Every core folder is a library with an entry above.
    for folder in "$root"/core/*/; do
        folder=core/$(basename "$folder")
        [ -n "${allowed[$folder]+set}" ] || { echo "$folder has no entry in $0"; bad=1; }
    done
    return $bad
}

if [ "${1:-}" = "--self-test" ]; then
    root=$2
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cp -r "$root/core" "$root/qml" "$root/app" "$tmp/"
    check "$tmp" >/dev/null || { echo "self-test: the clean tree does not pass"; exit 1; }
    echo '#include "protocol/framing.h"' >>"$tmp/core/db/path.h"
    if check "$tmp" >/dev/null; then
        echo "self-test: a db header including protocol/ was not caught"
        exit 1
    fi
    echo "self-test: a crossing include is caught"
    exit 0
fi
check "${1:?usage: $0 <source root>}" && echo "every include keeps to the allowed arrows"
