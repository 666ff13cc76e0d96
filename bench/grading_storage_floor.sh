#!/usr/bin/env bash
# How fast can SQLite itself store what grade-all-pending writes? (issue 3)
#
#   bench/grading_storage_floor.sh SEEDED_DB GRADED_DB
#
# SEEDED_DB is a database with every publish pending and GRADED_DB the same database after
# the server graded them (run_grading_bench.sh with SEEDED_DB=... and KEEP_DB=...). The script
# copies the server's own grading rows and ledger entries out of GRADED_DB, then appends exactly
# those rows to a fresh copy of SEEDED_DB with the sqlite3 shell: one INSERT ... SELECT per
# table and one commit (synchronous=FULL, WAL) per page of 2000 gradings, as the server
# commits them, then a checkpoint. No settling, no HTTP, no per-row statements: what is left
# is SQLite's own cost of storing the rows.
#
# Variants:
#   schema      the real schema: triggers, foreign keys, unique keys and indexes;
#   16k-pages   the real schema on 16 KiB pages instead of 4 KiB;
#   bare        no triggers, no foreign keys, and a grading table without keys or indexes,
#               which guarantees nothing and is the most SQLite can do with these bytes.
set -euo pipefail

SEEDED=${1:?usage: grading_storage_floor.sh SEEDED_DB GRADED_DB}
GRADED=${2:?usage: grading_storage_floor.sh SEEDED_DB GRADED_DB}
WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/grading-floor.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

BARE="
DROP TRIGGER ledger_entries_gap_free; DROP TRIGGER ledger_entries_no_replace;
DROP TRIGGER grading_no_replace; DROP TRIGGER grading_supersedes_current;
DROP TRIGGER grading_no_update; DROP TRIGGER grading_no_delete;
ALTER TABLE grading RENAME TO grading_before;
CREATE TABLE grading AS SELECT * FROM grading_before WHERE 0;"
SIXTEEN_K="PRAGMA journal_mode=DELETE; PRAGMA page_size=16384; VACUUM; PRAGMA journal_mode=WAL;"

# One transaction per page of 2000 gradings, as the server commits them.
# One transaction per page of 2000 gradings, as the server commits them. The temporary tables
# hold the rows in log order, so rowid N is the Nth grading and its ledger entry.
pages() {
  local rows
  rows=$(sqlite3 "$GRADED" "SELECT COUNT(*) FROM grading")
  for ((from = 1; from <= rows; from += 2000)); do
    local range="rowid BETWEEN $from AND $((from + 1999))"
    echo "BEGIN;"
    echo "INSERT INTO ledger_entries SELECT * FROM new_entries WHERE $range ORDER BY rowid;"
    echo "INSERT INTO grading SELECT * FROM new_gradings WHERE $range ORDER BY rowid;"
    echo "COMMIT;"
  done
}

run() {
  local name=$1 prepare=$2 foreign_keys=$3
  cp "$SEEDED" "$WORK/db"
  rm -f "$WORK/db-wal" "$WORK/db-shm"
  sqlite3 "$WORK/db" "$prepare" >/dev/null
  # The rows to append, in the server's log order, read into memory before the clock starts.
  sqlite3 "$WORK/db" >"$WORK/out" <<SQL
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
PRAGMA foreign_keys=$foreign_keys;
PRAGMA cache_size=-65536;
PRAGMA temp_store=MEMORY;
ATTACH '$GRADED' AS graded;
CREATE TEMP TABLE new_entries AS
  SELECT * FROM graded.ledger_entries WHERE kind = 'grading' ORDER BY log_index;
CREATE TEMP TABLE new_gradings AS SELECT * FROM graded.grading ORDER BY log_index;
DETACH graded;
SELECT 'rows', COUNT(*) FROM new_gradings;
SELECT 'start', (julianday('now') - 2440587.5) * 86400.0;
$(pages)
PRAGMA wal_checkpoint(TRUNCATE);
SELECT 'end', (julianday('now') - 2440587.5) * 86400.0;
SQL
  awk -F'|' -v name="$name" '
    $1 == "rows" { rows = $2 } $1 == "start" { start = $2 } $1 == "end" { end = $2 }
    END { printf "RESULT variant=%s rows=%d seconds=%.3f rows_per_s=%.0f\n",
          name, rows, end - start, rows / (end - start) }' "$WORK/out"
}

run schema "SELECT 1" ON
run 16k-pages "$SIXTEEN_K" ON
run bare "$BARE" OFF
