#!/usr/bin/env bash
# Starts and stops the real services tweetlake's demo and tests run against, each on a free port:
#   services.sh broker DIR     tansu (Kafka protocol) with in-memory storage; prints host:port
#   services.sh s3 DIR         SeaweedFS with an S3 endpoint and bucket "lake"; prints the endpoint
#   services.sh topic DIR NAME PARTITIONS
#   services.sh restart-broker DIR   a new, empty tansu on the same port: a rebuilt cluster
#   services.sh stop DIR       stops whatever was started with DIR
# DIR holds each service's pid, port and log. Binaries come from scripts/install-deps.sh.
set -euo pipefail
TWEETLAKE_HOME=${TWEETLAKE_HOME:-$HOME/.cache/tweetlake}
BIN=$TWEETLAKE_HOME/bin
cmd=${1:?usage: services.sh broker|s3|topic|stop DIR}
dir=${2:?missing DIR}
mkdir -p "$dir"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_open() { python3 -c 'import socket,sys; s=socket.socket(); s.settimeout(0.3); sys.exit(s.connect_ex(("127.0.0.1",int(sys.argv[1]))))' "$1"; }
wait_port() { # PID PORT SECONDS: the process must stay alive and the port must answer
  local pid=$1 port=$2 tries=$(( $3 * 10 ))
  for _ in $(seq "$tries"); do
    kill -0 "$pid" 2>/dev/null || return 1
    port_open "$port" && return 0
    sleep 0.1
  done
  return 1
}

case "$cmd" in
  broker)
    for _ in 1 2 3 4 5; do
      port=$(free_port)
      # tansu exits 0 when its port is taken, so check first and probe after.
      port_open "$port" && continue
      "$BIN/tansu" broker --listener-url "tcp://127.0.0.1:$port" \
          --advertised-listener-url "tcp://127.0.0.1:$port" \
          --storage-engine memory://tansu/ >"$dir/broker.log" 2>&1 &
      pid=$!
      if wait_port "$pid" "$port" 10; then
        echo "$pid" >"$dir/broker.pid"; echo "127.0.0.1:$port" >"$dir/broker.addr"
        echo "127.0.0.1:$port"; exit 0
      fi
      kill "$pid" 2>/dev/null || true
    done
    echo "services.sh: could not start tansu (see $dir/broker.log)" >&2; exit 1 ;;
  restart-broker)
    addr=$(cat "$dir/broker.addr"); port=${addr##*:}
    pid=$(cat "$dir/broker.pid"); kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 50); do port_open "$port" || break; sleep 0.1; done
    "$BIN/tansu" broker --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine memory://tansu/ >>"$dir/broker.log" 2>&1 &
    pid=$!
    wait_port "$pid" "$port" 10 || { echo "services.sh: tansu did not restart on $port" >&2; exit 1; }
    echo "$pid" >"$dir/broker.pid"; echo "$addr" ;;
  s3)
    port_open 8333 && { echo "services.sh: port 8333 is taken; stop the other SeaweedFS first" >&2; exit 1; }
    mkdir -p "$dir/s3data"
    AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-tweetlake} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-tweetlake-secret} \
      "$BIN/weed" mini -dir="$dir/s3data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -bucket=lake \
      -admin.ui=false -webdav=false >"$dir/s3.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/s3.pid"
    wait_port "$pid" 8333 60 || { echo "services.sh: SeaweedFS did not start (see $dir/s3.log)" >&2; exit 1; }
    # The S3 gateway answers before the bucket exists; wait until it lists.
    for _ in $(seq 100); do
      grep -q "lake" <(curl -s http://127.0.0.1:8333/ 2>/dev/null) && break
      sleep 0.2
    done
    echo "http://127.0.0.1:8333" >"$dir/s3.addr"; echo "http://127.0.0.1:8333" ;;
  topic)
    name=${3:?missing topic name}; parts=${4:-1}
    "$BIN/tansu" topic create --broker "tcp://$(cat "$dir/broker.addr")" --partitions "$parts" "$name" >/dev/null ;;
  stop)
    for f in "$dir"/*.pid; do
      [ -f "$f" ] || continue
      pid=$(cat "$f"); kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$f"
    done ;;
  *) echo "services.sh: unknown command $cmd" >&2; exit 2 ;;
esac
