#!/bin/sh
# Search by process data at 1M processes (issue 15): p50/p99 of GET /api/processes with
# data.customer=<one of 1000 customers> (exact, 1,000 matches each), data.amount_gte/_lt (a
# range of 0.1% of the values), the same exact search on a rare value (one match), and the
# task list filtered the same way, against a real `flowhost serve` (Release), over curl, as
# the admin.  Prints EXPLAIN QUERY PLAN of the statements the host builds.  Not run by ctest.
#
#   bench/search_bench.sh [ITER (100)] [N (1000000)]
# Environment: BUILD_DIR (build-release; built Release unless NO_BUILD=1).
#
# Seeding: one case is opened through the CLI, then N processes (with one NEW review task
# and their search index rows each) are inserted with SQL into the scratch database, so
# 1,000,000 processes take about a minute.  The answers are checked (page sizes, matches).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
ITER=${1:-100}
N=${2:-1000000}
bench_need sqlite3 curl
bench_build flowhost
TMP=$(mktemp -d /tmp/flowhost-search.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap 'cp "$DB" "$KEEP"; cleanup' EXIT
trap 'exit 1' INT TERM
DB=$TMP/search.db
mkdir "$TMP/flows"
cp tests/fixtures/flows/casefile.lua "$TMP/flows/"
cli() { "$BIN" --db "$DB" --flows "$TMP/flows" "$@"; }

cli user add admin --admin --password admin-pw >/dev/null
TOKEN=$(cli token create admin)
cli start casefile open --as admin --data '{"customer":"c0","amount":1,"due":"2026-01-01"}' >/dev/null

echo "== seeding $N processes" >&2
TASK_COLS=$(sqlite3 "$DB" "SELECT group_concat(name, ', ') FROM pragma_table_info('task') WHERE name NOT IN ('id', 'process_id')")
sqlite3 "$DB" >/dev/null <<EOF
PRAGMA journal_mode=WAL;
BEGIN;
CREATE TEMP TABLE seq AS WITH RECURSIVE s(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM s WHERE i < $N + 1)
  SELECT i, 'c' || (i % 1000) AS customer, (i * 7919) % 1000000 / 100.0 AS amount FROM s;
INSERT INTO process(id, flow, status, data, created_by, created_at, finished_at, version, depth)
  SELECT s.i, p.flow, p.status, json_object('customer', s.customer, 'amount', s.amount, 'due', '2026-01-01'),
         p.created_by, p.created_at, p.finished_at, p.version, p.depth FROM seq s JOIN process p ON p.id = 1;
INSERT INTO task(id, process_id, $TASK_COLS)
  SELECT t.id - 2 + 2 * s.i, s.i, $TASK_COLS FROM seq s JOIN task t ON t.process_id = 1;
INSERT INTO participant SELECT s.i, pa.user_id FROM seq s JOIN participant pa ON pa.process_id = 1;
UPDATE process SET data = json_set(data, '$.customer', 'rare') WHERE id = $N;
DELETE FROM search_indexed;
COMMIT;
ANALYZE;
PRAGMA wal_checkpoint(TRUNCATE);
EOF

# the processes inserted behind the host's back are not indexed yet: the next command that
# loads the flows indexes them (as a host does for a flow that gains a search field)
echo "== indexing $N existing processes (customer, amount, count, due, urgent, kind)" >&2
t0=$(date +%s.%N)
cli processes --flow casefile --as admin >/dev/null
t1=$(date +%s.%N)
echo "$t0 $t1" | awk '{ printf "indexing %d processes: %.1f s\n", '"$N"', $2 - $1 }'
rows=$(sqlite3 "$DB" "SELECT count(*) FROM process_search")
[ "$rows" -eq $((3 * N + 3)) ] || { echo "expected $((3 * N + 3)) index rows, got $rows" >&2; exit 1; }
sqlite3 "$DB" "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null

echo "== query plans (the statements store_data.c builds)" >&2
COLS="p.id, p.flow, p.status, p.data, u.username, p.created_at, p.finished_at, p.parent_id, p.parent_task_id"
FROM="FROM process_search s0 NOT INDEXED CROSS JOIN process p ON p.id = s0.process_id LEFT JOIN user u ON u.id = p.created_by"
plan() { echo "-- $1"; sqlite3 "$DB" "EXPLAIN QUERY PLAN $2" | sed 's/^/   /'; }
plan "exact: data.customer=c7" \
  "SELECT $COLS $FROM WHERE s0.field = 'customer' AND s0.value = 'c7' ORDER BY s0.process_id DESC LIMIT 51"
plan "exact, next page: data.customer=c7&after=500000" \
  "SELECT $COLS $FROM WHERE s0.field = 'customer' AND s0.value = 'c7' AND s0.process_id < 500000 ORDER BY s0.process_id DESC LIMIT 51"
plan "range: data.amount_gte=100&data.amount_lt=110" \
  "SELECT $COLS $FROM WHERE s0.field = 'amount' AND s0.value >= 100 AND s0.field = 'amount' AND s0.value < 110 ORDER BY s0.process_id DESC LIMIT 51"
plan "exact and range: data.customer=c7&data.amount_lt=5000" \
  "SELECT $COLS $FROM WHERE s0.field = 'customer' AND s0.value = 'c7' AND EXISTS (SELECT 1 FROM process_search s1 WHERE s1.field = 'amount' AND s1.value < 5000 AND s1.value < '' AND s1.process_id = p.id) ORDER BY s0.process_id DESC LIMIT 51"
plan "tasks, a value of fewer than 2000 processes (narrow): view=all&data.customer=rare" \
  "SELECT t.id FROM task t WHERE t.process_id IN (SELECT s0.process_id FROM process_search s0 NOT INDEXED WHERE s0.field = 'customer' AND s0.value = 'rare') ORDER BY t.id DESC LIMIT 51"
plan "tasks, a value of more processes (wide): view=all&data.customer=c7 (at 1M)" \
  "SELECT t.id FROM task t WHERE +t.process_id IN (SELECT s0.process_id FROM process_search s0 NOT INDEXED WHERE s0.field = 'customer' AND s0.value = 'c7') ORDER BY t.id DESC LIMIT 51"

echo "== serving" >&2
"$BIN" serve --db "$DB" --flows "$TMP/flows" --listen 127.0.0.1:0 --web web --threads 2 >"$TMP/out" 2>"$TMP/err" &
PID=$!
i=0
until PORT=$(sed -n 2>/dev/null 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$TMP/out") && [ -n "$PORT" ]; do
  i=$((i + 1)); [ $i -gt 300 ] && { cat "$TMP/err" >&2; exit 1; }; sleep 0.1
done

# measure NAME PATH EXPECTED_ITEMS -> "NAME p50 p99" in ms
measure() {
  got=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$2" | grep -o '"id": *[0-9]*, *"flow"\|"process_id": *[0-9]*, *"flow"' | wc -l)
  [ "$3" = - ] || [ "$got" -eq "$3" ] || { echo "$1: expected $3 items, got $got" >&2; exit 1; }
  : >"$TMP/t"
  k=0
  while [ $k -lt "$ITER" ]; do
    curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$2" >>"$TMP/t"
    k=$((k + 1))
  done
  sort -n "$TMP/t" | awk -v name="$1" '{ v[NR] = $1 * 1000 } END {
    printf "%-44s p50 %7.2f ms   p99 %7.2f ms\n", name, v[int(NR * 0.5 + 0.5)], v[int(NR * 0.99 + 0.5)] }'
}
echo "== $N processes, $ITER requests each" >&2
PAGE=$((N / 1000 < 50 ? N / 1000 : 50))   # a customer has N/1000 processes, a 0.1% range as many
measure "processes?data.customer=c7 (0.1%)" "/api/processes?data.customer=c7" $PAGE
measure "  ... from the middle (after=N/2)" "/api/processes?data.customer=c7&after=$((N / 2))" -
measure "processes?data.customer=rare (1 match)" "/api/processes?data.customer=rare" 1
measure "processes?data.amount_gte=100&_lt=110 (0.1%)" "/api/processes?data.amount_gte=100&data.amount_lt=110" -
measure "processes?data.customer=c7&data.amount_lt=5000" "/api/processes?data.customer=c7&data.amount_lt=5000" -
TPAGE=$((2 * N / 1000 < 50 ? 2 * N / 1000 : 50))   # two tasks per process
measure "tasks?view=all&data.customer=c7" "/api/tasks?view=all&data.customer=c7" $TPAGE
measure "tasks?view=all&data.customer=rare (1 process)" "/api/tasks?view=all&data.customer=rare" 2
measure "processes (no filter, for scale)" "/api/processes" 50
