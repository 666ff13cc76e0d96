#!/usr/bin/env bash
# Durable-publish HTTP benchmark (DESIGN.md §5): the seed's stack (bench/reference, FastAPI +
# uvicorn on SQLite) against truthbook, same machine, same filesystem, same wrk load.
#
#   [DURATION=20] [TRUTHBOOK_BIN=build/release/truthbook] bench/run_publish_bench.sh
#
# Knobs: TRUTHBOOK_THREADS (the server's --threads; default its own), REF_IDS / TB_IDS (predictions seeded; must exceed requests served, or the run is
# flagged), SEED_BATCH (predictions per sim run, default 2000), BENCH_TMPDIR (where the
# databases live; default /tmp, which must not be tmpfs for the numbers to mean "durable").
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
DURATION=${DURATION:-20}
THREADS=${WRK_THREADS:-$(nproc)}  # one wrk thread per core: more only adds client switching
CONNECTIONS=16
REF_IDS=${REF_IDS:-$((3000 * DURATION))}   # the reference serves ~1k publishes/s
TB_IDS=${TB_IDS:-$((50000 * DURATION))}    # room for 50k/s
SEED_BATCH=${SEED_BATCH:-2000}

WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/publish-bench.XXXXXX")
SERVER_PID="" CHILD=""
# Foreground work runs in the background plus `wait`, so a signal interrupts it at once.
fg() { "$@" & CHILD=$!; wait "$CHILD"; CHILD=""; }
stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap '[[ -n $CHILD ]] && kill "$CHILD" 2>/dev/null; stop_server; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run NAME IDS_COUNT START_FUNCTION: start a server, seed it, load it, stop it.
# Leaves the wrk "BENCH ..." line in $WORK/NAME.result.
run() {
  local name=$1 count=$2 start=$3 port url
  port=$(free_port)
  url=http://127.0.0.1:$port
  "$start" "$port" >"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 150); do
    curl -sf -o /dev/null --max-time 2 "$url/api/calibration/health" && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "$name exited during start-up:" >&2; tail -20 "$WORK/$name.log" >&2; return 1
    fi
    sleep 0.2
  done
  curl -sf -o /dev/null --max-time 2 "$url/api/calibration/health" ||
    { echo "$name: not healthy after 30s" >&2; return 1; }

  echo "== $name on $url: seeding $count predictions"
  fg timeout 900 "$PY" "$BENCH/seed_predictions.py" --base-url "$url" --count "$count" \
    --batch "$SEED_BATCH" --out "$WORK/$name.ids"
  echo "== $name: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"
  fg timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -s "$BENCH/publish.lua" "$url" -- "$WORK/$name.ids" "$THREADS" >"$WORK/$name.wrk"
  cat "$WORK/$name.wrk"
  grep '^BENCH ' "$WORK/$name.wrk" | sed 's/^BENCH //' >"$WORK/$name.result"
  stop_server
}

start_reference() {
  TRUTHBOOK_REF_DB="$WORK/ref.db" exec timeout $((DURATION + 1200)) "$PY" -m uvicorn app:app \
    --app-dir "$BENCH/reference" --host 127.0.0.1 --port "$1" --workers 1 --log-level warning
}

start_truthbook() {
  "$TRUTHBOOK_BIN" init-db --db "$WORK/tb.db"
  exec timeout $((DURATION + 1200)) "$TRUTHBOOK_BIN" serve --db "$WORK/tb.db" \
    --host 127.0.0.1 --port "$1" ${TRUTHBOOK_THREADS:+--threads "$TRUTHBOOK_THREADS"}
}

field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" "$WORK/$1.result"; }

echo "databases in $WORK ($(stat -f -c %T "$WORK")); $(nproc) cores"
run reference "$REF_IDS" start_reference
if [[ -n ${TRUTHBOOK_BIN:-} ]]; then
  run truthbook "$TB_IDS" start_truthbook
fi

echo
echo "== summary (${DURATION}s, $THREADS threads, $CONNECTIONS connections, durable publishes)"
status=0
for name in reference truthbook; do
  [[ -f $WORK/$name.result ]] || continue
  printf '%-10s %s\n' "$name" "$(cat "$WORK/$name.result")"
  if [[ $(field "$name" non2xx) != 0 || $(field "$name" replays) != 0 ||
        $(field "$name" socket_errors) != 0 ]]; then
    echo "  INVALID: $name had errors or replays (see above)"; status=1
  fi
done
if [[ -f $WORK/truthbook.result ]]; then
  awk -v tb="$(field truthbook rps)" -v ref="$(field reference rps)" \
      -v p99="$(field truthbook p99_ms)" 'BEGIN {
    printf "ratio truthbook/reference: %.1fx rps; truthbook p99 %.3f ms (target >= 20x, p99 <= 10 ms)\n",
           tb / ref, p99 }'
fi
exit $status
