#!/usr/bin/env bash
# Builds the C example WASM plugin, examples/plugins/wasm/c/c-wrap.c, into
# examples/plugins/wasm/c-wrap.wasm with clang's wasm32 target and wasm-ld
# (no C library). Installs clang and lld with apt-get when they are missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"
require_command clang clang "the C example WASM plugin is built with clang's wasm32 target"
require_command wasm-ld lld "clang links WebAssembly with wasm-ld"

plugins="$root/examples/plugins/wasm"
# Built under a name of this process's own, then renamed: a concurrent build
# never sees or clobbers a half-written file.
clang --target=wasm32 -nostdlib -O2 -mbulk-memory -Wall -Wextra -Werror \
    -Wl,--no-entry -Wl,--strip-all \
    -o "$plugins/.c-wrap.wasm.$$" "$plugins/c/c-wrap.c"
mv "$plugins/.c-wrap.wasm.$$" "$plugins/c-wrap.wasm"
echo "built: c-wrap.wasm" >&2
