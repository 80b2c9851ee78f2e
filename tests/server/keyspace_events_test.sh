#!/usr/bin/env bash
# Keyspace notifications: the commands of keyspace_events.script, sent to redis-server (Debian's
# 7.0) and to kvstack-server with notify-keyspace-events on, must publish the same events in the
# same order (a subscriber of every channel records them; a marker published last ends the wait).
#   bash tests/server/keyspace_events_test.sh path/to/kvstack-server [redis-server]
set -euo pipefail
server=$1
redis_server=${2:-redis-server}
script=$(dirname "$0")/keyspace_events.script
source "$(dirname "$0")/lib.sh"

# events PORT OUT: runs the script against the server on PORT; writes the messages to OUT.
events() {
  local port=$1 out=$2 deadline
  redis-cli -p "$port" config set notify-keyspace-events KEAn >/dev/null
  redis-cli -p "$port" --csv psubscribe '*' >"$out" &
  local subscriber=$!
  pids+=("$subscriber")
  deadline=$((SECONDS + 30))
  until [[ $(redis-cli -p "$port" pubsub numpat) == 1 ]]; do
    ((SECONDS < deadline)) || { echo "FAIL: no subscriber on $port"; exit 1; }
  done
  grep -v '^#' "$script" | redis-cli -p "$port" >/dev/null
  redis-cli -p "$port" publish end-of-script done >/dev/null
  until grep -q end-of-script "$out"; do
    ((SECONDS < deadline)) || { echo "FAIL: the events from $port did not all come"; exit 1; }
  done
  kill "$subscriber"
}

start_kvstack kvstack "$server" --backend memory
kv_port=$PORT
start_redis "$redis_server"
redis_port=$PORT
events "$redis_port" "$work/redis.events"
events "$kv_port" "$work/kvstack.events"
count=$(grep -c pmessage "$work/redis.events")
if diff "$work/redis.events" "$work/kvstack.events" >"$work/diff"; then
  echo "PASS: kvstack-server publishes the $count events redis-server does"
else
  echo "FAIL: the events differ (< redis-server, > kvstack-server):"
  cat "$work/diff"
  [[ -n ${KEEP_EVENTS:-} ]] && cp "$work/redis.events" "$work/kvstack.events" "$KEEP_EVENTS"
  exit 1
fi
