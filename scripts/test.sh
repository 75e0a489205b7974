#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then runs every test with nextest.
set -euo pipefail
cd "$(dirname "$0")/.."
export TWEETLAKE_HOME=${TWEETLAKE_HOME:-$HOME/.cache/tweetlake}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$TWEETLAKE_HOME/target}
scripts/install-deps.sh
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
cargo build --workspace
cargo nextest run --workspace --no-fail-fast
