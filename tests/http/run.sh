#!/bin/sh
# Runs one HTTP spec with room for many sockets: slowloris_spec opens about 1,400 of them
# (and the servers it starts inherit the limit).
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$@"
