#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then runs every test with nextest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
scripts/setup-ner.sh
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
scripts/check-infra.sh
cargo build --workspace
cargo nextest run --workspace --no-fail-fast
