#!/usr/bin/env bash
# Gold benchmark: N synthetic real-shaped tweets produced to a local tansu broker, ingested and
# promoted to silver (NER off: this measures gold), then
#   1. `promote gold --full-refresh`: every model over all of silver (DataFusion, Delta output);
#   2. DuckDB running the same models (`catalog models --engine duckdb`) over the same silver
#      Parquet files, each written to a Parquet file, in the same run; the ratio is printed;
#   3. 1 % more tweets (new ones and late ones), then an incremental `promote gold`.
# Figures and how to read them: docs/benchmarks.md.
#   scripts/bench-gold.sh [TWEETS=1000000] [PARTITIONS=6]
# PROFILE=debug runs a debug build (to check the script itself; its figures mean nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
tweets=${1:-1000000}
partitions=${2:-6}
source scripts/env.sh
scripts/install-deps.sh >&2
profile=${PROFILE:-release}
# Without NER (and libtorch): silver is built with NER off, and gold is what is measured.
cargo build --profile "${profile/debug/dev}" --no-default-features -p tweetlake-cli >&2
tl=$CARGO_TARGET_DIR/$profile/tweetlake
python=$TWEETLAKE_HOME/venv/bin/python
work=$(mktemp -d "${TMPDIR:-/tmp}/tweetlake-bench-gold.XXXXXX")
trap '"$repo/scripts/services.sh" stop "$work"; rm -rf "$work"' EXIT
broker=$(scripts/services.sh broker "$work")
scripts/services.sh topic "$work" tweets "$partitions"
export TWEETLAKE_SILVER__NER__ENABLED=false TWEETLAKE_GOLD__MODELS_DIR=$repo/sql TWEETLAKE_LOG__LEVEL=warn
cd "$work"
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
step() { # NAME COMMAND…: runs it, prints wall seconds and peak RSS
  local name=$1; shift
  local start=$EPOCHREALTIME
  /usr/bin/time -f "%M" -o "$work/rss" "$@" >"$work/$name.out"
  echo "$name: $(secs "$start" "$EPOCHREALTIME") s, peak RSS $(( $(cat "$work/rss") / 1024 )) MB" >&2
}
echo "$(nproc) cores; $tweets tweets into $partitions partitions" >&2
step produce "$tl" produce --bootstrap-servers "$broker" --topic tweets --synthetic "$tweets" --seed 1 \
  --per-second 50 --geo-share 0.3
step ingest "$tl" ingest --bootstrap-servers "$broker" --until-caught-up
step silver "$tl" promote silver
cat "$work/silver.out" >&2
step gold_full "$tl" promote gold --full-refresh
cat "$work/gold_full.out"
"$tl" catalog models --engine duckdb >"$work/models.duckdb.sql"
"$python" "$repo/scripts/bench_gold_duckdb.py" "$work/lake" "$work/models.duckdb.sql" "$work/gold_full.out"
# 1 % more: new tweets after the first batch's end and, with the late noise, some inside it.
start=$(python3 -c "import datetime as d; print((d.datetime(2026,1,1,tzinfo=d.timezone.utc) + d.timedelta(seconds=$tweets/50 - 600)).strftime('%Y-%m-%dT%H:%M:%SZ'))")
step produce_more "$tl" produce --bootstrap-servers "$broker" --topic tweets --synthetic $(( tweets / 100 )) \
  --seed 2 --per-second 50 --geo-share 0.3 --start "$start" --noise late=0.05
step ingest_more "$tl" ingest --bootstrap-servers "$broker" --until-caught-up
step silver_more "$tl" promote silver
step gold_incremental "$tl" promote gold
cat "$work/gold_incremental.out"
