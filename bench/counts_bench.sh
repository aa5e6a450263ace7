#!/bin/sh
# Counts and list pages at 10k, 100k and 1M helloworld processes: p50/p99 of
# GET /api/tasks/counts, the task list pages (50 rows: the inbox and the queue
# with their sorts, filters and second page), the process list (filtered by flow
# and status) and GET /api/flows, in process (build/counts_bench), as
# bob, who holds 10% of the approve tasks in his inbox (the other 90% wait in the
# queue), and as alice, who may take none of them (her queue is empty); all tasks
# (view=all) as an admin and as managers of helloworld (carol) and of a flow with
# no process (dave); and at the last size, with most approve tasks finished
# ("mature": MATURE=0 leaves it out), all tasks of NEW and of ASSIGNED, bob's counts, inbox and
# queue (on PostgreSQL after the hosts' index upkeep, UPKEEP=0: without).  Pages with a date
# filter: bob's inbox and queue and alice's archive since the newest 900 processes were
# created, the queue since a time none was, the inbox until the oldest 900's, alice's
# archive finished since the newest 900 and since a time none was.  Not run by ctest.
#
#   bench/counts_bench.sh [ITER (200)] [SIZES ("10000 100000 1000000")]
# Environment: BUILD_DIR (build-release; built Release unless NO_BUILD=1),
#              OTHER_BUILD: a second build dir of another version, run on the same
#              database right after each run of BUILD_DIR (A/B in one run),
#              BACKEND: sqlite (default) or pg: the same on PostgreSQL, in a private
#              throw-away cluster (tests/pg/pg_cluster.sh) unless FLOWHOST_TEST_PG
#              names one.
#
# Seeding: two processes are started through the CLI (one approve task left in
# the queue, one assigned to bob), then cloned with SQL into the scratch
# database (every tenth process a copy of bob's), so 1,000,000 processes take
# about a minute, not hours.  The answers are checked: the counts must match
# what was seeded (exact below the cap, capped above) and pages must hold 50 rows.
set -eu
cd "$(dirname "$0")/.."
BACKEND=${BACKEND:-sqlite}
case $BACKEND in sqlite | pg) ;; *) echo "BACKEND is sqlite or pg, not $BACKEND" >&2; exit 2 ;; esac
if [ "$BACKEND" = pg ] && [ -z "${FLOWHOST_TEST_PG:-}" ]; then
  exec sh tests/pg/pg_cluster.sh sh bench/counts_bench.sh "$@"
