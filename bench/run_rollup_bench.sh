#!/usr/bin/env bash
# Performance reads over 10M graded publishes (issue 5): performance-summary and
# performance-by-market, served over HTTP by the real server. Target: <= 50 ms each.
#
#   [N=10000000] [DB=path/to/seeded.db] [SKIP_BASELINE=1] [TRUTHBOOK_BIN=build/release/truthbook] \
#     bench/run_rollup_bench.sh
#
# Without DB, writes N graded publishes over 3 years into a fresh database with
# bench/seed_rollups.py (about 15 minutes for 10M). Starts the server on it, times one rollups
# refresh (POST jobs/rollups/run: the rows are built from nothing), then times each read 200
# times over one keep-alive connection (bench/http_latency.py). The baseline in the same run is
# grading-summary, which computes the same metrics from the gradings themselves (3 calls).
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
N=${N:-10000000}
BIN=${TRUTHBOOK_BIN:-build/release/truthbook}
WORK=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/rollup-bench.XXXXXX")
SERVER_PID=""
trap '[[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null; wait; rm -rf "$WORK"' EXIT

if [[ -z ${DB:-} ]]; then
  DB=$WORK/tb.db
  "$BIN" init-db --db "$DB" >/dev/null
  echo "== seeding $N graded publishes into $DB"
  "$PY" "$BENCH/seed_rollups.py" "$DB" "$N" | tail -1
fi
echo "== $(date -u +%FT%TZ) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg); $(du -h "$DB" | cut -f1) database"

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/api/calibration
timeout 7200 "$BIN" serve --db "$DB" --host 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "$URL/health" && break; sleep 0.1; done

echo "== rollups refresh from nothing (POST jobs/rollups/run)"
curl -sf -X POST "$URL/jobs/rollups/run" | "$PY" -c \
  'import json,sys; r = json.load(sys.stdin); print(r["status"], r["duration_ms"], "ms", r["summary"])'

echo "== reads: 200 calls each over one keep-alive connection (ms)"
"$PY" "$BENCH/http_latency.py" "$URL" 200 \
  "performance-summary?window=all&to=2026-12-31T00:00:00Z" \
  "performance-summary?window=30d&to=2026-12-31T00:00:00Z" \
  "performance-by-market?window=all&to=2026-12-31T00:00:00Z" \
  "performance-by-market?window=90d&to=2026-12-31T00:00:00Z" \
  "performance-rollup/sport=soccer|market=spread|window=season?to=2026-12-31T00:00:00Z"
if [[ -z ${SKIP_BASELINE:-} ]]; then
  echo "== baseline: the same metrics computed from the gradings (grading-summary), 3 calls"
  "$PY" "$BENCH/http_latency.py" "$URL" 3 "grading-summary"
fi
echo "== server peak RSS: $(grep VmHWM /proc/$(pgrep -P "$SERVER_PID")/status | awk '{print $2 / 1024 " MiB"}')"
