#!/usr/bin/env bash
# Installs what is missing, builds everything with ASan+UBSan and runs every test, the store
# contract suite on SQLite and on PostgreSQL. PostgreSQL is $TRUTHBOOK_PG (a libpq conninfo) when
# set, else a throwaway cluster (scripts/pg_temp.sh) stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset debug >/dev/null
cmake --build --preset debug
if [ -z "${TRUTHBOOK_PG:-}" ]; then
  # fsync=off: the cluster lives for this run only, and each test creates a schema.
  TRUTHBOOK_PG=$(PG_TEMP_OPTS="${PG_TEMP_OPTS:--c fsync=off}" scripts/pg_temp.sh start)
  pg_dir=${TRUTHBOOK_PG#host=}
  pg_dir=${pg_dir%% *}
  trap 'scripts/pg_temp.sh stop "$pg_dir"' EXIT
fi
export TRUTHBOOK_PG
ctest --preset debug
