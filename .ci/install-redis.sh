#!/usr/bin/env bash
# Peer of the idempotency tests (idempotent, quiet): a real redis-server from
# Debian's packages. The tests start their own server on 127.0.0.1 with a free
# port and no persistence; the packaged service is not used.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# Without an init system (CI, containers) the package does not start a server of
# its own; the tests never use one on the default port anyway.
apt-get install -y -qq --no-install-recommends redis-server >/dev/null
command -v redis-server >/dev/null 2>&1 || {
    echo "install-redis: redis-server is still missing after apt-get install" >&2
    exit 1
}
