#!/usr/bin/env bash
# Builds the Zig example WASM plugin (examples/plugins/wasm/zig, with the Zig
# SDK in backends/wasm/sdks/zig) into examples/plugins/wasm/zig-text.wasm, a
# WASI preview 1 reactor. Installs Zig from PyPI's ziglang into target/tools
# when it is missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"
# The Zig of this pinned release (its std changes between releases).
require_pypi_command zig ziglang==0.17.1 "the Zig example WASM plugin is built from source" ziglang

plugins="$root/examples/plugins/wasm"
cache="$root/target/tools/zig-cache"
out="$plugins/.zig-text.wasm.$$"
(cd "$plugins/zig" && zig build-exe -target wasm32-wasi -fno-entry -rdynamic -O ReleaseSmall \
    --dep pocket -Mroot=main.zig -Mpocket="$root/backends/wasm/sdks/zig/pocket.zig" \
    --name zig-text --cache-dir "$cache/local" --global-cache-dir "$cache/global" -femit-bin="$out")
mv "$out" "$plugins/zig-text.wasm"
echo "built: zig-text.wasm" >&2
