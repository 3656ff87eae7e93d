#!/usr/bin/env bash
# User-space instructions per request or per invocation, counted with
# valgrind's callgrind: independent of the machine's load, so fixed costs can be
# compared on a busy machine (docs/benchmarks.md, "Instruction counts").
#
#   bench/profile/instructions.sh http   <binary> <platform> <path> [N]
#       a server binary (target/release/http-nubes with NUBES_PLATFORM=<platform>,
#       or http-baseline with platform "local"), N (4000) keep-alive requests of
#       GET <path> (POST of a 1 KiB JSON document for /echo)
#   bench/profile/instructions.sh lambda <function binary> <event.json> [N]
#       a Lambda function under bench's lambda-driver, N (1000) invocations
#
# Prints the instructions per request / invocation: a run of N minus a run of
# one (HTTP: none), divided by N (N - 1). Needs valgrind and a release build of
# nubes-bench (`cargo build --release -p nubes-bench --features local,gcp,azure,aws`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${CARGO_TARGET_DIR:-$here/../../target}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

total() { grep -h "^totals" "$1" | awk '{print $2}'; }

http_run() { # binary platform path n out
    local port
    port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    PORT=$port NUBES_PLATFORM=$2 NUBES_HOST=127.0.0.1 FUNCTIONS_CUSTOMHANDLER_PORT=$port \
        NUBES_LOCAL_DIR="$work/data" RUST_LOG=off \
        valgrind --tool=callgrind --callgrind-out-file="$5" "$1" >"$work/server.log" 2>&1 &
    local pid=$!
    python3 "$here/client.py" "$port" "$4" "$3"
    kill -TERM $pid
    wait $pid || true
}

lambda_run() { # binary event n out
    # The driver SIGKILLs the function it started: let it kill a shell whose
    # child (valgrind) then exits on its own when the Runtime API goes away,
    # writing its counts.
    cat >"$work/wrap.sh" <<W
#!/bin/bash
valgrind --tool=callgrind --callgrind-out-file=$4 $1 &
wait
W
    chmod +x "$work/wrap.sh"
    "$target/release/lambda-driver" run --bin "$work/wrap.sh" --event "$2" --invocations "$3" \
        --warmup 1 --timeout-s 600 --log "$work/function.log" >/dev/null
    for _ in $(seq 300); do
        [ -s "$4" ] && grep -q "^totals" "$4" && return
        sleep 0.2
    done
    echo "callgrind wrote no counts to $4" >&2
    exit 1
}

case "${1:-}" in
    http)
        n="${5:-4000}"
        http_run "$2" "$3" "$4" 0 "$work/zero.out"
        http_run "$2" "$3" "$4" "$n" "$work/n.out"
        python3 -c "print(round(($(total "$work/n.out") - $(total "$work/zero.out")) / $n))"
        ;;
    lambda)
        n="${4:-1000}"
        lambda_run "$2" "$3" 1 "$work/one.out"
        lambda_run "$2" "$3" "$((n + 1))" "$work/n.out"
        python3 -c "print(round(($(total "$work/n.out") - $(total "$work/one.out")) / $n))"
        ;;
    *)
        sed -n '2,16p' "$0"
        exit 2
        ;;
esac
