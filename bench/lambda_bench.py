#!/usr/bin/env python3
"""Lambda path: nubes and the raw lambda_runtime / lambda_http baselines, each
run as a real function binary against our own Runtime API (the `lambda-driver`
bin: hyper on 127.0.0.1, keep-alive, one event served N times as fast as the
function takes it).

Rows, each nubes vs its baseline, taking turns round after round (A B A B):
  sqs-fixture   nubes queue handler vs a lambda_runtime JSON echo, on the
                SQS fixture (2 records)
  http-get      nubes HTTP vs lambda_http + axum (same router), HTTP API v2
                `GET /hello/x`
  http-post     the same, `POST /echo` with a 1 KiB JSON body
  sqs-1/10/100  nubes vs lambda_runtime + aws_lambda_events::SqsEvent +
                per-record handler + SqsBatchResponse
Then cold start (exec -> first GET /next, BENCH_STARTS interleaved starts).

Latency is per invocation, from `/next` answered to the reply received;
throughput is invocations/s over the measured invocations (after a warm-up).
Peak RSS (VmHWM) is read after all warm-up + measured invocations.

Environment: LAMBDA_INVOCATIONS (10000), LAMBDA_WARMUP (200), BENCH_ROUNDS (3),
BENCH_STARTS (20), LAMBDA_CASES (all), QUICK=1 for a smoke run.
"""
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("NUBES_FIXTURES", os.path.join(HERE, "..", "fixtures"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "..", "target"))
RELEASE = os.path.join(TARGET, "release")
QUICK = os.environ.get("QUICK") == "1"
INVOCATIONS = int(os.environ.get("LAMBDA_INVOCATIONS", "1000" if QUICK else "10000"))
WARMUP = int(os.environ.get("LAMBDA_WARMUP", "50" if QUICK else "200"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if QUICK else "3"))
STARTS = int(os.environ.get("BENCH_STARTS", "5" if QUICK else "20"))

BIN = {
    "nubes": "lambda-nubes",
    "lambda_runtime": "lambda-echo-baseline",
    "lambda_runtime+SqsEvent": "lambda-sqs-baseline",
    "lambda_http": "lambda-http-baseline",
}


def fixture(*parts):
    with open(os.path.join(FIXTURES, *parts)) as f:
        return json.load(f)


def json_1k():
    """The 1 KiB JSON document of the HTTP benchmarks (http_bench.py)."""
    doc = {"items": [{"id": i, "name": f"item-{i:04d}", "ok": True} for i in range(16)], "pad": ""}
    doc["pad"] = "x" * (1024 - len(json.dumps(doc, separators=(",", ":"))))
    return json.dumps(doc, separators=(",", ":"))


def sqs_event(count, body=None):
    """An SQS batch of `count` records shaped like the fixture's first one."""
    template = fixture("aws", "sqs-batch.json")["Records"][0]
    # The fixture's binaryValue ("base64Str") is not base64: aws_lambda_events
    # refuses it. A string attribute keeps the record's shape.
    template["messageAttributes"] = {"testAttr": {"stringValue": "100", "dataType": "Number"}}
    records = []
    for i in range(count):
        record = copy.deepcopy(template)
        record["messageId"] = f"059f36b4-87a3-44ab-83d2-{i:012d}"
        if body is not None:
            record["body"] = body
        records.append(record)
    return {"Records": records}


def http_v2_event(method, path, body=None):
    event = fixture("aws", "apigw-http-v2-get-no-authorizer.json")
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    if body is not None:
        event["headers"]["content-type"] = "application/json"
        event["headers"]["content-length"] = str(len(body))
        event["body"] = body
    return event


def write_event(workdir, name, event):
    path = os.path.join(workdir, f"{name}.json")
    with open(path, "w") as f:
        json.dump(event, f, separators=(",", ":"))
    return path


