#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, checks formatting and lints,
# then runs every test with nextest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo fmt --all --check
# Clippy's lints (-D warnings, and the workspace's [lints]) ride on the build itself: clippy-driver
# compiles the workspace's own crates, with every dependency built by rustc as usual and shared, so
# linting costs seconds instead of a second, check-mode build of ~800 dependencies (`cargo clippy`).
# Set for every build below, so that setup-ner.sh's build, this one and nextest's share artifacts.
if command -v clippy-driver >/dev/null; then
  export RUSTC_WORKSPACE_WRAPPER=$(command -v clippy-driver)
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
else
  echo "[test] warning: no clippy-driver in this toolchain; lints not checked" >&2
fi
scripts/install-deps.sh
scripts/setup-ner.sh
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
scripts/check-infra.sh
cargo build --workspace
cargo nextest run --workspace --no-fail-fast
