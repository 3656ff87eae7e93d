#!/usr/bin/env python3
"""Cold start and memory of the HTTP variants, interleaved with the baseline.

Cold start: from process exec to the first successful `GET /hello/x` (a 200),
polled over loopback; the median of BENCH_STARTS starts (default 20) per
variant, variants taking turns. Memory: peak RSS (VmHWM) after BENCH_REQUESTS
requests (default 10000) of `GET /hello/x` over 16 keep-alive connections.
"""
import http.client
import os
import re
import socket
import statistics
import subprocess
import tempfile
import threading
import time

import http_bench as hb

STARTS = int(os.environ.get("BENCH_STARTS", "20"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "10000"))


def first_200(port, proc, timeout=20.0):
    request = b"GET /hello/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(request)
                reply = s.recv(64)
                if reply.startswith(b"HTTP/1.1 200"):
                    return time.perf_counter()
        except OSError:
            pass
    raise SystemExit("no 200 in time")


def one_start(name, workdir):
    port = hb.free_port()
    cmd, env = hb.variant_command(name, port, workdir)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t1 = first_200(port, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return (t1 - t0) * 1000


def send_requests(port, requests, connections=16):
    """Sends exactly `requests` `GET /hello/x` over `connections` keep-alive
    connections; returns how many got a 200."""
    def worker(count, ok):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            for _ in range(count):
                conn.request("GET", "/hello/x")
                reply = conn.getresponse()
                reply.read()
                ok.append(reply.status == 200)
        finally:
            conn.close()

    ok = []
    share = [requests // connections + (1 if i < requests % connections else 0) for i in range(connections)]
    threads = [threading.Thread(target=worker, args=(n, ok)) for n in share]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(ok)


def peak_rss_after_requests(pid, port, requests=REQUESTS):
    """Peak RSS in MiB after exactly `requests` `GET /hello/x` over 16
    keep-alive connections, and how many of them were answered 200."""
    done = send_requests(port, requests)
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024, done


def peak_rss_after_load(name, workdir):
    port = hb.free_port()
    cmd, env = hb.variant_command(name, port, workdir)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first_200(port, proc)
        rss, _ = peak_rss_after_requests(proc.pid, port)
        return rss
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def main():
    workdir = tempfile.mkdtemp(prefix="nubes-start-")
    starts = {name: [] for name in hb.VARIANTS}
    for _ in range(STARTS):
        for name in hb.VARIANTS:
            starts[name].append(one_start(name, workdir))
    rss = {name: peak_rss_after_load(name, workdir) for name in hb.VARIANTS}
    base = statistics.median(starts[hb.VARIANTS[0]])
    print(f"cold start: exec to first 200, median of {STARTS} interleaved starts; peak RSS after {REQUESTS} "
          "requests of `GET /hello/x` over 16 keep-alive connections")
    print()
    print("| variant | start p50 ms | start min ms | ratio | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for name in hb.VARIANTS:
        med = statistics.median(starts[name])
        print(f"| {name} | {med:.2f} | {min(starts[name]):.2f} | {med / base:.3f} | {rss[name]:.1f} |")


if __name__ == "__main__":
    main()
