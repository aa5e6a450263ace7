#!/bin/sh
# The CLI alone runs helloworld and shipment to DONE with the right task
# history (statuses, owners, tokens, previous links); wrong usage exits 2,
# a refused action exits 1 and changes nothing.
set -eu
FH=${FLOWHOST_BIN:?}
SRC=${FLOWHOST_SOURCE:?}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
F="--flows $SRC/flows --db $DIR/cli.db"
fail() { echo "FAIL: $*" >&2; exit 1; }

# a one-line view of the process: node:status:owner:token:previous per task
history() {
  $FH process "$1" $F | lua5.4 -e '
    local c = require "cjson"
    local d = c.decode(io.read("a"))
    local out = { d.process.status }
    for _, t in ipairs(d.tasks) do
      local prev = {}
      for _, p in ipairs(t.previous) do prev[#prev + 1] = math.tointeger(p) end
      out[#out + 1] = string.format("%s:%s:%s:%s:%s", t.node, t.status,
        t.owner ~= c.null and t.owner or "-", t.token, table.concat(prev, ","))
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
want="DONE start:DONE:clara:start: split_clerk_warehouse:DONE:-:start:6 set_shipment_type:DONE:clara:start/7_1:7 package_goods:DONE:wally:start/7_2:7 delivery_mode:DONE:-:start/7_1:8 check_insurance:DONE:-:start/7_1:10 request_insurance:DONE:clara:start/7_1/11_1:11 fill_post_label:DONE:clara:start/7_1/11_2:11 join_normal_post:DONE:-:start/7_1:12,13 join_clerk_warehouse:DONE:-:start:9,14 move_package:DONE:wally:start:15 finish:DONE:-:start:16"
[ "$S" = "$want" ] || fail "shipment history:
got  $S
want $want"
echo "cli: helloworld and shipment ran to DONE through the CLI; usage and refusals checked"
