#!/usr/bin/env bash
# Reproduces every figure of docs/benchmarks.md on this machine.
#   bench/run.sh                      all HTTP variants that are built
#   BENCH_DURATION=2s BENCH_ROUNDS=1 bench/run.sh   a quick look
# Needs wrk (apt-get install -y wrk). Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
features="${BENCH_FEATURES:-local}"
cargo build --release --quiet -p nubes-bench --features "$features"
echo "## HTTP path ($(nproc) cores, $(date -u +%Y-%m-%d))"
python3 bench/http_bench.py
