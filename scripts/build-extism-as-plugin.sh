#!/usr/bin/env bash
# Builds the Extism plugin written in AssemblyScript with Extism's own PDK
# (npm's @extism/as-pdk): examples/plugins/wasm/extism-as/main.ts into
# examples/plugins/wasm/extism-as.wasm, as Extism's docs build it, so Pocket
# is tested on an unmodified Extism module from a second PDK language.
# Installs AssemblyScript and the PDK from the npm registry into
# target/tools when they are missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"
require_npm_command asc assemblyscript@0.28.20 "the Extism AssemblyScript example is built from source"
require_npm_package @extism/as-pdk@1.0.0 "Extism's AssemblyScript PDK, for the Extism example"

plugins="$root/examples/plugins/wasm"
out="$plugins/.extism-as.wasm.$$"
trap 'rm -f "$out"' EXIT
# --path finds `@extism/as-pdk` in the PDK's own install; --use abort=...
# is Extism's documented build (AssemblyScript's default abort is an `env`
# import no Extism host provides).
(cd "$plugins/extism-as" && asc main.ts --path "$root/target/tools/@extism+as-pdk/node_modules" \
    --use abort=main/extismAbort -O3 --noColors -o "$out")
mv "$out" "$plugins/extism-as.wasm"
echo "built: extism-as.wasm" >&2
