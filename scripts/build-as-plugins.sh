#!/usr/bin/env bash
# Builds the AssemblyScript example WASM plugin (examples/plugins/wasm/assemblyscript,
# with the AssemblyScript SDK in backends/wasm/sdks/assemblyscript) into
# examples/plugins/wasm/as-text.wasm, or the project DIR (its entry file
# DIR/main.ts) into OUT: scripts/build-as-plugins.sh [DIR OUT].
# Installs the AssemblyScript compiler from the npm registry into
# target/tools when it is missing; the SDK uses AssemblyScript's standard
# library only, so nothing else is downloaded.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"
# The asc of this pinned release (its standard library changes between
# releases), whatever else is on PATH.
require_npm_command asc assemblyscript@0.28.20 "the AssemblyScript example WASM plugin is built from source"
# (require_npm_command brings Node.js 20 or newer, as AssemblyScript 0.28 needs.)

project="${1:-$root/examples/plugins/wasm/assemblyscript}"
target="${2:-$root/examples/plugins/wasm/as-text.wasm}"
mkdir -p "$(dirname "$target")"
target="$(cd "$(dirname "$target")" && pwd)/$(basename "$target")"

# `import ... from "pocket-sdk"` finds the SDK through --path: a directory
# whose pocket-sdk is the SDK, as `npm install` of it would lay it out in a
# node_modules, so that the repository itself holds no node_modules. The
# link is made under a name of its own, then renamed over the old one.
packages="$root/target/tools/assemblyscript-packages"
mkdir -p "$packages"
ln -sfn "$root/backends/wasm/sdks/assemblyscript" "$packages/.pocket-sdk.$$"
mv -T "$packages/.pocket-sdk.$$" "$packages/pocket-sdk"

# Built under a name of this process's own, then renamed: concurrent builds
# never see or clobber a half-written file.
out="$(dirname "$target")/.$(basename "$target").$$"
trap 'rm -f "$out"' EXIT
# --runtime incremental (asc's default, named here on purpose): the garbage
#   collector runs while a node works, as it allocates, so a node that builds
#   strings in a loop stays within the plugin's memory limit. `minimal`
#   collects only when the program calls __collect, so a node's garbage piles
#   up (building a 50,000-character string ten characters at a time passes
#   the 64 MiB limit), and `stub` never frees at all, while one instance
#   serves call after call. The buffers the host holds are raw heap blocks
#   (heap.alloc) that the collector neither tracks nor moves, so the module
#   needs no runtime exports (no --exportRuntime).
# --exportStart _initialize: top-level code (the plugin's `register`) runs in
#   a WASI-style reactor's `_initialize`, which the host calls once per
#   instance within the plugin's fuel and time; as a start function it would
#   run at instantiation, and the host refuses a module that has one.
# --use abort=pocket_abort (and trace, seed, console): AssemblyScript
#   imports these from `env`, and the host refuses any `env` import; the
#   SDK's hooks report an abort (throw, assert, a failed bounds check) through
#   the host's `panic`, write trace and console lines to the plugin's log,
#   and seed Math.random from WASI's random_get.
# -O3: optimised for speed; -Oz would save some 6 KB of the example's 42 KB.
(cd "$project" && asc main.ts --path "$packages" \
    --runtime incremental --exportStart _initialize \
    --use abort=pocket_abort --use trace=pocket_trace --use seed=pocket_seed \
    --use console=pocket_console \
    -O3 --noColors -o "$out")
mv "$out" "$target"
echo "built: $(basename "$target")" >&2
