#!/bin/sh
# pg_engine.sh — engine_bench's all-automatic flow on PostgreSQL, in process.
#
#   sh bench/pg_engine.sh [N]
#
# Starts a private, durable PostgreSQL cluster (PG_CLUSTER_DURABLE=1
# tests/pg/pg_cluster.sh: fsync, synchronous_commit and full_page_writes on; a
# Unix socket; removed afterwards) and runs build-release/pg_engine_bench on its
# empty database: 1, 4 and 8 engines at once (N processes each, default 4000)
# and the floor of those processes (bench/pg_rows_alone.c: the first
# process's rows written again by one statement per process, over 1 and 8
# connections) beside one connection's one-row commits on the same server,
# in alternating rounds.  Every process must be DONE in the database and
# every copy of the floor there, else exit 1.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_build pg_engine_bench
if [ -z "${FLOWHOST_TEST_PG:-}" ]; then
  export BUILD_DIR NO_BUILD=1
  PG_CLUSTER_DURABLE=1 exec sh tests/pg/pg_cluster.sh sh bench/pg_engine.sh "$@"
fi
FLOWHOST_SOURCE=$ROOT "$BUILD/pg_engine_bench" "$FLOWHOST_TEST_PG" "${1:-4000}"
