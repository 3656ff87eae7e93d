#!/usr/bin/env bash
# Peers of the GCP tests that `cargo test -- --ignored` runs (idempotent, quiet).
# - openssl CLI: generates the RSA keys of adapters/gcp/tests/oidc.rs (Debian package).
# - PyYAML: parses the generated service.yaml (deploy/src/gcp/tests.rs).
# - Pub/Sub emulator: part of the machine image (google-cloud-cli-pubsub-emulator
#   + a JDK, from Google's apt repository, which CI may not download from), so it
#   is only checked here; adapters/gcp/tests/{pull,faults}.rs fail with a clear
#   message when it is missing.
set -euo pipefail

if ! command -v openssl >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq openssl >/dev/null
fi
openssl version >/dev/null

if ! python3 -c "import yaml" >/dev/null 2>&1; then
    # Debian's own Python refuses pip installs (PEP 668) unless told.
    PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check \
        --root-user-action=ignore pyyaml
fi
python3 -c "import yaml"

if ! command -v gcloud >/dev/null 2>&1; then
    echo "install-gcp: gcloud not found; the Pub/Sub emulator tests will fail" >&2
elif ! command -v java >/dev/null 2>&1; then
    echo "install-gcp: java not found; the Pub/Sub emulator cannot start" >&2
fi
