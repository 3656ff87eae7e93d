#!/usr/bin/env bash
# Peers of the GCP adapter's tests (idempotent, quiet).
# - openssl CLI: generates the RSA keys of the OIDC tests (Debian package).
# - Pub/Sub emulator: part of the machine image (google-cloud-cli-pubsub-emulator
#   + a JDK, from Google's apt repository, which CI may not download from), so it
#   is only checked here; the emulator tests fail with a clear message under CI
#   when it is missing.
set -euo pipefail

if ! command -v openssl >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq openssl >/dev/null
fi

if ! command -v gcloud >/dev/null 2>&1; then
    echo "install-gcp: gcloud not found; the Pub/Sub emulator tests will fail under CI" >&2
elif ! command -v java >/dev/null 2>&1; then
    echo "install-gcp: java not found; the Pub/Sub emulator cannot start" >&2
fi
