#!/usr/bin/env bash
# The main job on the embedded default: a local broker, the bundled real tweets replayed into it,
# ingested into ./lake (bronze), promoted to silver (with named entities and sentiment), and what
# landed printed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
scripts/setup-ner.sh
cargo build -p tweetlake-cli
tl="$CARGO_TARGET_DIR/debug/tweetlake"
# The demo's broker keeps its log in memory, so every run starts at offset 0; bronze remembers the
# offsets it stored, and would take a previous run's tables as having read these already. Each run
# therefore starts from an empty ./lake.
rm -rf lake/bronze lake/silver
svc=$(mktemp -d)
trap 'scripts/services.sh stop "$svc"' EXIT
broker=$(scripts/services.sh broker "$svc")
scripts/services.sh topic "$svc" tweets 3
for f in tests/fixtures/v1_mixed_tweets.jsonl tests/fixtures/v1_stream_capture.jsonl \
         tests/fixtures/v2_stream_messages.jsonl tests/fixtures/v2_control_messages.jsonl; do
  "$tl" produce --bootstrap-servers "$broker" --file "$f" --topic tweets --include-blank
done
"$tl" ingest --bootstrap-servers "$broker" --until-caught-up --max-latency 1s
"$tl" promote silver
"$tl" status --bootstrap-servers "$broker"
