#!/usr/bin/env bash
# Durable publishes over HTTP on one PostgreSQL database: one truthbook server against three
# servers sharing the database (issue 6), same wrk load, same run. With three servers the
# load is three wrk processes at once, one per server, each with its own slice of the
# prediction ids and a third of the connections; their rates are summed.
#
#   [DURATION=20] [TRUTHBOOK_BIN=build/release/truthbook] bench/run_pg_publish_bench.sh
#
# PostgreSQL is $TRUTHBOOK_PG (a libpq conninfo of a server where the script may create
# databases), else a throwaway cluster (scripts/pg_temp.sh, fsync on) stopped on exit.
# Knobs: IDS (predictions seeded per run; must exceed requests served), CONNECTIONS (total,
# default 16), SEED_BATCH (predictions per sim run, default 2000).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
TRUTHBOOK_BIN=${TRUTHBOOK_BIN:-$ROOT/build/release/truthbook}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-16}
IDS=${IDS:-$((12000 * DURATION))}
SEED_BATCH=${SEED_BATCH:-2000}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pg-publish-bench.XXXXXX")
PIDS=() CLUSTER=""
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n $CLUSTER ]] && "$ROOT/scripts/pg_temp.sh" stop "$CLUSTER"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PG=${TRUTHBOOK_PG:-}
if [[ -z $PG ]]; then
  PG=$("$ROOT/scripts/pg_temp.sh" start)
  CLUSTER=$PG
fi

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run N: N servers on a fresh database, seeded through the first, loaded all at once.
# Prints the summed "BENCH" line.
run() {
  local n=$1 db="bench_publish_$1_$$" conninfo ports=() urls=()
  psql "$PG" -X -q -c "CREATE DATABASE $db"
  conninfo="$PG dbname=$db"
  "$TRUTHBOOK_BIN" init-db --db "$conninfo" >/dev/null
  for i in $(seq "$n"); do
    ports[i]=$(free_port)
    urls[i]=http://127.0.0.1:${ports[i]}
    "$TRUTHBOOK_BIN" serve --db "$conninfo" --host 127.0.0.1 --port "${ports[i]}" \
      >"$WORK/server-$n-$i.log" 2>&1 &
    PIDS+=($!)
  done
  for i in $(seq "$n"); do
    for _ in $(seq 150); do
      curl -sf -o /dev/null --max-time 2 "${urls[i]}/api/calibration/health" && break
      sleep 0.2
    done
  done
  echo "== $n server(s) on $db: seeding $IDS predictions" >&2
  timeout 900 "$PY" "$ROOT/bench/seed_predictions.py" --base-url "${urls[1]}" --count "$IDS" \
    --batch "$SEED_BATCH" --out "$WORK/ids-$n"
  split -n "l/$n" -d "$WORK/ids-$n" "$WORK/ids-$n-part-"
  local threads=$(( $(nproc) / n > 0 ? $(nproc) / n : 1 )) conns=$((CONNECTIONS / n)) i=0
  echo "== $n server(s): $n x wrk -t$threads -c$conns -d${DURATION}s" >&2
  for part in "$WORK/ids-$n-part-"*; do
    i=$((i + 1))
    timeout $((DURATION + 60)) wrk -t"$threads" -c"$conns" -d"${DURATION}s" --latency \
      -s "$ROOT/bench/publish.lua" "${urls[i]}" -- "$part" "$threads" >"$WORK/wrk-$n-$i" &
  done
  wait $(jobs -p | tail -n "$n")
  cat "$WORK"/wrk-"$n"-* >&2
  grep -h '^BENCH ' "$WORK"/wrk-"$n"-* | awk -v n="$n" '
    { for (f = 2; f <= NF; f++) { split($f, kv, "="); sum[kv[1]] += kv[2];
        if (kv[1] == "p99_ms" && kv[2] > p99) p99 = kv[2] } }
    END { printf "servers=%d rps=%.1f worst_p99_ms=%.3f non2xx=%d socket_errors=%d replays=%d\n",
                 n, sum["rps"], p99, sum["non2xx"], sum["socket_errors"], sum["replays"] }'
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${PIDS[@]}" 2>/dev/null || true
  PIDS=()
  # The ledger must be gap-free whatever the number of servers.
  psql "$conninfo" -X -A -t -c "SELECT 'ledger entries=' || count(*) || ' max_index=' ||
    max(log_index) || ' publishes=' || (SELECT count(*) FROM published_predictions)
    FROM ledger_entries"
  psql "$PG" -X -q -c "DROP DATABASE $db"
}

echo "$(nproc) cores; PostgreSQL: $(psql "$PG" -X -A -t -c 'SHOW server_version') fsync=$(
  psql "$PG" -X -A -t -c 'SHOW fsync')"
one=$(run 1)
echo "$one"
three=$(run 3)
echo "$three"
awk -v a="$(sed -n 1p <<<"$one" | sed 's/.*rps=\([^ ]*\).*/\1/')" \
    -v b="$(sed -n 1p <<<"$three" | sed 's/.*rps=\([^ ]*\).*/\1/')" \
    'BEGIN { printf "three servers / one server: %.2fx publishes/s\n", b / a }'
