#!/usr/bin/env bash
# Runs the test suite; stops at the first failure. Each step prints the time since the start.
#   bash tools/test.sh          everything (what CI runs)
#   bash tools/test.sh quick    the GCC build and its tests alone, for a developer's inner loop
#
# What each configuration covers that the others do not (the unit suite runs in all three of
# gcc, asan and tsan; the sanitizer builds use Clang, which compiles them about 3x faster):
#   gcc       GCC 12 -O1 (-O2 compiles the suite 30% slower, Release's -O3 45%): the
#             suite against include/, examples and kvstack-server optimized; the benchmarks built
#             and smoke-run; each public header alone; the Meson and CMake test lists agree
#   packaging consumer projects: find_package, add_subdirectory, FetchContent, Meson (subproject
#             and pkg-config), plain pkg-config
#   meson     meson.build configures with tests, builds the examples and the no-engine test
#   asan      Clang 16 -O0 with AddressSanitizer + UndefinedBehaviorSanitizer: the core suite
#             against single_include/ (not include/), the Redis tests, examples and kvstack-server
#             under ASan, the three libFuzzer targets for 8 s each
#   tsan      Clang 16 with ThreadSanitizer: the suite against include/ (all of it compiled with
#             Clang), examples, kvstack-server; not the single-threaded simulations
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
mode=${1:-all}
[[ $mode == all || $mode == quick ]] || { echo "usage: bash tools/test.sh [quick]" >&2; exit 2; }

step() { printf '\n==== [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

ctest_config() {  # name, then cmake arguments
  local name=$1
  shift
  step "CMake + CTest: $name"
  cmake -S . -B "build/$name" -G Ninja -DKVSTACK_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "build/$name" -j "$jobs"
  ctest --test-dir "build/$name" -j "$jobs" --output-on-failure
}

ctest_config gcc -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG" \
  -DKVSTACK_BUILD_BENCHMARKS=ON
step "benchmark smoke run (not a measurement)"
build/gcc/benchmarks/foundation_bench --benchmark_min_time=0.01 >/dev/null
build/gcc/benchmarks/engine_bench --benchmark_min_time=0.01 >/dev/null
build/gcc/benchmarks/layer_bench --benchmark_min_time=0.01 >/dev/null
build/gcc/benchmarks/redis_bench --benchmark_min_time=0.01 >/dev/null
KVSTACK_BENCH_KEYS=1000 build/gcc/benchmarks/dispatch_bench --benchmark_min_time=0.01 >/dev/null
KVSTACK_BENCH_KEYS=1000 build/gcc/benchmarks/replication_bench --benchmark_min_time=0.01 >/dev/null
build/gcc/benchmarks/raft_bench --benchmark_min_time=0.01 >/dev/null
build/gcc/benchmarks/serializer_bench --benchmark_min_time=0.01 >/dev/null
build/gcc/benchmarks/memory_bench --benchmark_min_time=0.01 --benchmark_filter='/1000$' >/dev/null
build/gcc/benchmarks/scaling_bench --benchmark_min_time=0.01 --benchmark_filter='/1000$' >/dev/null
build/gcc/benchmarks/sql_redis_bench --benchmark_min_time=0.01 --benchmark_filter='Get|Scan100' >/dev/null
KVSTACK_BENCH_KEYS=1000 build/gcc/benchmarks/mst_bench --benchmark_min_time=0.01 --benchmark_filter='Put/(Memory|LmdbNoSync)' >/dev/null
if [[ $mode == quick ]]; then
  step "quick: done (the full run adds packaging, Meson, and Clang with ASan+UBSan and with TSan)"
  exit 0
fi

step "packaging: consumer projects (find_package, add_subdirectory, FetchContent, Meson, pkg-config)"
bash tests/packaging/run.sh "$PWD/build/packaging"

step "Meson: configure with tests, build the examples and the no-engine test (GCC 12)"
rm -rf build/meson
CXX=g++ meson setup build/meson --buildtype=plain >/dev/null
meson compile -C build/meson quickstart service_registry migrate replicated kvstack_tests_no_engines
meson test -C build/meson --print-errorlogs kvstack_tests_no_engines

UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
  ctest_config asan -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=Debug -DKVSTACK_SANITIZE=address,undefined \
  -DKVSTACK_TEST_SINGLE_HEADER=ON -DKVSTACK_TEST_HEADERS=OFF

# ThreadSanitizer (Clang 16) over the concurrent parts. Some kernels refuse TSan's memory layout
# (high mmap randomization); there it cannot run at all, which is said and skipped, not hidden.
if echo 'int main() { return 0; }' | clang++-16 -fsanitize=thread -x c++ - -o build/tsan-probe 2>/dev/null &&
   build/tsan-probe 2>/dev/null; then
  # The tests that fork a child are compiled out here (TSan cannot follow a multi-threaded fork);
  # see tools/tsan.supp for what is suppressed in the uninstrumented engines.
  TSAN_OPTIONS="suppressions=$PWD/tools/tsan.supp halt_on_error=1" \
    ctest_config tsan -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_BUILD_TYPE=Debug -DKVSTACK_SANITIZE=thread \
    -DKVSTACK_TEST_HEADERS=OFF
else
  step "ThreadSanitizer cannot run on this kernel: skipped"
fi
step "all configurations passed"
