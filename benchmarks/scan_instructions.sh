#!/usr/bin/env bash
# Instructions per prefix scan of 100 through MemoryBackend, Metered<Ttl<>>, Ttl<> and Metered<>
# (valgrind's cachegrind; the fill is measured alone and subtracted). KVSTACK_INCLUDE compiles
# against another include/ directory, to compare with an older checkout.
#   bash benchmarks/scan_instructions.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
g++ -std=c++20 -O3 -DNDEBUG -I"${KVSTACK_INCLUDE:-$root/include}" "$root/benchmarks/scan_instructions.cpp" -o "$work/scan"
instructions() {  # WHICH SCANS
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$work/scan" "$1" "$2" 2>&1 |
    sed -n 's/.*I *refs: *//p' | tr -d ,
}
base=$(( $(instructions 0 5000) - $(instructions 0 0) ))
names=(MemoryBackend 'Metered<Ttl<MemoryBackend>>' 'Ttl<MemoryBackend>' 'Metered<MemoryBackend>')
for which in 0 1 2 3; do
  n=$(( ($(instructions "$which" 5000) - $(instructions "$which" 0)) / 5000 ))
  printf '%-30s %7d instructions per scan of 100 (%s x MemoryBackend)\n' "${names[$which]}" "$n" \
    "$(awk -v a="$n" -v b="$((base / 5000))" 'BEGIN { printf "%.2f", a / b }')"
done
