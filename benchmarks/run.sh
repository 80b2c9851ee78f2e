#!/usr/bin/env bash
# The benchmark suite in one command: installs what it needs, builds the benchmarks (Release),
# runs each claim's binary at a fixed, modest size with 5 repetitions, times compilation, and
# writes benchmarks/results/RESULTS.md with PNG charts beside it.
#   bash benchmarks/run.sh
# KVSTACK_BENCH_QUICK=1 runs everything once, briefly (to check the pipeline, not to measure).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build/bench --target dispatch_bench serializer_bench memory_bench scaling_bench
out=benchmarks/results
mkdir -p "$out"
if [[ -n ${KVSTACK_BENCH_QUICK:-} ]]; then
  flags=(--benchmark_min_time=0.01)
  export KVSTACK_COMPILE_SIZES=1
else
  flags=(--benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_enable_random_interleaving=true
         --benchmark_min_time=0.2)
fi
for b in dispatch serializer memory scaling; do
  echo "running ${b}_bench"
  "build/bench/benchmarks/${b}_bench" "${flags[@]}" --benchmark_out="$out/$b.json" --benchmark_out_format=json >/dev/null
done
echo "timing compilation"
bash benchmarks/compile_time.sh "$out/compile_time.md" >/dev/null
python3 benchmarks/report.py "$out"
echo "wrote $out/RESULTS.md"
