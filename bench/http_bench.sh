#!/bin/sh
# HTTP benchmark of `flowhost serve` (Release build), each figure next to a static-file
# baseline measured in the same run:
#   1. GET /style.css                         (static file: the cost of HTTP alone)
#   2. GET /api/tasks?view=inbox              (bearer token; 10,000 processes in the database)
#   3. GET /api/tasks?view=queue              (the same user's queue: 50 of the 9,000 tasks he may take)
#   (BACKEND=pg: after 2 and 3, PostgreSQL alone running the one statement of that page,
#    with pgbench: the most any server in front of it could answer on this machine)
#   (1-3 in ROUNDS rounds, each page's ratio to the static file of its own round: this
#    machine's speed moves by a third within a minute, so one static run against
#    pages measured later compared moments, not the host; the median ratio is reported)
#   4. the helloworld cycle over the API      (start + assign + execute, as fast as possible)
# An answer that is not 2xx, or shorter than nine tenths of the first answer of its kind,
# counts as an error (bench/wrk_report.lua).
# Requests/s and latency p50/p90/p99 from wrk.  Not run by ctest.
#
#   bench/http_bench.sh [seconds per run (10)] [connections (32)]
# Environment: PROCESSES (10000), THREADS (server threads, 4), SYNC (full|normal, full),
#              WRK_THREADS (2), ROUNDS (3), KEEP=1 keeps the temporary folder,
#              BUILD_DIR (build-release) and CMAKE_ARGS (extra cmake configure arguments),
#              BACKEND: sqlite (default) or pg: the same on PostgreSQL, in a private durable
#              throw-away cluster (PG_CLUSTER_DURABLE=1 tests/pg/pg_cluster.sh) unless
#              FLOWHOST_TEST_PG names one (SYNC does not apply there).
set -eu
cd "$(dirname "$0")/.."
BACKEND=${BACKEND:-sqlite}
case $BACKEND in sqlite | pg) ;; *) echo "BACKEND is sqlite or pg, not $BACKEND" >&2; exit 2 ;; esac
if [ "$BACKEND" = pg ] && [ -z "${FLOWHOST_TEST_PG:-}" ]; then
  PG_CLUSTER_DURABLE=1 exec sh tests/pg/pg_cluster.sh sh bench/http_bench.sh "$@"
fi
. bench/lib.sh
DURATION=${1:-10}
CONNS=${2:-32}
PROCESSES=${PROCESSES:-10000}
THREADS=${THREADS:-4}
SYNC=${SYNC:-full}
WRK_THREADS=${WRK_THREADS:-2}
ROUNDS=${ROUNDS:-3}

bench_need wrk
[ "$BACKEND" = pg ] && bench_need psql
bench_build all

bench_tmp flowhost-bench
DB=$TMP/bench.db
[ "$BACKEND" = pg ] && DB=$FLOWHOST_TEST_PG && SYNC=full

echo "== users, tokens and $PROCESSES helloworld processes" >&2
bench_seed "$DB" "$PROCESSES" 1000
# the 16 people of the burst of sign-ins below: one sign-in each, as a morning's burst is
for i in $(seq 1 16); do "$BIN" --db "$DB" --flows flows user add "signin$i" --password "signin$i-pw" >/dev/null; done
export ALICE_TOKEN BOB_TOKEN
# PostgreSQL plans by its statistics, which a bulk load leaves empty until autovacuum
# comes by (up to a minute later): the queue page was then planned as a scan of every
# queued task and a sort (38 ms instead of 0.4).  A database in use has them.
[ "$BACKEND" = pg ] && psql -q "$DB" -c "VACUUM ANALYZE"

