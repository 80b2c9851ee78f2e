#!/usr/bin/env bash
# kvstack-server driven by real clients: Debian's redis-cli, and raw RESP over bash's /dev/tcp
# (pipelining, a malformed request). Every command family, RESP3, AUTH and HELLO AUTH, errors,
# many concurrent clients (redis-benchmark), --maxclients, --proto-max-bulk-len, a client that
# does not read its replies, and a restart on LMDB after SIGTERM with everything acknowledged
# still there.
#   bash tests/server/redis_cli_test.sh path/to/kvstack-server
set -euo pipefail
server=$1
source "$(dirname "$0")/lib.sh"
failures=0

start() { start_kvstack "$1" "$server" "${@:2}"; }
stop() {  # SIGTERM, then wait for a clean exit
  kill -TERM "$PID"
  wait "$PID" || { echo "FAIL: the server exited with $? on SIGTERM"; failures=$((failures + 1)); }
}
cli() { redis-cli -p "$PORT" "$@"; }
# (redis-cli prints an empty line after an error reply: hence the trailing "|" there)
# check EXPECTED ARGS...: redis-cli's output must be EXPECTED (lines joined by '|').
check() {
  local want=$1
  shift
  local got
  got=$(cli "$@" 2>&1 | tr -d '\r' | paste -sd'|' -)
  if [[ "$got" != "$want" ]]; then
    echo "FAIL: redis-cli $*: got '$got', want '$want'"
    failures=$((failures + 1))
  fi
}
# raw BYTES: sends BYTES on one connection, prints everything the server sends back until it
# closes the connection (the last request is QUIT, or a malformed one).
raw() {
  exec 5<>"/dev/tcp/127.0.0.1/$PORT"
  printf '%b' "$1" >&5
  timeout 10 cat <&5 | od -An -c | tr -s ' \n' ' '
  exec 5>&-
}
check_raw() {
  local got want
  got=$(raw "$1")
  want=$(printf '%b' "$2" | od -An -c | tr -s ' \n' ' ')
  if [[ "$got" != "$want" ]]; then
    echo "FAIL: raw $1: got '$got', want '$want'"
    failures=$((failures + 1))
  fi
}

start memory --backend memory
check PONG ping
check OK set s hello
check hello get s
check 5 strlen s
check 11 append s " world"
check "hello world" get s
check 1 incr n
check 11 incrby n 10
check "10.5" incrbyfloat f 10.5
check "OK" mset a 1 b 2
check "1|2|" mget a b nope
check 3 rpush l a b c
check "a|b|c" lrange l 0 -1
check "c" rpop l
check 2 hset h f1 v1 f2 v2
check "f1|v1|f2|v2" hgetall h
check v2 hget h f2
check 2 sadd st x y
check 2 scard st
check 1 sismember st x
check 2 zadd z 1 one 2.5 two
check "one|1|two|2.5" zrange z 0 -1 withscores
check 2.5 zscore z two
check 1 expire s 100
check 100 ttl s
check "hash" type h
check "WRONGTYPE Operation against a key holding the wrong kind of value|" get h
check "ERR value is not an integer or out of range|" incr s
check "ERR unknown command 'nosuch', with args beginning with: 'x' |" nosuch x
check "ERR wrong number of arguments for 'get' command|" get
check "OK" select 2
check "# Keyspace|db0:keys=9,expires=1,avg_ttl=0" info keyspace
# RESP3: a map and a double, after HELLO 3 (redis-cli -3).
check "f1 v1|f2 v2" -3 hgetall h
check "2.5" -3 zscore z two
check "" -3 get nope
hello=$(cli -3 hello 3 | paste -sd'|' - | sed 's/|id [0-9]*|/|id N|/')
[[ $hello == "server redis|version 7.0.0|proto 3|id N|mode standalone|role master|modules " ]] ||
  { echo "FAIL: HELLO 3 gave '$hello'"; failures=$((failures + 1)); }
# Pipelining: three requests in one write, three replies in order.
check_raw '*3\r\n$3\r\nSET\r\n$1\r\np\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$1\r\np\r\nGET p\r\nQUIT\r\n' \
  '+OK\r\n:2\r\n$1\r\n2\r\n+OK\r\n'
# MULTI / EXEC over one connection.
check_raw 'MULTI\r\nINCR m\r\nINCR m\r\nEXEC\r\nQUIT\r\n' '+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n:2\r\n+OK\r\n'
# A malformed request: the protocol error, that connection closed, the server fine for others.
check_raw '*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n' "-ERR Protocol error: expected '\$', got 'f'\r\n"
check_raw '*99999999\r\n' '-ERR Protocol error: invalid multibulk length\r\n'
check PONG ping
stop

