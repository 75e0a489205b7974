#!/usr/bin/env bash
# Benchmarks: builds release binaries, starts a local tansu broker and runs tweetlake-bench.
#   ingest (default): fills a topic with N realistic tweets, then measures a bare rdkafka consumer
#     (the ceiling) and `tweetlake ingest --until-caught-up` on it.
#   --mode produce: a bare producer (the ceiling) and `tweetlake produce --file` with the same
#     tweets, then the disk spool's write and replay rates across a broker outage.
#   --mode silver: after the ingest run, `promote silver --full-refresh` with NER off and on (1 and
#     2 threads), and NER alone on the held-back BTC tweets (needs scripts/setup-ner.sh's model).
# Figures and how to read them: docs/benchmarks.md.
#   --mode freshness: `tweetlake run` (NER on) fed MESSAGES tweets in real time at --rate (100)
#     per second; for every tweet, the time until bronze, silver and gold commit it (p50/p95/max).
#   --mode gold: scripts/bench-gold.sh (MESSAGES tweets; every model against DuckDB, then
#     incremental).
#   scripts/bench.sh [MESSAGES=200000] [PARTITIONS=6] [extra tweetlake-bench flags, e.g. --json]
# PROFILE=dist runs the thin-LTO build published binaries get (`release` has no cross-crate LTO;
# figures say which build they came from).
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-200000}
partitions=${2:-6}
shift $(( $# < 2 ? $# : 2 ))
if [ "${1:-}" = "--mode" ] && [ "${2:-}" = "gold" ]; then
  exec scripts/bench-gold.sh "$messages" "$partitions"
fi
source scripts/env.sh
scripts/install-deps.sh >&2
scripts/setup-ner.sh >&2
profile=${PROFILE:-release}
cargo build --profile "$profile" -p tweetlake-cli -p tweetlake-bench >&2
work=$(mktemp -d "${TMPDIR:-/tmp}/tweetlake-bench.XXXXXX")
trap 'scripts/services.sh stop "$work"; rm -rf "$work"' EXIT
broker=$(scripts/services.sh broker "$work")
for t in bench bench.produce bench.spool bench.fresh; do scripts/services.sh topic "$work" "$t" "$partitions"; done
echo "broker $broker, topic bench with $partitions partitions, $(nproc) cores" >&2
"$CARGO_TARGET_DIR/$profile/tweetlake-bench" --bootstrap-servers "$broker" --topic bench \
  --messages "$messages" --tweetlake "$CARGO_TARGET_DIR/$profile/tweetlake" --work "$work" "$@"
