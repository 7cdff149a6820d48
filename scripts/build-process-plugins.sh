#!/usr/bin/env bash
# Readies the example process plugins in examples/plugins/process: each
# Python plugin gets a copy of the Python SDK (backends/process/sdks/python/
# pocket_plugin.py) beside its main.py, so a plugin's directory holds all it
# runs. Needs python3 (installed with apt-get when missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/require.sh
source "$root/scripts/lib/require.sh"
require_command python3 python3 "the example Python process plugins run on it"
sdk="$root/backends/process/sdks/python/pocket_plugin.py"
for plugin in "$root"/examples/plugins/process/py-*/; do
    # Copied under a name of this process's own, then renamed: concurrent
    # builds never see a half-written file.
    cp "$sdk" "$plugin/.pocket_plugin.py.$$"
    mv "$plugin/.pocket_plugin.py.$$" "$plugin/pocket_plugin.py"
done
