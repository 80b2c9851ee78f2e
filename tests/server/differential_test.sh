#!/usr/bin/env bash
# The same requests to redis-server (Debian's 7.0) and to kvstack-server: the replies must be
# identical, byte for byte, except on lines tests/server/differential.script marks "!differs".
#   bash tests/server/differential_test.sh path/to/kvstack-server [redis-server [script...]]
# (the scripts: differential.script unless named; differential_scripting.script needs Lua.)
set -euo pipefail
server=$1
redis_server=${2:-redis-server}
scripts=("${@:3}")
((${#scripts[@]})) || scripts=("$(dirname "$0")/differential.script")
source "$(dirname "$0")/lib.sh"

start_kvstack kvstack "$server" --backend memory
kv_port=$PORT
start_redis "$redis_server"
redis_port=$PORT
echo "redis-server $("$redis_server" --version | awk '{print $3}') on $redis_port, kvstack-server on $kv_port"

# Sends the requests of one script line on one connection; prints the reply bytes, escaped. A
# line starting with "RESP3 " is sent after HELLO 3, whose reply (it names the server's version
# and connection id) is left out: it ends with the empty array of modules.
ask() {
  local port=$1 line=$2 requests="" replies
  local IFS=$'\n'
  [[ $line == 'RESP3 '* ]] && line="HELLO 3 ;; ${line#RESP3 }"
  for r in $(printf '%s\n' "$line" | sed 's/ ;; /\n/g'); do requests+="$r"$'\r\n'; done
  exec 5<>"/dev/tcp/127.0.0.1/$port"
  printf '%sQUIT\r\n' "$requests" >&5
  replies=$(timeout 10 cat <&5 | od -An -c | tr -s ' \n' ' ')
  exec 5>&-
  [[ $line == 'HELLO 3 ;; '* ]] && replies=${replies#*'m o d u l e s \r \n * 0 \r \n '}
  printf '%s' "$replies"
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
done < <(cat "${scripts[@]}")

echo "$compared identical, $skipped documented differences, $failures differing"
((failures == 0)) && echo "PASS: kvstack-server answers as redis-server"
((failures == 0))
