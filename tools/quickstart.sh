#!/usr/bin/env bash
# Builds examples/quickstart.cpp and runs it twice on a fresh LMDB store: the second run finds
# what the first one left.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/quickstart -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_TESTS=OFF -DKVSTACK_WITH_LMDB=ON
cmake --build build/quickstart --target quickstart
rm -rf build/quickstart/kvstack-data
build/quickstart/examples/quickstart build/quickstart/kvstack-data
echo "--- again, on the same store:"
build/quickstart/examples/quickstart build/quickstart/kvstack-data
