#!/usr/bin/env bash
# Long randomized runs, outside CI.
#   tools/soak.sh POLICY SEEDS [FIRST_SEED]     e.g. tools/soak.sh raft 10000 1000000
#   tools/soak.sh server COMMANDS [SEED]        e.g. tools/soak.sh server 1000000 7
# POLICY: primary (AsyncPrimaryBackup), raft (Raft) or mst (Mst): seeds FIRST_SEED (default 1),
# FIRST_SEED+1, ... of its simulation; prints each failing seed with its replay command and ends
# with the line "N passed, M failed".
# server: the command fuzzer (tests/server/command_fuzz.cpp), COMMANDS random commands to
# kvstack-server on memory and on LMDB and to redis-server (Debian's redis-server); ends with
# "PASS: no crash, no difference" or the differences.
# Builds what it needs in build/soak.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: tools/soak.sh POLICY|server SEEDS|COMMANDS [FIRST_SEED|SEED]" >&2; exit 2; }
cd "$(dirname "$0")/.."
cmake -S . -B build/soak -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_TESTS=ON >/dev/null
if [[ $1 == server ]]; then
  cmake --build build/soak --target kvstack-server kvstack_command_fuzz >/dev/null
  exec bash tests/server/command_fuzz.sh build/soak/examples/kvstack-server build/soak/tests/kvstack_command_fuzz \
    redis-server "$2" "${3:-1}" memory lmdb
fi
cmake --build build/soak --target kvstack_soak >/dev/null
exec build/soak/tests/kvstack_soak "$@"
