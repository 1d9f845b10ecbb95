# SPDX-License-Identifier: MIT
# Installs what a fresh Debian 12 machine lacks to build, test and run Lark. Sourced by run.sh and test.sh;
# idempotent: it only calls apt-get or npm when something is actually missing.

LARK_APT_PACKAGES=(
    build-essential cmake ninja-build pkg-config
    qt6-base-dev qt6-websockets-dev qt6-declarative-dev libgl-dev libsqlite3-dev
    qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-layouts
    qml6-module-qtquick-window qml6-module-qtquick-templates qml6-module-qtqml-workerscript
    qml6-module-qttest qt6-qpa-plugins
    qml6-module-qtqml qml6-module-qtqml-models desktop-file-utils appstream xvfb xauth
    nodejs npm
    qml6-module-qtquick-dialogs qml6-module-qt-labs-folderlistmodel
    libqt6svg6
    # --auth verify checks JWT signatures with OpenSSL's EVP (libcrypto); its tests make keys and sign tokens with the
    # openssl command line, independently of the verifier.
    libssl-dev openssl
    # Plain HTTP requests on the server's port (the rules endpoint, REST next) are parsed by nodejs/http-parser.
    libhttp-parser-dev
    # The presence page's real-browser test (tests/interop/browser.test.mjs) drives Debian's chromium.
    chromium
    # The cluster mode (issue #17): hiredis for the client, and the Redis its tests start on a loopback port.
    redis-server libhiredis-dev
    # The fuzz preset (tests/fuzz): clang with libFuzzer and the sanitizer runtimes, both from Debian.
    clang libclang-rt-14-dev
)

lark_missing_apt_packages() {
    local missing=() p
    for p in "${LARK_APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    echo "${missing[@]}"
}

lark_install_apt() {
    local missing
    missing=$(lark_missing_apt_packages)
    [ -z "$missing" ] && return 0
    # node may come from elsewhere (e.g. a NodeSource install); only ask apt for it when there is none.
    if command -v node >/dev/null && command -v npm >/dev/null; then
        missing=$(echo " $missing " | sed -e 's/ nodejs / /' -e 's/ npm / /' | xargs)
        [ -z "$missing" ] && return 0
    fi
    echo "lark: installing Debian packages: $missing"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
}

# The interop tests drive the pinned Firebase JS SDK, the bench runs the peer firebase-server, and the build bundles
# the presence page (the same SDK, with esbuild); install each from its committed lockfile.
lark_install_npm() {
    local dir
    for dir in "$1/tests/interop" "$1/tests/bench/peer" "$1/resources/presence-page"; do
        [ -f "$dir/package-lock.json" ] || continue
        if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
            echo "lark: installing ${dir#"$1"/} (npm ci)"
            (cd "$dir" && env -u HTTP_PROXY -u http_proxy npm ci --no-audit --no-fund --loglevel=error)
        fi
    done
}

lark_setup() {
    lark_install_apt
    lark_install_npm "$1"
}

# lark_build TOP PRESET [TARGET...]: configure and build; with targets, only those (run.sh skips the tests).
lark_build() {
    local top="$1" preset="$2"
    shift 2
    cmake --preset "$preset" -S "$top" >/dev/null
    if [ $# -gt 0 ]; then
        cmake --build --preset "$preset" --target "$@"
    else
        cmake --build --preset "$preset"
    fi
}
