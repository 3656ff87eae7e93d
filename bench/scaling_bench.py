#!/usr/bin/env python3
"""Payload scaling: how cost grows with the size of one payload, 1 KiB -> 6 MB.

HTTP path: `POST /echo` with a JSON body of each size, plain axum vs nubes
local, wrk at concurrency 1, fresh servers per size, variants taking turns.
Queue path: one SQS record whose body has each size, through the Lambda
driver, the lambda_runtime + SqsEvent baseline vs the nubes queue handler.
Throughput, latency and peak RSS (VmHWM) per size: throughput x size should
stay flat (no quadratic copies) and peak RSS should grow by a small multiple
of one payload.

Environment: SCALING_SIZES (1K,64K,1M,6M), SCALING_PATHS (http,queue),
BENCH_DURATION (3s, wrk per run), BENCH_ROUNDS (3), SCALING_BYTES (total
payload bytes per queue run, 256M), QUICK=1 for a smoke run.
"""
import os
import re
import statistics
import subprocess
import tempfile

import http_bench as hb
import lambda_bench as lb

QUICK = os.environ.get("QUICK") == "1"
SIZES = os.environ.get("SCALING_SIZES", "1K,64K,1M,6M").split(",")
PATHS = os.environ.get("SCALING_PATHS", "http,queue").split(",")
DURATION = os.environ.get("BENCH_DURATION", "1s" if QUICK else "3s")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if QUICK else "3"))
BYTES_PER_RUN = int(os.environ.get("SCALING_BYTES", str((32 if QUICK else 256) << 20)))
# 6M is Lambda's documented 6 MB payload limit, read as 6 000 000 bytes so the
# whole invocation (envelope included) stays under it.
UNITS = {"K": 1024, "M": 1 << 20}


def size_bytes(label):
    if label == "6M":
        return 6_000_000
    return int(label[:-1]) * UNITS[label[-1]] if label[-1] in UNITS else int(label)


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)) / 1024


def echo_script(workdir, size):
    """A wrk script posting a JSON document of exactly `size` bytes."""
    path = os.path.join(workdir, f"echo-{size}.lua")
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        f.write(f"wrk.body = '{{\"pad\":\"' .. string.rep(\"x\", {size - 10}) .. '\"}}'\n")
    return path


def wrk_echo(port, script):
    cmd = ["wrk", "-t1", "-c1", "-d", DURATION, "--timeout", "10s", "--latency", "-s", script,
           f"http://127.0.0.1:{port}/echo"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    r = hb.parse_wrk(out.stdout)
    if r["non2xx"] or "Socket errors" in out.stdout:
        raise SystemExit(f"wrk on :{port}: errors\n{out.stdout}")
    return r


def http_rows(workdir):
    variants = ["axum", "local"]
    rows = []
    for label in SIZES:
        size = size_bytes(label)
        script = echo_script(workdir, size)
        servers = {}
        try:
            for name in variants:
                port = hb.free_port()
                cmd, env = hb.variant_command(name, port, workdir)
                proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                hb.wait_ready(port, proc)
                servers[name] = (port, proc)
            runs = {name: [] for name in variants}
            for _ in range(ROUNDS):
                for name in variants:
                    runs[name].append(wrk_echo(servers[name][0], script))
            for name in variants:
                rows.append((label, size, name, runs[name], peak_rss_mib(servers[name][1].pid)))
        finally:
            for _, proc in servers.values():
                proc.terminate()
                proc.wait(timeout=15)
    print(f"`POST /echo`, wrk -c1 {DURATION} per run, {ROUNDS} interleaved rounds, medians; fresh servers "
          "per size; peak RSS after all rounds; ratio = local / axum")
    print()
    table(rows, "req/s", "rps", lambda r, k: statistics.median(x[k] for x in r), ms=1.0)


def queue_rows(workdir):
    variants = ["lambda_runtime+SqsEvent", "nubes"]
    log = os.path.join(workdir, "functions.log")
    rows = []
    for label in SIZES:
        size = size_bytes(label)
        event = lb.write_event(workdir, f"sqs-{label}", lb.sqs_event(1, "x" * size))
        invocations = max(20, min(lb.INVOCATIONS, BYTES_PER_RUN // size))
        warmup = max(2, invocations // 20)
        runs = {name: [] for name in variants}
        for _ in range(ROUNDS):
            for name in variants:
                runs[name].append(lb.invoke(name, event, invocations, warmup, '"batchItemFailures":[]', log))
        for name in variants:
            rss = statistics.median(r["peak_rss_kib"] for r in runs[name]) / 1024
            rows.append((label, size, name, runs[name], rss))
    print(f"one SQS record per invocation, its body of the given size; {ROUNDS} interleaved rounds of "
          f"min({lb.INVOCATIONS}, {BYTES_PER_RUN >> 20} MiB / size) invocations, medians; fresh function per "
          "run; ratio = nubes / baseline")
    print()
    table(rows, "inv/s", "per_s", lambda r, k: statistics.median(x[k] for x in r), ms=1e-3)


def table(rows, unit, key, med, ms):
    """`ms` converts the runs' latency unit to milliseconds."""
    lat50, lat99 = ("p50_ms", "p99_ms") if ms == 1.0 else ("p50_us", "p99_us")
    print(f"| size | variant | {unit} | MiB/s | p50 ms | p99 ms | peak RSS MiB | {unit} ratio | p99 ratio | RSS ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = {}
    for label, size, name, runs, rss in rows:
        rate, p50, p99 = med(runs, key), med(runs, lat50) * ms, med(runs, lat99) * ms
        b = base.setdefault(label, (rate, p99, rss))
        print(f"| {label} | {name} | {rate:.1f} | {rate * size / (1 << 20):.1f} | {p50:.3f} | {p99:.3f} | "
              f"{rss:.1f} | {rate / b[0]:.3f} | {p99 / b[1]:.3f} | {rss / b[2]:.3f} |")


def main():
    workdir = tempfile.mkdtemp(prefix="nubes-scaling-")
    if "http" in PATHS:
        print("### HTTP path")
        print()
        http_rows(workdir)
        print()
    if "queue" in PATHS:
        print("### Queue path (Lambda)")
        print()
        queue_rows(workdir)


if __name__ == "__main__":
    main()
