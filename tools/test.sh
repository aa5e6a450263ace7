#!/bin/sh
# Runs every test: installs what is missing, builds, runs ctest on a normal
# build, then again on an AddressSanitizer + UndefinedBehaviorSanitizer build
# (browser tests only once: they drive the same server code), then the
# multi-threaded tests on a ThreadSanitizer build.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh --test
if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ -f tests/openapi/package.json ] && [ ! -d tests/openapi/node_modules/@seriousme/openapi-schema-validator ]; then
  (cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error)
fi
jobs=$(nproc)

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFLOWHOST_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under sanitizers"
# (the kill -9 tests with 0.4 of their processes: tests/jobs/crash_lib.lua)
(cd build-asan && CRASH_SCALE=0.4 ctest --output-on-failure -j"$jobs" -LE browser)
echo "== build (TSan)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DFLOWHOST_TSAN=ON >/dev/null
cmake --build build-tsan -j"$jobs"
echo "== threaded tests under ThreadSanitizer"
# the busted specs load flowhost.so into an uninstrumented lua5.4: not here (pg_lua_a/b);
# of the other PostgreSQL entries, those with threads of their own: the engines and job
# workers racing (pg_c_concurrency), several hosts on one database with jobs and NOTIFY
# (pg_hosts, pg_multihost), connections dropped under a serving host (pg_http_drop).
# pg_http, pg_reload and pg_cli pass here too, but their threads are the SQLite specs'
# threads run here already, and their ~280 s would crowd the 30 minutes.
(cd build-tsan && CRASH_SCALE=0.4 ctest --output-on-failure -j"$jobs" \
  -R '^(c_|http_|jobs_|cli_|reload_watch|reload_reload|pg_c_|pg_hosts$|pg_multihost$|pg_http_drop$)')
echo "== all tests passed"
