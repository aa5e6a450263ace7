#!/bin/sh
# `flowhost compact`: a database made with 4 KiB pages (as before flowhost chose 2 KiB ones)
# comes back with 2 KiB pages, in WAL mode, whole (integrity check, the same processes and
# tasks, the CLI still works on it) and no larger; --page-size picks another size. With a
# server running on the file it refuses at once (busy, exit 1) and changes nothing: page size,
# WAL mode, and the server answers and writes as before. Bad input: a page size that is no
# power of two from 512 to 65536, a missing file (not created), a file that is not a
# database or not flowhost's, a PostgreSQL URL whose server is not there (or with --page-size),
# an argument.
. "${FLOWHOST_SOURCE:?}/tests/cli/lib.sh"
DB=$DIR/old.db
F="--flows $SRC/flows --db $DB"
q() { sqlite3 "$DB" "$1"; }

# a file whose header says 4096 before flowhost makes its tables in it
sqlite3 "$DB" "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE x(a); DROP TABLE x;" >/dev/null
$FH user add root --admin --password pw $F >/dev/null
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do $FH start helloworld --data "{\"text\":\"p$i\"}" $F >/dev/null; done
[ "$(q 'PRAGMA page_size')" = 4096 ] || fail "the fixture has 4 KiB pages"
before_rows=$(q "SELECT count(*) || '/' || (SELECT count(*) FROM task) || '/' || (SELECT group_concat(data, '') FROM process ORDER BY id) FROM process")
inbox_before=$($FH tasks --view all --limit 500 $F | field items.12.id)

$FH compact --db "$DB" > "$DIR/out.json" || fail "compact failed"
[ "$(field page_size.before < "$DIR/out.json")" = 4096 ] || fail "before: $(cat "$DIR/out.json")"
[ "$(field page_size.after < "$DIR/out.json")" = 2048 ] || fail "after: $(cat "$DIR/out.json")"
[ "$(field bytes.after < "$DIR/out.json")" -le "$(field bytes.before < "$DIR/out.json")" ] || fail "it grew: $(cat "$DIR/out.json")"
[ "$(q 'PRAGMA page_size')" = 2048 ] || fail "the file has $(q 'PRAGMA page_size') byte pages"
[ "$(q 'PRAGMA journal_mode')" = wal ] || fail "not back in WAL mode"
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity"
after_rows=$(q "SELECT count(*) || '/' || (SELECT count(*) FROM task) || '/' || (SELECT group_concat(data, '') FROM process ORDER BY id) FROM process")
[ "$before_rows" = "$after_rows" ] || fail "rows changed: $before_rows -> $after_rows"
[ "$($FH tasks --view all --limit 500 $F | field items.12.id)" = "$inbox_before" ] || fail "task list changed"
$FH start helloworld --data '{"text":"after"}' $F >/dev/null || fail "a start after compact"

# --page-size: another size, and back
$FH compact --db "$DB" --page-size 8192 | field page_size.after | grep -qx 8192 || fail "--page-size 8192"
[ "$(q 'PRAGMA page_size')" = 8192 ] || fail "8192 on disk"
$FH compact --db "$DB" --page-size 2048 >/dev/null

# a running server keeps the file: refused at once, nothing changed, the server goes on
serve_start "$DIR/srv.out" "$DIR/srv.err" --flows "$SRC/flows" --db "$DB" --web "$SRC/web" --jobs 0
set +e
$FH compact --db "$DB" --page-size 4096 >"$DIR/busy.out" 2>"$DIR/busy.err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "compact beside a server must exit 1, got $rc"
grep -q "^flowhost: busy: the database is in use by another program" "$DIR/busy.err" || fail "busy: $(cat "$DIR/busy.err")"
[ ! -s "$DIR/busy.out" ] || fail "a refused compact prints no result"
[ "$(q 'PRAGMA page_size')" = 2048 ] || fail "the page size changed under the server"
[ "$(q 'PRAGMA journal_mode')" = wal ] || fail "the server's file left WAL mode"
curl -sf "http://127.0.0.1:$PORT/api/health" | grep -q '"db":"ok"' || fail "the server's health after"
$FH start helloworld --data '{"text":"beside"}' $F >/dev/null || fail "a write beside the server after"
serve_stop

# bad input: exit 1 with the error, or 2 with the usage
expect() {   # expect RC PATTERN ARGS...
  want=$1; pattern=$2; shift 2
  set +e
  "$FH" "$@" >"$DIR/bad.out" 2>"$DIR/bad.err"
  got=$?
  set -e
  [ "$got" -eq "$want" ] || fail "flowhost $*: exit $got, not $want"
  grep -q -- "$pattern" "$DIR/bad.err" || fail "flowhost $*: $(cat "$DIR/bad.err")"
}
for size in 3000 256 131072; do
  expect 1 "invalid: the page size must be a power of two from 512 to 65536" compact --db "$DB" --page-size $size
done
expect 2 "page-size must be a number" compact --db "$DB" --page-size big
expect 2 "page-size must be a number" compact --db "$DB" --page-size 0
expect 2 "compact takes no arguments" compact extra --db "$DB"
expect 2 "unknown option --dry-run" compact --db "$DB" --dry-run
expect 1 "not_found: no database file at $DIR/none.db" compact --db "$DIR/none.db"
[ ! -e "$DIR/none.db" ] || fail "compact created a file"
echo "not a database at all, just text, long enough to be read as a header......................." > "$DIR/text.db"
expect 1 "invalid: .*text.db: file is not a database" compact --db "$DIR/text.db"
sqlite3 "$DIR/other.db" "CREATE TABLE notes(a)"
expect 1 "invalid: .*other.db is not a flowhost database" compact --db "$DIR/other.db"
# a PostgreSQL URL: the index upkeep (tests/cli/cli_test.sh on PostgreSQL), here with no server there
expect 1 "busy: cannot open database (postgresql)" compact --db "postgresql:///flowhost?host=$DIR"
expect 2 "page-size is for SQLite files" compact --db "postgresql:///flowhost?host=$DIR" --page-size 4096
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity at the end"
echo "compact: ok"
