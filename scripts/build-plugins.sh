#!/usr/bin/env bash
# Builds the example plugins that need building: the Rust WASM plugins in
# examples/plugins/wasm/rust (with pocket-pdk) become
# examples/plugins/wasm/<name>.wasm (wasi-files built for wasm32-wasip1, the
# others for wasm32-unknown-unknown; json-tools for wasm32-wasip1 too, kept
# in the target dir for the benchmark of WASI's cost), the directory
# pocket.toml lists, so
# `pocket plugin list` at the repository root shows them; the Go, Zig,
# AssemblyScript and JavaScript plugins in
# examples/plugins/wasm/{go,zig,assemblyscript,javascript} become
# go-text.wasm, zig-text.wasm, as-text.wasm and js-text.wasm there.
# Installs the wasm32-unknown-unknown and wasm32-wasip1 targets with rustup
# when they are missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"
target=wasm32-unknown-unknown
plugins="$root/examples/plugins/wasm"
# A directory of its own inside the shared target dir: the guest crates are
# their own workspace, and building them must not wait on the host build's lock.
target_dir="${POCKET_GUEST_TARGET_DIR:-$root/target/wasm-guests}"

require_rust_target "$target" "the example WASM plugins are Rust crates built for it"
require_rust_target wasm32-wasip1 "the wasi-files example plugin is a Rust crate built for it (std on WASI)"

cargo build --quiet --release --target "$target" \
    --manifest-path "$plugins/rust/Cargo.toml" --target-dir "$target_dir" \
    --workspace --exclude wasi-files
cargo build --quiet --release --target wasm32-wasip1 \
    --manifest-path "$plugins/rust/Cargo.toml" --target-dir "$target_dir" \
    -p wasi-files -p json-tools

for built in "$target/text-stats" "$target/json-tools" "$target/extism-text" wasm32-wasip1/wasi-files; do
    crate=${built#*/}
    # Copied under a name of this process's own, then renamed: concurrent
    # builds (parallel test binaries) never see or clobber a half-written file.
    cp "$target_dir/${built%%/*}/release/${crate//-/_}.wasm" "$plugins/.$crate.wasm.$$"
    mv "$plugins/.$crate.wasm.$$" "$plugins/$crate.wasm"
done
# json-tools on wasm32-wasip1, for the benchmark of WASI's cost, under its
# plugin's name.
mkdir -p "$target_dir/wasip1"
cp "$target_dir/wasm32-wasip1/release/json_tools.wasm" "$target_dir/wasip1/.json-tools.wasm.$$"
mv "$target_dir/wasip1/.json-tools.wasm.$$" "$target_dir/wasip1/json-tools.wasm"
# Go, Zig, AssemblyScript and JavaScript, with their SDKs (installs each
# toolchain when it is missing).
bash "$root/scripts/build-go-plugins.sh"
bash "$root/scripts/build-zig-plugins.sh"
bash "$root/scripts/build-as-plugins.sh"
bash "$root/scripts/build-js-plugins.sh"
# An Extism plugin from a second PDK language (AssemblyScript), built as
# Extism's docs build it.
bash "$root/scripts/build-extism-as-plugin.sh"
echo "built: $(cd "$plugins" && ls ./*.wasm | tr '\n' ' ')" >&2

# Native plugins: the cdylib crates in examples/plugins/native.
bash "$root/scripts/build-native-plugins.sh"
# Process plugins: the Python SDK beside each Python example.
bash "$root/scripts/build-process-plugins.sh"
