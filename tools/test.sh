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
(cd build-asan && ctest --output-on-failure -j"$jobs" -LE browser)
echo "== build (TSan)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DFLOWHOST_TSAN=ON >/dev/null
cmake --build build-tsan -j"$jobs"
echo "== threaded tests under ThreadSanitizer"
# the busted specs load flowhost.so into an uninstrumented lua5.4: not here (pg_lua_a/b);
# of the other PostgreSQL entries, all but pg_reload and pg_cli (they pass here too, but
# their threads are the SQLite specs' threads, and ~100 s more would crowd the 30 minutes)
(cd build-tsan && ctest --output-on-failure -j"$jobs" -R '^(c_|http_|jobs_|cli_|reload_watch|reload_reload|pg_c_|pg_hosts$|pg_multihost$|pg_http$)')
echo "== all tests passed"
