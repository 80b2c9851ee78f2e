#!/usr/bin/env bash
# The command fuzzer (command_fuzz.cpp) against kvstack-server on each engine given and a fresh
# redis-server 7.0 each time: prints its summary per engine and "PASS: no crash, no difference".
#   bash tests/server/command_fuzz.sh KVSTACK_SERVER FUZZER REDIS_SERVER COMMANDS SEED ENGINE...
set -euo pipefail
server=$1 fuzzer=$2 redis_server=$3 commands=$4 seed=$5
shift 5
source "$(dirname "$0")/lib.sh"
status=0
for engine in "$@"; do
  args=(--backend "$engine")
  [[ $engine == memory ]] || args+=(--path "$work/$engine")
  start_kvstack "kvstack-$engine" "$server" "${args[@]}"
  kv_port=$PORT
  start_redis "$redis_server"
  echo "== $engine, seed $seed"
  "$fuzzer" "$kv_port" "$PORT" "$commands" "$seed" || status=$?
done
((status == 0)) && echo "PASS: no crash, no difference"
exit "$status"
