#!/usr/bin/env bash
# The main job on the embedded default: a local broker, the bundled real tweets replayed into it,
# ingested into ./lake (bronze), promoted to silver (with named entities and sentiment) and to gold
# (the SQL models in sql/), and the gold tables printed.
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
rm -rf lake/bronze lake/silver lake/gold
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
"$tl" promote gold
"$tl" status --bootstrap-servers "$broker"
show() { echo; echo "== $1"; "$tl" sql "$2"; }
show "gold.tweets_per_city_5m (busiest windows)" \
  "SELECT window_start, place, country, tweets, retweets, unique_users FROM gold.tweets_per_city_5m ORDER BY tweets DESC, window_start LIMIT 10"
show "gold.sentiment_per_minute (latest minutes)" \
  "SELECT minute, stream, tweets, positive, negative, neutral, mean_score FROM gold.sentiment_per_minute ORDER BY minute DESC, stream LIMIT 10"
show "gold.top_hashtags_hourly (top 3 per hour, latest hours)" \
  "SELECT hour, rank, hashtag, tweets, authors FROM gold.top_hashtags_hourly WHERE rank <= 3 ORDER BY hour DESC, rank LIMIT 12"
show "gold.top_entities_daily (top 10 per day, latest day first)" \
  "SELECT day, rank, entity, label, mentions, authors FROM gold.top_entities_daily WHERE rank <= 10 ORDER BY day DESC, rank LIMIT 20"
show "gold.lake_freshness" "SELECT layer, newest_event_time, lag_seconds FROM gold.lake_freshness ORDER BY layer"
echo
echo "Query the lake yourself: $tl sql   (a shell; tables bronze.*, silver.*, gold.*)"
echo "Dashboard and psql: $tl serve   then open http://127.0.0.1:8080/ or run psql -h 127.0.0.1 -p 5433 -U tweetlake"
