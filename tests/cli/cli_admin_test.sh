#!/bin/sh
# The CLI's rough edges of issue 14: README's command reference is `flowhost help`'s text;
# tasks/processes check --status, --limit and --after as the API does (exit 2 with the
# usage) and page with --after; an unknown task action prints the usage; a manager hands a
# NEW task to a named person (reassign); `check` counts "1 flow file" and prints its
# errors before its summary; a serve that cannot bind creates no admin and prints no
# password, and the next start that binds does.
. "${FLOWHOST_SOURCE:?}/tests/cli/lib.sh"
F="--flows $SRC/flows --db $DIR/cli.db"
json_at() { lua5.4 -e "P='$1'" -e '
  local c = require "cjson"
  local v = c.decode(io.read("a"))
  for k in P:gmatch("[^.]+") do v = v[tonumber(k) or k] end
  if v == c.null then print("null") elseif type(v) == "table" then print("#" .. #v)
  else print(math.tointeger(v) or tostring(v)) end'; }
# exits CODE, and the usage was printed
usage_exit() {   # usage_exit WHAT CMD...
  what=$1; shift
  set +e
  out=$("$@" 2>&1); rc=$?
  set -e
  [ $rc -eq 2 ] || fail "$what: exit $rc, want 2: $out"
  echo "$out" | grep -q "^usage: flowhost" || fail "$what: no usage printed: $out"
}

# README's command reference is the usage's text, line for line
# (every command line: from serve to the blank line after the last command)
$FH help | sed -n '/^flowhost serve/,/^$/p' | sed '/^$/d' >"$DIR/usage.txt"
sed -n '/^## The command line/,/^## /p' "$SRC/README.md" | sed -n '/^flowhost serve/,/^```/p' | sed '/^```/d' >"$DIR/readme.txt"
[ -s "$DIR/usage.txt" ] || fail "no command lines in the usage"
diff "$DIR/readme.txt" "$DIR/usage.txt" >&2 || fail "README and usage disagree"
for o in password-stdin limit after budget lease-grace lua-unsafe request-timeout max-connections per-address asc max ttl; do
  grep -q -- "--$o" "$DIR/usage.txt" || fail "usage lacks --$o"
done
$FH help | grep -q -- "--lua DIR" || fail "usage lacks --lua"
$FH help | grep -q "^flowhost process ID \[show|cancel\] \[--as USER\]" || fail "usage lacks process --as"

# --status, --limit, --after as the API checks them
for s in FOO done; do usage_exit "tasks --status $s" $FH tasks --status $s $F; done
$FH tasks --status FOO $F 2>&1 | grep -q "unknown status 'FOO'" || fail "unclear --status refusal"
usage_exit "processes --status ERROR" $FH processes --status ERROR $F
for l in 0 501 x; do usage_exit "tasks --limit $l" $FH tasks --limit $l $F; done
usage_exit "tasks --after abc" $FH tasks --after abc $F
usage_exit "processes --after 0" $FH processes --after 0 $F
usage_exit "tasks --view bogus" $FH tasks --view bogus $F
[ "$($FH tasks --status DONE $F | json_at items)" = "#0" ] || fail "--status DONE"

# paging with --after
$FH user add mgr --password pw $F >/dev/null
$FH user grant mgr helloworld.manage $F >/dev/null
$FH user add bob --password pw $F >/dev/null
$FH user grant bob helloworld.approve $F >/dev/null
for t in one two three; do $FH start helloworld --data "{\"text\":\"$t\"}" $F >/dev/null; done
P1=$($FH tasks --status NEW --limit 2 $F)
[ "$(echo "$P1" | json_at items)" = "#2" ] || fail "--limit 2: $P1"
NEXT=$(echo "$P1" | json_at next_after)
P2=$($FH tasks --status NEW --limit 2 --after "$NEXT" $F)
[ "$(echo "$P2" | json_at items)" = "#1" ] || fail "--after $NEXT: $P2"
[ "$(echo "$P2" | json_at next_after)" = null ] || fail "the last page has no next_after: $P2"
[ "$(echo "$P2" | json_at items.1.id)" -lt "$NEXT" ] || fail "the next page goes on below $NEXT"
Q=$($FH processes --limit 1 $F); QN=$(echo "$Q" | json_at next_after)
[ "$($FH processes --limit 1 --after "$QN" $F | json_at items.1.id)" -lt "$QN" ] || fail "processes --after"

# an unknown task action prints the usage; reassign needs --user
T=$(echo "$P2" | json_at items.1.id)
usage_exit "task frobnicate" $FH task "$T" frobnicate $F
usage_exit "reassign without --user" $FH task "$T" reassign --as mgr $F
# a manager hands the NEW task to bob, who may do it; not to mgr, who may not
set +e
$FH task "$T" reassign --user mgr --as mgr $F >/dev/null 2>&1; [ $? -eq 1 ] || fail "mgr may not approve"
set -e
OUT=$($FH task "$T" reassign --user bob --as mgr $F)
[ "$(echo "$OUT" | json_at task.status)" = ASSIGNED ] || fail "reassign of a NEW task: $OUT"
[ "$(echo "$OUT" | json_at task.owner)" = bob ] || fail "the NEW task goes to bob: $OUT"

# check: plural right, errors before the summary
OUT=$($FH check "$SRC/flows/helloworld.lua" $F 2>&1)
[ "$OUT" = "1 flow file ok" ] || fail "check of one file: $OUT"
$FH check $F 2>&1 | grep -q "^[0-9]* flow files ok$" || fail "check of the folder"
set +e
OUT=$($FH check "$SRC/tests/fixtures/broken" $F 2>&1); rc=$?
set -e
[ $rc -eq 1 ] || fail "check of broken flows must exit 1"
echo "$OUT" | tail -n 1 | grep -q "flow files\? failed$" || fail "the summary comes last: $OUT"
echo "$OUT" | head -n 1 | grep -q ":[0-9]*: " || fail "errors come first: $OUT"

# serve: a port taken creates no admin and prints no password; the next start does
serve_start "$DIR/first.out" "$DIR/first.err" --flows "$SRC/flows" --db "$DIR/serve.db" --web "$SRC/web" --jobs 0
grep -q "created user admin with password" "$DIR/first.out" || fail "the first start prints the password"
set +e
$FH serve --listen 127.0.0.1:"$PORT" --flows "$SRC/flows" --db "$DIR/taken.db" --web "$SRC/web" --jobs 0 \
  >"$DIR/taken.out" 2>"$DIR/taken.err"; rc=$?
set -e
[ $rc -ne 0 ] || fail "a serve on a taken port must fail"
grep -q "password" "$DIR/taken.out" && fail "a failed start printed a password: $(cat "$DIR/taken.out")"
[ "$($FH user list --flows "$SRC/flows" --db "$DIR/taken.db" | json_at "")" = "#0" ] || fail "a failed start made a user"
serve_stop
serve_start "$DIR/next.out" "$DIR/next.err" --flows "$SRC/flows" --db "$DIR/taken.db" --web "$SRC/web" --jobs 0
grep -q "created user admin with password" "$DIR/next.out" || fail "the next start must make the admin: $(cat "$DIR/next.out")"
serve_stop

echo "cli admin: usage = README; list options checked and paged; task actions; NEW reassigned; check; first start"
