#!/bin/sh
# Installs the Debian packages flowhost needs to build, run and test, only
# those that are missing.  Needs root (or sudo) when something is missing.
set -eu

want="build-essential cmake pkg-config liblua5.4-dev lua5.4 libsqlite3-dev sqlite3
libmicrohttpd-dev libjansson-dev libsodium-dev libgraphviz-dev graphviz
libpq-dev"
if [ "${1:-}" = "--test" ]; then
  # prometheus: its promtool checks GET /metrics (tests/http/metrics_spec.lua)
  want="$want lua-busted lua-socket lua-cjson curl chromium nodejs npm prometheus"
  want="$want python3"   # examples/pdf_worker.py, run by tests/http/external_spec.lua
  want="$want postgresql"   # tests/pg/pg_cluster.sh: a throw-away cluster for the pg label
fi
if [ "${1:-}" = "--bench" ]; then
  want="$want lua-socket lua-cjson curl wrk strace valgrind"
fi

missing=""
for p in $want; do
  # node and npm may come from outside Debian (a newer Node.js): accept them.
  case $p in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing >/dev/null
