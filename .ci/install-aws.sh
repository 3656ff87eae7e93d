#!/usr/bin/env bash
# Peers of the AWS tests that `cargo test -- --ignored` runs, from PyPI only:
# - cargo-lambda (brings zig): a third-party Lambda Runtime API emulator
#   (`cargo lambda watch`) for adapters/aws/tests/faults.rs,
#   examples/echo/tests/aws.rs and cli/tests/invoke.rs;
# - cfn-lint and aws-sam-translator: check the generated SAM template
#   (deploy/tests/aws.rs, cli/tests/build.rs).
# Idempotent and quiet: installs only what is missing.
set -euo pipefail

missing=()
command -v cargo-lambda >/dev/null 2>&1 || missing+=(cargo-lambda)
command -v cfn-lint >/dev/null 2>&1 || missing+=(cfn-lint)
python3 -c "import samtranslator" >/dev/null 2>&1 || missing+=(aws-sam-translator)

if [ "${#missing[@]}" -gt 0 ]; then
    # Debian's own Python refuses pip installs (PEP 668) unless told; a pip
    # too old to know the setting ignores it.
    PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check \
        --root-user-action=ignore "${missing[@]}"
fi

# pyenv installs console scripts behind shims that need a rehash.
if command -v pyenv >/dev/null 2>&1; then
    pyenv rehash >/dev/null 2>&1 || true
fi

# Not root: pip put the commands in the user's scripts folder.
user_bin="$(python3 -m site --user-base)/bin"
if ! command -v cargo-lambda >/dev/null 2>&1 && [ -x "$user_bin/cargo-lambda" ]; then
    echo "install-aws: add $user_bin to PATH for the peer tests" >&2
    exit 1
fi

cargo lambda --version >/dev/null
cfn-lint --version >/dev/null
python3 -c "import samtranslator"
