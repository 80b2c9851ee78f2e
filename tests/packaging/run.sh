#!/usr/bin/env bash
# Builds and runs tests/packaging/consumer.cpp in a separate project for each way of consuming
# kvstack: find_package against a CMake-installed prefix (kvstack::kvstack and kvstack::lmdb),
# add_subdirectory, FetchContent, Meson with kvstack as a subproject, Meson through pkg-config
# against a Meson-installed prefix, and plain g++ with `pkg-config --cflags --libs kvstack`.
#   bash tests/packaging/run.sh [WORKDIR]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
here=$src/tests/packaging
work=${1:-$(mktemp -d)}
rm -rf "$work" && mkdir -p "$work"
quiet() { "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log"; return 1; }; }
project() {  # NAME: a copy of the consumer project NAME with consumer.cpp beside it
  cp -r "$here/$1" "$work/$1"
  cp "$here/consumer.cpp" "$work/$1/"
  echo "$work/$1"
}
check() {  # NAME PROGRAM [ARGS]: runs a consumer, which must say ok
  local name=$1
  shift
  local said
  said=$("$@") || { echo "packaging: $name: $said" >&2; return 1; }
  echo "packaging: $name: $said"
}

# The README's install recipe, as is: no build type, no options (so no tests, which would need
# Catch2 and range-v3).
quiet cmake -S "$src" -B "$work/cmake-build" -G Ninja
quiet cmake --install "$work/cmake-build" --prefix "$work/cmake-prefix"
for want in CMAKE_BUILD_TYPE:STRING=Release KVSTACK_BUILD_TESTS:BOOL=OFF; do
  grep -qx "$want" "$work/cmake-build/CMakeCache.txt" || { echo "packaging: a plain configure should give $want" >&2; exit 1; }
done
echo "packaging: a plain configure builds Release, without tests"

cmake_consumer() {  # NAME, then cmake arguments
  local name=$1 dir
  shift
  dir=$(project "$name")
  quiet cmake -S "$dir" -B "$dir/build" -G Ninja "$@"
  quiet cmake --build "$dir/build"
}
cmake_consumer find_package -DCMAKE_PREFIX_PATH="$work/cmake-prefix"
# Each target brings its engine and no other: what the program compiles in and what it links.
engines() {  # NAME PROGRAM "lmdb X, rocksdb Y, sqlite Z" LINKED...: the program says X/Y/Z; ldd shows exactly LINKED
  local name=$1 program=$2 said=$3
  shift 3
  check "$name" "$program" "$work/lmdb-$name" | tee "$work/said"
  grep -q "($said," "$work/said" || { echo "packaging: $name: want ($said)" >&2; return 1; }
  ldd "$program" >"$work/ldd"  # not piped into grep -q: ldd killed by SIGPIPE fails the pipeline
  for lib in lmdb rocksdb sqlite3 pq hiredis; do
    local linked=0 want=0
    grep -q "lib$lib" "$work/ldd" && linked=1
    [[ " $* " == *" $lib "* ]] && want=1
    [[ $linked == "$want" ]] || { echo "packaging: $name: lib$lib linked: $linked, want $want" >&2; return 1; }
  done
}
engines "find_package kvstack::kvstack" "$work/find_package/build/consumer" "lmdb 0, rocksdb 0, sqlite 0"
engines "find_package kvstack::lmdb" "$work/find_package/build/consumer_lmdb" "lmdb 1, rocksdb 0, sqlite 0" lmdb
engines "find_package kvstack::rocksdb" "$work/find_package/build/consumer_rocksdb" "lmdb 0, rocksdb 1, sqlite 0" rocksdb
engines "find_package kvstack::lmdb kvstack::rocksdb" "$work/find_package/build/consumer_both" "lmdb 1, rocksdb 1, sqlite 0" lmdb rocksdb
engines "find_package kvstack::sqlite" "$work/find_package/build/consumer_sqlite" "lmdb 0, rocksdb 0, sqlite 1" sqlite3
engines "find_package kvstack::postgres" "$work/find_package/build/consumer_postgres" "lmdb 0, rocksdb 0, sqlite 0, postgres 1" pq
engines "find_package kvstack::redis" "$work/find_package/build/consumer_redis" "lmdb 0, rocksdb 0, sqlite 0, postgres 0, redis 1" hiredis
# SameMajorVersion: 0.x does not satisfy a request for 1.0.
if cmake -S "$work/find_package" -B "$work/find_package/build-1.0" -G Ninja -DCMAKE_PREFIX_PATH="$work/cmake-prefix" \
     -DKVSTACK_WANT_VERSION=1.0 >"$work/last.log" 2>&1 || ! grep -q "considered but not accepted" "$work/last.log"; then
  echo "packaging: find_package(kvstack 1.0) should have refused the installed 0.1" >&2
  exit 1
fi
echo "packaging: find_package(kvstack 1.0) refuses the installed $(grep -o 'kvstackConfig.cmake, version: [0-9.]*' "$work/last.log")"
cmake_consumer subdirectory -DKVSTACK_SOURCE_DIR="$src"
check "add_subdirectory" "$work/subdirectory/build/consumer" "$work/lmdb-subdirectory"
cmake_consumer fetchcontent -DKVSTACK_SOURCE_DIR="$src"
check "FetchContent" "$work/fetchcontent/build/consumer" "$work/lmdb-fetchcontent"

PKG_CONFIG_PATH="$work/cmake-prefix/share/pkgconfig" \
  quiet bash -c "g++ -std=c++20 '$here/consumer.cpp' -o '$work/plain' \$(pkg-config --cflags --libs kvstack)"
check "g++ \$(pkg-config --cflags --libs kvstack)" "$work/plain" "$work/lmdb-plain"

dir=$(project meson_subproject)
mkdir -p "$dir/subprojects" && ln -s "$src" "$dir/subprojects/kvstack"
quiet meson setup "$dir/build" "$dir"
quiet meson compile -C "$dir/build"
check "Meson subproject" "$dir/build/consumer" "$work/lmdb-meson_subproject"

quiet meson setup "$work/meson-build" "$src" -Dtests=false -Dexamples=false --prefix "$work/meson-prefix"
quiet meson install -C "$work/meson-build"
dir=$(project meson_pkgconfig)
PKG_CONFIG_PATH="$work/meson-prefix/share/pkgconfig" quiet meson setup "$dir/build" "$dir"
quiet meson compile -C "$dir/build"
check "Meson dependency('kvstack') via pkg-config" "$dir/build/consumer" "$work/lmdb-meson_pkgconfig"
