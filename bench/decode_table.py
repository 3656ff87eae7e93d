#!/usr/bin/env python3
"""The decoding table from criterion's estimates (benches/decode.rs): per
payload, the median time of `nubes` against `direct` and their ratio."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "..", "target"))
ROWS = [
    ("sqs-batch-10", "SQS batch of 10", "aws_lambda_events SqsEvent", "LambdaHandler::handle, no-op handlers"),
    ("apigw-v2", "API Gateway HTTP API v2 `GET /hello/x`", "aws_lambda_events ApiGatewayV2httpRequest",
     "LambdaHandler::handle, one-route router"),
    ("cloudevent", "CloudEvent, structured (Pub/Sub)", "serde_json::Value", "nubes_gcp::fuzzing::decode"),
    ("azure-queue", "Azure queue-trigger invocation", "serde_json::Value", "nubes_azure::fuzzing::decode"),
]


def median_ns(group, function):
    path = os.path.join(TARGET, "criterion", group, function, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def main():
    print("criterion medians; ratio = nubes / direct (budget <= 1.20); for AWS, `baseline` is the raw "
          "function's whole job in process (typed event, handler, reply serialised) and the last column "
          "nubes / baseline")
    print()
    print("| payload | direct | nubes path | direct µs | baseline µs | nubes µs | nubes / direct | nubes / baseline |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for group, payload, direct, nubes in ROWS:
        try:
            d, n = median_ns(group, "direct"), median_ns(group, "nubes")
        except FileNotFoundError:
            print(f"| {payload} | {direct} | {nubes} | – | – | – | not run | |")
            continue
        try:
            b = median_ns(group, "baseline")
            base, vs_base = f"{b / 1e3:.2f}", f"{n / b:.2f}"
        except FileNotFoundError:
            base, vs_base = "–", "–"
        print(f"| {payload} | {direct} | {nubes} | {d / 1e3:.2f} | {base} | {n / 1e3:.2f} | {n / d:.2f} | {vs_base} |")


if __name__ == "__main__":
    main()
