#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds with warnings as errors, and runs every test. Exits non-zero on any failure.
# Extra arguments go to ctest, e.g. ./test.sh -L integration
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=packaging/deps.sh
. "$top/packaging/deps.sh"

lark_setup "$top"
lark_build "$top" ci
# Loopback traffic must never go through a proxy (the Node SDK honours HTTP_PROXY and has no NO_PROXY).
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy
(cd "$top/build/ci" && ctest --output-on-failure --timeout 600 -j2 "$@")
# A full run also runs the engine's tests under AddressSanitizer and UBSan (about 3 more minutes), then the
# libFuzzer targets on their seed corpora (tests/fuzz/README.md). Given ctest arguments (a subset), it stops here.
if [ $# -eq 0 ]; then
    echo "== the core, integration, interop and redis tests again, under AddressSanitizer and UBSan (build/asan)"
    lark_build "$top" asan lark-engine-tests
    (cd "$top/build/asan" && ctest --output-on-failure --timeout 600 -j2 -L 'core|integration|interop|redis')
    echo "== the fuzz targets: their committed corpora, then 15 s of fuzzing each (build/fuzz, clang + libFuzzer)"
    lark_build "$top" fuzz lark-fuzz-targets
    (cd "$top/build/fuzz" && ctest --output-on-failure --timeout 600 -j2 -L fuzz)
fi
