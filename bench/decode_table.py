#!/usr/bin/env python3
"""The decoding table from criterion's estimates (benches/decode.rs): per
payload, the median time of `nubes` against `direct` and their ratio."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "..", "target"))
ROWS = [
    ("sqs-batch-10", "SQS batch of 10", "aws_lambda_events SqsEvent", "nubes_aws::fuzzing::decode"),
    ("apigw-v2", "API Gateway HTTP API v2 `GET /hello/x`", "aws_lambda_events ApiGatewayV2httpRequest",
     "nubes_aws::fuzzing::decode"),
    ("cloudevent", "CloudEvent, structured (Pub/Sub)", "serde_json::Value", "nubes_gcp::fuzzing::decode"),
    ("azure-queue", "Azure queue-trigger invocation", "serde_json::Value", "nubes_azure::fuzzing::decode"),
]


def median_ns(group, function):
    path = os.path.join(TARGET, "criterion", group, function, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def main():
    print("criterion medians; ratio = nubes / direct (budget <= 1.20), both decoding only; for AWS, "
          "`baseline` is the raw function's whole job in process (typed event, handler, reply serialised), "
          "`nubes handle` is `LambdaHandler::handle` with no-op handlers (decoding, dispatch, reply, EMF "
          "line) and the last column nubes handle / baseline")
    print()
    print("| payload | direct | nubes path | direct µs | nubes µs | nubes / direct "
          "| baseline µs | nubes handle µs | nubes handle / baseline |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for group, payload, direct, nubes in ROWS:
        try:
            d, n = median_ns(group, "direct"), median_ns(group, "nubes")
        except FileNotFoundError:
            print(f"| {payload} | {direct} | {nubes} | – | – | not run | | | |")
            continue
        try:
            b, h = median_ns(group, "baseline"), median_ns(group, "nubes-handle")
            whole = f"{b / 1e3:.2f} | {h / 1e3:.2f} | {h / b:.2f}"
        except FileNotFoundError:
            whole = "– | – | –"
        print(f"| {payload} | {direct} | {nubes} | {d / 1e3:.2f} | {n / 1e3:.2f} | {n / d:.2f} | {whole} |")


if __name__ == "__main__":
    main()
