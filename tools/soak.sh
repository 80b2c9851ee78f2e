#!/usr/bin/env bash
# Runs many seeds of a replication policy's randomized simulation, outside CI.
#   tools/soak.sh POLICY SEEDS [FIRST_SEED]     e.g. tools/soak.sh raft 10000 1000000
# POLICY: primary (AsyncPrimaryBackup), raft (Raft) or mst (Mst). Seeds FIRST_SEED (default 1), FIRST_SEED+1, ...
# Builds what it needs in build/soak; prints each failing seed with its replay command and ends
# with the line "N passed, M failed".
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: tools/soak.sh POLICY SEEDS [FIRST_SEED]" >&2; exit 2; }
cd "$(dirname "$0")/.."
cmake -S . -B build/soak -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_TESTS=ON >/dev/null
cmake --build build/soak --target kvstack_soak >/dev/null
exec build/soak/tests/kvstack_soak "$@"
