#!/usr/bin/env bash
# The main job: build Pocket and run the showcase workflow with a trace.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin pocket
./target/debug/pocket run examples/workflows/profile-report.yaml \
    --input @examples/inputs/customer.json --trace
