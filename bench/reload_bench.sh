#!/bin/sh
# Hot reload benchmark against a real `flowhost serve` on a temporary copy of flows/:
#  1. latency: from a flow file's save (temp file + rename) to the new definition answering
#     on GET /api/flows/{flow}, median and worst of 50 edits;
#  2. throughput: requests/second of GET /api/flows and GET /api/processes/1 with wrk
#     (a sequential Lua client when wrk is missing), without and during a reload storm
#     (the file rewritten every STORM_INTERVAL seconds, default 0.06: one reload each).
#
#   bench/reload_bench.sh            (FLOWHOST_BIN=path, DURATION=5, THREADS=4 to change)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${FLOWHOST_BIN:-$SRC/build/flowhost}
DURATION=${DURATION:-5}
THREADS=${THREADS:-4}
STORM_INTERVAL=${STORM_INTERVAL:-0.06}
export FLOWHOST_SOURCE="$SRC"
[ -x "$BIN" ] || { echo "reload_bench: no $BIN (build first)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/flowhost-reload-bench.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

cp -r "$SRC/flows" "$tmp/flows"
cat >"$tmp/flows/doc.lua" <<'EOF'
local flow = require "flow"
local this = flow.this
return flow.Flow {
  title = "Doc",
  start = flow.StartFunction():Next(this.write),
  write = flow.View { title = "Write" }:Next(this.finish),
  finish = flow.End(),
}
EOF
db="$tmp/flowhost.db"
"$BIN" user add bench --admin --password bench --db "$db" --flows "$tmp/flows" >/dev/null
token=$("$BIN" token create bench --db "$db" --flows "$tmp/flows")
"$BIN" start doc --db "$db" --flows "$tmp/flows" >/dev/null

"$BIN" serve --listen 127.0.0.1:0 --db "$db" --flows "$tmp/flows" --web "$SRC/web" --threads "$THREADS" \
  --sync normal >"$tmp/out" 2>"$tmp/err" &
pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/out")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "reload_bench: serve did not start" >&2; cat "$tmp/err" >&2; exit 1; }
url="http://127.0.0.1:$port"
nflows=$(ls "$tmp/flows"/*.lua "$tmp/flows"/*/*.lua 2>/dev/null | wc -l)
echo "flowhost serve on $url, $THREADS HTTP threads, $nflows flow files"

echo "== latency: save -> new definition on the API (50 edits)"
lua5.4 "$SRC/bench/reload_bench.lua" latency "$port" "$token" "$tmp/flows/doc.lua" 50

# rps PATH -> prints requests/second and non-2xx count
rps() {
  if command -v wrk >/dev/null 2>&1; then
    wrk -t2 -c8 -d"${DURATION}s" -H "Authorization: Bearer $token" "$url$1" >"$tmp/wrk" 2>&1
    r=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$tmp/wrk")
    bad=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$tmp/wrk")
    errs=$(sed -n 's/^ *Socket errors: *\(.*\)/\1/p' "$tmp/wrk")
    echo "$r req/s, non-2xx: ${bad:-0}${errs:+, socket errors: $errs}"
  else
    rm -f "$tmp/hstop"
    lua5.4 "$SRC/tests/reload/hammer.lua" "$port" "$token" "$tmp/hstop" "$tmp/hout" &
    h=$!
    sleep "$DURATION"
    touch "$tmp/hstop"
    wait $h
    set -- $(head -1 "$tmp/hout")
    echo "$(echo "$2 $DURATION" | awk '{printf "%.0f", $1 / $2}') req/s (sequential client, mixed GETs), failed: $3"
  fi
}

storm_start() {
  rm -f "$tmp/sstop"
  lua5.4 "$SRC/bench/reload_bench.lua" storm "$tmp/flows/doc.lua" "$tmp/sstop" "$STORM_INTERVAL" >"$tmp/storm" &
  storm=$!
  before=$(grep -c "flowhost: reloaded doc" "$tmp/err" || true)
}
storm_stop() {
  touch "$tmp/sstop"
  wait $storm
  sleep 0.2
  after=$(grep -c "flowhost: reloaded doc" "$tmp/err" || true)
  echo "   ($(cat "$tmp/storm"), reloads during the run: $((after - before)))"
}

for path in /api/flows /api/processes/1; do
  echo "== GET $path, no reloads:   $(rps "$path")"
  storm_start
  echo "== GET $path, reload storm: $(rps "$path")"
  storm_stop
done

kill "$pid"
wait "$pid" || true
pid=
