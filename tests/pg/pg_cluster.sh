#!/bin/sh
# pg_cluster.sh — a private, throw-away PostgreSQL cluster for the tests.
#
#   tests/pg/pg_cluster.sh COMMAND [ARGS...]   runs COMMAND with FLOWHOST_TEST_PG set
#   tests/pg/pg_cluster.sh                     prints the connection string, waits for Ctrl-C
#
# It installs Debian's postgresql if it is missing, runs initdb in a temp
# dir as a non-root user (postgres refuses to run as root: `nobody` when we
# are root), starts the server on a Unix socket in that dir only (no TCP
# port, so parallel runs never collide), creates the database `flowhost`,
# and stops and removes everything on exit, whatever the outcome.  The
# cluster trades durability for speed (fsync off): it is thrown away.
# PG_CLUSTER_DURABLE=1 keeps PostgreSQL's durable settings instead (fsync,
# synchronous_commit and full_page_writes on): for benchmarks (bench/pg_hosts.sh).
# COMMAND also gets FLOWHOST_TEST_PG_CTL, the cluster's pg_ctl as a command line
# that takes the action (start, stop -m fast) as its last words.
set -eu

# A sanitizer build's tests preload its runtime (LD_PRELOAD) for lua5.4 to load
# flowhost.so; PostgreSQL's own programs must not run with it (initdb hung until
# the test's timeout): they run without it, COMMAND gets it back.
PRELOAD=${LD_PRELOAD-}
unset LD_PRELOAD

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "pg_cluster: installing postgresql" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

# PG_CLUSTER_PARENT: the folder the cluster goes in (/tmp).  The tests ask for
# /dev/shm (tests/tests.cmake): on this disk a database copied from the template
# (tests/pg/fresh_db.lua) took 210 ms, in memory 85.  A parent with less than
# 4 GB free (a container's small /dev/shm) is passed over for /tmp.
PARENT=${PG_CLUSTER_PARENT:-/tmp}
if [ "$PARENT" != /tmp ]; then
  free_kb=$(df -Pk "$PARENT" 2>/dev/null | awk 'NR == 2 { print $4 }')
  { [ -w "$PARENT" ] && [ "${free_kb:-0}" -ge 4194304 ]; } || PARENT=/tmp
fi
DIR=$(mktemp -d "$PARENT/flowhost-pg-XXXXXX")
chmod 755 "$DIR"
# as root: the cluster belongs to nobody; otherwise to us
if [ "$(id -u)" -eq 0 ]; then
  chown nobody "$DIR"
  AS="runuser -u nobody --"
else
  AS=""
fi

stop() {
  $AS "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap stop EXIT
trap 'exit 130' INT TERM

$AS "$PGBIN/initdb" -D "$DIR/data" -U flowhost --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
  { cat "$DIR/initdb.log" >&2; exit 1; }
SETTINGS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${PG_CLUSTER_DURABLE:-0}" = 1 ] && SETTINGS="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
# pg_ctl with everything but its action, as the cluster's user: tests that stop the
# server for a while and start it again run `$FLOWHOST_TEST_PG_CTL stop -m fast` and
# `$FLOWHOST_TEST_PG_CTL start` (through sh: the options are quoted)
FLOWHOST_TEST_PG_CTL="env -u LD_PRELOAD $AS $PGBIN/pg_ctl -D $DIR/data -l $DIR/server.log -w -t 60 \
-o '-k $DIR -c listen_addresses= $SETTINGS -c max_connections=200'"
export FLOWHOST_TEST_PG_CTL
sh -c "$FLOWHOST_TEST_PG_CTL start" >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
"$PGBIN/createdb" -h "$DIR" -U flowhost flowhost

# psql, run by the tests, also without the sanitizer runtime (with it, psql
# printed its answer and then never exited): first on COMMAND's PATH
if [ -n "$PRELOAD" ]; then
  mkdir "$DIR/bin"
  printf '#!/bin/sh\nunset LD_PRELOAD\nexec %s "$@"\n' "$(command -v psql)" >"$DIR/bin/psql"
  chmod 755 "$DIR/bin/psql"
  PATH="$DIR/bin:$PATH"
fi

FLOWHOST_TEST_PG="postgresql:///flowhost?host=$DIR&user=flowhost"
export FLOWHOST_TEST_PG
if [ $# -eq 0 ]; then
  echo "$FLOWHOST_TEST_PG"
  echo "pg_cluster: running; Ctrl-C stops and removes it" >&2
  while :; do sleep 3600; done
fi
if [ -n "$PRELOAD" ]; then
  LD_PRELOAD=$PRELOAD "$@"
else
  "$@"
fi
