#!/usr/bin/env bash
# Readies the example process plugins in examples/plugins/process: each
# Python plugin (py-*) gets a copy of the Python SDK
# (backends/process/sdks/python/pocket_plugin.py) beside its main.py, each
# Node plugin (node-*) the Node SDK (backends/process/sdks/node/
# pocket-plugin.js), so a plugin's directory holds all it runs. Needs
# python3 and Node.js 18 or newer (installed when missing).
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
