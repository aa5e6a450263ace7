#!/bin/sh
# Versions from the command line: every process records the version it started on;
# `check --against DB` reports what an edit does to running processes (text and JSON, exit 1
# when running work would be stranded, 0 otherwise, the rename-node command of a renamed
# node); a "pin" flow's running process finishes on its old definition while new ones start on
# the new one; `migrate` refuses (exit 1, with the report) what would strand running work, moves
# processes with --map, and rejects bad hashes and maps; `prune-versions` deletes the versions
# nothing uses (not current, no process, no live host), and only lists them with --dry-run.
. "${FLOWHOST_SOURCE:?}/tests/cli/lib.sh"
mkdir -p "$DIR/flows" "$DIR/edit"
F="--flows $DIR/flows --db $DIR/v.db"

sed 's/lock = "process",/lock = "process", version = "pin",/' "$SRC/flows/helloworld.lua" > "$DIR/flows/helloworld.lua"
grep -q 'version = "pin"' "$DIR/flows/helloworld.lua" || fail "fixture edit"
$FH user add root --admin --password pw $F >/dev/null
P1=$($FH start helloworld --data '{"text":"one"}' $F | field process.id)
V1=$(sqlite3 "$DIR/v.db" "select flow_version from process where id = $P1")
[ ${#V1} -eq 16 ] || fail "a process records a 16-digit version, got '$V1'"

# the edit: approve renamed to review, text retyped
sed 's/approve = flow.View/review = flow.View/; s/:Next(this.approve)/:Next(this.review)/' \
  "$DIR/flows/helloworld.lua" > "$DIR/edit/helloworld.lua"

# an unchanged folder strands nothing: exit 0
$FH check --against "$DIR/v.db" "$DIR/flows" $F > "$DIR/out" 2>"$DIR/err" || fail "unchanged flows must exit 0"
grep -q "nothing running is affected\|no running work" "$DIR/out" "$DIR/err" || fail "unchanged: $(cat "$DIR/out")"

set +e
$FH check --against "$DIR/v.db" "$DIR/edit/helloworld.lua" $F > "$DIR/out" 2>"$DIR/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "a stranding edit must exit 1, got $rc"
grep -q "STRANDED  node 'approve' is removed: 1 task(s) wait there (processes $P1)" "$DIR/out" || fail "text: $(cat "$DIR/out")"
grep -q "flowhost rename-node helloworld approve review" "$DIR/out" || fail "no rename command: $(cat "$DIR/out")"
grep -q "running work would be stranded" "$DIR/err" || fail "no summary: $(cat "$DIR/err")"

set +e
$FH check --against "$DIR/v.db" "$DIR/edit" --format json $F > "$DIR/out.json"
rc=$?
set -e
[ $rc -eq 1 ] || fail "json: a stranding edit must exit 1, got $rc"
[ "$(field stranded < "$DIR/out.json")" = "true" ] || fail "json stranded"
[ "$(field reports.1.from < "$DIR/out.json")" = "$V1" ] || fail "json from"
[ "$(field reports.1.findings.1.kind < "$DIR/out.json")" = "node_removed" ] || fail "json kind"
[ "$(field reports.1.findings.1.command < "$DIR/out.json")" = "flowhost rename-node helloworld approve review" ] \
  || fail "json command"

# a folder without the flow: its running processes would be stranded
mkdir -p "$DIR/empty"
set +e
$FH check --against "$DIR/v.db" "$DIR/empty" --format json $F > "$DIR/out.json"; rc=$?
set -e
[ $rc -eq 1 ] || fail "a folder without a running flow must exit 1, got $rc"
[ "$(field reports.1.findings.1.kind < "$DIR/out.json")" = "flow_removed" ] || fail "flow_removed: $(cat "$DIR/out.json")"

# bad input: exit 2 for usage, 1 for a missing database or a broken file
set +e
$FH check --against "$DIR/v.db" --format yaml $F >/dev/null 2>&1; [ $? -eq 2 ] || fail "--format yaml must exit 2"
$FH check --format json $F >/dev/null 2>&1; [ $? -eq 2 ] || fail "--format without --against must exit 2"
$FH check --against "$DIR/nope.db" "$DIR/edit" $F >/dev/null 2>&1; [ $? -eq 1 ] || fail "a missing db must exit 1"
[ ! -e "$DIR/nope.db" ] || fail "check --against must not create a database"
printf 'return 42\n' > "$DIR/broken.lua"
$FH check --against "$DIR/v.db" "$DIR/broken.lua" $F > "$DIR/out" 2>&1; [ $? -eq 1 ] || fail "a broken file must exit 1"
grep -q "broken.lua" "$DIR/out" || fail "the broken file is named: $(cat "$DIR/out")"
set -e

# version must be "follow" or "pin"
sed 's/version = "pin"/version = "sometimes"/' "$DIR/flows/helloworld.lua" > "$DIR/bad_version.lua"
set +e
$FH check "$DIR/bad_version.lua" $F > "$DIR/out" 2>&1; [ $? -eq 1 ] || fail "a bad version must exit 1"
set -e
grep -q 'version must be "follow" or "pin", got the string "sometimes"' "$DIR/out" || fail "bad version: $(cat "$DIR/out")"

# deploy the edit: the pinned process stays on V1, a new one starts on the new version
cp "$DIR/edit/helloworld.lua" "$DIR/flows/helloworld.lua"
P2=$($FH start helloworld --data '{"text":"two"}' $F | field process.id)
V2=$(sqlite3 "$DIR/v.db" "select flow_version from process where id = $P2")
[ "$V2" != "$V1" ] && [ ${#V2} -eq 16 ] || fail "the new process is on a new version ($V1 / $V2)"
[ "$(sqlite3 "$DIR/v.db" "select flow_version from process where id = $P1")" = "$V1" ] || fail "pinned moved"
T1=$(sqlite3 "$DIR/v.db" "select id from task where process_id = $P1 and flow_task = 'helloworld.approve'")
[ -n "$T1" ] || fail "the pinned process waits at approve"

# migrate refuses what strands (exit 1, report on stderr) and changes nothing
set +e
$FH migrate helloworld --to "$(echo "$V2" | cut -c1-8)" $F > "$DIR/out" 2>"$DIR/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "a stranding migrate must exit 1, got $rc"
grep -q "STRANDED  node 'approve'" "$DIR/err" || fail "migrate report: $(cat "$DIR/err")"
grep -q "conflict" "$DIR/err" || fail "migrate error: $(cat "$DIR/err")"
[ "$(sqlite3 "$DIR/v.db" "select flow_version from process where id = $P1")" = "$V1" ] || fail "refused migrate moved"
set +e
$FH migrate helloworld --to zz $F >/dev/null 2>&1; [ $? -eq 1 ] || fail "a bad hash must exit 1"
$FH migrate helloworld --to 0000000000000000 $F >/dev/null 2>&1; [ $? -eq 1 ] || fail "an unknown hash must exit 1"
$FH migrate helloworld --to "$V2" --map approve $F >/dev/null 2>&1; [ $? -eq 2 ] || fail "a bad map must exit 2"
$FH migrate helloworld --to "$V2" --map approve=nowhere $F >/dev/null 2>&1; [ $? -eq 1 ] || fail "a map to no node must exit 1"
$FH migrate helloworld $F >/dev/null 2>&1; [ $? -eq 2 ] || fail "migrate without --to must exit 2"
set -e

# the pinned process still finishes on its own definition...
$FH task "$T1" assign --as root $F >/dev/null
$FH task "$T1" execute --data '{"approved": false}' --as root $F >/dev/null
[ "$(sqlite3 "$DIR/v.db" "select status from process where id = $P1")" = "DONE" ] || fail "pinned process not DONE"

# ...and migrate with --map moves a running one, its task included
sed 's/review = flow.View/approve = flow.View/; s/:Next(this.review)/:Next(this.approve)/' \
  "$DIR/edit/helloworld.lua" > "$DIR/flows/helloworld.lua"
P3=$($FH start helloworld --data '{"text":"three"}' $F | field process.id)
V3=$(sqlite3 "$DIR/v.db" "select flow_version from process where id = $P3")
[ "$V3" = "$V1" ] || fail "the same text is the same version ($V3 / $V1)"
$FH migrate helloworld --from "$V1" --to "$V2" --map approve=review $F > "$DIR/out" || fail "migrate --map: $(cat "$DIR/out")"
[ "$(field moved < "$DIR/out")" = "1" ] || fail "moved: $(cat "$DIR/out")"
[ "$(sqlite3 "$DIR/v.db" "select flow_version from process where id = $P3")" = "$V2" ] || fail "P3 not moved"
[ "$(sqlite3 "$DIR/v.db" "select count(*) from task where process_id = $P3 and flow_task = 'helloworld.review'")" = 1 ] \
  || fail "P3's task not mapped"
# prune-versions: the versions that are not current, that no process records (a finished one
# keeps its version) and that no host seen lately serves
current() { sqlite3 "$DIR/v.db" "select hash from flow_version where flow = 'helloworld' and is_current"; }
pruned() { lua5.4 -e 'local o = require("cjson").decode(io.read("a")) local t = {} for _, v in ipairs(o.pruned) do t[#t + 1] = v.flow .. "/" .. v.hash end print((o.dry_run and "dry " or "") .. table.concat(t, " "))'; }
versions() { sqlite3 "$DIR/v.db" "select count(*) from flow_version where flow = 'helloworld'"; }
printf '\n-- an edit no process runs on\n' >> "$DIR/flows/helloworld.lua"
$FH processes $F >/dev/null   # a command that loads the flows records their versions
V4=$(current)
printf '\n-- another\n' >> "$DIR/flows/helloworld.lua"
$FH processes $F >/dev/null
V5=$(current)
cp "$DIR/edit/helloworld.lua" "$DIR/flows/helloworld.lua"
$FH processes $F >/dev/null
[ "$(current)" = "$V2" ] && [ "$V4" != "$V1" ] && [ "$V4" != "$V2" ] && [ "$V5" != "$V4" ] \
  || fail "versions for pruning: $V1 $V2 $V4 $V5, current $(current)"
[ "$(sqlite3 "$DIR/v.db" "select count(*) from process where flow_version = '$V1' and status <> 'DONE'")" = 0 ] \
  || fail "V1 is left to finished processes only"
[ "$(versions)" = 4 ] || fail "four versions stored, got $(versions)"
# another host, seen just now, serves V5
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
sqlite3 "$DIR/v.db" "insert into flow_host(host, flow, hash, since, seen_at) values('other:8080', 'helloworld', '$V5', '$NOW', '$NOW')"
OUT=$($FH prune-versions --dry-run $F) || fail "prune --dry-run"
[ "$(echo "$OUT" | pruned)" = "dry helloworld/$V4" ] || fail "dry run: $OUT"
[ "$(versions)" = 4 ] || fail "a dry run deleted"
OUT=$($FH prune-versions helloworld $F) || fail "prune"
[ "$(echo "$OUT" | pruned)" = "helloworld/$V4" ] || fail "prune: $OUT"
[ "$(versions)" = 3 ] || fail "V4 not deleted: $(versions) versions"
# once that host has been silent for long, its version goes too; V1 (a finished process's) and
# V2 (current) stay
sqlite3 "$DIR/v.db" "update flow_host set seen_at = '2000-01-01T00:00:00.000Z' where host = 'other:8080'"
OUT=$($FH prune-versions $F) || fail "prune all"
[ "$(echo "$OUT" | pruned)" = "helloworld/$V5" ] || fail "prune after the host went silent: $OUT"
[ "$(sqlite3 "$DIR/v.db" "select group_concat(hash, ' ') from (select hash from flow_version where flow = 'helloworld' order by hash)")" \
  = "$(printf '%s\n%s\n' "$V1" "$V2" | sort | tr '\n' ' ' | sed 's/ $//')" ] || fail "V1 and V2 stay"
[ "$($FH prune-versions $F | pruned)" = "" ] || fail "nothing left to prune"
[ "$($FH prune-versions nosuchflow $F | pruned)" = "" ] || fail "another flow's name"
P4=$($FH start helloworld --data '{"text":"after pruning"}' $F | field process.id)
[ "$(sqlite3 "$DIR/v.db" "select flow_version from process where id = $P4")" = "$V2" ] || fail "new processes start on V2"
set +e
$FH prune-versions helloworld extra $F >/dev/null 2>&1; [ $? -eq 2 ] || fail "two flows must exit 2"
$FH prune-versions --keep 3 $F >/dev/null 2>&1; [ $? -eq 2 ] || fail "an unknown option must exit 2"
set -e
echo "versions CLI ok"
