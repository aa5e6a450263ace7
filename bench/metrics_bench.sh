#!/bin/sh
# Scrape cost of GET /metrics at 10k, 100k and 1M helloworld processes: p50/p99 of the
# whole answer (curl's time_total on the --metrics-listen listener of a real
# `flowhost serve`), first with every process active (an approve task NEW or ASSIGNED:
# the worst case, one index entry per process to count), again with serve's default
# --metrics-max-age (a read kept 5 s: the scrapes after the first are answered from it),
# then with 90% of them finished (what a long-running host looks like).  Not run by ctest.
#
#   bench/metrics_bench.sh [ITER (50)] [SIZES ("10000 100000 1000000")]
# Environment: BUILD_DIR (build-release; built Release unless NO_BUILD=1).
# Seeding as in bench/counts_bench.sh: two processes through the CLI, cloned with SQL.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
ITER=${1:-50}
SIZES=${2:-"10000 100000 1000000"}
bench_need sqlite3 curl
bench_build flowhost
TMP=$(mktemp -d /tmp/flowhost-metrics.XXXXXX)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
DB=$TMP/metrics.db
cli() { "$BIN" --db "$DB" --flows flows "$@"; }

cli user add alice --password alice-pw >/dev/null
cli user add bob --password bob-pw >/dev/null
cli user grant alice helloworld.start >/dev/null
cli user grant bob helloworld.approve >/dev/null
cli start helloworld --as alice --data '{"text":"bench message 1"}' >/dev/null
cli start helloworld --as alice --data '{"text":"bench message 2"}' >/dev/null
cli task 4 assign --as bob >/dev/null

TASK_COLS=$(sqlite3 "$DB" "SELECT group_concat(name, ', ') FROM pragma_table_info('task') WHERE name NOT IN ('id', 'process_id')")
clone() {
  sqlite3 "$DB" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
CREATE TEMP TABLE seq AS WITH RECURSIVE s(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM s WHERE i < $2)
  SELECT i, CASE WHEN i % 10 = 0 THEN 2 ELSE 1 END AS tpl FROM s;
INSERT INTO process(id, flow, status, data, created_by, created_at, finished_at, version, depth)
  SELECT s.i, p.flow, p.status, p.data, p.created_by, p.created_at, p.finished_at, p.version, p.depth
  FROM seq s JOIN process p ON p.id = s.tpl;
INSERT INTO task(id, process_id, $TASK_COLS)
  SELECT t.id - 2 * s.tpl + 2 * s.i, s.i, $TASK_COLS FROM seq s JOIN task t ON t.process_id = s.tpl;
COMMIT;
SQL
}

# scrape LABEL N [MAX_AGE]: ITER scrapes on a fresh server; prints "N label p50 p99 series".
# MAX_AGE 0 (the default here): every scrape reads the database; 5 (serve's default): a read
# is kept 5 s, so within a run of scrapes only the first reads.
scrape() {
  "$BIN" serve --db "$DB" --flows flows --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --jobs 0 \
    --metrics-max-age "${3:-0}" \
    >"$TMP/out" 2>"$TMP/err" &
  SERVER=$!
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's|^metrics on http://127.0.0.1:\([0-9]*\)/metrics$|\1|p' "$TMP/out")
    grep -q "^listening" "$TMP/out" && [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "serve did not start: $(cat "$TMP/err")" >&2; exit 1; }
  curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/scrape" || { echo "scrape failed" >&2; exit 1; }
  series=$(grep -c '^flowhost_tasks{' "$TMP/scrape")
  for _ in $(seq "$ITER"); do
    curl -sf -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/metrics"
  done | sort -n | awk -v n="$2" -v l="$1" -v s="$series" '{ t[NR] = $1 * 1000 }
    END { printf "%-10s %-14s %9.2f %9.2f  %s\n", n, l, t[int(NR * 0.5 + 0.5)], t[int(NR * 0.99 + 0.5)], s }'
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
}

have=2
RESULTS=$TMP/results
for n in $SIZES; do
  echo "== seeding $n processes" >&2
  [ "$n" -gt "$have" ] && clone $((have + 1)) "$n"
  have=$n
  sqlite3 "$DB" "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  echo "== scraping at $n processes, all active" >&2
  scrape all-active "$n" >>"$RESULTS"
  scrape "all-active,kept" "$n" 5 >>"$RESULTS"
  cp "$DB" "$TMP/finished.db"
  sqlite3 "$TMP/finished.db" "UPDATE task SET status = 'DONE' WHERE status IN ('NEW', 'ASSIGNED') AND process_id % 10 != 0;" >/dev/null
  echo "== scraping at $n processes, 90% finished" >&2
  DB_SAVED=$DB; DB=$TMP/finished.db
  scrape 90%-finished "$n" >>"$RESULTS"
  DB=$DB_SAVED
  rm -f "$TMP/finished.db"*
done
echo
echo "metrics_bench: $(nproc) CPUs, $ITER scrapes per figure (curl time_total, whole answer)"
echo
printf "%-10s %-14s %9s %9s  %s\n" processes tasks "p50 ms" "p99 ms" "task series"
cat "$RESULTS"