# AUTH: everything but AUTH / HELLO / QUIT refused until authenticated.
start auth --backend memory --requirepass s3cret
check "NOAUTH Authentication required.|" get k
check "WRONGPASS invalid username-password pair or user is disabled.|" auth wrong
check "OK" --no-auth-warning -a s3cret set k v
check "v" --no-auth-warning -a s3cret get k

# HELLO 3 AUTH: authenticates and switches protocol in one request; a wrong password does neither.
check "WRONGPASS invalid username-password pair or user is disabled.|" hello 3 auth default wrong
check "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time|" hello 3
got=$(printf 'HELLO 3 AUTH default s3cret\nHGETALL nope\nGET k\n' | cli 2>&1 | paste -sd'|' - | sed 's/|id [0-9]*|/|id N|/')
[[ $got == "server redis|version 7.0.0|proto 3|id N|mode standalone|role master|modules ||v" ]] || { echo "FAIL: HELLO 3 AUTH then commands gave '$got'"; failures=$((failures + 1)); }
stop

# Many clients at once, with and without pipelining, on two threads: nothing lost or doubled.
start busy --backend memory --threads 2
redis-benchmark -p "$PORT" -c 20 -n 3000 -t incr,lpush,hset -q >/dev/null
redis-benchmark -p "$PORT" -c 20 -n 3000 -t incr,lpush,hset -P 8 -q >/dev/null
check 6000 get counter:__rand_int__
check 6000 llen mylist
check 1 hlen myhash
stop

# Limits: --maxclients refuses the connection over it; --proto-max-bulk-len refuses a longer
# bulk string and closes that connection only.
start limits --backend memory --maxclients 2 --proto-max-bulk-len 1024
exec 6<>"/dev/tcp/127.0.0.1/$PORT" 7<>"/dev/tcp/127.0.0.1/$PORT"
printf 'PING\r\n' >&6
printf 'PING\r\n' >&7
read -r a <&6
read -r b <&7
[[ $a$b == $'+PONG\r+PONG\r' ]] || { echo "FAIL: two clients under --maxclients 2 got '$a$b'"; failures=$((failures + 1)); }
check_raw '' '-ERR max number of clients reached\r\n'
printf 'QUIT\r\n' >&6
cat <&6 >/dev/null  # the server counts a client out before it closes the connection
exec 6>&- 7>&-
check_raw "SET k $(printf 'v%.0s' {1..1000})\r\nSTRLEN k\r\nQUIT\r\n" '+OK\r\n:1000\r\n+OK\r\n'
check_raw '*2\r\n$3\r\nGET\r\n$1025\r\n' '-ERR Protocol error: invalid bulk length\r\n'
check 1000 strlen k
stop

# A client that sends requests and never reads the replies: the server stops reading from it
# once a batch of replies is waiting, so its memory stays bounded, and other clients are served.
start slow --backend memory
[[ $(head -c 262144 /dev/zero | cli -x set big) == OK ]] || { echo "FAIL: SET big"; failures=$((failures + 1)); }
exec 8<>"/dev/tcp/127.0.0.1/$PORT"
for i in $(seq 1 80); do printf 'GET big\r\n%.0s' {1..100}; done >&8  # 2 GB of replies asked for
check PONG ping
check 262144 strlen big
peak=$(awk '/VmHWM/ { print $2 }' "/proc/$PID/status")
((peak < 600000)) || { echo "FAIL: the server's peak memory is $peak kB with a client not reading"; failures=$((failures + 1)); }
exec 8>&-
stop

# LMDB: write, SIGTERM, restart, read back (values, types, expiry).
start lmdb1 --backend lmdb --path "$work/lmdb"
check OK set durable yes
check 3 rpush dl a b c
check 1 hset dh f v
check 1 expire dh 1000
stop
start lmdb2 --backend lmdb --path "$work/lmdb"
check yes get durable
check "a|b|c" lrange dl 0 -1
check v hget dh f
ttl=$(cli ttl dh)
if ((ttl < 990 || ttl > 1000)); then echo "FAIL: ttl after restart is $ttl"; failures=$((failures + 1)); fi
stop

if ((failures)); then
  echo "$failures checks failed"
  exit 1
fi
echo "PASS: kvstack-server with redis-cli"
