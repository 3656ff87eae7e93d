#!/usr/bin/env python3
"""Binary size and memory of `examples/hello` per target, against the raw
baselines, all built with the size profile `nubes build` uses (read from
cli/src/build.rs, passed through `--config` like the CLI does, for the host
triple like the CLI does, so `nubes build` and this script share artefacts).

Baselines (bins of this crate): `hello-lambda-http` (raw lambda_http + axum,
the budget's reference) and `hello-axum` (plain axum, for the HTTP targets).
Peak RSS (VmHWM) after BENCH_REQUESTS (10000) requests of `GET /hello/x` (wrk,
HTTP targets) or invocations of an HTTP API v2 `GET /hello/x` event (Lambda
driver, aws and the lambda_http baseline).

Cold start of the same binaries: exec to the first 200 (HTTP targets, against
hello-axum) or to the first `GET /next` (aws, against hello-lambda-http),
medians of BENCH_STARTS (20) interleaved starts.

Environment: SIZE_TARGETS (local,aws,gcp,azure), BENCH_REQUESTS, BENCH_STARTS, QUICK=1.
"""
import os
import re
import shutil
import subprocess
import statistics
import tempfile
import time

import http_bench as hb
import lambda_bench as lb
import startup_bench as sb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
QUICK = os.environ.get("QUICK") == "1"
TARGETS = os.environ.get("SIZE_TARGETS", "local,aws,gcp,azure").split(",")
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "10000"))
STARTS = int(os.environ.get("BENCH_STARTS", "5" if QUICK else "20"))


def size_profile():
    """The `profile.nubes.*` settings of `nubes build`, from the CLI's source."""
    with open(os.path.join(ROOT, "cli", "src", "build.rs")) as f:
        source = f.read()
    block = re.search(r"const SIZE_PROFILE[^=]*=\s*\[(.*?)\];", source, re.S).group(1)
    settings = [s.encode().decode("unicode_escape") for s in re.findall(r'"((?:[^"\\]|\\.)*)"', block)]
    if not any(s.startswith("profile.nubes.opt-level") for s in settings):
        raise SystemExit(f"could not read the size profile from cli/src/build.rs: {settings}")
    return settings


def host_triple():
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return re.search(r"^host: (\S+)", out, re.M).group(1)


def cargo_build(args, triple):
    cmd = ["cargo", "build", "--quiet", "--profile", "nubes", "--target", triple]
    for setting in size_profile():
        cmd += ["--config", setting]
    subprocess.run(cmd + args, cwd=ROOT, check=True)
    return os.path.join(hb.TARGET, triple, "nubes")


def stripped_size(path, workdir):
    copy = os.path.join(workdir, "stripped")
    subprocess.run(["strip", "-o", copy, path], check=True)
    return os.path.getsize(copy)


def build_all(workdir):
    """Builds every binary once; returns {name: path of a kept copy}."""
    triple = host_triple()
    binaries = {}
    for target in TARGETS:
        out = cargo_build(["-p", "hello", "--no-default-features", "--features", target], triple)
        keep = os.path.join(workdir, f"hello-{target}")
        shutil.copy2(os.path.join(out, "hello"), keep)
        binaries[target] = keep
    out = cargo_build(["-p", "nubes-bench", "--no-default-features",
                       "--bin", "hello-lambda-http", "--bin", "hello-axum"], triple)
    for name in ("hello-lambda-http", "hello-axum"):
        binaries[name] = os.path.join(out, name)
    return binaries


def http_env(target, port, workdir):
    env = dict(os.environ, RUST_LOG="error", PORT=str(port), NUBES_HOST="127.0.0.1",
               NUBES_LOCAL_DIR=os.path.join(workdir, f"data-{target}"))
    if target in ("local", "gcp", "azure"):
        env["NUBES_PLATFORM"] = target
    if target == "gcp":
        env["K_SERVICE"] = "bench"
    if target == "azure":
        env["FUNCTIONS_CUSTOMHANDLER_PORT"] = str(port)
    return env


