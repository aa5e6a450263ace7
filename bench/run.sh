#!/bin/sh
# Builds in Release and runs the benchmarks that need no server.
# (bench/http_bench.sh and bench/reload_bench.sh drive a running host.)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
sh tools/install-deps.sh --bench
bench_build all
FLOWHOST_SOURCE=$PWD "$BUILD/engine_bench" "${1:-2000}"
FLOWHOST_SOURCE=$PWD "$BUILD/engine_bench" "${1:-2000}" --sync normal
# Durable actions per fsync of the group commit, 8 clients at FULL: engine_bench
# prints it from the host's own count of its WAL syncs (flowhost_actions_per_wal_sync);
# strace counts every fsync of the process, the checkpoints' and the set-up's
# too, as a check from outside (it slows the clients: read this ratio, not its
# processes/s).
if command -v strace >/dev/null 2>&1; then
  n=${1:-2000}
  syncs=$(FLOWHOST_SOURCE=$PWD strace -f -c -e trace=fsync,fdatasync "$BUILD/engine_bench" "$n" --threads 8 2>&1 >/dev/null |
          awk '$NF == "fsync" || $NF == "fdatasync" { s += $4 } END { print s + 0 }')
  awk -v n="$n" -v s="$syncs" 'BEGIN { printf "group commit, 8 threads at FULL: %d actions, %d fsyncs: %.2f actions per fsync\n", n, s, s ? n / s : 0 }'
fi
FLOWHOST_SOURCE=$PWD "$BUILD/jobs_bench" "${2:-1000}"
FLOWHOST_SOURCE=$PWD "$BUILD/latency_bench" "${3:-200}"
