#!/bin/sh
# Builds in Release and runs the benchmarks that need no server.
# (bench/http_bench.sh and bench/reload_bench.sh drive a running host.)
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh --bench
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$(nproc)" >/dev/null
FLOWHOST_SOURCE=$PWD ./build-release/engine_bench "${1:-2000}"
FLOWHOST_SOURCE=$PWD ./build-release/engine_bench "${1:-2000}" --sync normal
FLOWHOST_SOURCE=$PWD ./build-release/jobs_bench "${2:-1000}"
FLOWHOST_SOURCE=$PWD ./build-release/latency_bench "${3:-200}"
