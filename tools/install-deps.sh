#!/usr/bin/env bash
# Installs what kvstack needs on Debian 12, from Debian's archive.
#   bash tools/install-deps.sh          everything: tests (GCC 12, Clang 16, sanitizers), Meson, benchmarks
#   bash tools/install-deps.sh build    only what building the library and its examples needs
# Runs apt-get as root, or through sudo when not root.
set -euo pipefail

build=(g++ cmake ninja-build pkg-config libboost1.81-dev liblmdb-dev liblua5.1-0-dev libjemalloc-dev)
all=("${build[@]}" librocksdb-dev librange-v3-dev catch2 libbenchmark-dev meson clang-16 libclang-rt-16-dev
     libsqlite3-dev libpq-dev postgresql-15 libhiredis-dev redis-tools redis-server libssl-dev libcereal-dev nlohmann-json3-dev libprotobuf-dev protobuf-compiler libabsl-dev
     python3 gnuplot-nox)
if [[ "${1:-all}" == build ]]; then packages=("${build[@]}"); else packages=("${all[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
