#!/usr/bin/env bash
# Reproduces the figures of docs/benchmarks.md on this machine and writes them
# to bench/results/latest.md (or $BENCH_RESULTS):
#   bench/run.sh                          everything (about 15 minutes on 2 cores, builds aside)
#   QUICK=1 bench/run.sh                  a smoke run: short durations, one round
#   BENCH_SECTIONS=lambda,decode bench/run.sh     some sections only
# Sections: http, startup, lambda, scaling, size, decode. Every comparison runs
# nubes and its raw baseline in the same run, taking turns (A B A B ...);
# medians and ratios only. Traffic stays on 127.0.0.1. Durations and rounds:
# BENCH_DURATION, BENCH_ROUNDS, BENCH_STARTS, BENCH_REQUESTS, LAMBDA_INVOCATIONS,
# LAMBDA_WARMUP, SCALING_SIZES, CRITERION_ARGS (see each script's docstring).
# Needs wrk (apt-get install -y wrk), python3 and strip; the payloads come
# from the repository's fixtures/ (or NUBES_FIXTURES).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

if [ "${QUICK:-0}" = 1 ]; then
    export BENCH_DURATION="${BENCH_DURATION:-1s}" BENCH_ROUNDS="${BENCH_ROUNDS:-1}"
    export BENCH_STARTS="${BENCH_STARTS:-5}" BENCH_CONCURRENCY="${BENCH_CONCURRENCY:-1,16}"
    CRITERION_ARGS="${CRITERION_ARGS:---warm-up-time 0.5 --measurement-time 1 --noplot}"
fi
CRITERION_ARGS="${CRITERION_ARGS:---warm-up-time 1 --measurement-time 3 --noplot}"
export BENCH_VARIANTS="${BENCH_VARIANTS:-axum,local,gcp,azure}"
SECTIONS=",${BENCH_SECTIONS:-http,startup,lambda,scaling,size,decode},"
RESULTS="${BENCH_RESULTS:-bench/results/latest.md}"
FEATURES="local gcp azure aws"
mkdir -p "$(dirname "$RESULTS")"

want() { [[ "$SECTIONS" == *",$1,"* ]]; }

# Every release binary of the harness, once (nubes holds all four adapters).
cargo build --release --quiet -p nubes-bench --features "$FEATURES"
if want decode; then
    cargo bench --quiet -p nubes-bench --features "$FEATURES" --bench decode --no-run
fi

{
    echo "# nubes benchmark results"
    echo
    echo "$(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$( [ "${QUICK:-0}" = 1 ] && echo ', QUICK=1 (smoke run)')"
    echo
    cd bench
    if want http; then
        echo "## HTTP path"; echo
        python3 http_bench.py; echo
    fi
    if want startup; then
        echo "## HTTP cold start and memory"; echo
        python3 startup_bench.py; echo
    fi
    if want lambda; then
        echo "## Lambda path"; echo
        python3 lambda_bench.py path
        echo "## Lambda cold start"; echo
        python3 lambda_bench.py start; echo
    fi
    if want scaling; then
        echo "## Payload scaling"; echo
        python3 scaling_bench.py; echo
    fi
    if want size; then
        echo "## Binary size and memory (size profile)"; echo
        python3 size_bench.py; echo
    fi
    if want decode; then
        echo "## Decoding microbenchmarks"; echo
        # shellcheck disable=SC2086
        (cd .. && cargo bench --quiet -p nubes-bench --features "$FEATURES" --bench decode -- $CRITERION_ARGS >&2)
        python3 decode_table.py; echo
    fi
} | tee "$RESULTS"
echo "results written to $RESULTS" >&2
