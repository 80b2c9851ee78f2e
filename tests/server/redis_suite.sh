#!/usr/bin/env bash
# Redis's own test suite (7.0.15's tests/ and runtest, external mode) against kvstack-server: nine
# units on each engine given, a fresh server per unit; prints each unit's passed and failed, then
# the totals. Not run in CI (it needs the suite, fetched by hand):
#   git --git-dir=REDIS.git archive 7.0.15 tests runtest | tar -x -C SUITE
#   mkdir -p SUITE/src && ln -s "$(command -v redis-server)" "$(command -v redis-cli)" SUITE/src/
#   bash tests/server/redis_suite.sh build/gcc/examples/kvstack-server SUITE memory lmdb
# Left out, as the units' tags say: what needs DEBUG, replication, saving, maxmemory, RESET,
# CONFIG RESETSTAT, large memory. Encodings are not checked (--ignore-encoding): kvstack has one
# per type. --durable: a test that throws fails alone instead of ending its unit.
set -euo pipefail
server=$(realpath "$1") suite=$2
shift 2
source "$(dirname "$0")/lib.sh"
units=(unit/type/incr unit/type/string unit/type/hash unit/type/set unit/type/zset unit/type/list unit/expire
  unit/keyspace unit/multi)
# Other units instead, e.g. UNITS="unit/pubsub unit/scripting".
[[ -n ${UNITS:-} ]] && read -ra units <<<"$UNITS"
tags=()
for t in needs:debug needs:repl needs:save needs:config-maxmemory needs:reset needs:config-resetstat large-memory; do
  tags+=(--tags "-$t")
done
for engine in "$@"; do
  passed=0 failed=0
  for unit in "${units[@]}"; do
    args=(--backend "$engine")
    [[ $engine == memory ]] || args+=(--path "$work/$engine-${unit//\//-}")
    start_kvstack "kvstack-$engine" "$server" "${args[@]}"
    out=$work/out
    (cd "$suite" && ./runtest --host 127.0.0.1 --port "$PORT" --single "$unit" --ignore-encoding --durable --clients 1 \
      "${tags[@]}" >"$out" 2>&1) || true
    kill "$PID" 2>/dev/null || true
    ok=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -c '^\[ok\]' || true)
    err=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -c -E '^\[(err|exception)\]' || true)
    printf '%-18s %-7s %4d passed %4d failed\n' "$unit" "$engine" "$ok" "$err"
    sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^\[(err|exception)\]' | sed 's/^/    /' || true
    passed=$((passed + ok)) failed=$((failed + err))
  done
  echo "$engine: $passed passed, $failed failed"
done
