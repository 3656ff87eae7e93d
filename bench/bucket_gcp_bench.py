#!/usr/bin/env python3
"""The cost of a bucket on GCP: stripped size (the size profile of `nubes
build`, as size_bench.py builds) and cold start (exec to the first 200 of
`GET /hello/x`, which for the bucket apps includes their first put + get on
gcp-storage-emulator) of:

- bucket-gcp-nubes     nubes (gcp) with one declared bucket, put + get per request;
- bucket-gcp-none      the same app without the bucket, built without `bucket`;
- bucket-gcp-none+feat the same, built with nubes' `bucket` feature (declares none);
- bucket-gcp-raw       the put + get written with raw OpenDAL GCS on plain axum.

Medians of BENCH_STARTS (20) interleaved starts. Needs gcp-storage-emulator
(.ci/install-gcs.sh); it is started with the launcher of
test-support/src/gcs_emulator.rs (which patches the emulator's quirks).
"""
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

import http_bench as hb
import size_bench as size
import startup_bench as sb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
STARTS = int(os.environ.get("BENCH_STARTS", "20"))


def launcher():
    with open(os.path.join(ROOT, "test-support", "src", "gcs_emulator.rs")) as f:
        return re.search(r'pub const LAUNCHER: &str = r#"(.*?)"#;', f.read(), re.S).group(1)


def start_emulator():
    port = hb.free_port()
    proc = subprocess.Popen(["python3", "-c", launcher(), "start", "--host", "127.0.0.1",
                             "--port", str(port), "--in-memory", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    req = urllib.request.Request(f"http://127.0.0.1:{port}/storage/v1/b?project=bench",
                                 data=b'{"name": "bench"}', headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
    return proc, f"127.0.0.1:{port}"


def build(workdir):
    triple = size.host_triple()
    out = size.cargo_build(["-p", "nubes-bench", "--no-default-features", "--features", "gcp",
                            "--bin", "bucket-gcp-none"], triple)
    binaries = {"bucket-gcp-none": shutil.copy2(os.path.join(out, "bucket-gcp-none"),
                                                os.path.join(workdir, "bucket-gcp-none"))}
    out = size.cargo_build(["-p", "nubes-bench", "--no-default-features", "--features", "bucket-gcp",
                            "--bin", "bucket-gcp-none", "--bin", "bucket-gcp-nubes",
                            "--bin", "bucket-gcp-raw"], triple)
    binaries["bucket-gcp-none+feat"] = shutil.copy2(os.path.join(out, "bucket-gcp-none"),
                                                    os.path.join(workdir, "bucket-gcp-none-feat"))
    for name in ("bucket-gcp-nubes", "bucket-gcp-raw"):
        binaries[name] = shutil.copy2(os.path.join(out, name), os.path.join(workdir, name))
    return binaries


def start_ms(binary, emulator):
    port = hb.free_port()
    env = dict(os.environ, RUST_LOG="error", PORT=str(port), NUBES_HOST="127.0.0.1",
               NUBES_PLATFORM="gcp", K_SERVICE="bench", GOOGLE_CLOUD_PROJECT="bench",
               STORAGE_EMULATOR_HOST=emulator)
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t1 = sb.first_200(port, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return (t1 - t0) * 1000


def main():
    workdir = tempfile.mkdtemp(prefix="nubes-bucket-gcp-")
    binaries = build(workdir)
    sizes = {name: size.stripped_size(path, workdir) for name, path in binaries.items()}
    emulator, host = start_emulator()
    try:
        runs = {name: [] for name in binaries}
        for _ in range(STARTS):
            for name, path in binaries.items():
                runs[name].append(start_ms(path, host))
    finally:
        emulator.terminate()
        emulator.wait(timeout=15)
    base = statistics.median(runs["bucket-gcp-none"])
    print(f"size profile of `nubes build`, host triple, stripped; cold start = exec to first 200 of "
          f"GET /hello/x (bucket apps: incl. their first put + get on the emulator), "
          f"median of {STARTS} interleaved starts")
    print()
    print("| binary | stripped KiB | vs none | start p50 ms | start min ms |")
    print("|---|---:|---:|---:|---:|")
    for name in binaries:
        print(f"| {name} | {sizes[name] / 1024:.0f} | {sizes[name] / sizes['bucket-gcp-none']:.3f} | "
              f"{statistics.median(runs[name]):.2f} | {min(runs[name]):.2f} |")
    print()
    print(f"nubes bucket vs raw opendal: size {sizes['bucket-gcp-nubes'] / sizes['bucket-gcp-raw']:.3f}x, "
          f"start {statistics.median(runs['bucket-gcp-nubes']) / statistics.median(runs['bucket-gcp-raw']):.3f}x; "
          f"none p50 {base:.2f} ms")


if __name__ == "__main__":
    main()
