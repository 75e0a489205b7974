#!/usr/bin/env bash
# The soak test at any length, against real parts: a tansu broker, a local lake (or SeaweedFS S3
# with --s3), the ingester as a service, promotions every few seconds, maintenance every minute,
# serve with eight psql clients on the Grafana dashboard's queries, synthetic tweets with noise and
# poison headers, and faults (kill -9 of the ingester and of promotions, a 30 s broker freeze).
#   scripts/soak.sh MINUTES [--s3] [--seed N]
# Prints a summary and writes it to docs/soak-latest.json (or $TWEETLAKE_SOAK_REPORT). The suite
# runs the same test for 3 minutes (tests/it/soak.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:?usage: scripts/soak.sh MINUTES [--s3] [--seed N]}
shift
s3=0; seed=$(date +%s)
while [ $# -gt 0 ]; do
  case "$1" in
    --s3) s3=1 ;;
    --seed) seed=${2:?--seed needs a number}; shift ;;
    *) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
source scripts/env.sh
scripts/install-deps.sh
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
report=${TWEETLAKE_SOAK_REPORT:-docs/soak-latest.json}
TWEETLAKE_SOAK_MINUTES=$minutes TWEETLAKE_SOAK_S3=$s3 TWEETLAKE_SOAK_SEED=$seed \
  TWEETLAKE_SOAK_REPORT=$(realpath -m "$report") \
  cargo nextest run -p tweetlake-cli --test it -E 'test(soak::)' --no-capture
echo "soak: summary in $report"
