#!/usr/bin/env bash
# redis-benchmark (Debian's redis-tools) against redis-server 7.0 and kvstack-server on this
# machine, all started once and measured in alternating rounds (the machine is shared and noisy:
# compare ratios within one run), 50 clients, without and with pipelining (-P 16). Prints the
# median requests per second of each over the rounds, each kvstack engine's ratio to its Redis
# counterpart, and per engine and depth the geometric mean and the lowest ratio.
#
#   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release
#   cmake --build build/bench --target kvstack-server
#   bash benchmarks/redis_benchmark.sh build/bench/examples/kvstack-server [requests] [rounds]
#
# Pairs: kvstack on memory against redis-server without persistence; kvstack on LMDB with
# sync=false (no fsync at commit) and the server's sync every second (--fsync-every-ms 1000, the
# default) against redis-server with appendonly yes, appendfsync everysec: either loses at most
# about the last second at a power failure, and nothing at a crash of the process alone.
set -euo pipefail
server=$1
requests=${2:-100000}
rounds=${3:-3}
tests=set,get,incr,lpush,lpop,rpop,sadd,hset,zadd,mset,lrange_100
source "$(dirname "$0")/../tests/server/lib.sh"

declare -A port
start_redis redis-server
port[redis]=$PORT
start_redis redis-server --appendonly yes --appendfsync everysec
port[redis-everysec]=$PORT
start_kvstack memory "$server" --backend memory
port[memory]=$PORT
KV_PARAMS=sync=false start_kvstack lmdb "$server" --backend lmdb --path "$work/lmdb"
port[lmdb]=$PORT

for round in $(seq 1 "$rounds"); do
  for name in redis memory redis-everysec lmdb; do
    for p in 1 16; do
      redis-benchmark -p "${port[$name]}" -t "$tests" -n "$requests" -c 50 -P "$p" -q --csv 2>/dev/null |
        awk -F'","' -v n="$name" -v p="$p" 'NR > 1 { gsub(/"/, "", $1); sub(/ .*/, "", $1); gsub(/"/, "", $2); print n, p, $1, $2 }' \
          >>"$work/results"
    done
  done
done

echo "redis-benchmark -n $requests -c 50, median of $rounds alternating rounds, requests per second"
echo "(memory: ratio to redis-server $(redis-server --version | awk '{print $3}'); lmdb sync=false: ratio to appendfsync everysec)"
printf '%-11s %3s %11s %11s %6s %11s %11s %6s\n' test P redis memory ratio everysec lmdb ratio
sort -k1,1 -k2,2n -k3,3 -k4,4n "$work/results" | awk '
  function median(key,   n) { n = count[key]; return n % 2 ? v[key, (n + 1) / 2] : (v[key, n / 2] + v[key, n / 2 + 1]) / 2 }
  { key = $1 " " $2 " " $3; v[key, ++count[key]] = $4; if (!seen[$2 " " $3]++) order[n++] = $2 " " $3 }
  END {
    for (i = 0; i < n; i++) {
      split(order[i], k, " ")
      r = median("redis " order[i]); m = median("memory " order[i])
      e = median("redis-everysec " order[i]); l = median("lmdb " order[i])
      printf "%-11s %3s %11.0f %11.0f %6.2f %11.0f %11.0f %6.2f\n", k[2], k[1], r, m, m / r, e, l, l / e
      for (j = 1; j <= 2; j++) {
        ratio = j == 1 ? m / r : l / e; g = (j == 1 ? "memory" : "lmdb") " P" k[1]
        logsum[g] += log(ratio); cnt[g]++
        if (!(g in low) || ratio < low[g]) { low[g] = ratio; lowest[g] = k[2] }
      }
    }
    for (g in cnt) printf "%-10s geomean %.2f, lowest %.2f (%s)\n", g, exp(logsum[g] / cnt[g]), low[g], lowest[g]
  }'
