#!/usr/bin/env python3
"""HTTP overhead benchmark: the same router on plain axum and on nubes adapters.

Every variant runs as its own release binary on 127.0.0.1; for each concurrency
level and endpoint the variants are loaded with wrk in turn, round after round
(A B C A B C ...), so slow drifts of the machine hit all of them alike. Reports
medians over the rounds and ratios to the baseline, never a single run.
"""
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "target"))
RELEASE = os.path.join(TARGET, "release")
DURATION = os.environ.get("BENCH_DURATION", "5s")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,16,256").split(",")]
VARIANTS = os.environ.get("BENCH_VARIANTS", "axum,local").split(",")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def variant_command(name, port, workdir):
    env = dict(os.environ, RUST_LOG="error", NUBES_LOCAL_DIR=os.path.join(workdir, name))
    if name == "axum":
        env["PORT"] = str(port)
        return [os.path.join(RELEASE, "http-baseline")], env
    env["PORT"] = str(port)
    env["NUBES_HOST"] = "127.0.0.1"
    if name == "local":
        env["NUBES_PLATFORM"] = "local"
    elif name == "gcp":
        env["NUBES_PLATFORM"] = "gcp"
        env["K_SERVICE"] = "bench"
    elif name == "azure":
        env["NUBES_PLATFORM"] = "azure"
        env["FUNCTIONS_CUSTOMHANDLER_PORT"] = str(port)
    else:
        raise SystemExit(f"unknown variant {name}")
    return [os.path.join(RELEASE, "http-nubes")], env


def wait_ready(port, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on {port} not ready")


UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_wrk(text):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {}
    for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M):
        lat[pct] = float(value) * UNIT[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"rps": rps, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"), "non2xx": int(errors.group(1)) if errors else 0}


def run_wrk(port, endpoint, concurrency, script):
    threads = str(min(2, concurrency))
    cmd = ["wrk", "-t", threads, "-c", str(concurrency), "-d", DURATION, "--latency"]
    if endpoint == "echo":
        cmd += ["-s", script]
        url = f"http://127.0.0.1:{port}/echo"
    else:
        url = f"http://127.0.0.1:{port}/hello/bench"
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=120, check=True)
    return parse_wrk(out.stdout)


def main():
    workdir = tempfile.mkdtemp(prefix="nubes-bench-")
    # A JSON document of exactly 1 KiB: some items, padded to size.
    doc = {"items": [{"id": i, "name": f"item-{i:04d}", "ok": True} for i in range(16)], "pad": ""}
    doc["pad"] = "x" * (1024 - len(json.dumps(doc, separators=(",", ":"))))
    body = json.dumps(doc, separators=(",", ":"))
    assert len(body) == 1024, len(body)
    script = os.path.join(workdir, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        f.write("wrk.body = " + json.dumps(body) + "\n")
    servers = {}
    try:
        for name in VARIANTS:
            port = free_port()
            cmd, env = variant_command(name, port, workdir)
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_ready(port, proc)
            servers[name] = (port, proc)
        results = {}
        for endpoint in ["hello", "echo"]:
            for c in CONCURRENCY:
                for _ in range(ROUNDS):
                    for name in VARIANTS:
                        r = run_wrk(servers[name][0], endpoint, c, script)
                        results.setdefault((endpoint, c, name), []).append(r)
        print(f"wrk {DURATION} per run, {ROUNDS} interleaved rounds, medians; ratio = variant / axum")
        print()
        print("| endpoint | conc. | variant | req/s | p50 ms | p99 ms | req/s ratio | p50 ratio | p99 ratio |")
        print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
        for endpoint in ["hello", "echo"]:
            for c in CONCURRENCY:
                base = None
                for name in VARIANTS:
                    runs = results[(endpoint, c, name)]
                    med = {k: statistics.median(r[k] for r in runs) for k in ["rps", "p50_ms", "p99_ms"]}
                    bad = sum(r["non2xx"] for r in runs)
                    if bad:
                        print(f"warning: {name} {endpoint} c={c}: {bad} non-2xx responses", file=sys.stderr)
                    if base is None:
                        base = med
                    ratio = lambda k: med[k] / base[k] if base[k] else float("nan")
                    print(f"| {endpoint} | {c} | {name} | {med['rps']:.0f} | {med['p50_ms']:.3f} | {med['p99_ms']:.3f} | "
                          f"{ratio('rps'):.3f} | {ratio('p50_ms'):.3f} | {ratio('p99_ms'):.3f} |")
    finally:
        for port, proc in servers.values():
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
