#!/usr/bin/env bash
# Starts and stops the real servers the tests of PostgresBackend and RedisBackend run against.
# Each lives in a directory of its own and listens on a Unix socket there only (nothing on the
# network); as root, PostgreSQL runs as the unprivileged user `postgres`.
#   bash tests/backend/test_servers.sh postgres DIR   initdb + pg_ctl start; prints a libpq connection string
#   bash tests/backend/test_servers.sh redis DIR      redis-server; prints its unix:// URL
#   bash tests/backend/test_servers.sh kill DIR       stops what runs in DIR at once, as a crash would; keeps DIR
#   bash tests/backend/test_servers.sh stop DIR       stops what runs in DIR and removes DIR
#   bash tests/backend/test_servers.sh shared DIR KIND...   a fresh DIR with each KIND in DIR/KIND
# Used by CTest's `servers` fixture and by the tests that restart a server of their own.
set -euo pipefail
what=${1:?usage: test_servers.sh postgres|redis|kill|stop|shared DIR}
dir=${2:?usage: test_servers.sh postgres|redis|kill|stop|shared DIR}

as_postgres=()
[[ $(id -u) -eq 0 ]] && as_postgres=(runuser -u postgres --)
pg_bin() {  # the newest installed PostgreSQL's programs, else those on PATH
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  echo "${bin:+$bin/}$1"
}

case $what in
  postgres)
    mkdir -p "$dir"
    [[ ${#as_postgres[@]} -eq 0 ]] || chown postgres "$dir"
    if [[ ! -d $dir/data ]]; then
      "${as_postgres[@]}" "$(pg_bin initdb)" -D "$dir/data" -U kvstack -A trust -E UTF8 --locale=C --no-sync \
        --no-instructions >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    "${as_postgres[@]}" "$(pg_bin pg_ctl)" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-k $dir -c listen_addresses='' -c fsync=off -c max_connections=200" start >/dev/null ||
      { cat "$dir/postgres.log" >&2; exit 1; }
    echo "host=$dir port=5432 dbname=postgres user=kvstack"
    ;;
  redis)
    mkdir -p "$dir"
    redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --daemonize yes \
      --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" --save '' --appendonly no >/dev/null
    for _ in $(seq 100); do [[ -S $dir/redis.sock ]] && break; sleep 0.1; done
    [[ -S $dir/redis.sock ]] || { cat "$dir/redis.log" >&2; exit 1; }
    echo "unix://$dir/redis.sock"
    ;;
  kill)
    if [[ -f $dir/data/postmaster.pid ]]; then
      "${as_postgres[@]}" "$(pg_bin pg_ctl)" -D "$dir/data" -m immediate -w stop >/dev/null
    fi
    if [[ -f $dir/redis.pid ]]; then
      kill -KILL "$(cat "$dir/redis.pid")"
      rm -f "$dir/redis.pid" "$dir/redis.sock"
    fi
    ;;
  stop)
    for at in "$dir" "$dir"/*/; do  # DIR itself, or each KIND of a shared DIR
      if [[ -f $at/data/postmaster.pid ]]; then
        "${as_postgres[@]}" "$(pg_bin pg_ctl)" -D "$at/data" -m immediate -w stop >/dev/null 2>&1 || true
      fi
      if [[ -f $at/redis.pid ]]; then kill "$(cat "$at/redis.pid")" 2>/dev/null || true; fi
    done
    rm -rf "$dir"
    ;;
  shared)
    bash "$0" stop "$dir"
    for kind in "${@:3}"; do bash "$0" "$kind" "$dir/$kind"; done
    ;;
  *)
    echo "test_servers.sh: unknown command $what" >&2
    exit 2
    ;;
esac
