#!/usr/bin/env bash
# Runs examples/migrate across every ordered pair of engines (memory, lmdb, rocksdb), starting
# from the store the quickstart leaves, and checks that each copy holds every key.
#   migrate_test.sh QUICKSTART MIGRATE WORKDIR
set -euo pipefail
quickstart=$1 migrate=$2 work=$3
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
# The last copy (lmdb) is a working quickstart store: its third run finds the two runs' nodes.
"$quickstart" "$work/$((${#steps[@]} - 1))-lmdb" | grep -q "^run 3 on .*: 4 nodes registered by earlier runs"
# Bad requests are refused with a message, and exit 1.
if "$migrate" lmdb "$work/0-lmdb" sled "$work/x" 2> "$work/err"; then echo "FAIL: sled accepted"; exit 1; fi
grep -q "unknown backend 'sled'" "$work/err"
if "$migrate" lmdb "$work/nowhere/0-lmdb" lmdb "$work/x" 2> "$work/err"; then echo "FAIL: a missing directory accepted"; exit 1; fi
grep -q "nowhere does not exist" "$work/err"
[[ ! -e $work/nowhere ]] || { echo "FAIL: a refused open created $work/nowhere"; exit 1; }
echo "PASS: all nine pairs"