# case -> (event, baseline, what a good reply contains: baseline's, nubes')
def cases(workdir):
    sqs_ok = ('"batchItemFailures":[]', '"batchItemFailures":[]')
    http_ok = ('"statusCode":200', '"statusCode":200')
    rows = {
        "sqs-fixture": (fixture("aws", "sqs-batch.json"), "lambda_runtime", ('"Records"', sqs_ok[1])),
        "http-get": (http_v2_event("GET", "/hello/x"), "lambda_http", http_ok),
        "http-post": (http_v2_event("POST", "/echo", json_1k()), "lambda_http", http_ok),
        "sqs-1": (sqs_event(1), "lambda_runtime+SqsEvent", sqs_ok),
        "sqs-10": (sqs_event(10), "lambda_runtime+SqsEvent", sqs_ok),
        "sqs-100": (sqs_event(100), "lambda_runtime+SqsEvent", sqs_ok),
    }
    wanted = os.environ.get("LAMBDA_CASES")
    if wanted:
        rows = {k: v for k, v in rows.items() if k in wanted.split(",")}
    return {k: (write_event(workdir, k, ev), base, ok) for k, (ev, base, ok) in rows.items()}


def driver(*args, timeout=900):
    cmd = [os.path.join(RELEASE, "lambda-driver"), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise SystemExit(f"lambda-driver failed: {' '.join(cmd)}\n{out.stderr}")
    return json.loads(out.stdout)


def invoke(variant, event_path, invocations, warmup, expect, log):
    r = driver("run", "--bin", os.path.join(RELEASE, BIN[variant]), "--event", event_path,
               "--invocations", str(invocations), "--warmup", str(warmup), "--log", log)
    reply = (r["first_reply"] or "").replace(" ", "")
    if r["errors"] or expect not in reply:
        raise SystemExit(f"{variant} on {event_path}: {r['errors']} errors, first reply: {r['first_reply']!r} (log: {log})")
    return r


def scaled(case, count):
    """Batches of 100 get a tenth of the invocations (the same messages as a
    batch of 10), so that row does not dominate the run."""
    return max(1, count // 10) if case == "sqs-100" else count


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def ratio(a, b):
    return a / b if b else float("nan")


def lambda_rows(workdir):
    table = cases(workdir)
    log = os.path.join(workdir, "functions.log")
    results = {}
    for _ in range(ROUNDS):
        for case, (path, base, expect) in table.items():
            for variant, ok in zip((base, "nubes"), expect):
                n, w = scaled(case, INVOCATIONS), scaled(case, WARMUP)
                results.setdefault((case, variant), []).append(invoke(variant, path, n, w, ok, log))
    print(f"{INVOCATIONS} measured invocations after {WARMUP} warm-up ones per run, {ROUNDS} interleaved "
          f"rounds, medians; latency = `/next` answered -> reply received; peak RSS after all "
          f"{INVOCATIONS + WARMUP} invocations (sqs-100: a tenth of both); ratio = nubes / baseline")
    print()
    print("| case | variant | inv/s | p50 µs | p99 µs | peak RSS MiB | inv/s ratio | p50 ratio | p99 ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for case, (_, base, _) in table.items():
        b = results[(case, base)]
        for variant in (base, "nubes"):
            r = results[(case, variant)]
            rps, p50, p99 = (median_of(r, k) for k in ("per_s", "p50_us", "p99_us"))
            rss = median_of(r, "peak_rss_kib") / 1024
            print(f"| {case} | {variant} | {rps:.0f} | {p50:.1f} | {p99:.1f} | {rss:.1f} | "
                  f"{ratio(rps, median_of(b, 'per_s')):.3f} | {ratio(p50, median_of(b, 'p50_us')):.3f} | "
                  f"{ratio(p99, median_of(b, 'p99_us')):.3f} |")


def cold_starts(workdir):
    variants = ["lambda_runtime", "lambda_http", "nubes"]
    log = os.path.join(workdir, "starts.log")
    starts = {v: [] for v in variants}
    for _ in range(STARTS):
        for v in variants:
            starts[v].append(driver("start", "--bin", os.path.join(RELEASE, BIN[v]), "--log", log)["start_ms"])
    base = statistics.median(starts["lambda_runtime"])
    print(f"exec -> first `GET /next`, {STARTS} interleaved starts per variant; ratio = variant / lambda_runtime")
    print()
    print("| variant | binary | start p50 ms | start min ms | ratio |")
    print("|---|---|---:|---:|---:|")
    for v in variants:
        med = statistics.median(starts[v])
        print(f"| {v} | {BIN[v]} | {med:.2f} | {min(starts[v]):.2f} | {med / base:.3f} |")


def main():
    workdir = tempfile.mkdtemp(prefix="nubes-lambda-")
    what = sys.argv[1:] or ["path", "start"]
    if "path" in what:
        lambda_rows(workdir)
        print()
    if "start" in what:
        cold_starts(workdir)


if __name__ == "__main__":
    main()
