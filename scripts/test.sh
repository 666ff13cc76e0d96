#!/usr/bin/env bash
# Installs what is missing, builds everything with ASan+UBSan and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset debug >/dev/null
cmake --build --preset debug
ctest --preset debug