def http_start_ms(binary, target, workdir):
    """Exec → first 200 of `GET /hello/x`, in milliseconds."""
    port = hb.free_port()
    env = http_env(target, port, workdir)
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t1 = sb.first_200(port, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return (t1 - t0) * 1000


def lambda_start_ms(binary, workdir):
    """Exec → first `GET /next`, in milliseconds (the Lambda driver's `start`)."""
    return lb.driver("start", "--bin", binary, "--log", os.path.join(workdir, "starts.log"))["start_ms"]


def start_ms(name, binary, workdir):
    if name in ("aws", "hello-lambda-http"):
        return lambda_start_ms(binary, workdir)
    return http_start_ms(binary, name if name in TARGETS else "axum", workdir)


def cold_starts(binaries, workdir):
    """Interleaved starts (A B A B …) of every target and both baselines."""
    names = [*TARGETS, "hello-lambda-http", "hello-axum"]
    runs = {name: [] for name in names}
    for _ in range(STARTS):
        for name in names:
            runs[name].append(start_ms(name, binaries[name], workdir))
    return runs


def http_peak_rss(binary, target, workdir):
    port = hb.free_port()
    env = http_env(target, port, workdir)
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        hb.wait_ready(port, proc)
        return sb.peak_rss_after_requests(proc.pid, port, REQUESTS)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def lambda_peak_rss(binary, workdir):
    event = lb.write_event(workdir, "hello-x", lb.http_v2_event("GET", "/hello/x"))
    r = lb.driver("run", "--bin", binary, "--event", event, "--invocations", str(REQUESTS),
                  "--warmup", "0", "--log", os.path.join(workdir, "functions.log"))
    if r["errors"] or '"statusCode":200' not in (r["first_reply"] or "").replace(" ", ""):
        raise SystemExit(f"{binary}: {r}")
    return r["peak_rss_kib"] / 1024, r["invocations"]


def main():
    workdir = tempfile.mkdtemp(prefix="nubes-size-")
    binaries = build_all(workdir)
    sizes = {name: stripped_size(path, workdir) for name, path in binaries.items()}
    ref = sizes["hello-lambda-http"]
    axum = sizes["hello-axum"]
    print(f"size profile of `nubes build` ({', '.join(s.removeprefix('profile.nubes.') for s in size_profile())}), "
          f"host triple, stripped; peak RSS after {REQUESTS} `GET /hello/x` requests (16 keep-alive connections) or invocations "
          "(Lambda driver); budget: size <= 1.25 x hello-lambda-http")
    print()
    print("| binary | stripped KiB | vs lambda_http + axum | vs plain axum | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for name in [*TARGETS, "hello-lambda-http", "hello-axum"]:
        if name in ("aws", "hello-lambda-http"):
            rss, done = lambda_peak_rss(binaries[name], workdir)
        else:
            rss, done = http_peak_rss(binaries[name], name if name in TARGETS else "axum", workdir)
        label = f"hello ({name})" if name in TARGETS else name
        over = sizes[name] / ref
        flag = " ✗" if name in TARGETS and over > 1.25 else ""
        print(f"| {label} | {sizes[name] / 1024:.0f} | {over:.3f}{flag} | {sizes[name] / axum:.3f} | {rss:.1f} |")
        if done < REQUESTS:
            print(f"warning: {name}: only {done} of {REQUESTS} requests answered 200")
    runs = cold_starts(binaries, workdir)
    print()
    print(f"cold start of the same binaries: exec to first 200 (HTTP) or first `GET /next` (Lambda), "
          f"median of {STARTS} interleaved starts; ratio against the raw baseline of the same kind "
          "(HTTP targets: hello-axum; aws: hello-lambda-http); budget: <= 1.10 and < 10 ms")
    print()
    print("| binary | start p50 ms | start min ms | baseline | ratio |")
    print("|---|---:|---:|---|---:|")
    for name in [*TARGETS, "hello-lambda-http", "hello-axum"]:
        base = "hello-lambda-http" if name in ("aws", "hello-lambda-http") else "hello-axum"
        med = statistics.median(runs[name])
        ratio = med / statistics.median(runs[base])
        label = f"hello ({name})" if name in TARGETS else name
        print(f"| {label} | {med:.2f} | {min(runs[name]):.2f} | {base} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
