#!/usr/bin/env bash
# The same requests to redis-server (Debian's 7.0) and to kvstack-server: the replies must be
# identical, byte for byte, except on lines tests/server/differential.script marks "!differs".
#   bash tests/server/differential_test.sh path/to/kvstack-server [redis-server]
set -euo pipefail
server=$1
redis_server=${2:-redis-server}
script=$(dirname "$0")/differential.script
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# kvstack-server on a free port: it prints "ready <port>" (a blocking read, no sleeping).
mkfifo "$work/kv.fifo"
"$server" --port 0 --backend memory >"$work/kv.fifo" &
pids+=($!)
read -r -t 60 word kv_port <"$work/kv.fifo"
[[ $word == ready ]] || { echo "FAIL: kvstack-server did not start"; exit 1; }

# redis-server on a free port: try ports until one binds; its log says when it is ready.
redis_port=
for attempt in $(seq 1 20); do
  port=$((20000 + (RANDOM * 7 + attempt) % 40000))
  rm -f "$work/redis.fifo"
  mkfifo "$work/redis.fifo"
  "$redis_server" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$work" >"$work/redis.fifo" 2>&1 &
  pid=$!
  while read -r -t 60 line; do
    if [[ $line == *"Ready to accept connections"* ]]; then
      redis_port=$port
      pids+=("$pid")
      break
    fi
  done <"$work/redis.fifo"
  [[ -n $redis_port ]] && break
  wait "$pid" 2>/dev/null || true
done
[[ -n $redis_port ]] || { echo "FAIL: redis-server did not start"; exit 1; }
echo "redis-server $("$redis_server" --version | awk '{print $3}') on $redis_port, kvstack-server on $kv_port"

# Sends the requests of one script line on one connection; prints the reply bytes, escaped.
ask() {
  local port=$1 line=$2 requests=""
  local IFS=$'\n'
  for r in $(printf '%s\n' "$line" | sed 's/ ;; /\n/g'); do requests+="$r"$'\r\n'; done
  exec 5<>"/dev/tcp/127.0.0.1/$port"
  printf '%sQUIT\r\n' "$requests" >&5
  timeout 10 cat <&5 | od -An -c | tr -s ' \n' ' '
  exec 5>&-
}

compared=0 skipped=0 failures=0
while IFS= read -r line; do
  [[ -z $line || $line == \#* ]] && continue
  differs=
  if [[ $line == '!differs '* ]]; then
    differs=${line%%: *}
    line=${line#*: }
  fi
  want=$(ask "$redis_port" "$line")
  got=$(ask "$kv_port" "$line")
  if [[ $want != *"+ O K \\r \\n " ]]; then  # every exchange ends with QUIT's +OK
    echo "FAIL: no whole reply from redis-server for: $line ($want)"
    failures=$((failures + 1))
  elif [[ -n $differs ]]; then
    skipped=$((skipped + 1))
  elif [[ "$got" == "$want" ]]; then
    compared=$((compared + 1))
  else
    echo "DIFF: $line"
    echo "  redis:   $want"
    echo "  kvstack: $got"
    failures=$((failures + 1))
  fi
done <"$script"

echo "$compared identical, $skipped documented differences, $failures differing"
((failures == 0)) && echo "PASS: kvstack-server answers as redis-server"
((failures == 0))
