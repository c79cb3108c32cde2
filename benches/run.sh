#!/usr/bin/env bash
# Side-by-side load runs on one machine, in one run: chat-server on PostgreSQL, chat-server
# on sled, and the Node baseline (../shared/baselines/node-socketio-pg) in naive and tuned
# mode. Every workload runs against every target, interleaved (A B C D A B C D ...), then
# benches/summarize.py prints the table of ratios to the baseline. Results land in
# target/loadgen/results.jsonl.
#
#   benches/run.sh                    # ROUNDS=2 by default
#   ROUNDS=1 QUICK=1 benches/run.sh   # a shorter smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '\n==> %s\n' "$*" >&2; }
# shellcheck source=../.ci/postgres.sh
source .ci/postgres.sh

ROUNDS=${ROUNDS:-2}
BASELINE_SRC=${BASELINE_DIR:-$ROOT/../shared/baselines/node-socketio-pg}
OUT=$ROOT/target/loadgen
WORK=$(mktemp -d)
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
ADMIN_EMAIL=admin@example.com
ADMIN_PASSWORD=admin-password
if [ -n "${QUICK:-}" ]; then
  STEADY="--conversations 100 --rate 300 --duration 8"
  SATURATION="--conversations 50 --start-rate 500 --factor 2 --step 4"
  IDLE="--connections 1000 --hold 5"
  STORM="--visitors 300"
else
  STEADY="--conversations 490 --rate 500 --duration 20"
  SATURATION="--conversations 100 --start-rate 1000 --factor 1.5 --step 5"
  IDLE="--connections 5000 --hold 10"
  STORM="--visitors 1000"
fi

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

ensure_postgres
log "building chat-server and loadgen (release)"
cargo build --release --quiet -p chat-http --bin chat-server -p benches --bin loadgen

log "installing the baseline in $WORK/baseline"
cp -r "$BASELINE_SRC" "$WORK/baseline"
(cd "$WORK/baseline" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)

for db in chat_bench baseline_naive baseline_tuned; do
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
PG=postgres://postgres@127.0.0.1:5432

# start NAME PORT CMD...: starts a target in the background and waits for /healthz.
declare -A PORT_OF PID_OF CMD_OF
start() {
  local name=$1 port=$2
  shift 2
  CMD_OF[$name]="$*"
  "$@" >>"$OUT/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  PID_OF[$name]=$pid
  PORT_OF[$name]=$port
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
    sleep 0.2
  done
  echo "$name did not start; its log:" >&2
  cat "$OUT/$name.log" >&2
  return 1
}

# Each target execs into its server, so the pid `start` records is the server's.
ours() {
  exec env CHAT_ADMIN_EMAIL=$ADMIN_EMAIL CHAT_ADMIN_PASSWORD=$ADMIN_PASSWORD CHAT_RATE_MESSAGES=0 \
    CHAT_RATE_SESSIONS=0 CHAT_RATE_CONVERSATIONS=0 CHAT_RATE_UPLOADS=0 RUST_LOG=warn "$@"
}
log "starting the four targets"
start ours-pg 8301 ours env DATABASE_URL=$PG/chat_bench ./target/release/chat-server --bind 127.0.0.1:8301 --data-dir "$WORK/ours-pg"
start ours-sled 8302 ours env -u DATABASE_URL ./target/release/chat-server --bind 127.0.0.1:8302 --data-dir "$WORK/ours-sled"
baseline() {
  cd "$WORK/baseline"
  exec env PORT=$1 DATABASE_URL=$PG/$2 BASELINE_ADMIN_EMAIL=$ADMIN_EMAIL \
    BASELINE_ADMIN_PASSWORD=$ADMIN_PASSWORD ${3:+BASELINE_BATCH=1} node server.js --reset
}
start node-naive 3901 baseline 3901 baseline_naive
start node-tuned 3902 baseline 3902 baseline_tuned 1

# load NAME WIRE WORKLOAD ARGS...: one loadgen run, its RESULT line appended to the results.
load() {
  local name=$1 wire=$2 workload=$3
  shift 3
  log "$workload on $name ($wire)"
  ./target/release/loadgen --url "http://127.0.0.1:${PORT_OF[$name]}" --wire "$wire" \
    --server-pid "${PID_OF[$name]}" --admin-email $ADMIN_EMAIL --admin-password $ADMIN_PASSWORD \
    --label "$name" "$workload" "$@" | sed -n 's/^RESULT //p' >>"$RESULTS" \
    || echo "{\"workload\":\"$workload\",\"label\":\"$name\",\"wire\":\"$wire\",\"error\":true}" >>"$RESULTS"
}

TARGETS=(ours-pg ours-sled node-naive node-tuned)
started=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
  log "round $round of $ROUNDS"
  # shellcheck disable=SC2086
  for name in "${TARGETS[@]}"; do load "$name" socketio steady $STEADY; done
  # shellcheck disable=SC2086
  for name in "${TARGETS[@]}"; do load "$name" socketio saturation $SATURATION; done
  # shellcheck disable=SC2086
  for name in "${TARGETS[@]}"; do load "$name" socketio idle $IDLE; done
  # shellcheck disable=SC2086
  for name in ours-pg ours-sled; do load "$name" ws idle $IDLE; done
  # shellcheck disable=SC2086
  for name in "${TARGETS[@]}"; do load "$name" socketio storm $STORM; done
done

# The fault run: kill -9 our server in the middle of steady chat, restart it on the same
# data, and let the clients resume (loadgen's `resume` checks the store and every delivery).
for name in ours-pg ours-sled; do
  log "fault run on $name: kill -9 mid-run, restart"
  ./target/release/loadgen --url "http://127.0.0.1:${PORT_OF[$name]}" --admin-email $ADMIN_EMAIL \
    --admin-password $ADMIN_PASSWORD --label "$name" resume --conversations 50 --rate 200 --duration 20 \
    | sed -n 's/^RESULT //p' >>"$RESULTS" &
  loadgen=$!
  sleep 10
  kill -9 "${PID_OF[$name]}"
  wait "${PID_OF[$name]}" 2>/dev/null || true
  sleep 1
  # shellcheck disable=SC2086
  start "$name" "${PORT_OF[$name]}" ${CMD_OF[$name]}
  wait "$loadgen" || echo "{\"workload\":\"resume\",\"label\":\"$name\",\"wire\":\"socketio\",\"error\":true}" >>"$RESULTS"
done
elapsed=$(($(date +%s) - started))

python3 benches/summarize.py "$RESULTS" \
  --machine "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB" \
  --versions "$(rustc --version | cut -d' ' -f1-2), node $(node --version), $(psql --version | cut -d' ' -f3-), chat-server $(git rev-parse --short HEAD)" \
  --seconds "$elapsed"
