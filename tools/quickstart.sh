#!/usr/bin/env bash
# Builds and runs examples/quickstart.cpp on the in-memory engine.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/quickstart -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_TESTS=OFF
cmake --build build/quickstart --target quickstart
build/quickstart/examples/quickstart
