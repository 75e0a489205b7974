#!/usr/bin/env bash
# Builds the NER model silver uses, once: assembles libtorch and the base encoder
# (setup-libtorch.sh), builds tweetlake, fine-tunes all-MiniLM-L6-v2 on the bundled CC-BY tweet NER
# data with a fixed seed (`tweetlake ner train`, ~5 min on 2 cores), caches the result under
# $TWEETLAKE_HOME keyed by data, settings and training code, links models/tweetlake-ner to it, and
# installs the shipped sentiment head (heads/tweetlake-sentiment, trained on that encoder recipe;
# README, "Sentiment") beside it, so silver's one pass gives entities and sentiment.
#   scripts/setup-ner.sh        the shipped model, all 6 layers (F1 as silver stores entities: 0.594
#                               WNUT-17 dev / 0.582 BTC H)
#   scripts/setup-ner.sh fast   models/tweetlake-ner-fast: the first 3 layers, 2 epochs (~4 min);
#                               about twice the speed, F1 0.553 / 0.565 (README, "Named entities")
set -euo pipefail
VARIANT=${1:-default}
cd "$(dirname "$0")/.."
source scripts/env.sh
log() { echo "[setup-ner] $*" >&2; }
scripts/setup-libtorch.sh >/dev/null

source scripts/ner-recipe.sh
DATA=("${NER_DATA[@]}")
HYPER=("${NER_HYPER[@]}")
NAME=tweetlake-ner
case "$VARIANT" in
  default) ;;
  # The recipe with two epochs (NER_HYPER starts with --epochs 1) on the first three layers.
  fast) HYPER=(--epochs 2 "${NER_HYPER[@]:2}" --layers 3 --id tweetlake-ner-minilm-l3)
    NAME=tweetlake-ner-fast ;;
  *) echo "usage: setup-ner.sh [fast]" >&2; exit 2 ;;
esac
KEY=$( (cat "${DATA[@]}" crates/tweetlake-nlp/src/ner/{train,encode,network,words,conll,labels,as_silver}.rs; echo "${HYPER[*]} ${NER_DEV[*]}") \
  | sha256sum | cut -c1-16)
OUT=$TWEETLAKE_HOME/models/$NAME-$KEY
if [ ! -f "$OUT/tweetlake-ner.json" ]; then
  cargo build -q -p tweetlake-cli
  log "training $OUT (about 5 minutes on 2 cores)"
  rm -rf "$OUT.tmp"
  "$CARGO_TARGET_DIR/debug/tweetlake" --log-level warn ner train \
    --base "$TWEETLAKE_HOME/models/all-minilm-l6-v2" \
    $(printf -- '--data %s ' "${DATA[@]}") $(printf -- '--dev %s ' "${NER_DEV[@]}") \
    --out "$OUT.tmp" "${HYPER[@]}" >&2
  mv "$OUT.tmp" "$OUT"
fi
mkdir -p models
ln -sfn "$OUT" "models/$NAME"
log "models/$NAME -> $OUT"
HEAD=heads/tweetlake-sentiment
if [ "$VARIANT" = default ] && [ -f "$HEAD/tweetlake-sentiment.json" ]; then
  cargo build -q -p tweetlake-cli
  if ! "$CARGO_TARGET_DIR/debug/tweetlake" --log-level warn sentiment install "$HEAD" --model "$OUT" >&2; then
    # A head for another encoder recipe would stop silver; without one it labels with VADER.
    rm -f "$OUT/tweetlake-sentiment.json" "$OUT/sentiment.safetensors"
    log "warning: $HEAD does not fit this model; silver falls back to VADER (retrain: scripts/train-sentiment.sh)"
  fi
fi
