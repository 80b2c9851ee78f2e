#!/usr/bin/env bash
# `redis-cli --pipe` of N SETs (default a million) into redis-server with appendfsync always and
# into kvstack-server on LMDB synced at every commit (the default sync), in alternating rounds:
# the seconds each took, and kvstack's time over Redis's.
#
#   bash benchmarks/pipe_fsync.sh build/bench/examples/kvstack-server [sets] [rounds]
set -euo pipefail
server=$1
sets=${2:-1000000}
rounds=${3:-3}
source "$(dirname "$0")/../tests/server/lib.sh"

awk -v n="$sets" 'BEGIN {
  for (i = 0; i < n; i++) {
    k = "key:" i; v = "value:" i
    printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
  }
}' >"$work/sets.resp"

# pipe PORT: the seconds redis-cli --pipe takes to send the SETs and read every reply.
pipe() {
  local start=$EPOCHREALTIME
  redis-cli -p "$1" --pipe <"$work/sets.resp" >/dev/null
  awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
}

echo "redis-cli --pipe of $sets SETs, seconds"
for round in $(seq 1 "$rounds"); do
  start_redis redis-server --appendonly yes --appendfsync always
  redis=$(pipe "$PORT")
  kill "$PID"
  start_kvstack "lmdb$round" "$server" --backend lmdb --path "$work/lmdb$round" >/dev/null
  kvstack=$(pipe "$PORT")
  [[ $(redis-cli -p "$PORT" dbsize) == "$sets" ]] || { echo "FAIL: kvstack-server holds $(redis-cli -p "$PORT" dbsize) keys"; exit 1; }
  kill "$PID"
  awk -v r="$redis" -v k="$kvstack" -v n="$round" \
    'BEGIN { printf "round %d: redis-server (appendfsync always) %s, kvstack (LMDB, sync) %s, ratio %.2f\n", n, r, k, k / r }'
done
