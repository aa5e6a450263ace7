#!/bin/sh
# sql_count.sh — SQL statements per helloworld process on both backends.
#
#   sh bench/sql_count.sh [N]
#
# Runs build-release/sql_count_bench (N processes, default 200: start as alice,
# assign and execute as bob, each must end DONE) on a new SQLite file and then on a
# new database of a private PostgreSQL cluster (tests/pg/pg_cluster.sh, removed
# afterwards), each seeded by the CLI with alice and bob.  SQLite: every statement
# SQLite executes (sqlite3_step wrapped); PostgreSQL: the statements the host sends
# and the round trips it waits for (the shim's own counts, GET /metrics').  Issue
# 13's budget: 30 statements per process.  (`--pg N`: the PostgreSQL half alone,
# inside pg_cluster.sh.)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

# seeds DB with alice and bob and counts N processes on it
count() {
  for args in "user add alice --password alice-pw" "user add bob --password bob-pw" \
    "user grant alice helloworld.start" "user grant bob helloworld.approve"; do
    # shellcheck disable=SC2086
    "$BIN" --db "$1" --flows flows $args >/dev/null
  done
  FLOWHOST_SOURCE=$ROOT "$BUILD/sql_count_bench" "$1" "$2"
}

if [ "${1:-}" = --pg ]; then
  NO_BUILD=1 bench_build
  count "$FLOWHOST_TEST_PG" "${2:-200}"
  exit 0
fi
bench_build flowhost sql_count_bench
bench_tmp flowhost-sqlcount
echo "== SQLite"
count "$TMP/db" "${1:-200}"
echo "== PostgreSQL"
sh tests/pg/pg_cluster.sh sh bench/sql_count.sh --pg "${1:-200}"
