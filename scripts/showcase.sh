#!/usr/bin/env bash
# The main job: build Pocket and run the showcase workflow with a per-node trace.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --bin pocket -- run examples/workflows/profile-report.yaml \
    --input @examples/inputs/customer.json --trace
