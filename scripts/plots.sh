#!/usr/bin/env bash
# Draws docs/plots/<name>.svg (f and f' on [-6, 6]) for every registered activation with the
# `actkern plot` command, from its default spec (`actkern list --specs`).
#
# Usage: scripts/plots.sh [OUT_DIR]        (default: docs/plots)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/plots}
mkdir -p "$out"
cargo build --release --quiet --bin actkern
bin=${CARGO_TARGET_DIR:-target}/release/actkern
"$bin" list --specs | while IFS= read -r spec; do
    name=${spec%%(*}
    "$bin" plot "$spec" -o "$out/$name.svg" --range=-6:6
    echo "$out/$name.svg  $spec"
done
