#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and local runs.
#   scripts/pg_temp.sh start      creates a cluster in a fresh temporary directory, listening only
#                                 on a Unix socket in that directory, and prints its libpq
#                                 conninfo: host=DIR user=postgres dbname=postgres
#   scripts/pg_temp.sh stop DIR   stops that cluster and removes DIR (DIR is the host= value)
#   scripts/pg_temp.sh pause DIR  stops that cluster at once (as a crash would), keeping DIR
#   scripts/pg_temp.sh resume DIR starts a paused cluster again, as it was
#   scripts/pg_temp.sh replica DIR creates a streaming read replica (a hot standby) of that
#                                 cluster in a fresh temporary directory, and prints its conninfo
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

# A fresh directory for a cluster, which its owner can enter.
new_dir() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/truthbook-pg.XXXXXX")
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
  echo "$dir"
}

# Starts the cluster in $1 with the options it was created with.
start_cluster() {
  if ! as_owner "$bin/pg_ctl" -D "$1/data" -w -l "$1/log" -o "$(cat "$1/options")" start \
      >/dev/null; then
    cat "$1/log" >&2
    return 1
  fi
}

# Fills the fresh directory $1 by running "${@:2}" as the owner (output to $1/make.log),
# then starts it socket-only and prints its conninfo; on any failure removes $1 and exits 1.
make_cluster() {
  local dir=$1
  shift
  if ! as_owner "$@" >"$dir/make.log" 2>&1; then
    cat "$dir/make.log" >&2
    rm -rf "$dir"
    exit 1
  fi
  echo "-k $dir -c listen_addresses='' ${PG_TEMP_OPTS:-}" >"$dir/options"
  if ! start_cluster "$dir"; then
    rm -rf "$dir"
    exit 1
  fi
  echo "host=$dir user=postgres dbname=postgres"
}

# The cluster directory named by $1 (a directory or a conninfo starting host=DIR).
cluster_dir() {
  local dir=${1:?usage: pg_temp.sh stop|pause|resume DIR}
  case "$dir" in host=*) dir=${dir#host=}; dir=${dir%% *} ;; esac
  [ -f "$dir/data/PG_VERSION" ] || { echo "pg_temp.sh: no cluster in $dir" >&2; exit 1; }
  echo "$dir"
}

case "${1:-}" in
  start)
    dir=$(new_dir)
    make_cluster "$dir" "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync
    ;;
  stop)
    dir=$(cluster_dir "${2:-}")
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
    ;;
  replica)
    primary=$(cluster_dir "${2:-}")
    dir=$(new_dir)
    make_cluster "$dir" "$bin/pg_basebackup" -h "$primary" -U postgres -D "$dir/data" -R \
      -X stream -c fast --no-sync
    ;;
  pause)
    dir=$(cluster_dir "${2:-}")
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
  resume)
    dir=$(cluster_dir "${2:-}")
    start_cluster "$dir"
    ;;
  *)
    echo "usage: scripts/pg_temp.sh start | stop DIR | pause DIR | resume DIR" >&2
    exit 2
    ;;
esac
