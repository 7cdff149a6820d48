#!/usr/bin/env bash
# Builds the native example plugins (cdylib crates of this workspace, in
# examples/plugins/native/*) and copies each library into
# examples/plugins/native/ under its plugin's name, the directory pocket.toml
# lists, so `pocket plugin list` at the repository root shows them.
# Called by build-plugins.sh (the showcase and the CLI tests call that).
#
# The `pocket` binary is built in the same cargo call: with it in the
# selection, the dependencies the plugins share with it (serde, abi_stable...)
# are resolved with the same features as in `cargo build -p pocket` and
# `cargo test --workspace`, so they compile once for all three.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plugins="$root/examples/plugins/native"

# crate (package) -> plugin name, the file name in the plugin directory.
crates=(pocket-plugin-text-tools pocket-plugin-redis-cache)
names=(native-text redis-cache)

# Called from a test or benchmark, this process inherits the variables cargo
# sets for that crate (CARGO_PKG_NAME, CARGO_MANIFEST_DIR...). Build scripts
# that declare them as inputs (ring's does) would then run again, and their
# crates and everything above them be rebuilt here and again by the next
# plain `cargo build`: build as from a shell.
while IFS= read -r name; do
    unset "$name"
done < <(compgen -e | grep -E '^CARGO_(PKG_|BIN_EXE_|MANIFEST_|CRATE_NAME$|BIN_NAME$|PRIMARY_PACKAGE$|TARGET_TMPDIR$)')

args=(-p pocket)
for crate in "${crates[@]}"; do args+=(-p "$crate"); done
cargo build --quiet --manifest-path "$root/Cargo.toml" "${args[@]}"

target_dir="$(cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
    grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
case "$(uname -s)" in
    Darwin) prefix=lib; ext=dylib ;;
    MINGW* | MSYS* | CYGWIN*) prefix=; ext=dll ;;
    *) prefix=lib; ext=so ;;
esac

for i in "${!crates[@]}"; do
    lib="$target_dir/debug/${prefix}${crates[$i]//-/_}.$ext"
    # Copy then rename: a running Pocket keeps the old file mapped, intact.
    cp "$lib" "$plugins/.${names[$i]}.$ext.$$"
    mv "$plugins/.${names[$i]}.$ext.$$" "$plugins/${names[$i]}.$ext"
done
echo "built: $(cd "$plugins" && ls ./*."$ext" | tr '\n' ' ')" >&2
