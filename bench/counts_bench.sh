#!/bin/sh
# Counts and list pages at 10k, 100k and 1M helloworld processes: p50/p99 of
# GET /api/tasks/counts, the inbox page and the queue page (50 rows), in process
# (build/counts_bench), as bob, who holds 10% of the approve tasks in his inbox
# (the other 90% wait in the queue).  Not run by ctest.
#
#   bench/counts_bench.sh [ITER (200)] [SIZES ("10000 100000 1000000")]
# Environment: BUILD_DIR (build-release; built Release unless NO_BUILD=1),
#              OTHER_BUILD: a second build dir of another version, run on the same
#              database right after each run of BUILD_DIR (A/B in one run).
#
# Seeding: two processes are started through the CLI (one approve task left in
# the queue, one assigned to bob), then cloned with SQL into the scratch
# database (every tenth process a copy of bob's), so 1,000,000 processes take
# about a minute, not hours.  The answers are checked: the counts must match
# what was seeded (exact below the cap, capped above) and pages must hold 50 rows.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
ITER=${1:-200}
SIZES=${2:-"10000 100000 1000000"}
bench_need sqlite3
bench_build flowhost counts_bench
TMP=$(mktemp -d /tmp/flowhost-counts.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
DB=$TMP/counts.db
dir_of() { case $1 in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
cli() { "$BIN" --db "$DB" --flows flows "$@"; }

cli user add alice --password alice-pw >/dev/null
cli user add bob --password bob-pw >/dev/null
cli user grant alice helloworld.start >/dev/null
cli user grant bob helloworld.approve >/dev/null
cli start helloworld --as alice --data '{"text":"bench message 1"}' >/dev/null
cli start helloworld --as alice --data '{"text":"bench message 2"}' >/dev/null
cli task 4 assign --as bob >/dev/null   # process 2's approve task: the inbox template

# clone FROM TO: processes FROM..TO, process i from template 2 (inbox) when
# i % 10 == 0, else 1 (queue); its tasks get ids 2i-1 and 2i.
TASK_COLS=$(sqlite3 "$DB" "SELECT group_concat(name, ', ') FROM pragma_table_info('task') WHERE name NOT IN ('id', 'process_id')")
clone() {
  sqlite3 "$DB" >/dev/null <<EOF
PRAGMA journal_mode=WAL;
BEGIN;
CREATE TEMP TABLE seq AS WITH RECURSIVE s(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM s WHERE i < $2)
  SELECT i, CASE WHEN i % 10 = 0 THEN 2 ELSE 1 END AS tpl FROM s;
INSERT INTO process(id, flow, status, data, created_by, created_at, finished_at, version, depth)
  SELECT s.i, p.flow, p.status, json_set(p.data, '$.text', 'bench message ' || s.i), p.created_by, p.created_at,
         p.finished_at, p.version, p.depth FROM seq s JOIN process p ON p.id = s.tpl;
INSERT INTO task(id, process_id, $TASK_COLS)
  SELECT t.id - 2 * s.tpl + 2 * s.i, s.i, $TASK_COLS FROM seq s JOIN task t ON t.process_id = s.tpl;
INSERT INTO task_previous SELECT 2 * s.i, 2 * s.i - 1 FROM seq s;
INSERT INTO participant SELECT s.i, pa.user_id FROM seq s JOIN participant pa ON pa.process_id = s.tpl;
COMMIT;
EOF
}

# run BUILD N -> lines "N build what p50 p99 answer", checked
run() {
  out=$(cd "$ROOT" && "$(dir_of "$1")/counts_bench" "$DB" "$ITER") || { echo "counts_bench ($1) failed" >&2; exit 1; }
  echo "$out" | sed "s|^|$2 $1 |"
}

RESULTS=$TMP/results
have=2
for n in $SIZES; do
  echo "== seeding $n processes" >&2
  [ "$n" -gt "$have" ] && clone $((have + 1)) "$n"
  have=$n
  sqlite3 "$DB" "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  echo "== measuring at $n processes ($ITER of each)" >&2
  run "$BUILD_DIR" "$n" >>"$RESULTS"
  if [ -n "${OTHER_BUILD:-}" ]; then run "$OTHER_BUILD" "$n" >>"$RESULTS"; run "$BUILD_DIR" "$n" >>"$RESULTS"; fi
done

echo
echo "counts_bench: $(nproc) CPUs, $ITER requests per figure, bob's inbox = 10% of the processes, queue = 90%"
echo
printf "%-10s %-16s %-7s %9s %9s  %s\n" processes build what "p50 ms" "p99 ms" answer
awk '{ printf "%-10s %-16s %-7s %9.3f %9.3f  %s\n", $1, $2, $3, $4, $5, $6 }' "$RESULTS"
# checks: pages of 50 rows; counts exact (10%/90%) or capped at 999+
awk -v base="$BUILD_DIR" '
  $3 != "counts" && $6 != 50 { print "short page: " $0; bad = 1 }
  $3 == "counts" && $2 == base {
    inbox = int($1 / 10) + 1; queue = $1 - inbox   # process 2 is in the inbox too
    want_i = inbox >= 1000 ? "\"inbox\":999,\"inbox_capped\":true," : "\"inbox\":" inbox ",\"queue\""
    want_q = queue >= 1000 ? "\"queue\":999,\"queue_capped\":true}" : "\"queue\":" queue "}"
    if (index($6, want_i) == 0 || index($6, want_q) == 0) { print "wrong counts: " $0; bad = 1 }
  }
  END { exit bad }' "$RESULTS" || { echo "FAILED: wrong answers" >&2; exit 1; }
