#!/bin/sh
# Builds flowhost if needed and serves the example flows on
# http://127.0.0.1:8080 with the SQLite database ./flowhost.db.
# Extra arguments go to `flowhost serve` (e.g. --listen 127.0.0.1:9000).
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec ./build/flowhost serve "$@"
