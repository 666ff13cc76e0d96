#!/usr/bin/env bash
# grade-all-pending end to end (issue 3): N pending publishes on SQLite, graded by one
# POST grade-all-pending against the real server. Target: >= 100k publishes/s.
#
#   [EVENTS=1000] [PER_EVENT=1000] [TRUTHBOOK_BIN=build/release/truthbook] bench/run_grading_bench.sh
#
# Seeds EVENTS events with PER_EVENT predictions each over HTTP (bench/seed_grading.py),
# publishes every prediction with wrk (bench/publish.lua), posts a final score per event, then
# times grade-all-pending. Memory is reported two ways: the server's VmHWM, reset (clear_refs)
# just before the grading call, which counts the database pages SQLite reads through mmap (up
# to 2 GiB, clean and shared with the page cache); and the peak of RssAnon (heap and stacks),
# sampled every 50 ms during the call. BENCH_TMPDIR: where the database lives (default /tmp;
# not tmpfs, or fsync costs nothing). SEEDED_DB=FILE: save the seeded database there, or reuse
# it when it exists, to time the grading again without seeding again. KEEP_DB=FILE: keep the
# graded database. PERF_OUT=FILE: record the server with perf during the call (PERF_FREQ,
# default 500 Hz; PERF_ARGS, default DWARF call graphs).
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
EVENTS=${EVENTS:-1000}
PER_EVENT=${PER_EVENT:-1000}
TOTAL=$((EVENTS * PER_EVENT))
BIN=${TRUTHBOOK_BIN:-build/release/truthbook}
THREADS=$(nproc)

WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/grading-bench.XXXXXX")
SERVER_PID=""
trap '[[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null; wait; [[ -n ${KEEP_DB:-} ]] && cp "$WORK/tb.db" "$KEEP_DB"; rm -rf "$WORK"' EXIT

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
"$BIN" init-db --db "$WORK/tb.db" >/dev/null
start_server() {
  timeout 3600 "$BIN" serve --db "$WORK/tb.db" --host 127.0.0.1 --port "$PORT" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 600); do curl -sf -o /dev/null "$URL/api/calibration/health" && break; sleep 0.1; done
  TB_PID=$(pgrep -P "$SERVER_PID")  # the server itself, under timeout
}
start_server

count() {
  curl -sf "$URL/api/calibration/health" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['collections']['$1'])"
}

if [[ -n ${SEEDED_DB:-} && -f $SEEDED_DB ]]; then
  echo "== reusing the seeded database $SEEDED_DB"
  kill "$SERVER_PID"; wait "$SERVER_PID" || true
  cp "$SEEDED_DB" "$WORK/tb.db"; rm -f "$WORK/tb.db-wal" "$WORK/tb.db-shm"
  start_server
else
  echo "== $(df -T "$WORK" | awk 'NR==2 {print $2}') at $WORK; seeding $EVENTS events x $PER_EVENT predictions"
  "$PY" "$BENCH/seed_grading.py" --base-url "$URL" --events "$EVENTS" --per-event "$PER_EVENT" \
    --out "$WORK/ids.txt"
  echo "== publishing $TOTAL predictions with wrk"
  for _ in 1 2 3; do
    wrk -t"$THREADS" -c16 -d"$((TOTAL / 10000 + 5))s" -s "$BENCH/publish.lua" "$URL" -- \
      "$WORK/ids.txt" "$THREADS" | grep '^BENCH' || true
    [[ $(count published_predictions) -ge $TOTAL ]] && break
  done
  [[ $(count published_predictions) -ge $TOTAL ]] || { echo "too few published" >&2; exit 1; }
  echo "== posting $EVENTS final results"
  "$PY" "$BENCH/seed_grading.py" --base-url "$URL" --events "$EVENTS" --results
  if [[ -n ${SEEDED_DB:-} ]]; then
    sqlite3 "$WORK/tb.db" ".backup '$SEEDED_DB'"
    echo "== saved the seeded database to $SEEDED_DB"
  fi
fi
sync
published=$(count published_predictions)
echo 5 >"/proc/$TB_PID/clear_refs"  # reset VmHWM to the current RSS
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$TB_PID/status")
[[ -n ${PERF_OUT:-} ]] && { perf record ${PERF_ARGS:---call-graph dwarf,16384} -F ${PERF_FREQ:-500} -p "$TB_PID" -o "$PERF_OUT" >/dev/null 2>&1 & PERF_PID=$!; sleep 0.5; }
anon_peak_file=$WORK/anon_peak
( peak=0; while kill -0 "$TB_PID" 2>/dev/null; do
    anon=$(awk '/RssAnon/ {print $2}' "/proc/$TB_PID/status" 2>/dev/null || echo 0)
    (( anon > peak )) && { peak=$anon; echo "$peak" >"$anon_peak_file"; }
    sleep 0.05
  done ) &
SAMPLER_PID=$!
echo "== POST grade-all-pending ($published pending)"
wall=$(curl -sf -X POST -o "$WORK/report.json" -w '%{time_total}' "$URL/api/calibration/grade-all-pending")
peak=$(awk '/VmHWM/ {print $2}' "/proc/$TB_PID/status")
kill "$SAMPLER_PID"; wait "$SAMPLER_PID" 2>/dev/null || true
anon_peak=$(cat "$anon_peak_file")
[[ -n ${PERF_OUT:-} ]] && { kill -INT "$PERF_PID"; wait "$PERF_PID" || true; }
graded=$(count grading)
"$PY" - "$WORK/report.json" "$wall" "$graded" "$rss_before" "$peak" "$anon_peak" <<'PYEOF'
import json, sys
report = json.load(open(sys.argv[1]))
wall, graded, rss_before, peak, anon_peak = float(sys.argv[2]), *map(int, sys.argv[3:7])
print("by_outcome:", json.dumps(report["by_outcome"]), "skipped:", report["skipped"])
print(f"RESULT graded={report['graded']} rows={graded} wall_s={wall:.2f} "
      f"publishes_per_s={report['graded'] / wall:.0f} server_elapsed_ms={report['elapsed_ms']:.0f} "
      f"rss_before_mib={rss_before / 1024:.1f} peak_rss_mib={peak / 1024:.1f} "
      f"peak_anon_mib={anon_peak / 1024:.1f}")
PYEOF
