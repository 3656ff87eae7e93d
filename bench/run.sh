#!/usr/bin/env bash
# Reproduces the figures of docs/benchmarks.md on this machine:
#   bench/run.sh
#   BENCH_DURATION=1s BENCH_ROUNDS=1 bench/run.sh      a quick look
# Every comparison runs nubes and its raw baseline in the same run, taking
# turns (A B A B ...); medians and ratios only. Traffic stays on 127.0.0.1.
# Needs wrk (apt-get install -y wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
export BENCH_VARIANTS="${BENCH_VARIANTS:-axum,local,gcp,azure}"
cargo build --release --quiet -p nubes-bench --features "local gcp azure"
cd bench
echo "## HTTP path ($(nproc) cores, $(date -u +%Y-%m-%d))"
echo
python3 http_bench.py
echo
echo "## Cold start and memory"
echo
python3 startup_bench.py
