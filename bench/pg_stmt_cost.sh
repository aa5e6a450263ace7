#!/bin/sh
# What each list page's statement costs PostgreSQL, in instructions (callgrind): exact where a
# timing on this shared machine is not.  The same page's rate moved by a third between rounds a
# minute apart (bench/README.md, sections 19-22), so an A/B of two forms of a statement over HTTP
# could not tell 10% apart; the instructions of one statement repeat to the last digit.
#   1. seeds the database of bench/http_bench.sh: PROCESSES helloworld processes, bob with
#      1,000 approve tasks in his inbox and the others in his queue
#   2. serves it (BUILD_DIR, and OTHER_BUILD beside it if set) and asks each page (PAGES: bob's
#      inbox, queue, archive and counts, pages after the first, the other orders, alice's
#      archive) twice, with
#      PostgreSQL logging every statement and its parameters; the second asking is measured
#      (the first fills the host's caches)
#   3. stops the cluster and runs each prepared statement of those pages in a single-user
#      backend under callgrind, EXECUTEd K and 2K times after PREPARE, and prints
#      (instructions of 2K - instructions of K) / K, next to the same for "SELECT 1" (the
#      floor of an execution): as served (plan_cache_mode auto, as in the host's sessions:
#      after five executions PostgreSQL keeps the plan for all values only if it looks no
#      dearer than the plans for the values) and with the plan for all values forced.  A
#      statement that costs more as served is planned again at every execution: flagged.
# The figure includes printing the rows in the single-user backend's debug format: the same rows
# cost the same whichever form of a statement found them, so it compares forms of a statement
# (and builds), not pages with each other.  Statements run unnamed by the host (planned for
# their values at each execution) are listed, not measured.  Not run by ctest.
#
#   bench/pg_stmt_cost.sh
# Environment: PROCESSES (10000), K (50), BUILD_DIR (build-release), NO_BUILD=1, OTHER_BUILD
#              (a second build directory whose statements are measured beside), KEEP=1.
set -eu
cd "$(dirname "$0")/.."
if [ -z "${FLOWHOST_TEST_PG:-}" ]; then
  exec sh tests/pg/pg_cluster.sh sh bench/pg_stmt_cost.sh "$@"
fi
. bench/lib.sh
PROCESSES=${PROCESSES:-10000}
K=${K:-50}
# PostgreSQL plans the first five executions for their values and the sixth decides: with both
# runs past it, its planning cancels out of the difference
[ "$K" -ge 6 ] || { echo "K must be 6 or more" >&2; exit 2; }
bench_need psql valgrind
bench_build flowhost flowhost_lua

DB=$FLOWHOST_TEST_PG
PGDIR=$(printf '%s\n' "$DB" | sed -n 's/.*[?&]host=\([^&]*\).*/\1/p')
[ -d "$PGDIR/data" ] || { echo "no cluster directory in $DB" >&2; exit 1; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
AS=""
[ "$(id -u)" -eq 0 ] && AS="runuser -u nobody --"
bench_tmp flowhost-stmt
chmod 755 "$TMP"

echo "== users, tokens and $PROCESSES helloworld processes" >&2
bench_seed "$DB" "$PROCESSES" 1000
psql -q "$DB" -c "VACUUM ANALYZE"

# The pages, each by name: bob's unless named alice_ (alice started every process and finished
# its first task: her archive holds them all); a name ending in _next is the page after the
# first of its kind, from that page's next_after.
PAGES=${PAGES:-"inbox queue archive counts inbox_next queue_next inbox_oldest queue_oldest inbox_due queue_due
alice_archive alice_archive_next alice_finished alice_finished_next"}
path_of() {
  case $1 in
    inbox) echo "/api/tasks?view=inbox" ;;
    queue) echo "/api/tasks?view=queue" ;;
    archive | alice_archive) echo "/api/tasks?view=archive" ;;
    counts) echo "/api/tasks/counts" ;;
    inbox_oldest) echo "/api/tasks?view=inbox&sort=created_at" ;;
    queue_oldest) echo "/api/tasks?view=queue&sort=created_at" ;;
    inbox_due) echo "/api/tasks?view=inbox&sort=due_at" ;;
    queue_due) echo "/api/tasks?view=queue&sort=due_at" ;;
    alice_finished) echo "/api/tasks?view=archive&sort=-finished_at" ;;
    *) echo "unknown page $1" >&2; exit 2 ;;
  esac
}
mark() { psql -q "$DB" -c "SELECT 'flowhost-mark:$1'" >/dev/null; }

# ask BUILD_LABEL BIN: serves with BIN, asks every page twice between marks
ask() {
  label=$1
  "$2" --db "$DB" --flows flows serve --listen 127.0.0.1:0 --web web --threads 1 --jobs 0 >"$TMP/out.$label" 2>"$TMP/log.$label" &
  SERVER_PID=$!
  port=$(bench_port "$TMP/out.$label" "$TMP/log.$label")
  for page in $PAGES; do
    token=$BOB_TOKEN
    case $page in alice_*) token=$ALICE_TOKEN ;; esac
    get() { curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port$1"; }
    path=$(path_of "${page%_next}")
    case $page in
      *_next)
        after=$(get "$path" | sed -n 's/.*"next_after":\([0-9]*\).*/\1/p')
        if [ -z "$after" ]; then echo "$label ${page%_next}: a single page" >&2; exit 1; fi
        path="$path&after=$after"
        ;;
    esac
    get "$path" >/dev/null
    mark "$label:$page:begin"
    size=$(get "$path" | wc -c)
    mark "$label:$page:end"
    # (bob has finished nothing: his archive is empty, the path that once read every task)
    case $page in
      inbox* | queue* | alice_*)
        [ "$size" -gt 10000 ] || { echo "$label $page: a short page ($size bytes)" >&2; exit 1; } ;;
    esac
  done
  bench_stop "$label"
}

