#!/usr/bin/env bash
# Scaling runs for the capacity model (benches/scaling.md): 1, 2 and 3 chat-server nodes on
# one PostgreSQL, fanning out through LISTEN/NOTIFY and through NATS (a private
# nats-server with its monitoring port). For each: a steady team-shaped window at a fixed
# rate and a saturation search, with the nodes' CPU summed, PostgreSQL's and the broker's
# CPU, and the cross-node messages counted (NOTIFYs heard by a LISTEN connection of
# loadgen's own, or the broker's messages in and out); then idle connections on one node.
# Configurations run interleaved per round. Results: target/loadgen/scaling.jsonl, then
# benches/scaling.py prints the tables and the model.
#
#   benches/scaling.sh                # ROUNDS=2
#   ROUNDS=1 QUICK=1 benches/scaling.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '\n==> %s\n' "$*" >&2; }
# shellcheck source=../.ci/postgres.sh
source .ci/postgres.sh

ROUNDS=${ROUNDS:-2}
OUT=$ROOT/target/loadgen
WORK=$(mktemp -d)
mkdir -p "$OUT"
RESULTS=$OUT/scaling.jsonl
: >"$RESULTS"
ADMIN_EMAIL=admin@example.com
ADMIN_PASSWORD=admin-password
PG=postgres://postgres@127.0.0.1:5432
NATS_PORT=4322
NATS_MONITOR=8322
if [ -n "${QUICK:-}" ]; then
  STEADY="--shape team --agents 10 --conversations 300 --rate 150 --duration 6"
  SATURATION="--shape team --agents 10 --conversations 300 --start-rate 50 --factor 1.5 --step 3"
  IDLE="--connections 1000 --hold 5"
else
  STEADY="--shape team --agents 20 --conversations 1000 --rate 200 --duration 10"
  SATURATION="--shape team --agents 20 --conversations 1000 --start-rate 50 --factor 1.5 --step 3"
  IDLE="--connections 3000 --hold 5"
fi

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

ensure_postgres
if ! command -v nats-server >/dev/null 2>&1; then
  log "installing nats-server"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
fi
log "building chat-server and loadgen (release)"
cargo build --release --quiet -p chat-server -p benches --bin chat-server --bin loadgen

log "starting nats-server on $NATS_PORT (monitoring on $NATS_MONITOR)"
nats-server -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MONITOR" >"$OUT/nats-server.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$NATS_MONITOR/varz" >/dev/null && break; sleep 0.1; done

# deployment BROADCASTER NODES: starts that many nodes on a fresh database; sets URLS, NODE_PIDS, DB.
deployment() {
  local broadcaster=$1 nodes=$2 n port
  DB=scaling_${broadcaster}_${nodes}
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  URLS=()
  NODE_PIDS=()
  for n in $(seq 1 "$nodes"); do
    port=$((8400 + n))
    env CHAT_ADMIN_EMAIL=$ADMIN_EMAIL CHAT_ADMIN_PASSWORD=$ADMIN_PASSWORD CHAT_RATE_MESSAGES=0 \
      CHAT_RATE_SESSIONS=0 CHAT_RATE_CONVERSATIONS=0 CHAT_RATE_UPLOADS=0 RUST_LOG=warn \
      DATABASE_URL=$PG/$DB ${NATS_URL_FOR[$broadcaster]:+CHAT_NATS_URL=${NATS_URL_FOR[$broadcaster]}} \
      ./target/release/chat-server --bind 127.0.0.1:$port --data-dir "$WORK/$DB-$n" \
      >>"$OUT/scaling-$DB-$n.log" 2>&1 &
    PIDS+=("$!")
    NODE_PIDS+=("$!")
    URLS+=("http://127.0.0.1:$port")
    for _ in $(seq 1 100); do
      curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
      sleep 0.2
    done
  done
}

stop_deployment() {
  for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
}

declare -A NATS_URL_FOR=([notify]="" [nats]="nats://127.0.0.1:$NATS_PORT")
declare -A COUNT_FOR=([notify]="--count-notify" [nats]="--nats-monitor")

# load BROADCASTER NODES WORKLOAD ARGS...: one loadgen run against the running deployment.
load() {
  local broadcaster=$1 nodes=$2 workload=$3 counted
  shift 3
  if [ "$broadcaster" = nats ]; then counted="http://127.0.0.1:$NATS_MONITOR"; else counted="$PG/$DB"; fi
  log "$workload: $nodes node(s), $broadcaster"
  ./target/release/loadgen --url "$(IFS=,; echo "${URLS[*]}")" --server-pid "$(IFS=,; echo "${NODE_PIDS[*]}")" \
    --admin-email $ADMIN_EMAIL --admin-password $ADMIN_PASSWORD "${COUNT_FOR[$broadcaster]}" "$counted" \
    --label "$broadcaster-$nodes" "$workload" "$@" | sed -n 's/^RESULT //p' >>"$RESULTS" \
    || echo "{\"workload\":\"$workload\",\"label\":\"$broadcaster-$nodes\",\"error\":true}" >>"$RESULTS"
}

started=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
  for nodes in 1 2 3; do
    for broadcaster in notify nats; do
      log "round $round of $ROUNDS: $nodes node(s) over $broadcaster"
      deployment "$broadcaster" "$nodes"
      # shellcheck disable=SC2086
      load "$broadcaster" "$nodes" steady $STEADY
      # shellcheck disable=SC2086
      load "$broadcaster" "$nodes" saturation $SATURATION
      stop_deployment
    done
  done
done
deployment notify 1
# shellcheck disable=SC2086
load notify 1 idle $IDLE
stop_deployment
elapsed=$(($(date +%s) - started))

python3 benches/scaling.py "$RESULTS" \
  --machine "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB" \
  --versions "$(psql --version | cut -d' ' -f3-), nats-server $(nats-server --version | cut -d' ' -f2), chat-server $(git rev-parse --short HEAD)" \
  --seconds "$elapsed"
