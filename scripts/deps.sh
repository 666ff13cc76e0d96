#!/usr/bin/env bash
# Installs the Debian 12 packages truthbook needs, only those that are missing.
set -euo pipefail
packages=(
  g++ cmake ninja-build pkg-config git ca-certificates
  libsqlite3-dev sqlite3 libssl-dev nlohmann-json3-dev
  librestinio-dev libasio-dev libhttp-parser-dev libfmt-dev
  libspdlog-dev libcli11-dev libhowardhinnant-date-dev libmimalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-sklearn postgresql libpq-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
