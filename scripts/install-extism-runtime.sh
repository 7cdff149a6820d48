#!/usr/bin/env bash
# Installs Extism's own runtime (libextism, Extism's Rust host built as a C
# library, from PyPI's extism-sys) into target/tools when it is missing, and
# prints the library's path. Only the benchmark comparing Pocket's Extism
# kernel with Extism's own host uses it (`cargo bench -p pocket-wasm`).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"
require_pypi_command libextism_sys.so extism-sys==1.41.0 \
    "Extism's own host, to compare Pocket's Extism calls with" extism_sys
echo "$root/target/tools/extism-sys/extism_sys/libextism_sys.so"
