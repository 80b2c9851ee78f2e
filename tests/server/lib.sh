# Sourced by the server tests and benchmarks/redis_benchmark.sh: a work directory that goes away
# on exit with every server started, and kvstack-server / redis-server started on free ports
# without sleeping (each prints a line once it accepts connections; a read blocks until then).
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start_kvstack NAME SERVER ARGS...: kvstack-server on a free port; sets PORT and PID.
start_kvstack() {
  local fifo=$work/$1.fifo server=$2 word
  shift 2
  rm -f "$fifo"
  mkfifo "$fifo"
  "$server" --port 0 "$@" >"$fifo" &
  PID=$!
  pids+=("$PID")
  read -r -t 60 word PORT <"$fifo"
  [[ $word == ready ]] || { echo "FAIL: kvstack-server did not start"; exit 1; }
}

# start_redis REDIS_SERVER [OPTIONS...]: redis-server (no persistence, unless OPTIONS say
# otherwise: they come last, and win) on a free port, trying ports until one binds; sets PORT and PID.
start_redis() {
  local fifo=$work/redis.fifo line port attempt
  for attempt in $(seq 1 20); do
    port=$((20000 + (RANDOM * 7 + attempt) % 40000))
    rm -f "$fifo"
    mkfifo "$fifo"
    "$1" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" "${@:2}" >"$fifo" 2>&1 &
    PID=$!
    while read -r -t 60 line; do
      if [[ $line == *"Ready to accept connections"* ]]; then
        PORT=$port
        pids+=("$PID")
        return
      fi
    done <"$fifo"
    wait "$PID" 2>/dev/null || true
  done
  echo "FAIL: redis-server did not start"
  exit 1
}
