#!/usr/bin/env bash
# Calibration against scikit-learn on the same data in the same run (issue 4): isotonic
# fit+predict, Platt and temperature on 1M samples, ECE plus reliability bins on 10M, and the
# peak RSS of 10M-sample `truthbook calib` jobs. Target: >= 10x faster with the same answers,
# peak RSS <= 1 GB.
#
#   cmake --preset release && cmake --build build/release --target truthbook_benchmarks truthbook
#   [REPS=5] [BUILD=build/release] bench/run_calibration_bench.sh
#
# bench/calibration_sklearn.py draws the samples once into raw float64 files and times
# scikit-learn on them (median of REPS runs each); truthbook_benchmarks reads the same files
# (TRUTHBOOK_CALIB_BENCH_DIR) with --benchmark_repetitions=REPS and writes its answers beside
# them; the script compares the answers and prints a markdown table with the ratios. Then it
# writes the 10M samples as CSV and measures peak RSS with /usr/bin/time -v (apt: time).
set -euo pipefail

[[ -x /usr/bin/time ]] || { echo "needs GNU time for peak RSS: apt-get install time" >&2; exit 1; }
BENCH=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
REPS=${REPS:-5}
BUILD=${BUILD:-build/release}
WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/calibration-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

peak_rss_mib() {  # peak_rss_mib LOG: "Maximum resident set size (kbytes)" of /usr/bin/time -v, in MiB
  awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"
}

echo "== $(date -u +%FT%TZ) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== drawing the samples (1M and 10M) into $WORK"
"$PY" "$BENCH/calibration_sklearn.py" generate "$WORK"

echo "== scikit-learn $("$PY" -c 'import sklearn; print(sklearn.__version__)'), median of $REPS"
"$PY" "$BENCH/calibration_sklearn.py" time "$WORK" "$REPS"

echo "== truthbook_benchmarks, median of $REPS"
TRUTHBOOK_CALIB_BENCH_DIR=$WORK "$BUILD/truthbook_benchmarks" \
  --benchmark_filter='^BM_(IsotonicFitPredict|PlattFit|TemperatureFit|EceAndReliabilityBins)/' \
  --benchmark_repetitions="$REPS" --benchmark_display_aggregates_only=true \
  --benchmark_out="$WORK/tb_benchmarks.json" --benchmark_out_format=json >/dev/null
"$PY" - "$WORK" <<'PYEOF'
import collections, json, statistics, sys
folder = sys.argv[1]
runs = json.load(open(f"{folder}/tb_benchmarks.json"))["benchmarks"]
scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
times = collections.defaultdict(list)  # ms per iteration of each repetition
for r in runs:
    if r["run_type"] == "iteration":
        if r.get("error_occurred"):
            sys.exit(f"{r['name']}: {r.get('error_message')}")
        times[r["run_name"]].append(r["real_time"] * scale[r["time_unit"]])
json.dump({name: statistics.median(t) for name, t in times.items()},
          open(f"{folder}/tb_timings.json", "w"))
PYEOF

echo "== results (load now: $(cut -d' ' -f1-3 /proc/loadavg))"
"$PY" "$BENCH/calibration_sklearn.py" compare "$WORK"

echo "== peak RSS of 10M-sample jobs"
"$PY" "$BENCH/calibration_sklearn.py" csv "$WORK"
echo "CSV: $(du -m "$WORK/10m.csv" | cut -f1) MiB, $(wc -l <"$WORK/10m.csv") rows"
/usr/bin/time -v "$BUILD/truthbook" calib fit --method isotonic --out "$WORK/model.json" \
  <"$WORK/10m.csv" >/dev/null 2>"$WORK/fit.time"
/usr/bin/time -v "$BUILD/truthbook" calib metrics --bins 10 \
  <"$WORK/10m.csv" >/dev/null 2>"$WORK/metrics.time"
/usr/bin/time -v "$PY" "$BENCH/calibration_sklearn.py" rss "$WORK" 2>"$WORK/sklearn.time"
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$1"; }
echo "| job | peak RSS | wall |"
echo "|---|---|---|"
echo "| truthbook calib fit --method isotonic (10M-row CSV on stdin) | $(peak_rss_mib "$WORK/fit.time") MiB | $(wall "$WORK/fit.time") |"
echo "| truthbook calib metrics --bins 10 (same CSV) | $(peak_rss_mib "$WORK/metrics.time") MiB | $(wall "$WORK/metrics.time") |"
echo "| scikit-learn: isotonic fit+predict + calibration_curve on 10M (from float64 files, no CSV) | $(peak_rss_mib "$WORK/sklearn.time") MiB | $(wall "$WORK/sklearn.time") |"
