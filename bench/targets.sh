#!/bin/sh
# targets.sh — issue 13's targets in one run: each figure measured by its own
# benchmark (which checks every answer and fails a run with a wrong one), beside
# that benchmark's baseline of the same run, gathered into one table with the
# target and whether this run met it.
#
#   sh bench/targets.sh [sqlite|pg|both (default)]
#
# What runs (each benchmark's own header says how it measures):
#   engine_bench ENGINE_N --sync normal, engine_bench FULL_N   (SQLite, in process)
#   bench/pg_engine.sh PG_N                                    (PostgreSQL, durable)
#   bench/http_bench.sh HTTP_SECONDS 4, ROUNDS rounds          (inbox, queue, peak RSS)
#   bench/counts_bench.sh ITER "SIZES"                          (counts and 68 list pages)
#   bench/sql_count.sh 300                                     (statements per helloworld process)
# Environment: ENGINE_N (30000), FULL_N (8000), PG_N (3000), HTTP_SECONDS (3),
#   ROUNDS (3), ITER (200: the p99 of 100 calls is one slow call of a shared VM),
#   SIZES ("10000 100000 1000000"), NO_BUILD=1 (use build-release as it is), KEEP=1
#   (keep every benchmark's whole output, else removed), WRITE=1 (the table also replaces
#   the one between the markers "<!-- targets:begin -->" and "<!-- targets:end -->" in
#   bench/README.md).
# Exits 1 if a benchmark failed (its row says so; its output is printed) or a figure was
# not found in a benchmark's output ("no figure").
# Takes ~8 minutes for both backends on this machine's 2 CPUs, most of it seeding
# 1,000,000 processes twice.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

WHICH=${1:-both}
case $WHICH in sqlite | pg | both) ;; *) echo "usage: sh bench/targets.sh [sqlite|pg|both]" >&2; exit 2 ;; esac
ENGINE_N=${ENGINE_N:-30000}
FULL_N=${FULL_N:-8000}
PG_N=${PG_N:-3000}
HTTP_SECONDS=${HTTP_SECONDS:-3}
ROUNDS=${ROUNDS:-3}
ITER=${ITER:-200}
SIZES=${SIZES:-10000 100000 1000000}
export ROUNDS

sh tools/install-deps.sh --bench
bench_build all
bench_tmp flowhost-targets
FAILED=0

# run NAME COMMAND...: its output in $TMP/NAME.log; a failure is reported and remembered
run() {
  name=$1
  shift
  echo "== $name: $*" >&2
  if ! NO_BUILD=1 "$@" >"$TMP/$name.log" 2>"$TMP/$name.err"; then
    echo "FAILED: $name; its output:" >&2
    cat "$TMP/$name.log" "$TMP/$name.err" >&2
    echo failed >"$TMP/$name.failed"
    FAILED=1
  fi
}

# ratio LOG PATTERN: the "(X per raw commit" of the first line matching PATTERN
ratio() { sed -n "/$2/{s/.*(\([0-9.]*\) per raw commit.*/\1/p;q}" "$TMP/$1.log"; }
# after LOG HEADER PATTERN: the same, for the first line matching PATTERN after HEADER
ratio_after() { sed -n "/$2/,\${/$3/{s/.*(\([0-9.]*\) per raw commit.*/\1/p;q}}" "$TMP/$1.log"; }
# median LOG NAME: the median percentage of http_bench's "NAME req/s vs static baseline" line
median() { sed -n "s/^$2 req\/s vs static baseline, median *\([0-9.]*\)%.*/\1/p" "$TMP/$1.log" | head -1; }
# verdict VALUE OP TARGET: "met" or "short" (OP ge: VALUE >= TARGET, lt: VALUE < TARGET)
verdict() {
  case $1 in [0-9]*) ;; *) echo "no figure"; return ;; esac   # (a unit alone is no figure)
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = op == "ge" ? v + 0 >= t + 0 : v + 0 < t + 0; print ok ? "met" : "short" }'
}
failed() { [ -f "$TMP/$1.failed" ]; }