fi
. bench/lib.sh
ITER=${1:-200}
SIZES=${2:-"10000 100000 1000000"}
if [ "$BACKEND" = pg ]; then bench_need psql; else bench_need sqlite3; fi
bench_build flowhost counts_bench
TMP=$(mktemp -d /tmp/flowhost-counts.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
DB=$TMP/counts.db
[ "$BACKEND" = pg ] && DB=$FLOWHOST_TEST_PG
dir_of() { case $1 in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
cli() { "$BIN" --db "$DB" --flows flows "$@"; }

cli user add alice --password alice-pw >/dev/null
cli user add bob --password bob-pw >/dev/null
cli user grant alice helloworld.start >/dev/null
cli user grant bob helloworld.approve >/dev/null
cli user add carol --password carol-pw >/dev/null
cli user grant carol helloworld.manage >/dev/null
cli user add dave --password dave-pw >/dev/null
cli user grant dave wcp01_sequence.manage >/dev/null
cli start helloworld --as alice --data '{"text":"bench message 1"}' >/dev/null
cli start helloworld --as alice --data '{"text":"bench message 2"}' >/dev/null
# Cloned process i and its tasks were created at CREATED_BASE + i seconds (a second
# apart, in the order of their ids), and its finished tasks finished then, for the
# pages with a date filter.
CREATED_BASE=1600000000
# The backend's SQL: sql (a script on stdin or -c), settle (statistics after a clone),
# SEQ FROM TO (the numbers FROM..TO as a query) and SET_TEXT (process i's data): for the clone.
if [ "$BACKEND" = pg ]; then
  sql() { psql "$DB" -qAt -v ON_ERROR_STOP=1 "$@"; }
  SEQ() { echo "SELECT i FROM generate_series($1, $2) i"; }
  SET_TEXT="jsonb_set(p.data::jsonb, '{text}', to_jsonb('bench message ' || s.i))::text"
  DUE_OF="to_char(to_timestamp(1800000000 + (process_id * 7919) % 10000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
  CREATED_OF="to_char(to_timestamp($CREATED_BASE + s.i) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
  # what autovacuum does on a live server: statistics, and the visibility map that
  # lets the counts' range scans answer from the index alone (twice: an autovacuum
  # ANALYZE that began during the clone keeps the first from marking its pages); then
  # a checkpoint, so that the pages are not measured while the server writes out the
  # buffers a million-row clone or UPDATE left dirty (a database in use gets there over
  # weeks: in the mature phase without it, p99s of 4-6 ms came and went in both builds)
  settle() { sql -c "VACUUM ANALYZE" -c "VACUUM" -c "CHECKPOINT" >/dev/null; }
  TASK_COLS=$(sql -c "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns
                      WHERE table_name = 'task' AND column_name NOT IN ('id', 'process_id')")
else
  sql() { if [ $# -gt 0 ]; then sqlite3 "$DB" "$2"; else sqlite3 "$DB"; fi; }
  SEQ() { echo "WITH RECURSIVE s(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM s WHERE i < $2) SELECT i FROM s"; }
  SET_TEXT="json_set(p.data, '\$.text', 'bench message ' || s.i)"
  DUE_OF="strftime('%Y-%m-%dT%H:%M:%fZ', 1800000000 + (process_id * 7919) % 10000000, 'unixepoch')"
  CREATED_OF="strftime('%Y-%m-%dT%H:%M:%fZ', $CREATED_BASE + s.i, 'unixepoch')"
  settle() { sqlite3 "$DB" "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null; }
  TASK_COLS=$(sqlite3 "$DB" "SELECT group_concat(name, ', ') FROM pragma_table_info('task') WHERE name NOT IN ('id', 'process_id')")
fi

# the clones' tasks: the templates' columns but their creation time, and a finished
# task's finish at that time too
TASK_SRC=$(echo "$TASK_COLS" | sed -e "s|\bcreated_at\b|$CREATED_OF AS created_at|" \
  -e "s|\bfinished_at\b|CASE WHEN finished_at IS NULL THEN NULL ELSE $CREATED_OF END AS finished_at|")
# process 2's approve task: the inbox template (PostgreSQL hands ids out in blocks)
APPROVE=$(sql -c "SELECT id FROM task WHERE process_id = 2 AND flow_task = 'helloworld.approve'")
cli task "$APPROVE" assign --as bob >/dev/null
# the clones' task ids start after the templates'
OFF=$(sql -c "SELECT max(id) FROM task")

# clone FROM TO: processes FROM..TO, process i from template 2 (inbox) when
# i % 10 == 0, else 1 (queue); its tasks get ids OFF + 2i - 1 and OFF + 2i.
# Every third approve task has a due date (:Due), spread over four months
# in no order of the ids, for the pages sorted by due date.
clone() {
  sql >/dev/null <<EOF
BEGIN;
CREATE TEMP TABLE seq AS SELECT i, CASE WHEN i % 10 = 0 THEN 2 ELSE 1 END AS tpl FROM ($(SEQ "$1" "$2")) n;
CREATE TEMP TABLE tpl AS SELECT t.id, t.process_id,
  (SELECT count(*) FROM task u WHERE u.process_id = t.process_id AND u.id < t.id) AS k FROM task t WHERE t.process_id IN (1, 2);
INSERT INTO process(id, flow, status, data, created_by, created_at, finished_at, version, depth, flow_version)
  SELECT s.i, p.flow, p.status, $SET_TEXT, p.created_by, p.created_at, p.finished_at, p.version, p.depth, p.flow_version
  FROM seq s JOIN process p ON p.id = s.tpl;
INSERT INTO task(id, process_id, $TASK_COLS)
  SELECT $OFF + 2 * s.i - 1 + k.k, s.i, $TASK_SRC FROM seq s JOIN tpl k ON k.process_id = s.tpl JOIN task t ON t.id = k.id;
INSERT INTO task_previous SELECT $OFF + 2 * s.i, $OFF + 2 * s.i - 1 FROM seq s;
UPDATE task SET due_at = $DUE_OF WHERE id BETWEEN $OFF + 2 * $1 - 1 AND $OFF + 2 * $2
  AND flow_task = 'helloworld.approve' AND process_id % 3 = 1;
INSERT INTO participant SELECT s.i, pa.user_id FROM seq s JOIN participant pa ON pa.process_id = s.tpl;
DROP TABLE seq;
DROP TABLE tpl;
COMMIT;
EOF
}

# the date filters' bounds at N processes: since the newest 900 processes' tasks (1,800
# tasks of people: host/store_internal.h's CREATED_FEW is 2,000), until the oldest 900's
at_second() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
# run BUILD N [mature] -> lines "N build what p50 p99 answer rows warm-up", checked
run() {
  out=$(cd "$ROOT" && SINCE_RECENT=$(at_second $((CREATED_BASE + $2 - 899))) UNTIL_OLD=$(at_second $((CREATED_BASE + 901))) \
        "$(dir_of "$1")/counts_bench" "$DB" "$ITER" ${3:-}) || { echo "counts_bench ($1) failed" >&2; exit 1; }
  echo "$out" | sed "s|^|$2 $1 |"
}

RESULTS=$TMP/results
have=2
for n in $SIZES; do
  echo "== seeding $n processes" >&2
  [ "$n" -gt "$have" ] && clone $((have + 1)) "$n"
  have=$n
  settle
  echo "== measuring at $n processes ($ITER of each)" >&2
  run "$BUILD_DIR" "$n" >>"$RESULTS"
  if [ -n "${OTHER_BUILD:-}" ]; then run "$OTHER_BUILD" "$n" >>"$RESULTS"; run "$BUILD_DIR" "$n" >>"$RESULTS"; fi
done

# The last size again as a mature database: most approve tasks finished, NEW
# left in 1 process of 150 and ASSIGNED in 1 of 1,500 (the open tasks few
# among many DONE), for the all-tasks pages of those statuses (MATURE=0: not)
if [ "${MATURE:-1}" != 0 ] && [ "$have" -ge 75000 ]; then
  echo "== finishing most approve tasks ($have processes)" >&2
  sql -c "UPDATE task SET status = 'DONE', finished_at = created_at WHERE flow_task = 'helloworld.approve'
          AND process_id % 150 <> 1 AND process_id % 1500 <> 0" >/dev/null
  settle
  # PostgreSQL: what every host does within --index-upkeep (600 s) of such a change: the
  # indexes of open work that the finished tasks left sparse rebuilt (UPKEEP=0: not)
  if [ "$BACKEND" = pg ] && [ "${UPKEEP:-1}" != 0 ]; then
    echo "== index upkeep (flowhost compact): $("$BIN" --db "$DB" compact | tr -d ' \n')" >&2
    sql -c "CHECKPOINT" >/dev/null
  fi
  echo "== measuring the mature database ($ITER of each)" >&2
  run "$BUILD_DIR" "$have" mature >>"$RESULTS"
  if [ -n "${OTHER_BUILD:-}" ]; then
    run "$OTHER_BUILD" "$have" mature >>"$RESULTS"
    run "$BUILD_DIR" "$have" mature >>"$RESULTS"
  fi
fi

echo
echo "counts_bench ($BACKEND): $(nproc) CPUs, $ITER requests per figure, bob's inbox = 10% of the processes, queue = 90%"
echo
printf "%-10s %-16s %-22s %9s %9s %9s  %s\n" processes build what "p50 ms" "p99 ms" "warm-up" answer
awk '{ printf "%-10s %-16s %-22s %9.3f %9.3f %9.3f  %s\n", $1, $2, $3, $4, $5, $8, $6 }' "$RESULTS"
echo "(warm-up: the slowest of each figure's 6 calls before the measured ones, in ms: the first plans"
echo " of each statement on the connection, the summaries not yet cached)"
# checks: pages of the size expected (bob's 50 rows, alice's none); counts exact (10%/90%) or capped at 999+
awk -v base="$BUILD_DIR" '
  $7 >= 0 && $6 != $7 { print "wrong page size: " $0; bad = 1 }
  $3 == "alice_counts" && $6 != "{\"inbox\":0,\"queue\":0}" { print "wrong counts: " $0; bad = 1 }
  $3 == "flows" {   # every helloworld process runs on one version: exact, or capped at 999+
    want = $1 >= 1000 ? "\"helloworld_running\":999,\"capped\":true}" : "\"helloworld_running\":" $1 "}"
    if (index($6, want) == 0) { print "wrong running count: " $0; bad = 1 }
  }
  $3 == "counts" && $2 == base {
    inbox = int($1 / 10) + 1; queue = $1 - inbox   # process 2 is in the inbox too
    want_i = inbox >= 1000 ? "\"inbox\":999,\"inbox_capped\":true," : "\"inbox\":" inbox ",\"queue\""
    want_q = queue >= 1000 ? "\"queue\":999,\"queue_capped\":true}" : "\"queue\":" queue "}"
    if (index($6, want_i) == 0 || index($6, want_q) == 0) { print "wrong counts: " $0; bad = 1 }
  }
  END { exit bad }' "$RESULTS" || { echo "FAILED: wrong answers" >&2; exit 1; }
