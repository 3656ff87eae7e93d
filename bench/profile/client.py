#!/usr/bin/env python3
"""One keep-alive client for bench/profile/instructions.sh: waits for the server
(one warm-up `GET /hello/warm`), then sends N requests of GET <path> (a POST of a
1 KiB JSON document for /echo) and checks every answer is a 200."""
import http.client
import json
import sys
import time

port, n = int(sys.argv[1]), int(sys.argv[2])
path = sys.argv[3] if len(sys.argv) > 3 else "/hello/world"
body = json.dumps({"k": "x" * 1000}).encode() if path == "/echo" else None
conn = None
for _ in range(600):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/hello/warm")
        conn.getresponse().read()
        break
    except OSError:
        time.sleep(0.1)
else:
    raise SystemExit("the server did not answer")
for _ in range(n):
    if body:
        conn.request("POST", path, body=body, headers={"content-type": "application/json"})
    else:
        conn.request("GET", path)
    reply = conn.getresponse()
    reply.read()
    if reply.status != 200:
        raise SystemExit(f"{path}: {reply.status}")
