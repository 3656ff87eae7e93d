#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the real payloads vendored in the
# repository's fixtures/ (or NUBES_FIXTURES). Generated corpora are not committed (.gitignore).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="${NUBES_FIXTURES:-$here/../fixtures}"
corpus="$here/corpus"
[ -d "$fixtures" ] || { echo "no fixtures at $fixtures (set NUBES_FIXTURES)" >&2; exit 1; }
mkdir -p "$corpus"/{aws_event,aws_http,gcp_push,gcp_cloudevent,azure_invocation,local_storage_key}

for f in "$fixtures"/aws/*.json; do
  case "$(basename "$f")" in
    apigw-*|alb-*|function-url-*) cp "$f" "$corpus/aws_http/" ;;
    *) cp "$f" "$corpus/aws_event/" ;;
  esac
done
for f in "$fixtures"/gcp/*.json; do
  case "$(basename "$f")" in
    *headers*) ;;
    *) cp "$f" "$corpus/gcp_push/" ;;
  esac
done

python3 - "$fixtures" "$corpus" <<'PY'
import json, sys, pathlib
fixtures, corpus = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
gcp = fixtures / "gcp"

def write(target, name, data):
    (corpus / target / name).write_bytes(data)

def with_headers(headers, body):
    head = "".join(f"{k}: {v}\n" for k, v in headers.items() if k != "host")
    return head.encode() + b"\n" + body

# gcp_cloudevent: header lines, blank line, body.
for stem in ["cloudevent-storage-finalized.binary", "eventarc-pubsub-binary"]:
    headers = json.loads((gcp / f"{stem}.headers.json").read_text())
    write("gcp_cloudevent", stem, with_headers(headers, (gcp / f"{stem}.body.json").read_bytes()))
for name in ["cloudevent-pubsub-messagePublished.structured.json", "cloudevent-storage-finalized.structured.json"]:
    write("gcp_cloudevent", name, with_headers({"content-type": "application/cloudevents+json"}, (gcp / name).read_bytes()))
scheduler = (gcp / "cloudevent-scheduler-job-executed.binary.body.json").read_bytes()
write("gcp_cloudevent", "scheduler-ce", with_headers({
    "ce-specversion": "1.0", "ce-id": "s-1", "ce-type": "google.cloud.scheduler.job.v1.executed",
    "ce-source": "//cloudscheduler.googleapis.com/projects/p/locations/l/jobs/nightly",
    "ce-time": "2026-11-28T03:00:00Z"}, scheduler))
write("gcp_cloudevent", "scheduler-http", with_headers({
    "x-cloudscheduler": "true", "x-cloudscheduler-jobname": "nightly",
    "x-cloudscheduler-scheduletime": "2026-11-28T03:00:00Z"}, scheduler))
write("gcp_cloudevent", "unwrapped-push", with_headers({
    "x-goog-pubsub-message-id": "4102184774039362",
    "x-goog-pubsub-subscription-name": "projects/p/subscriptions/orders",
    "x-goog-pubsub-publish-time": "2022-02-15T11:28:32.942Z", "attr1": "value1"}, b"Text message"))

# azure_invocation: first byte = kind (0 queue, 1 storage, 2 timer, 3 HTTP binding).
azure = fixtures / "azure"
kinds = {"queue-trigger.request.json": 0, "service-bus-trigger.request.json": 0,
         "event-grid-trigger.eventgrid-schema.request.json": 1,
         "event-grid-trigger.cloudevents-schema.request.json": 1,
         "timer-trigger.request.json": 2, "http-trigger-order.request.json": 3,
         "http-trigger-with-identities.request.json": 3}
for name, kind in kinds.items():
    write("azure_invocation", name, bytes([kind]) + (azure / name).read_bytes())
for name in ["eventgrid-blobcreated.eventgrid-schema.json", "eventgrid-blobcreated.cloudevents-schema.json"]:
    event = json.loads((azure / name).read_text())
    event = event[0] if isinstance(event, list) else event
    write("azure_invocation", name, bytes([1]) + json.dumps({"Data": {"event": event}, "Metadata": {}}).encode())
write("azure_invocation", "blob", bytes([1]) + json.dumps({"Data": {"blobBase64": "MTIzNDU="}, "Metadata": {
    "Uri": "https://acct.blob.core.windows.net/uploads/docs/report%201.txt",
    "Properties": {"ContentLength": 5}, "name": "docs/report 1.txt"}}).encode())
write("azure_invocation", "queue-binary", bytes([0]) + b'{"Data":{"messageBase64":"AP8="},"Metadata":{"DequeueCount":"3"}}')

# local_storage_key: plausible keys and traversal attempts.
for i, key in enumerate(["docs/report 1.txt", "a/b/c.png", "../x", "a/../../x", "..\\x", "/etc/passwd",
                         "C:\\x", "a//b", "%2e%2e/x", "a\u0000b", "é/🦀"]):
    write("local_storage_key", f"key-{i}", key.encode())
PY
echo "seeded: $(for d in "$corpus"/*; do printf '%s=%s ' "$(basename "$d")" "$(ls "$d" | wc -l)"; done)"
