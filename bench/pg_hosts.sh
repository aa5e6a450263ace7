#!/bin/sh
# 1, 2 and 3 `flowhost serve` hosts on one durable PostgreSQL (fsync and synchronous_commit
# on), next to pgbench's simple-update rate on the same server in the same run:
#   1. pgbench -i, then pgbench -b simple-update -c CONNS -j 2 -T SECONDS   (the server's rate)
#   2. for 1, 2, 3 hosts (a fresh database each, the same flows):
#      the all-automatic flow (bench/flows/auto.lua, one start = one process to DONE) and
#      the helloworld cycle (start, assign, execute: bench/http_cycle.lua) over HTTP,
#      CONNS connections in all, spread evenly over the hosts (one wrk per host);
#   3. statements and round trips per action: the difference of flowhost_db_statements_total
#      and flowhost_db_round_trips_total (GET /metrics of every host) over the run, divided by
#      the actions done (flowhost_actions_total).
# Every answer is checked (bench/pg_auto.lua, bench/http_cycle.lua): one bad answer or socket
# error fails the run (exit 1), and so does a process of the auto flow that is not DONE.
# Prints one table; the figures of a run are in bench/README.md.  Not run by ctest.
#
#   bench/pg_hosts.sh [seconds per run (10)] [connections (12)]
# Environment: THREADS (server threads per host, 4), BUILD_DIR (build-release; built Release
#              unless NO_BUILD=1), HOSTS ("1 2 3"), KEEP=1 keeps the temporary folder.
# Without FLOWHOST_TEST_PG it runs itself under a durable throw-away cluster
# (PG_CLUSTER_DURABLE=1 tests/pg/pg_cluster.sh).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ -z "${FLOWHOST_TEST_PG:-}" ]; then
  PG_CLUSTER_DURABLE=1 exec sh tests/pg/pg_cluster.sh sh "$ROOT/bench/pg_hosts.sh" "$@"
fi
DURATION=${1:-10}
CONNS=${2:-12}
THREADS=${THREADS:-4}
HOSTS=${HOSTS:-"1 2 3"}
PG=$FLOWHOST_TEST_PG
. bench/lib.sh
bench_need wrk pgbench psql curl
bench_build flowhost

