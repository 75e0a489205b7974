#!/usr/bin/env bash
# Trains the sentiment head shipped in heads/tweetlake-sentiment, deterministically, on SemEval
# 2013–2016 Task 4A (README, "Sentiment"). The tweets may not be redistributed, so they are not in
# the repository: pass the folder that holds semeval2013-2016.train.tsv and .dev.tsv. The head reads
# the sentence vectors of the shipped NER model (built first by setup-ner.sh), so it must be
# retrained whenever that model's recipe (scripts/ner-recipe.sh) changes; setup-ner.sh refuses to
# install a head trained on another recipe.
#   scripts/train-sentiment.sh DATA_DIR [OUT]    OUT defaults to heads/tweetlake-sentiment
set -euo pipefail
DATA=${1:?usage: train-sentiment.sh DATA_DIR [OUT]}
DATA=$(cd "$DATA" && pwd)
cd "$(dirname "$0")/.."
OUT=${2:-heads/tweetlake-sentiment}
source scripts/env.sh
scripts/setup-ner.sh >&2
# The settings chosen on the dev split (docs/benchmarks.md, "Sentiment"); bfloat16 when the CPU
# has it natively, as silver runs.
"$CARGO_TARGET_DIR/debug/tweetlake" --log-level info sentiment train \
  --model models/tweetlake-ner --out "$OUT" --cache "$TWEETLAKE_HOME/sentiment-vectors" \
  --data "$DATA/semeval2013-2016.train.tsv" --dev "$DATA/semeval2013-2016.dev.tsv" \
  --epochs 30 --batch-size 256 --learning-rate 1e-3 --weight-decay 1e-4 --hidden 0 --seed 17
scripts/setup-ner.sh >&2  # installs the new head beside the model