# PostgreSQL alone: the one statement each page runs there, captured from the server's log
# as the host ran it (its parameters' values put in as literals: a statement without
# parameters keeps one plan, so this is the executor's cost alone), run by pgbench with as
# many clients as wrk has connections, after each page in each round.  No server in front
# of PostgreSQL can answer that page faster on this machine.  Needs the cluster of
# tests/pg/pg_cluster.sh (its log beside the socket); another FLOWHOST_TEST_PG goes without.
PG_SCRIPTS=""
if [ "$BACKEND" = pg ]; then
  PGDIR=$(printf '%s\n' "$DB" | sed -n 's/.*[?&]host=\([^&]*\).*/\1/p')
  if [ -n "$PGDIR" ] && [ -f "$PGDIR/server.log" ] && command -v pgbench >/dev/null 2>&1; then
    # only what the server logs from here on is this run's (a cluster named by
    # FLOWHOST_TEST_PG may have run the benchmark before: its log holds those runs too)
    LOG_FROM=$(($(wc -c <"$PGDIR/server.log") + 1))
    bench_pg_log "$DB" on
    # a server of one thread (one connection), its own for this
    "$BIN" --db "$DB" --flows flows serve --listen 127.0.0.1:0 --web web --threads 1 --jobs 0 \
      >"$TMP/out.capture" 2>"$TMP/log.capture" &
    SERVER_PID=$!
    CAPTURE_URL=http://127.0.0.1:$(bench_port "$TMP/out.capture" "$TMP/log.capture")
    for page in inbox queue; do
      # asked twice: the first fills the host's caches; the second's statements, between marks
      curl -fsS -o /dev/null -H "Authorization: Bearer $BOB_TOKEN" "$CAPTURE_URL/api/tasks?view=$page"
      psql -q "$DB" -c "SELECT 'flowhost-mark:$page:begin'" >/dev/null
      curl -fsS -o /dev/null -H "Authorization: Bearer $BOB_TOKEN" "$CAPTURE_URL/api/tasks?view=$page"
      psql -q "$DB" -c "SELECT 'flowhost-mark:$page:end'" >/dev/null
    done
    bench_stop capturing
    bench_pg_log "$DB" off
    tail -c "+$LOG_FROM" "$PGDIR/server.log" >"$TMP/server.log"
    # each page's executed statements, parameters in place, one per line of TMP/pg_PAGE.sql
    awk -v dir="$TMP" '
      /flowhost-mark:/ {
        match($0, /flowhost-mark:[^:]*:[a-z]*/); split(substr($0, RSTART, RLENGTH), f, ":")
        page = (f[3] == "begin") ? f[2] : ""; next
      }
      page != "" && / LOG:  duration: [0-9.]+ ms  execute / {
        sql = $0; sub(/.* execute [^:]*: /, "", sql); have = 1; next
      }
      have {
        np = 0
        if ($0 ~ / DETAIL:  parameters: /) {
          p = $0; sub(/.* DETAIL:  parameters: /, "", p)
          # "$1 = '"'"'text'"'"', $2 = NULL, ...": the log quotes each value as SQL does
          while (match(p, /^\$[0-9]+ = /)) {
            i = substr(p, 2, RLENGTH - 4) + 0; p = substr(p, RLENGTH + 1)
            if (substr(p, 1, 4) == "NULL") { v = "NULL"; p = substr(p, 5) }
            else {
              for (j = 2; j <= length(p); j++) {
                if (substr(p, j, 1) != "'"'"'") continue
                if (substr(p, j + 1, 1) == "'"'"'") { j++; continue }
                break
              }
              v = substr(p, 1, j); p = substr(p, j + 1)
            }
            val[i] = v; if (i > np) np = i
            sub(/^, /, "", p)
          }
        }
        # the highest first: $1 must not take the front of $12
        for (i = np; i >= 1; i--) { s = "\\$" i; gsub(s, val[i], sql) }
        print sql ";" > (dir "/pg_" page ".sql"); have = 0
      }
    ' "$TMP/server.log"
    for page in inbox queue; do
      f=$TMP/pg_$page.sql
      [ "$(grep -c '' "$f" 2>/dev/null || echo 0)" = 1 ] ||
        { echo "PostgreSQL baseline: expected the $page page's one statement in the log" >&2; exit 1; }
      # a real page: the statement reads its 50 rows and one more, as the host's did
      rows=$(psql -Atq "$DB" -f "$f" | grep -c '')
      [ "$rows" = 51 ] || { echo "PostgreSQL baseline: the $page statement read $rows rows, not 51" >&2; exit 1; }
    done
    PG_SCRIPTS=1
  else
    echo "(no PostgreSQL baseline: needs pgbench and the cluster of tests/pg/pg_cluster.sh)" >&2
  fi
fi

echo "== starting the server (threads $THREADS, sync $SYNC)" >&2
"$BIN" --db "$DB" --flows flows --sync "$SYNC" serve --listen 127.0.0.1:0 --web web --threads "$THREADS" --jobs 0 \
  >"$TMP/out" 2>"$TMP/access.log" &
SERVER_PID=$!
PORT=$(bench_port "$TMP/out" "$TMP/access.log")
URL=http://127.0.0.1:$PORT
# The size of each answer, to tell a short one (nine tenths of it) from a real one
bytes() { curl -fsS "$@" | wc -c; }
STATIC_BYTES=$(bytes "$URL/style.css")
INBOX_BYTES=$(bytes -H "Authorization: Bearer $BOB_TOKEN" "$URL/api/tasks?view=inbox")
QUEUE_BYTES=$(bytes -H "Authorization: Bearer $BOB_TOKEN" "$URL/api/tasks?view=queue")
for b in "$INBOX_BYTES" "$QUEUE_BYTES"; do
  [ "$b" -gt 10000 ] || { echo "a page of 50 tasks has only $b bytes" >&2; exit 1; }
done

# run NAME wrk-args...  -> prints the RESULT line of the script
run() {
  name=$1
  shift
  echo "== $name ($DURATION s, $CONNS connections)" >&2
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s "$@" | grep '^RESULT' | sed "s/^RESULT/$name/"
}
# run_pg NAME PAGE -> "NAME <statements/s> <average ms> <failed>": PostgreSQL alone (above)
run_pg() {
  echo "== $1: PostgreSQL alone ($DURATION s, $CONNS clients)" >&2
  pgbench -n -M prepared -c "$CONNS" -j "$WRK_THREADS" -T "$DURATION" -f "$TMP/pg_$2.sql" "$DB" >"$TMP/pgbench.log" 2>&1 ||
    { cat "$TMP/pgbench.log" >&2; exit 1; }
  awk -v name="$1" '
    /^tps = / { tps = $3 } /^latency average = / { avg = $4 } /^number of failed transactions: / { failed = $5 }
    END { if (tps == "" || failed + 0 > 0) exit 1; printf "%s %s %s %d\n", name, tps, avg, failed }' "$TMP/pgbench.log" ||
    { cat "$TMP/pgbench.log" >&2; exit 1; }
}

RESULTS=$TMP/results
{
  for r in $(seq 1 "$ROUNDS"); do
    run "static$r" -s bench/wrk_report.lua "$URL/style.css" -- $((STATIC_BYTES * 9 / 10))
    run "inbox$r" -s bench/wrk_report.lua -H "Authorization: Bearer $BOB_TOKEN" "$URL/api/tasks?view=inbox" \
      -- $((INBOX_BYTES * 9 / 10))
    run "queue$r" -s bench/wrk_report.lua -H "Authorization: Bearer $BOB_TOKEN" "$URL/api/tasks?view=queue" \
      -- $((QUEUE_BYTES * 9 / 10))
    if [ -n "$PG_SCRIPTS" ]; then
      run_pg "pginbox$r" inbox
      run_pg "pgqueue$r" queue
    fi
  done
  run cycle -s bench/http_cycle.lua "$URL/"
} >"$RESULTS"

LOAD_PEAK_KB=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$SERVER_PID/status")
# A burst of 16 sign-ins at once, of 16 people (password hashing is the host's
# one big allocation): each must answer 200, and the peak RSS below includes it.
echo "== 16 concurrent sign-ins" >&2
LOGIN_PIDS=""
for i in $(seq 1 16); do
  curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
    -d "{\"username\":\"signin$i\",\"password\":\"signin$i-pw\"}" "$URL/api/session" >"$TMP/login.$i" &
  LOGIN_PIDS="$LOGIN_PIDS $!"
done
# shellcheck disable=SC2086
wait $LOGIN_PIDS
for i in $(seq 1 16); do
  [ "$(cat "$TMP/login.$i")" = 200 ] || { echo "sign-in $i answered $(cat "$TMP/login.$i")" >&2; exit 1; }
done
PEAK_KB=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$SERVER_PID/status")
NOW_KB=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$SERVER_PID/status")

bench_stop benchmarked

echo
[ "$BACKEND" = pg ] && WHERE="PostgreSQL (fsync on, synchronous_commit on; same machine)" || WHERE="SQLite, sync $SYNC"
echo "flowhost HTTP benchmark on $WHERE: $(nproc) CPUs, server threads $THREADS, wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s, $ROUNDS rounds,"
echo "$PROCESSES helloworld processes in the database (bob: 1000 in his inbox)"
echo
awk -v rounds="$ROUNDS" '
  { rps[$1] = $2; p50[$1] = $3; p90[$1] = $4; p99[$1] = $5; bad[$1] = $6; err[$1] = $7; cyc[$1] = $8 }
  END {
    printf "%-44s %10s %9s %9s %9s %8s\n", "", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors"
    for (r = 1; r <= rounds; r++) {
      row("static" r, "round " r ": static file GET /style.css")
      row("inbox" r, "  GET /api/tasks?view=inbox (bearer)")
      row("queue" r, "  GET /api/tasks?view=queue (bearer)")
      pg("pginbox" r, "  PostgreSQL alone: the inbox statement")
      pg("pgqueue" r, "  PostgreSQL alone: the queue statement")
      s[r] = rps["static" r]; ri[r] = rps["inbox" r] / s[r]; rq[r] = rps["queue" r] / s[r]
      if (("pginbox" r) in rps) {
        pi[r] = rps["pginbox" r] / s[r]; pq[r] = rps["pgqueue" r] / s[r]
        hi[r] = rps["inbox" r] / rps["pginbox" r]; hq[r] = rps["queue" r] / rps["pgqueue" r]
      }
    }
    row("cycle", "helloworld cycle: start+assign+execute")
    if ("cycle" in cyc) printf "%-44s %10.1f   (%.1f%% of the median static run in req/s)\n", "  = whole processes per second", cyc["cycle"], 100 * rps["cycle"] / median(s)
    ratio("inbox", ri, "static baseline")
    ratio("queue", rq, "static baseline")
    if (("pginbox" 1) in rps) {
      ratio("PostgreSQL alone, inbox statement", pi, "static baseline")
      ratio("PostgreSQL alone, queue statement", pq, "static baseline")
      ratio("inbox", hi, "PostgreSQL alone")
      ratio("queue", hq, "PostgreSQL alone")
    }
  }
  # PostgreSQL alone: statements/s and the average latency (pgbench gives no percentiles)
  function pg(k, label) {
    if (k in rps) printf "%-44s %10.1f %9.2f %9s %9s %8d\n", label, rps[k], p50[k], "(avg)", "", p90[k]
  }
  function row(k, label) {
    if (k in rps) printf "%-44s %10.1f %9.2f %9.2f %9.2f %8d\n", label, rps[k], p50[k], p90[k], p99[k], bad[k] + err[k]
  }
  # the median ratio to what the same round measured against, and every round'"'"'s
  function ratio(name, v, against,    r, all) {
    for (r = 1; r <= rounds; r++) all = all (r > 1 ? ", " : "") sprintf("%.1f%%", 100 * v[r])
    printf "%-44s %9.1f%%   (rounds: %s)\n", name " req/s vs " against ", median", 100 * median(v), all
  }
  function median(v,    n, i, j, t, c) {
    for (i = 1; i <= rounds; i++) c[i] = v[i]
    for (i = 2; i <= rounds; i++) for (j = i; j > 1 && c[j - 1] > c[j]; j--) { t = c[j]; c[j] = c[j - 1]; c[j - 1] = t }
    return rounds % 2 ? c[(rounds + 1) / 2] : (c[rounds / 2] + c[rounds / 2 + 1]) / 2
  }
' "$RESULTS"
echo
awk -v l="$LOAD_PEAK_KB" -v p="$PEAK_KB" -v n="$NOW_KB" 'BEGIN {
  printf "peak RSS of the server (VmHWM): %.1f MiB under the load above, %.1f MiB after 16 concurrent sign-ins", l / 1024, p / 1024
  printf " (at the end %.1f MiB; target < 32 MiB)\n", n / 1024 }' 
BY_STATUS="SELECT status || ' ' || count(*) FROM process GROUP BY status ORDER BY status"
if [ "$BACKEND" = pg ]; then BY_STATUS=$(psql "$DB" -Atc "$BY_STATUS"); else BY_STATUS=$(sqlite3 "$DB" "$BY_STATUS"); fi
echo "access log: $(wc -l <"$TMP/access.log") lines; processes by status now: $(echo "$BY_STATUS" | paste -sd, | sed 's/,/, /g')"
