# Sourced by setup-ner.sh and compare-encoders.sh: the data and settings every shipped or
# compared NER model is trained with (README, "Named entities").
NER_DATA_DIR=tests/fixtures/ner
NER_DATA=("$NER_DATA_DIR/wnut17-train.conll" "$NER_DATA_DIR/btc-b.conll" "$NER_DATA_DIR/btc-g.conll"
  "$NER_DATA_DIR/btc-h-train.conll")
# Held back: scored after training into the manifest's dev_scores (as silver stores entities).
NER_DEV=("$NER_DATA_DIR/wnut17-dev.conll" "$NER_DATA_DIR/btc-h-dev.conll")
NER_HYPER=(--epochs 1 --batch-size 32 --learning-rate 1.5e-4 --warmup 0.1 --max-len 128 --seed 17 --threads 2
  --case-embeddings)
