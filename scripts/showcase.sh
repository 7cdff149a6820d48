#!/usr/bin/env bash
# The main job: build the example plugins from source (native cdylibs; WASM
# modules in Rust, Go, Zig, AssemblyScript and JavaScript; Extism plugins
# from two PDKs; Lua needs no build), then run the showcase workflow, whose
# nodes come from all of them, with a per-node trace.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/require.sh
source scripts/lib/require.sh
require_command cc gcc "a C compiler: mlua builds Lua 5.4 from source"
bash scripts/build-plugins.sh
cargo run --quiet --bin pocket -- run examples/workflows/showcase.yaml \
    --input @examples/inputs/article.json --trace
