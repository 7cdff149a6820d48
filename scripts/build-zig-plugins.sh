#!/usr/bin/env bash
# Builds a Zig WASM plugin (a directory holding main.zig, with the Zig SDK in
# backends/wasm/sdks/zig) into a WASI preview 1 reactor:
#   build-zig-plugins.sh              the example, examples/plugins/wasm/zig,
#                                     into examples/plugins/wasm/zig-text.wasm
#   build-zig-plugins.sh DIR OUT      DIR/main.zig into OUT (the module's
#                                     name is OUT's file name)
# Installs Zig from PyPI's ziglang into target/tools when it is missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"
# The Zig of this pinned release (its std changes between releases).
require_pypi_command zig ziglang==0.17.1 "Zig WASM plugins are built from source" ziglang

dir="${1:-$root/examples/plugins/wasm/zig}"
out="${2:-$root/examples/plugins/wasm/zig-text.wasm}"
dir="$(cd "$dir" && pwd)"
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
name="$(basename "$out" .wasm)"
cache="$root/target/tools/zig-cache"
# Written under a name of this process's own, then renamed: concurrent builds
# (parallel test binaries) never see or clobber a half-written file.
tmp="$(dirname "$out")/.$name.wasm.$$"
(cd "$dir" && zig build-exe -target wasm32-wasi -fno-entry -rdynamic -O ReleaseSmall \
    --dep pocket -Mroot=main.zig -Mpocket="$root/backends/wasm/sdks/zig/pocket.zig" \
    --name "$name" --cache-dir "$cache/local" --global-cache-dir "$cache/global" -femit-bin="$tmp")
mv "$tmp" "$out"
echo "built: $name.wasm" >&2