TMP=$(mktemp -d /tmp/flowhost-pghosts.XXXXXX)
SERVERS=""
stop_servers() {
  for pid in $SERVERS; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $SERVERS; do wait "$pid" 2>/dev/null || true; done
  SERVERS=""
}
cleanup() {
  stop_servers
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir "$TMP/flows"
cp flows/helloworld.lua bench/flows/auto.lua "$TMP/flows/"

# url_of NAME: the cluster's connection string for database NAME
url_of() { printf '%s\n' "$PG" | sed "s|^postgresql:///[^?]*|postgresql:///$1|"; }

# 1. the server's own rate
echo "== pgbench simple-update ($DURATION s, $CONNS clients)" >&2
psql "$PG" -qc "CREATE DATABASE pgbench"
pgbench -i -q "$(url_of pgbench)" >"$TMP/pgbench-init.log" 2>&1 || { cat "$TMP/pgbench-init.log" >&2; exit 1; }
pgbench -b simple-update -c "$CONNS" -j 2 -T "$DURATION" "$(url_of pgbench)" >"$TMP/pgbench.log" 2>&1 ||
  { cat "$TMP/pgbench.log" >&2; exit 1; }
TPS=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$TMP/pgbench.log" | head -n 1)
[ -n "$TPS" ] || { cat "$TMP/pgbench.log" >&2; exit 1; }

# start_hosts N URL: N servers on one database; their ports in $TMP/ports (api metrics per line)
start_hosts() {
  : >"$TMP/ports"
  for i in $(seq 1 "$1"); do
    "$BIN" serve --db "$2" --flows "$TMP/flows" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
      --threads "$THREADS" --jobs 0 >"$TMP/out.$i" 2>"$TMP/err.$i" &
    SERVERS="$SERVERS $!"
  done
  for i in $(seq 1 "$1"); do
    api="" metrics=""
    for _ in $(seq 1 100); do
      api=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$TMP/out.$i")
      metrics=$(sed -n 's|^metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' "$TMP/out.$i")
      [ -n "$api" ] && [ -n "$metrics" ] && break
      sleep 0.1
    done
    if [ -z "$api" ] || [ -z "$metrics" ]; then
      echo "host $i did not start:" >&2
      cat "$TMP/err.$i" >&2
      exit 1
    fi
    echo "$api $metrics" >>"$TMP/ports"
  done
}

# counters: "statements round_trips actions", summed over the hosts' /metrics
counters() {
  while read -r _ metrics; do
    curl -fsS "http://127.0.0.1:$metrics/metrics" || { echo "scrape of :$metrics failed" >&2; exit 1; }
  done <"$TMP/ports" | awk '
    /^flowhost_db_statements_total\{backend="postgresql"\}/ { s += $2 }
    /^flowhost_db_round_trips_total\{backend="postgresql"\}/ { r += $2 }
    /^flowhost_actions_total\{/ { a += $2 }
    END { printf "%d %d %d\n", s, r, a }'
}

# load NAME SCRIPT HOSTS: one wrk per host, CONNS/HOSTS connections each, at once; prints
# "NAME HOSTS processes/s actions/s bad errors statements/action round_trips/action p50 p99"
# (processes and actions summed over the hosts; p50 and p99 the largest of the hosts')
load() {
  name=$1 script=$2 n=$3
  per=$((CONNS / n))
  before=$(counters)
  i=0
  pids=""
  while read -r api _; do
    i=$((i + 1))
    wrk -t1 -c"$per" -d"${DURATION}s" --timeout 10s -s "$script" "http://127.0.0.1:$api/" >"$TMP/wrk.$name.$i" 2>&1 &
    pids="$pids $!"
  done <"$TMP/ports"
  # shellcheck disable=SC2086
  wait $pids
  after=$(counters)
  cat "$TMP"/wrk."$name".* | grep '^RESULT' >"$TMP/results.$name" ||
    { cat "$TMP"/wrk."$name".* >&2; exit 1; }
  echo "$before $after" | awk -v name="$name" -v n="$n" -v d="$DURATION" -v f="$TMP/results.$name" '
    { ds = $4 - $1; dr = $5 - $2; da = $6 - $3 }
    END {
      while ((getline line < f) > 0) {
        split(line, r, " "); p50 = r[3] > p50 ? r[3] : p50; p99 = r[5] > p99 ? r[5] : p99
        bad += r[6]; err += r[7]; procs += r[8]
      }
      printf "%s %d %.1f %.1f %d %d %.2f %.2f %.2f %.2f\n", name, n, procs, da / d, bad, err,
        da ? ds / da : 0, da ? dr / da : 0, p50, p99
    }'
}

RESULTS=$TMP/results
: >"$RESULTS"
for n in $HOSTS; do
  db=hosts$n
  psql "$PG" -qc "CREATE DATABASE $db"
  URL=$(url_of "$db")
  echo "== $n host(s) on database $db: users, tokens" >&2
  "$BIN" --db "$URL" --flows "$TMP/flows" user add alice --password alice-pw >/dev/null
  "$BIN" --db "$URL" --flows "$TMP/flows" user add bob --password bob-pw >/dev/null
  "$BIN" --db "$URL" --flows "$TMP/flows" user grant alice helloworld.start >/dev/null
  "$BIN" --db "$URL" --flows "$TMP/flows" user grant alice auto.manage >/dev/null
  "$BIN" --db "$URL" --flows "$TMP/flows" user grant bob helloworld.approve >/dev/null
  ALICE_TOKEN=$("$BIN" --db "$URL" --flows "$TMP/flows" token create alice)
  BOB_TOKEN=$("$BIN" --db "$URL" --flows "$TMP/flows" token create bob)
  export ALICE_TOKEN BOB_TOKEN
  start_hosts "$n" "$URL"
  # warm up every connection of every host (statements are prepared once per connection)
  while read -r api _; do
    for _ in $(seq 1 $((THREADS * 2))); do
      curl -fsS -o /dev/null -H "Authorization: Bearer $ALICE_TOKEN" -H 'Content-Type: application/json' \
        -d '{"data":{"n":1}}' "http://127.0.0.1:$api/api/flows/auto/start/start"
    done
    wrk -t1 -c"$THREADS" -d1s -s bench/http_cycle.lua "http://127.0.0.1:$api/" >/dev/null 2>&1
  done <"$TMP/ports"
  echo "== $n host(s): auto flow ($DURATION s, $CONNS connections)" >&2
  load auto bench/pg_auto.lua "$n" >>"$RESULTS"
  echo "== $n host(s): helloworld cycle ($DURATION s, $CONNS connections)" >&2
  load cycle bench/http_cycle.lua "$n" >>"$RESULTS"
  stop_servers
  # the auto flow runs to DONE in its one write: any other status is a lost or torn process
  torn=$(psql "$URL" -Atc "SELECT count(*) FROM process WHERE flow = 'auto' AND status <> 'DONE'")
  [ "$torn" = 0 ] || { echo "$torn auto processes are not DONE on $db" >&2; exit 1; }
  psql "$URL" -Atc "SELECT flow || ' ' || status || ' ' || count(*) FROM process GROUP BY flow, status ORDER BY 1" |
    tr '\n' ',' | sed 's/,$/\n/;s/,/, /g;s/^/  processes now: /' >&2
done

echo
echo "flowhost on PostgreSQL (fsync on, synchronous_commit on; one local server): $(nproc) CPUs"
echo "shared by the server, the hosts and wrk; $THREADS threads per host; $CONNS connections in all"
echo "(pgbench: $CONNS clients, -j 2); $DURATION s per run; ratio = flowhost actions/s / pgbench tps"
echo
awk -v tps="$TPS" '
  BEGIN {
    printf "%-28s %6s %12s %10s %7s %9s %9s %8s %8s\n", "", "hosts", "processes/s", "actions/s", "ratio",
      "stmts/act", "trips/act", "p50 ms", "p99 ms"
    printf "%-28s %6s %12s %10.1f %7s\n", "pgbench simple-update (tps)", "", "", tps, "1.00"
  }
  {
    label = $1 == "auto" ? "auto flow (1 action each)" : "helloworld cycle (3 actions)"
    printf "%-28s %6d %12.1f %10.1f %7.2f %9.2f %9.2f %8.2f %8.2f\n", label, $2, $3, $4, $4 / tps, $7, $8, $9, $10
    bad += $5 + $6
  }
  END { if (bad) { printf "\n%d bad answers or socket errors: the run failed\n", bad; exit 1 } }
' "$RESULTS"
