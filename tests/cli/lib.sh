# lib.sh — what the CLI's shell tests share (each sources it first):
#   FH, SRC   the binary and the source tree (from ctest's environment)
#   DIR       a fresh temporary directory, removed at exit with any server still running
#   fail MSG  says FAIL: MSG and exits 1
#   field K   the value at K (keys and 1-based indexes joined by dots) of the JSON on stdin
#   serve_start OUT ERR ARGS...  `$FH serve --listen 127.0.0.1:0 ARGS` in the background, its
#             output in OUT and ERR; SRV: its pid; waits up to 5 s for its "listening on" line;
#             PORT: the port it got
#   serve_stop  stops it and waits for its end
set -eu
FH=${FLOWHOST_BIN:?}
SRC=${FLOWHOST_SOURCE:?}
DIR=$(mktemp -d)
SRV=""
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
field() { lua5.4 -e "K='$1'" -e 'local v = require("cjson").decode(io.read("a")) for k in K:gmatch("[^.]+") do v = v[tonumber(k) or k] end print(math.tointeger(v) or v)'; }

serve_start() {
  out=$1 err=$2
  shift 2
  # the files exist before the first read: the background job opens them
  # when it runs, and a sed of a missing file, failing in an assignment,
  # ended the test under set -e (cli_compact failed so in a CI run)
  : >"$out"
  : >"$err"
  "$FH" serve --listen 127.0.0.1:0 "$@" >"$out" 2>"$err" &
  SRV=$!
  PORT=""
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  fail "serve did not start: $(cat "$out" "$err")"
}

serve_stop() {
  kill "$SRV"
  wait "$SRV" 2>/dev/null || true
  SRV=""
}
