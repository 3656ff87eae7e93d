#!/usr/bin/env bash
# Peer of the Cloud Storage tests that `cargo test -- --ignored` runs
# (adapters/gcp/tests/bucket_gcs*.rs, examples/pipeline/tests/gcp.rs):
# gcp-storage-emulator from PyPI, started by the tests themselves through
# nubes_test_support::gcs_emulator (which patches its known quirks).
# Idempotent and quiet: installs only when missing.
set -euo pipefail

if ! python3 -c "import gcp_storage_emulator" >/dev/null 2>&1; then
    # Debian's own Python refuses pip installs (PEP 668) unless told.
    PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check \
        --root-user-action=ignore gcp-storage-emulator
fi
python3 -c "import gcp_storage_emulator"