bench_pg_log "$DB" on
echo "== asking each page (statements logged)" >&2
ask main "$BIN"
if [ -n "${OTHER_BUILD:-}" ]; then
  case $OTHER_BUILD in /*) OTHER_BIN=$OTHER_BUILD/flowhost ;; *) OTHER_BIN=$ROOT/$OTHER_BUILD/flowhost ;; esac
  ask other "$OTHER_BIN"
fi
psql -q "$DB" -c "ALTER SYSTEM RESET ALL" -c "CHECKPOINT" >/dev/null

# statements.tsv: label, page, kind (named or unnamed), SQL, parameters as a list of literals
awk -v out="$TMP/statements.tsv" '
  /flowhost-mark:/ {
    match($0, /flowhost-mark:[^'"'"']*/); m = substr($0, RSTART + 14, RLENGTH - 14)
    n = split(m, f, ":"); if (f[3] == "begin") { cur = f[1] "\t" f[2] } else { cur = "" }
    next
  }
  cur != "" && / LOG:  duration: [0-9.]+ ms  execute / {
    sql = $0; sub(/.* execute /, "", sql)
    name = sql; sub(/:.*/, "", name); sub(/^[^:]*: /, "", sql)
    kind = (name == "<unnamed>") ? "unnamed" : "named"
    pending = cur "\t" kind "\t" sql; have = 1; next
  }
  have && / DETAIL:  parameters: / {
    p = $0; sub(/.* DETAIL:  parameters: /, "", p)
    gsub(/\$[0-9]+ = /, "", p)
    print pending "\t" p > out; have = 0; next
  }
  have { print pending "\t" > out; have = 0 }
' "$PGDIR/server.log"
[ -s "$TMP/statements.tsv" ] || { echo "no statement was logged" >&2; exit 1; }

echo "== stopping the cluster, measuring in a single-user backend (callgrind)" >&2
sh -c "$FLOWHOST_TEST_PG_CTL stop -m fast" >/dev/null
# instructions N SQLFILE: callgrind's count for a backend that runs the file
instructions() {
  # shellcheck disable=SC2086
  $AS valgrind --tool=callgrind --callgrind-out-file=/dev/null "$PGBIN/postgres" --single -D "$PGDIR/data" flowhost \
    <"$1" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
# per_execution PREPARE-TEXT EXECUTE-TEXT: (2K - K) executions' instructions / K
per_execution() {
  for n in "$K" $((2 * K)); do
    { echo "$1"; i=0; while [ "$i" -lt "$n" ]; do echo "$2"; i=$((i + 1)); done; } >"$TMP/run.$n.sql"
    chmod 644 "$TMP/run.$n.sql"
  done
  a=$(instructions "$TMP/run.$K.sql")
  b=$(instructions "$TMP/run.$((2 * K)).sql")
  [ -n "$a" ] && [ -n "$b" ] || { echo "callgrind gave no count (is valgrind installed?)" >&2; exit 1; }
  echo $(((b - a) / K))
}
# the single-user backend must not fail a statement silently: ERROR lines fail the run
check_errors() {
  # shellcheck disable=SC2086
  if $AS "$PGBIN/postgres" --single -D "$PGDIR/data" flowhost <"$1" 2>&1 | grep -m1 'ERROR'; then
    echo "the statement above failed in the single-user backend" >&2
    exit 1
  fi
}

FLOOR=$(per_execution "PREPARE s AS SELECT 1" "EXECUTE s")
echo
echo "flowhost list statements on PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'): $PROCESSES processes,"
echo "bob's and alice's pages, instructions per execution (prepared, plan for all values), K = $K"
echo
printf '%-8s %-11s %12s %12s   %s\n' build page "as served" "all values" statement
printf '%-8s %-11s %12s %12s   %s\n' - floor "$FLOOR" "$FLOOR" "SELECT 1"
while IFS="$(printf '\t')" read -r label page kind sql params; do
  short=$(printf '%s' "$sql" | cut -c 1-60)
  # only reads are run again (a heartbeat's write may fall between the marks)
  case $sql in SELECT* | WITH*) ;; *) kind="not a read" ;; esac
  if [ "$kind" != named ]; then
    printf '%-8s %-11s %12s %12s   %s...\n' "$label" "$page" "($kind)" "" "$short"
    continue
  fi
  execute="EXECUTE s"
  [ -n "$params" ] && execute="EXECUTE s($params)"
  printf 'PREPARE s AS %s\n%s\n' "$sql" "$execute" >"$TMP/check.sql"
  chmod 644 "$TMP/check.sql"
  check_errors "$TMP/check.sql"
  cost=$(per_execution "PREPARE s AS $sql" "$execute")
  generic=$(per_execution "SET plan_cache_mode = force_generic_plan
PREPARE s AS $sql" "$execute")
  # auto: what the host's sessions do; a statement that costs more than with the plan for
  # all values is planned again at every execution (its plans for the values look cheaper)
  note=""
  [ "$cost" -gt $((generic + generic / 10)) ] && note="  <- planned at every execution"
  printf '%-8s %-11s %12s %12s   %s...%s\n' "$label" "$page" "$cost" "$generic" "$short" "$note"
done <"$TMP/statements.tsv"
