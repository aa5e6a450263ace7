# lib.sh — what the benchmark scripts share (each sources it after `cd` to the source tree):
#   bench_need TOOL...     installs the benchmark packages when a tool is missing
#                          (tools/install-deps.sh --bench), then fails if one still is
#   bench_build TARGET...  builds those targets in Release into BUILD_DIR (default
#                          build-release; CMAKE_ARGS: extra configure arguments; NO_BUILD=1:
#                          builds nothing) and sets ROOT (the source tree), BUILD (BUILD_DIR
#                          as an absolute path) and BIN (its flowhost)
#   bench_tmp NAME         a temporary folder in TMP (/tmp/NAME.XXXXXX) and SERVER_PID, both
#                          cleaned up on exit: the server stopped, the folder removed (KEEP=1
#                          keeps it)
#   bench_seed DB N M      the HTTP benchmarks' database: alice (may start helloworld) and bob
#                          (may approve), their tokens in ALICE_TOKEN and BOB_TOKEN, N
#                          helloworld processes of alice's, bob holding M approve tasks
#   bench_port OUT ERR     the port a `serve --listen 127.0.0.1:0` writing to OUT and ERR
#                          listens on, once it says so (at most 10 s; else fails with both)
#   bench_stop WHAT        stops the server of SERVER_PID; fails if it does not exit cleanly
#   bench_pg_log DB on|off PostgreSQL logs every statement with all of its parameters (on), or
#                          as configured again (off): to read a page's statements in its log
bench_need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || sh tools/install-deps.sh --bench
    command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing (tools/install-deps.sh --bench)" >&2; exit 1; }
  done
}

bench_build() {
  ROOT=$PWD
  BUILD_DIR=${BUILD_DIR:-build-release}
  case $BUILD_DIR in /*) BUILD=$BUILD_DIR ;; *) BUILD=$ROOT/$BUILD_DIR ;; esac
  BIN=$BUILD/flowhost
  [ "${NO_BUILD:-0}" = 1 ] && return 0
  echo "== building Release ($BUILD_DIR)" >&2
  # shellcheck disable=SC2086
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >/dev/null
  for target in "$@"; do
    cmake --build "$BUILD" -j"$(nproc)" --target "$target" >/dev/null
  done
}

bench_seed() {
  for args in "user add alice --password alice-pw" "user add bob --password bob-pw" \
    "user grant alice helloworld.start" "user grant bob helloworld.approve"; do
    # shellcheck disable=SC2086
    "$BIN" --db "$1" --flows flows $args >/dev/null
  done
  ALICE_TOKEN=$("$BIN" --db "$1" --flows flows token create alice)
  BOB_TOKEN=$("$BIN" --db "$1" --flows flows token create bob)
  LUA_CPATH="$BUILD/?.so;;" LUA_PATH="$ROOT/lua/?.lua;;" lua5.4 bench/http_seed.lua "$1" "$2" "$3"
}

bench_port() {
  for _ in $(seq 1 100); do
    # (the server may not have opened its output yet: no file is no port yet)
    port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$1" 2>/dev/null || true)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.1
  done
  echo "the server did not start:" >&2
  cat "$1" "$2" >&2
  return 1
}

bench_tmp() {
  TMP=$(mktemp -d "/tmp/$1.XXXXXX")
  SERVER_PID=""
  trap bench_cleanup EXIT INT TERM
}

bench_cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}

bench_stop() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || { echo "the $1 server did not exit cleanly" >&2; exit 1; }
  SERVER_PID=""
}

bench_pg_log() {
  if [ "$2" = on ]; then
    psql -q "$1" -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "ALTER SYSTEM SET log_parameter_max_length = -1" \
      -c "SELECT pg_reload_conf()" >/dev/null
  else
    psql -q "$1" -c "ALTER SYSTEM RESET log_min_duration_statement" -c "ALTER SYSTEM RESET log_parameter_max_length" \
      -c "SELECT pg_reload_conf()" >/dev/null
  fi
}