# counts LOG: prints the detail of the counts' row ("counts p99 a / b / c ms at
# 10000 / 100000 / 1000000; ..."), and writes the worst p99 of every page at every
# size into LOG.worst
counts_summary() {
  awk -v sizes="$SIZES" '
    $1 ~ /^[0-9]+$/ && NF >= 6 && $4 ~ /^[0-9.]+$/ {
      size = $1; what = $3; p50 = $4; p99 = $5
      if (p99 + 0 > worst + 0) { worst = p99; worst_what = what; worst_size = size }
      # the mature pass (the last size again, most tasks finished): in the worst, not in the growth
      if (what ~ /^mature_/) { mature[what] = 1; next }
      if (what == "counts") cnt[size] = p99
      if (!(what in first)) first[what] = p50
      last[what] = p50; pages[what] = 1
    }
    END {
      n = split(sizes, s, " ")
      c = ""; at = ""
      for (i = 1; i <= n; i++) { c = c (i > 1 ? " / " : "") cnt[s[i]]; at = at (i > 1 ? " / " : "") s[i] }
      np = length(mature); growth = 0
      # growth of each page from the first size to the last, of those over 0.05 ms
      for (w in pages) {
        np++
        if (first[w] + 0 >= 0.05 && last[w] / first[w] > growth) { growth = last[w] / first[w]; gw = w }
      }
      printf "the worst of %d pages%s: %s at %s; counts p99 %s ms at %s processes; every page p50 at the last size <= %.1fx the first (%s)\n",
        np, length(mature) ? " (" length(mature) " of the mature database)" : "", worst_what, worst_size, c, at, growth, gw
      print worst > "/dev/stderr"
    }' "$TMP/$1.log" 2>"$TMP/$1.worst"
}

if [ "$WHICH" != pg ]; then
  run engine_normal env FLOWHOST_SOURCE="$ROOT" "$BUILD/engine_bench" "$ENGINE_N" --sync normal
  run engine_full env FLOWHOST_SOURCE="$ROOT" "$BUILD/engine_bench" "$FULL_N"
  run http_sqlite sh bench/http_bench.sh "$HTTP_SECONDS" 4
  run counts_sqlite sh bench/counts_bench.sh "$ITER" "$SIZES"
fi
if [ "$WHICH" != sqlite ]; then
  run engine_pg sh bench/pg_engine.sh "$PG_N"
  run http_pg env BACKEND=pg sh bench/http_bench.sh "$HTTP_SECONDS" 4
  run counts_pg env BACKEND=pg sh bench/counts_bench.sh "$ITER" "$SIZES"
fi
run sql_count sh bench/sql_count.sh 300

# one cell: "figure verdict (detail)", or what failed
cell() { # LOG FIGURE OP TARGET DETAIL
  if [ ! -f "$TMP/$1.log" ]; then echo "not run"; elif failed "$1"; then echo "**FAILED** (its output above)"; else
    echo "$2 $(verdict "$2" "$3" "$4")${5:+ ($5)}"; fi
}

S_ONE="" S_EIGHT="" S_FULL="" S_IN="" S_Q="" S_RSS="" S_COUNTS="" S_STMT=""
P_ONE="" P_EIGHT="" P_FULL="" P_IN="" P_Q="" P_COUNTS="" P_STMT=""
if [ "$WHICH" != pg ]; then
  raw_n=$(sed -n 's/^ *sqlite commits\/second *\([0-9]*\).*/\1/p' "$TMP/engine_normal.log")
  raw_f=$(sed -n 's/^ *sqlite commits\/second *\([0-9]*\).*/\1/p' "$TMP/engine_full.log")
  one=$(sed -n 's/^ *ratio *\([0-9.]*\) processes per raw commit.*/\1/p' "$TMP/engine_normal.log")
  S_ONE=$(cell engine_normal "$one" ge 0.25 "raw $raw_n commits/s; the same rows alone $(ratio engine_normal 'the same rows alone'); lean $(ratio_after engine_normal 'history = "lean"' '1 thread')")
  S_EIGHT=$(cell engine_normal "$(ratio engine_normal '^  8 threads at once')" ge 0.5 "lean $(ratio_after engine_normal 'history = "lean"' '8 threads')")
  per_sync=$(sed -n '/^  8 threads at once/s/.*; \([0-9.]*\) actions per WAL sync.*/\1/p' "$TMP/engine_full.log")
  S_FULL=$(cell engine_full "$(ratio engine_full '^  8 threads at once')" ge 2 "raw $raw_f commits/s; $per_sync actions per WAL sync; lean $(ratio_after engine_full 'history = "lean"' '8 threads')")
  S_IN=$(cell http_sqlite "$(median http_sqlite inbox)%" ge 25 "")
  S_Q=$(cell http_sqlite "$(median http_sqlite queue)%" ge 25 "")
  rss=$(sed -n 's/^peak RSS of the server (VmHWM): \([0-9.]*\) MiB under the load above, \([0-9.]*\) MiB after.*/\1 \2/p' "$TMP/http_sqlite.log")
  S_RSS=$(cell http_sqlite "${rss#* } MiB" lt 32 "${rss% *} MiB under the pages' load; the figure: after 16 concurrent sign-ins")
  cs=$(counts_summary counts_sqlite)
  S_COUNTS=$(cell counts_sqlite "$(cat "$TMP/counts_sqlite.worst") ms" lt 5 "$cs")
  S_STMT=$(cell sql_count "$(sed -n '/^== SQLite/,/^==/{s/^  total *\([0-9.]*\).*/\1/p}' "$TMP/sql_count.log" | head -1)" lt 30.01 "")
