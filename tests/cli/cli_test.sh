#!/bin/sh
# The CLI alone runs helloworld and shipment to DONE with the right task
# history (statuses, owners, tokens, previous links); wrong usage exits 2,
# a refused action exits 1 and changes nothing.  send and signal deliver messages
# and signals to the events fixture flow's receivers.  Users and tokens: name
# limits, disable/enable, passwd and disable ending tokens, token list/revoke.
. "${FLOWHOST_SOURCE:?}/tests/cli/lib.sh"
# a new database: a file in DIR, or one on the PostgreSQL server of
# FLOWHOST_TEST_PG (tests/pg/pg_cluster.sh; label pg)
db() {
  if [ -n "${FLOWHOST_TEST_PG:-}" ]; then
    name="cli_$$_$1"
    psql -q "$FLOWHOST_TEST_PG" -c "CREATE DATABASE $name" >/dev/null
    echo "$FLOWHOST_TEST_PG" | sed "s|^postgresql:///[^?]*|postgresql:///$name|"
  else
    echo "$DIR/$1.db"
  fi
}
F="--flows $SRC/flows --db $(db cli)"

# a one-line view of the process: node:status:owner:token:previous per task, a
# task named by its place in the process (1 = the first task), not by its id:
# ids need not be consecutive (PostgreSQL hands them out in blocks)
history() {
  $FH process "$1" $F | lua5.4 -e '
    local c = require "cjson"
    local d = c.decode(io.read("a"))
    local ids = {}
    for _, t in ipairs(d.tasks) do ids[#ids + 1] = math.tointeger(t.id) end
    table.sort(ids)
    local place = {}
    for i, id in ipairs(ids) do place[id] = i end
    local out = { d.process.status }
    for _, t in ipairs(d.tasks) do
      local prev = {}
      for _, p in ipairs(t.previous) do prev[#prev + 1] = place[math.tointeger(p)] end
      local token = t.token:gsub("(%d+)_", function(id) return place[tonumber(id)] .. "_" end)
      out[#out + 1] = string.format("%s:%s:%s:%s:%s", t.node, t.status,
        t.owner ~= c.null and t.owner or "-", token, table.concat(prev, ","))
    end
    print(table.concat(out, " "))'
}
open_task() {   # open_task VIEW NODE USER -> id
  $FH tasks --view "$1" --as "$3" $F | lua5.4 -e "N='$2'" -e '
    for _, t in ipairs(require("cjson").decode(io.read("a")).items) do
      if t.node == N then print(math.tointeger(t.id)) return end
    end'
}
pid_of() { lua5.4 -e 'print(math.tointeger(require("cjson").decode(io.read("a")).process.id))'; }

for u in alice bob clara wally; do $FH user add $u --password pw $F >/dev/null; done
$FH user grant alice helloworld.start $F >/dev/null
$FH user grant bob helloworld.approve $F >/dev/null
$FH user grant @clerks shipment.start $F >/dev/null
$FH user grant @clerks shipment.clerk $F >/dev/null
$FH user join clara clerks $F >/dev/null
$FH user grant wally shipment.package $F >/dev/null
$FH user grant wally shipment.warehouse $F >/dev/null

# usage errors exit 2, refusals exit 1
set +e
$FH $F >/dev/null 2>&1; [ $? -eq 2 ] || fail "no command must exit 2"
$FH start $F >/dev/null 2>&1; [ $? -eq 2 ] || fail "start without a flow must exit 2"
$FH task abc show $F >/dev/null 2>&1; [ $? -eq 2 ] || fail "a bad id must exit 2"
$FH tasks --bogus 1 $F >/dev/null 2>&1; [ $? -eq 2 ] || fail "an unknown option must exit 2"
$FH start helloworld --data '{"text":"x"}' --as bob $F >/dev/null 2>&1; [ $? -eq 1 ] || fail "bob may not start"
set -e

# helloworld: alice starts, bob approves
P=$($FH start helloworld --data '{"text":"hi"}' --as alice $F | pid_of)
T=$(open_task queue approve bob)
set +e
$FH task "$T" execute --data '{"approved":true}' --as bob $F >/dev/null 2>&1; [ $? -eq 1 ] || fail "execute before assign"
$FH task "$T" execute --data '{"approved":"yes"}' --as bob $F >/dev/null 2>&1
set -e
[ "$(history "$P")" = "STARTED start:DONE:alice:start: approve:NEW:-:start:1" ] || fail "refusals changed data: $(history "$P")"
$FH task "$T" assign --as bob $F >/dev/null
$FH task "$T" execute --data '{"approved":true}' --as bob $F >/dev/null
want="DONE start:DONE:alice:start: approve:DONE:bob:start:1 check_approve:DONE:-:start:2 send:DONE:-:start:3 finish:DONE:-:start:4"
[ "$(history "$P")" = "$want" ] || fail "helloworld history: $(history "$P")"

# shipment: clara (clerk, by group) and wally (warehouse) through nested splits
P=$($FH start shipment --data '{"customer_name":"Ada","address":"1 Road","weight":2.5}' --as clara $F | pid_of)
T=$(open_task queue set_shipment_type clara); $FH task "$T" assign --as clara $F >/dev/null
$FH task "$T" execute --data '{"carrier":"default","need_insurance":true}' --as clara $F >/dev/null
for n in request_insurance fill_post_label; do T=$(open_task queue $n clara); $FH task "$T" assign --as clara $F >/dev/null; done
T=$(open_task inbox request_insurance clara); $FH task "$T" execute --data '{"insurance_number":"INS-1"}' --as clara $F >/dev/null
T=$(open_task inbox fill_post_label clara); $FH task "$T" execute --data '{"post_label":"To Ada"}' --as clara $F >/dev/null
T=$(open_task queue package_goods wally); $FH task "$T" assign --as wally $F >/dev/null
$FH task "$T" execute --data '{"package_count":2}' --as wally $F >/dev/null
T=$(open_task inbox move_package wally)   # assigned to the packer by :Assign(this.package_goods.owner)
$FH task "$T" execute --data '{"tracking_number":"T-1"}' --as wally $F >/dev/null
S=$(history "$P")
want="DONE start:DONE:clara:start: split_clerk_warehouse:DONE:-:start:1 set_shipment_type:DONE:clara:start/2_1:2 package_goods:DONE:wally:start/2_2:2 delivery_mode:DONE:-:start/2_1:3 check_insurance:DONE:-:start/2_1:5 request_insurance:DONE:clara:start/2_1/6_1:6 fill_post_label:DONE:clara:start/2_1/6_2:6 join_normal_post:DONE:-:start/2_1:7,8 join_clerk_warehouse:DONE:-:start:4,9 move_package:DONE:wally:start:10 finish:DONE:-:start:11"
[ "$S" = "$want" ] || fail "shipment history:
got  $S
want $want"
# messages and signals (tests/fixtures/flows/events.lua): delivered to a waiting receiver,
# kept for one started later, a signal to every waiting receiver; usage and refusals
mkdir "$DIR/events"
cp "$SRC/tests/fixtures/flows/events.lua" "$DIR/events/"
E="--flows $DIR/events --db $(db events)"
$FH user add erin --password pw $E >/dev/null
# a field of the JSON on stdin by dotted path (whole numbers as integers, arrays as #n)
json_at() { lua5.4 -e "P='$1'" -e '
  local c = require "cjson"
  local v = c.decode(io.read("a"))
  for k in P:gmatch("[^.]+") do v = v[tonumber(k) or k] end
  if v == c.null then print("null") elseif type(v) == "table" then print("#" .. #v)
  else print(math.tointeger(v) or tostring(v)) end'; }
pstatus() { $FH process "$1" $E | json_at process.status; }
P=$($FH start events pay --data '{"order":"A-1"}' $E | pid_of)
[ "$(pstatus "$P")" = STARTED ] || fail "pay must wait for its payment"
OUT=$($FH send payment A-1 --data '{"amount":12}' $E)
[ "$(echo "$OUT" | json_at completed)" = "#1" ] || fail "send must deliver: $OUT"
[ "$(echo "$OUT" | json_at completed.1.process_id)" = "$P" ] || fail "delivered to the wrong process: $OUT"
[ "$(echo "$OUT" | json_at kept)" = "null" ] || fail "a delivered message is not kept: $OUT"
[ "$(pstatus "$P")" = DONE ] || fail "the payment did not finish the process"
[ "$($FH process "$P" $E | json_at process.data.amount)" = 12 ] || fail "the message data was not merged"
OUT=$($FH send payment 77 --data '{"amount":5}' --ttl 600 $E)
[ "$(echo "$OUT" | json_at completed)" = "#0" ] || fail "nobody waits for 77: $OUT"
[ "$(echo "$OUT" | json_at key)" = "77" ] || fail "the key: $OUT"
K=$(echo "$OUT" | json_at kept.id)
[ "$K" -gt 0 ] 2>/dev/null || fail "a kept message needs an id: $OUT"
P=$($FH start events pay --data '{"order":"77"}' $E | pid_of)
[ "$(pstatus "$P")" = DONE ] || fail "the kept message was not taken by the new receiver"
[ "$($FH process "$P" $E | json_at process.data.amount)" = 5 ] || fail "the kept message data was not merged"
B1=$($FH start events bell $E | pid_of); B2=$($FH start events bell $E | pid_of)
OUT=$($FH signal bell --data '{"note":"rung"}' $E)
[ "$(echo "$OUT" | json_at completed)" = "#2" ] || fail "the signal must reach both bells: $OUT"
[ "$(pstatus "$B1")" = DONE ] && [ "$(pstatus "$B2")" = DONE ] || fail "the bells did not finish"
[ "$($FH process "$B1" $E | json_at process.data.note)" = rung ] || fail "the signal data was not merged"
[ "$($FH signal bell $E | json_at completed)" = "#0" ] || fail "a signal nobody waits for completes nothing"
set +e
$FH send payment $E >/dev/null 2>&1; [ $? -eq 2 ] || fail "send without a key must exit 2"
$FH send $E >/dev/null 2>&1; [ $? -eq 2 ] || fail "send without a name must exit 2"
$FH signal $E >/dev/null 2>&1; [ $? -eq 2 ] || fail "signal without a name must exit 2"
$FH signal bell extra $E >/dev/null 2>&1; [ $? -eq 2 ] || fail "signal takes no key"
$FH signal bell --ttl 5 $E >/dev/null 2>&1; [ $? -eq 2 ] || fail "signal takes no --ttl"
for ttl in 0 -1 abc 1e12 nan; do
  $FH send payment X --ttl $ttl $E >/dev/null 2>&1; [ $? -eq 2 ] || fail "--ttl $ttl must exit 2"
done
$FH send payment X --bogus 1 $E >/dev/null 2>&1; [ $? -eq 2 ] || fail "an unknown option must exit 2"
P=$($FH start events pay --data '{"order":"R-9"}' $E | pid_of)
$FH send payment R-9 --data '{"amount":1}' --as erin $E >/dev/null 2>&1; [ $? -eq 1 ] || fail "erin may not send payment"
$FH signal bell --as erin $E >/dev/null 2>&1; [ $? -eq 1 ] || fail "erin may not signal bell"
$FH send Payment R-9 $E >/dev/null 2>&1; [ $? -eq 1 ] || fail "a bad name is refused"
$FH send payment R-9 --data '[1]' $E >/dev/null 2>&1; [ $? -eq 1 ] || fail "--data must be an object"
$FH send payment R-9 --data '{"amount":"lots"}' $E >/dev/null 2>&1; [ $? -eq 1 ] || fail "the receiver's fields refuse it"
set -e
[ "$(pstatus "$P")" = STARTED ] || fail "refused messages changed the process"
$FH user grant erin message.payment $E >/dev/null
$FH send payment R-9 --data '{"amount":1}' --as erin $E >/dev/null
[ "$(pstatus "$P")" = DONE ] || fail "erin's granted message did not finish the process"

# users and tokens: name limits (those of a sign-in), disable/enable, passwd and disable ending
# tokens, token list and revoke
U="--flows $SRC/flows --db $(db users)"
N63=$(printf '%063d' 0)
$FH user add "$N63" --password pw $U >/dev/null || fail "a 63-byte user name must be taken"
set +e
OUT=$($FH user add "${N63}1" --password pw $U 2>&1); [ $? -eq 1 ] || fail "a 64-byte user name must be refused"
echo "$OUT" | grep -q "a user name must be 1 to 63 bytes" || fail "unclear refusal of a long name: $OUT"
$FH user add "" --password pw $U >/dev/null 2>&1; [ $? -eq 1 ] || fail "an empty user name must be refused"
$FH user add @team --password pw $U >/dev/null 2>&1; [ $? -eq 1 ] || fail "a user name starting with @ must be refused"
$FH user disable $U >/dev/null 2>&1; [ $? -eq 2 ] || fail "disable without a name must exit 2"
$FH user disable nobody $U >/dev/null 2>&1; [ $? -eq 1 ] || fail "disabling an unknown user must exit 1"
$FH token list $U >/dev/null 2>&1; [ $? -eq 2 ] || fail "token list without a user must exit 2"
$FH token revoke 1 --name x $U >/dev/null 2>&1; [ $? -eq 2 ] || fail "--name is for token create only"
set -e
$FH user add tina --password pw $U >/dev/null
T1=$($FH token create tina --name one $U); T2=$($FH token create tina $U)
[ "$($FH token list tina $U | json_at 1.name)" = one ] || fail "token list: $($FH token list tina $U)"
[ "$($FH token list tina $U | json_at 2.name)" = null ] || fail "an unnamed token lists name null"
$FH token list tina $U | grep -q "$T1" && fail "token list must not show raw tokens"
ID1=$($FH token list tina $U | json_at 1.id)
$FH token revoke "$ID1" $U | grep -q "revoked token $ID1 of tina" || fail "revoke by id"
[ "$($FH token list tina $U | json_at 1.name)" = null ] || fail "the revoked token is still listed"
set +e
$FH token revoke "$ID1" $U >/dev/null 2>&1; [ $? -eq 1 ] || fail "revoking twice must exit 1"
set -e
$FH token revoke "$T2" $U | grep -q "of tina" || fail "revoke by the token itself"
[ "$($FH token list tina $U | json_at "")" = "#0" ] || fail "tokens left: $($FH token list tina $U)"
$FH token create tina $U >/dev/null; $FH token create tina $U >/dev/null
$FH user passwd tina --password new $U | grep -q "ended 0 sessions and 2 API tokens" || fail "passwd must end tokens"
$FH token create tina $U >/dev/null
$FH user disable tina $U | grep -q "disabled user tina; ended 0 sessions and 1 API tokens" || fail "disable must end tokens"
[ "$($FH user list $U | lua5.4 -e 'for _, u in ipairs(require("cjson").decode(io.read("a"))) do if u.username == "tina" then print(u.is_active) end end')" = false ] || fail "user list must show tina disabled"
set +e
$FH token create tina $U >/dev/null 2>&1; [ $? -eq 1 ] || fail "a disabled user gets no token"
set -e
$FH user enable tina $U | grep -q "enabled user tina" || fail "enable"
$FH token create tina $U >/dev/null

# PostgreSQL: compact is the index upkeep's round now (docs/architecture-pg.md): an index of
# open work that finished tasks left sparse is rebuilt, and then nothing is
if [ -n "${FLOWHOST_TEST_PG:-}" ]; then
  url=$(echo "$F" | sed 's|.*--db ||')
  psql -q "$url" -c "INSERT INTO process(id, flow, status, created_at) SELECT 1000000 + i, 'helloworld', 'STARTED', 'now'
                      FROM generate_series(1, 1000) i" \
    -c "INSERT INTO task(id, process_id, flow_task, flow_task_type, status, token, created_at)
        SELECT 1000000 + i, 1000001 + i % 1000, 'helloworld.approve', 'view', 'NEW', 'start', 'now'
        FROM generate_series(1, 60000) i" \
    -c "UPDATE task SET status = 'DONE' WHERE id >= 1000000 AND id % 300 <> 0" -c "VACUUM ANALYZE task" >/dev/null
  $FH compact $F > "$DIR/compact.json" || fail "compact on PostgreSQL"
  lua5.4 -e 'local r = require("cjson").decode(io.read("a")).rebuilt
    local seen = false
    for _, i in ipairs(r) do
      if i.index == "task_queue_node" then seen = i.pages_after * 10 < i.pages_before end
    end
    os.exit(seen and 0 or 1)' < "$DIR/compact.json" || fail "task_queue_node not rebuilt: $(cat "$DIR/compact.json")"
  [ "$($FH compact $F | json_at rebuilt)" = "#0" ] || fail "a second compact rebuilt again"
  set +e
  $FH compact $F --page-size 4096 >/dev/null 2>&1; [ $? -eq 2 ] || fail "compact --page-size on PostgreSQL must exit 2"
  set -e
fi

echo "cli: helloworld and shipment ran to DONE through the CLI; usage and refusals checked; send and signal; users and tokens"
