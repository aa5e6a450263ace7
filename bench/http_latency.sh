#!/bin/sh
# How long a page read waits while the host also runs long writes (host/http_exec.c):
#   alone:  wrk reads GET /api/processes?flow=slow_start&limit=50 on kept-alive connections,
#           nothing else running (the baseline)
#   beside: the same, while one client keeps starting bench/flows/slow_start.lua, whose
#           handler computes for SECONDS_CPU (0.5) of CPU, one start after another, each on a
#           new connection (as a browser's form post)
# the two alternating in ROUNDS rounds, on a server of THREADS workers with more connections
# than workers (several kept-alive connections on each worker, as behind a proxy).
# Every read must be a 2xx answer at least nine tenths as long as the first page
# (bench/wrk_report.lua), and every start must answer 201 with its process DONE: a run with
# one that does not fails.  Prints requests/s and p50/p90/p99/max of the reads.  Not run by
# ctest.
#
#   bench/http_latency.sh [seconds per phase (5)] [connections (8)]
# Environment: THREADS (server threads, 2), ROUNDS (3), WRK_THREADS (2), SECONDS_CPU (0.5),
#              NO_BUILD=1, BUILD_DIR, KEEP=1 (bench/lib.sh)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
DURATION=${1:-5}
CONNS=${2:-8}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
WRK_THREADS=${WRK_THREADS:-2}
SECONDS_CPU=${SECONDS_CPU:-0.5}

bench_need wrk curl
bench_build flowhost
bench_tmp flowhost-latency
DB=$TMP/latency.db
"$BIN" --db "$DB" --flows bench/flows user add alice --admin --password alice-pw >/dev/null
TOKEN=$("$BIN" --db "$DB" --flows bench/flows token create alice)
"$BIN" --db "$DB" --flows bench/flows serve --listen 127.0.0.1:0 --threads "$THREADS" --jobs 0 \
  >"$TMP/out" 2>"$TMP/log" &
SERVER_PID=$!
URL=http://127.0.0.1:$(bench_port "$TMP/out" "$TMP/log")
START=$URL/api/flows/slow_start/start/start
PAGE="$URL/api/processes?flow=slow_start&limit=50"

# start [SECONDS]: one start on a new connection; fails unless 201 and DONE
start() {
  body=$(curl -sS -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"data\":{\"seconds\":$1}}" "$START")
  code=$(printf '%s\n' "$body" | tail -n 1)
  if [ "$code" != 201 ] || ! printf '%s\n' "$body" | grep -q '"status":"DONE"'; then
    echo "a start answered $code: $body" >&2
    return 1
  fi
}

# 50 quick processes: the page the readers ask for is a whole one
for _ in $(seq 1 50); do start 0; done
PAGE_BYTES=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$PAGE" | wc -c)

# writer STOPFILE COUNTFILE: long starts one after another until STOPFILE exists
writer() {
  n=0
  while [ ! -f "$1" ]; do
    start "$SECONDS_CPU" || { echo failed >"$2"; return 1; }
    n=$((n + 1))
  done
  echo "$n" >"$2"
}

read_phase() {
  echo "== $1 ($DURATION s, $CONNS connections)" >&2
  wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s -s bench/wrk_report.lua \
    -H "Authorization: Bearer $TOKEN" "$PAGE" -- $((PAGE_BYTES * 9 / 10)) | grep '^RESULT' | sed "s/^RESULT/$1/"
}

RESULTS=$TMP/results
: >"$RESULTS"
for r in $(seq 1 "$ROUNDS"); do
  read_phase "alone$r" >>"$RESULTS"
  rm -f "$TMP/stop"
  writer "$TMP/stop" "$TMP/writes" &
  WRITER=$!
  read_phase "beside$r" >>"$RESULTS"
  touch "$TMP/stop"
  wait "$WRITER" || { echo "the writer failed" >&2; exit 1; }
  writes=$(cat "$TMP/writes")
  [ "$writes" -gt 0 ] || { echo "no start ran beside the reads of round $r" >&2; exit 1; }
  echo "writes$r $writes" >>"$RESULTS"
done
bench_stop latency

echo "flowhost read latency beside long writes: $(nproc) CPUs, server threads $THREADS, wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s,"
echo "$ROUNDS rounds; the writes: starts of a handler computing for $SECONDS_CPU s of CPU, one after another"
awk -v rounds="$ROUNDS" '
  $1 ~ /^writes/ { w[substr($1, 7)] = $2; next }
  { rps[$1] = $2; p50[$1] = $3; p90[$1] = $4; p99[$1] = $5; bad[$1] = $6; err[$1] = $7; mx[$1] = $8 }
  function median(a, n,   i, j, t, v) {
    for (i = 1; i <= n; i++) v[i] = a[i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return v[int((n + 1) / 2)]
  }
  END {
    printf "%-34s %10s %8s %8s %8s %9s %6s\n", "", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "bad"
    failed = 0
    for (r = 1; r <= rounds; r++) {
      for (k = 0; k < 2; k++) {
        ph = (k == 0 ? "alone" : "beside") r
        label = k == 0 ? sprintf("round %d: reads alone", r) : sprintf("  beside %d long starts", w[r])
        printf "%-34s %10.1f %8.2f %8.2f %8.2f %9.2f %6d\n", label, rps[ph], p50[ph], p90[ph], p99[ph], mx[ph], bad[ph] + err[ph]
        if (bad[ph] + err[ph] > 0 || rps[ph] == 0) failed = 1
        if (k == 0) { a99[r] = p99[ph]; amx[r] = mx[ph] } else { b99[r] = p99[ph]; bmx[r] = mx[ph] }
      }
    }
    printf "median p99 of the reads: alone %.2f ms, beside the long starts %.2f ms; median max %.2f and %.2f ms\n",
      median(a99, rounds), median(b99, rounds), median(amx, rounds), median(bmx, rounds)
    if (failed) { print "FAILED: a read was not a whole 2xx page"; exit 1 }
  }' "$RESULTS"
