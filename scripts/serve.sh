#!/usr/bin/env bash
# Installs what is missing, builds the release binary, creates the database if needed and
# serves the API on SQLite at 127.0.0.1:8000. Extra arguments go to `truthbook serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target truthbook
db="${TRUTHBOOK_DB:-data/truthbook.db}"
build/release/truthbook init-db --db "$db"
exec build/release/truthbook serve --db "$db" --host 127.0.0.1 --port 8000 "$@"
