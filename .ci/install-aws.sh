#!/usr/bin/env bash
# Peers of the AWS adapter's tests, from PyPI only:
# - cargo-lambda: a third-party Lambda Runtime API emulator (`cargo lambda watch`)
#   that examples/echo/tests/aws.rs runs the echo binary against;
# - cfn-lint (brings aws-sam-translator): checks the generated SAM template.
# Idempotent and quiet: installs only what is missing.
set -euo pipefail

missing=()
command -v cargo-lambda >/dev/null 2>&1 || missing+=(cargo-lambda)
command -v cfn-lint >/dev/null 2>&1 || missing+=(cfn-lint)
python3 -c "import samtranslator" >/dev/null 2>&1 || missing+=(aws-sam-translator)

if [ "${#missing[@]}" -gt 0 ]; then
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "${missing[@]}"
fi

# pyenv installs console scripts behind shims that need a rehash.
if command -v pyenv >/dev/null 2>&1; then
    pyenv rehash >/dev/null 2>&1 || true
fi

cargo lambda --version >/dev/null
cfn-lint --version >/dev/null
python3 -c "import samtranslator"
