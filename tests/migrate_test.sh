#!/usr/bin/env bash
# Runs examples/migrate across every ordered pair of engines (memory, lmdb, rocksdb), starting
# from the store the quickstart leaves, and checks that each copy holds every key. Given the
# directory of the test servers (tests/backend/test_servers.sh), it then goes on through sqlite,
# postgres and redis and back to lmdb.
#   migrate_test.sh QUICKSTART MIGRATE WORKDIR [SERVERS]
set -euo pipefail
quickstart=$1 migrate=$2 work=$3 servers=${4:-}
rm -rf "$work" && mkdir -p "$work"
"$quickstart" "$work/0-lmdb" > /dev/null
"$quickstart" "$work/0-lmdb" > /dev/null   # two runs' worth of data

# An Euler circuit through all nine (from, to) pairs: every pair once.
steps=(lmdb lmdb rocksdb rocksdb memory memory lmdb memory rocksdb lmdb)
expected=
for i in $(seq 1 $((${#steps[@]} - 1))); do
  from=${steps[$((i - 1))]} to=${steps[$i]}
  out=$("$migrate" "$from" "$work/$((i - 1))-$from" "$to" "$work/$i-$to")
  echo "$out"
  keys=$(sed -n 's/^copied \([0-9]*\) keys.*/\1/p' <<< "$out")
  [[ -n $keys && $keys -gt 0 ]] || { echo "FAIL: $from -> $to copied nothing"; exit 1; }
  [[ -z $expected || $keys == "$expected" ]] || { echo "FAIL: $from -> $to copied $keys keys, not $expected"; exit 1; }
  expected=$keys
done
last=$work/$((${#steps[@]} - 1))-lmdb
if [[ -n $servers ]]; then
  chain=(lmdb "$last" sqlite "$work/sqlite" postgres "host=$servers/postgres port=5432 dbname=postgres user=kvstack"
         redis "unix://$servers/redis/redis.sock" lmdb "$work/back-lmdb")
  for ((i = 0; i + 2 < ${#chain[@]}; i += 2)); do
    out=$("$migrate" "${chain[$i]}" "${chain[$((i + 1))]}" "${chain[$((i + 2))]}" "${chain[$((i + 3))]}")
    echo "$out"
    keys=$(sed -n 's/^copied \([0-9]*\) keys.*/\1/p' <<< "$out")
    [[ $keys == "$expected" ]] || { echo "FAIL: ${chain[$i]} -> ${chain[$((i + 2))]} copied $keys keys, not $expected"; exit 1; }
  done
  last=$work/back-lmdb
fi
# The last copy (lmdb) is a working quickstart store: its third run finds the two runs' nodes.
"$quickstart" "$last" | grep -q "^run 3 on .*: 4 nodes registered by earlier runs"
# Bad requests are refused with a message, and exit 1.
if "$migrate" lmdb "$work/0-lmdb" sled "$work/x" 2> "$work/err"; then echo "FAIL: sled accepted"; exit 1; fi
grep -q "unknown backend 'sled'" "$work/err"
if "$migrate" lmdb "$work/nowhere/0-lmdb" lmdb "$work/x" 2> "$work/err"; then echo "FAIL: a missing directory accepted"; exit 1; fi
grep -q "nowhere does not exist" "$work/err"
[[ ! -e $work/nowhere ]] || { echo "FAIL: a refused open created $work/nowhere"; exit 1; }
echo "PASS: all nine pairs${servers:+, and through sqlite, postgres and redis}"
