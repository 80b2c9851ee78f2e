#!/usr/bin/env bash
# redis-benchmark (Debian's redis-tools) against redis-server 7.0 and kvstack-server (memory and
# LMDB engines) on this machine, in one run, 50 clients, with and without pipelining (-P 16);
# prints requests per second and the ratio of each kvstack engine to Redis.
#
#   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release
#   cmake --build build/bench --target kvstack-server
#   bash benchmarks/redis_benchmark.sh build/bench/examples/kvstack-server [requests]
#
# LMDB runs with sync=false (no fsync per commit), as redis-server runs here without AOF fsync.
set -euo pipefail
server=$1
requests=${2:-100000}
tests=set,get,incr,lpush,lpop,sadd,hset,zadd
source "$(dirname "$0")/../tests/server/lib.sh"

# bench NAME PORT: one CSV line per test and pipelining depth into $work/results
bench() {
  for p in 1 16; do
    redis-benchmark -p "$2" -t "$tests" -n "$requests" -c 50 -P "$p" -q --csv 2>/dev/null |
      awk -F'","' -v n="$1" -v p="$p" 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); print n, p, $1, $2 }' \
        >>"$work/results"
  done
}

start_redis redis-server
bench redis "$PORT"
start_kvstack memory "$server" --backend memory
bench memory "$PORT"
KV_PARAMS=sync=false start_kvstack lmdb "$server" --backend lmdb --path "$work/lmdb"
bench lmdb "$PORT"

echo "redis-benchmark -n $requests -c 50, requests per second (ratio to redis-server $(redis-server --version | awk '{print $3}'))"
printf '%-8s %3s %12s %12s %7s %12s %7s\n' test P redis memory ratio lmdb ratio
awk '
  { rps[$1 " " $2 " " $3] = $4; if (!seen[$2 " " $3]++) order[n++] = $2 " " $3 }
  END {
    for (i = 0; i < n; i++) {
      split(order[i], k, " ")
      r = rps["redis " order[i]]; m = rps["memory " order[i]]; l = rps["lmdb " order[i]]
      printf "%-8s %3s %12.0f %12.0f %7.2f %12.0f %7.2f\n", k[2], k[1], r, m, m / r, l, l / r
    }
  }' "$work/results"
