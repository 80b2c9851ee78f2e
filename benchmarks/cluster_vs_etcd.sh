#!/usr/bin/env bash
# Three kvstack-server members (Raft; LMDB or RocksDB, fsync on) against three etcd 3.4 members (Debian's
# etcd-server, fsync on), on this machine's loopback, in one run:
#   1. writes of 256-byte values at 1, 16 and 64 concurrent clients, each through its own client
#      path (kvstack: SET over RESP; etcd: PUT over its v3 JSON gateway), to the leader; the
#      rounds alternate between the two;
#   2. the cost of replication: redis-benchmark -P 16 SET on three members vs one, same engine;
#   3. the time from kill -9 of the leader to the first write through the new one (20 kills).
#
#   cmake --build build/gcc --target kvstack-server cluster_load
#   bash benchmarks/cluster_vs_etcd.sh build/gcc/examples/kvstack-server build/gcc/benchmarks/cluster_load [seconds [lmdb|rocksdb]]
set -euo pipefail
server=$(realpath "$1")
load=$(realpath "$2")
seconds=${3:-10}
engine=${4:-lmdb}
work=$(mktemp -d)
cleanup() {
  pkill -f -- "--path $work/" 2>/dev/null || true
  pkill -f -- "--data-dir $work/" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# kvstack: three members.
declare -a kv_client kv_raft
peers="" clients=""
for i in 1 2 3; do
  kv_client[$i]=$(port) kv_raft[$i]=$(port)
  peers+="${peers:+,}$i=127.0.0.1:${kv_raft[$i]}" clients+="${clients:+,}$i=127.0.0.1:${kv_client[$i]}"
done
for i in 1 2 3; do
  "$server" --port "${kv_client[$i]}" --backend "$engine" --path "$work/kv$i" --node-id "$i" \
    --raft-bind "127.0.0.1:${kv_raft[$i]}" --raft-peers "$peers" --raft-clients "$clients" >/dev/null 2>"$work/kv$i.log" &
done
kv_leader() {
  for i in 1 2 3; do
    if redis-cli -p "${kv_client[$i]}" info replication 2>/dev/null | grep -q raft_role:leader; then echo "${kv_client[$i]}"; return; fi
  done
}
until [[ -n $(kv_leader) ]]; do sleep 0.1; done

# etcd: three members.
declare -a etcd_client etcd_peer
initial=""
for i in 1 2 3; do
  etcd_client[$i]=$(port) etcd_peer[$i]=$(port)
  initial+="${initial:+,}e$i=http://127.0.0.1:${etcd_peer[$i]}"
done
for i in 1 2 3; do
  etcd --name "e$i" --data-dir "$work/etcd$i" --listen-client-urls "http://127.0.0.1:${etcd_client[$i]}" \
    --advertise-client-urls "http://127.0.0.1:${etcd_client[$i]}" --listen-peer-urls "http://127.0.0.1:${etcd_peer[$i]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${etcd_peer[$i]}" --initial-cluster "$initial" \
    --initial-cluster-state new --log-level error >"$work/etcd$i.log" 2>&1 &
done
endpoints=$(for i in 1 2 3; do printf '127.0.0.1:%s,' "${etcd_client[$i]}"; done)
etcd_leader() {
  ETCDCTL_API=3 etcdctl --endpoints "${endpoints%,}" endpoint status 2>/dev/null | awk -F', ' '$5 == "true" { sub(/.*:/, "", $1); print $1 }'
}
until [[ -n $(etcd_leader) ]]; do sleep 0.2; done
echo "kvstack $(kv_leader) leads; etcd $(etcd_leader) leads; $seconds s per round; $(nproc) cores"

echo "== writes of 256-byte values, fsync on"
printf '%-8s %-8s %10s %8s %8s %10s %8s %8s %7s\n' clients "" "kv ops/s" "kv p50" "kv p99" "etcd ops/s" "etcd p50" "etcd p99" ratio
for c in 1 16 64; do
  kv=$("$load" resp "127.0.0.1:$(kv_leader)" "$c" "$seconds" 256)
  et=$("$load" etcd "127.0.0.1:$(etcd_leader)" "$c" "$seconds" 256)
  read -r _ _ _ _ _ kvr _ kv50 _ kv99 _ kverr <<<"$kv"
  read -r _ _ _ _ _ etr _ et50 _ et99 _ eterr <<<"$et"
  printf '%-8s %-8s %10s %6sus %6sus %10s %6sus %6sus %6.2fx\n' "$c" "" "$kvr" "$kv50" "$kv99" "$etr" "$et50" "$et99" \
    "$(echo "$kvr / $etr" | bc -l)"
  [[ $kverr == 0 && $eterr == 0 ]] || echo "   errors: kvstack $kverr, etcd $eterr"
done
pkill -f -- "--data-dir $work/" || true

echo "== the cost of replication: redis-benchmark -P 16 -c 50 SET of 256 bytes, $engine with fsync"
single=$(port)
"$server" --port "$single" --backend "$engine" --path "$work/single" >/dev/null 2>&1 &
until redis-cli -p "$single" ping >/dev/null 2>&1; do sleep 0.1; done
rps() { redis-benchmark -p "$1" -t set -d 256 -n 200000 -c 50 -P 16 -q --csv 2>/dev/null | awk -F'","' 'NR > 1 { gsub(/"/, "", $2); print $2 }'; }
one=$(rps "$single") three=$(rps "$(kv_leader)") one2=$(rps "$single") three2=$(rps "$(kv_leader)")
echo "one member: $one, $one2 requests/s; three members: $three, $three2 requests/s; ratio $(echo "($three + $three2) / ($one + $one2)" | bc -l | cut -c1-4)x"

echo "== failover: kill -9 of the leader to the first write through the new one"
"$load" failover "127.0.0.1:${kv_client[1]},127.0.0.1:${kv_client[2]},127.0.0.1:${kv_client[3]}" 20 | tail -1
