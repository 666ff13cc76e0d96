#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and local runs.
#   scripts/pg_temp.sh start      creates a cluster in a fresh temporary directory, listening only
#                                 on a Unix socket in that directory, and prints its libpq
#                                 conninfo: host=DIR user=postgres dbname=postgres
#   scripts/pg_temp.sh stop DIR   stops that cluster and removes DIR (DIR is the host= value)
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` user (the
# Debian `postgresql` package creates it). Extra server settings: PG_TEMP_OPTS="-c fsync=off".
set -euo pipefail
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}

# Runs "$@" as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    # From /, which the owner can enter (the caller's directory may be private).
    (cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/truthbook-pg.XXXXXX")
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    if ! as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync \
        >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      rm -rf "$dir"
      exit 1
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/log" \
        -o "-k $dir -c listen_addresses='' ${PG_TEMP_OPTS:-}" start >/dev/null; then
      cat "$dir/log" >&2
      rm -rf "$dir"
      exit 1
    fi
    echo "host=$dir user=postgres dbname=postgres"
    ;;
  stop)
    dir=${2:?usage: pg_temp.sh stop DIR}
    case "$dir" in host=*) dir=${dir#host=}; dir=${dir%% *} ;; esac
    [ -f "$dir/data/PG_VERSION" ] || { echo "pg_temp.sh: no cluster in $dir" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: scripts/pg_temp.sh start | stop DIR" >&2
    exit 2
    ;;
esac