fi
if [ "$WHICH" != sqlite ]; then
  raw_p=$(sed -n 's/^ *raw commits\/second *\([0-9]*\).*/\1/p' "$TMP/engine_pg.log")
  P_ONE=$(cell engine_pg "$(ratio engine_pg '^  1 engine  at once')" ge 0.25 "raw $raw_p commits/s (durable); the same rows alone $(ratio engine_pg 'the same rows alone, 1'); lean $(ratio_after engine_pg 'history = "lean"' '1 engine')")
  P_FULL=$(cell engine_pg "$(ratio engine_pg '^  8 engines at once')" ge 2 "the same rows alone over 8 connections $(ratio engine_pg 'the same rows alone, 8'); lean $(ratio_after engine_pg 'history = "lean"' '8 engines')")
  P_EIGHT="(durable: the row above)"
  alone_in=$(sed -n 's/^PostgreSQL alone, inbox statement req\/s vs static baseline, median *\([0-9.]*\)%.*/\1/p' "$TMP/http_pg.log")
  alone_q=$(sed -n 's/^PostgreSQL alone, queue statement req\/s vs static baseline, median *\([0-9.]*\)%.*/\1/p' "$TMP/http_pg.log")
  P_IN=$(cell http_pg "$(median http_pg inbox)%" ge 25 "PostgreSQL alone, the page's statement: $alone_in%")
  P_Q=$(cell http_pg "$(median http_pg queue)%" ge 25 "PostgreSQL alone: $alone_q%")
  cs=$(counts_summary counts_pg)
  P_COUNTS=$(cell counts_pg "$(cat "$TMP/counts_pg.worst") ms" lt 5 "$cs")
  P_STMT=$(cell sql_count "$(sed -n '/^== PostgreSQL/,${s/^  total *\([0-9.]*\) *\([0-9.]*\).*/\1/p}' "$TMP/sql_count.log" | head -1)" lt 30.01 "$(sed -n '/^== PostgreSQL/,${s/^  total *[0-9.]* *\([0-9.]*\).*/\1/p}' "$TMP/sql_count.log" | head -1) round trips")
fi

TABLE=$TMP/table.md
{
  echo "Run of $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs, \`sh bench/targets.sh $WHICH\` at $(git rev-parse --short HEAD 2>/dev/null || echo '?'):"
  echo
  echo "| target | SQLite | PostgreSQL |"
  echo "|---|---|---|"
  echo "| all-automatic flow, one engine, NORMAL: >= 0.25 of raw one-row commits/s | $S_ONE | $P_ONE |"
  echo "| the same, 8 engines at once: the moonshot 0.5 | $S_EIGHT | $P_EIGHT |"
  echo "| FULL, 8 clients: >= 2x the raw single-writer FULL commit | $S_FULL | $P_FULL |"
  echo "| inbox of 50 rows: >= 25% of a static file's rate (wrk -c4, median of $ROUNDS rounds) | $S_IN | $P_IN |"
  echo "| queue of 50 rows: >= 25% of a static file's rate | $S_Q | $P_Q |"
  echo "| counts and every list page: p99 < 5 ms at 1,000,000 processes, flat from 10k (the worst page's p99) | $S_COUNTS | $P_COUNTS |"
  echo "| SQL statements per helloworld process: <= 30 | $S_STMT | $P_STMT |"
  echo "| peak RSS of \`flowhost serve\` under the HTTP benchmark: < 32 MiB | $S_RSS | |"
  echo
  echo "\"lean\": the same flow with \`history = \"lean\"\` (its steps leave no task row); \"the same rows"
  echo "alone\": what the database takes to store the rows of one such process by plain statements, one"
  echo "transaction each (the floor of any engine that keeps them); ratios are per raw one-row commit."
} >"$TABLE"
echo
cat "$TABLE"
# a benchmark whose output no longer says what this script reads is a failed run, not a blank cell
if grep -q "no figure" "$TABLE"; then
  echo "FAILED: a figure was not found in its benchmark's output (its format changed?); KEEP=1 keeps them" >&2
  FAILED=1
fi

if [ "${WRITE:-0}" = 1 ]; then
  awk -v table="$TABLE" '
    /<!-- targets:begin -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
    /<!-- targets:end -->/ { skip = 0 }
    !skip' bench/README.md >"$TMP/README.md"
  grep -q '<!-- targets:begin -->' bench/README.md || { echo "bench/README.md has no targets markers" >&2; exit 1; }
  cp "$TMP/README.md" bench/README.md
  echo "(written into bench/README.md)" >&2
fi
exit "$FAILED"
