-- The workflow control-flow patterns beyond those of patterns_spec.lua (docs/patterns.md): one
-- describe per flow of flows/patterns/wcpNN_*.lua not covered there, each checking what the
-- flow's header comment says and ending on the final task set (statuses, tokens, how often
-- each node ran; for a :ForEach group its controller's status and every instance's item, index
-- and status; for a Subprocess the child processes). Every host runs on the manual clock
-- (timers, timeouts, message ttl).

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

-- "node:STATUS" of a task; a :ForEach group's controller (type "foreach") is "node[group]".
local function label(t)
  return t.node .. (t.type == "foreach" and "[group]" or "") .. ":" .. t.status
end

-- Sorted "node:STATUS" of the active tasks (controllers as "node[group]").
local function active(host, pid)
  local out = {}
  for _, t in ipairs(tasks(host, pid)) do
    if ACTIVE[t.status] then out[#out + 1] = label(t) end
  end
  table.sort(out)
  return out
end

-- "node:STATUS" of every task (timer rows left out, controllers as "node[group]"), in creation
-- order.
local function trail(host, pid)
  local out = {}
  for _, t in ipairs(tasks(host, pid)) do out[#out + 1] = label(t) end
  return out
end

-- The controller task (type "foreach") of node's :ForEach group; the newest when there are several.
local function controller(host, pid, node)
  local found
  for _, t in ipairs(tasks(host, pid)) do
    if t.node == node and t.type == "foreach" then found = t end
  end
  assert(found, "no :ForEach controller of '" .. node .. "'")
  return found
end

-- The instances of node's :ForEach groups (controllers left out), optionally only with `status`.
local function instances(host, pid, node, status)
  local out = {}
  for _, t in ipairs(tasks(host, pid)) do
    if t.node == node and t.type ~= "foreach" and (status == nil or t.status == status) then out[#out + 1] = t end
  end
  return out
end

-- "item:STATUS" of a list of instances (what each instance ran for, and how it ended).
local function items(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = tostring(t.data.item) .. ":" .. t.status end
  return out
end

-- Checks what every instance of a group holds: its item and 1-based index, the group, its token.
local function check_instances(list, ctrl, expected_items)
  assert.equal(#expected_items, #list)
  for i, t in ipairs(list) do
    assert.same({ item = expected_items[i], index = i }, t.data)
    assert.equal(ctrl.id, t.group_id)
    assert.equal(ctrl.token, t.token)
  end
end

-- Executes every instance in `list` as its owner.
local function execute_all(host, list)
  for _, t in ipairs(list) do host:execute(t.id, {}, { as = t.owner }) end
end

-- Executes the single active instance of node owned by user.
local function run_instance(host, pid, node, user)
  local found = {}
  for _, t in ipairs(instances(host, pid, node)) do
    if t.owner == user and ACTIVE[t.status] then found[#found + 1] = t end
  end
  assert(#found == 1, string.format("expected one active '%s' instance of %s, found %d", node, user, #found))
  return host:execute(found[1].id, {}, { as = user })
end

-- Executes the single active task of node as user (with data).
local function run(host, pid, node, user, data)
  return host:execute(open(host, pid, node).id, data or {}, { as = user })
end

local function status(host, pid) return host:process(pid).process.status end
local function data(host, pid) return host:process(pid).process.data end

---------------------------------------------------------------------------------------------
-- Multiple instances
---------------------------------------------------------------------------------------------

pattern("wcp12_mi_without_synchronization", function(ctx)
  it("starts one label per parcel and goes on without waiting for them", function()
    local host = ctx.host
    local pid = host:start("wcp12_mi_without_synchronization", "start", { parcels = 3 }).process.id
    local fork = H.one(host, pid, "fork")
    local ctrl = controller(host, pid, "label")
    assert.equal("STARTED", ctrl.status)
    assert.equal("start/" .. fork.id .. "_1", ctrl.token)
    local labels = instances(host, pid, "label")
    check_instances(labels, ctrl, { 1, 2, 3 })
    for _, t in ipairs(labels) do
      assert.equal("ASSIGNED", t.status)
      assert.equal("alice", t.owner)
    end
    assert.same({ "dispatch:ASSIGNED", "label:ASSIGNED", "label:ASSIGNED", "label:ASSIGNED", "label[group]:STARTED" },
      active(host, pid))
    -- the process went on at once: the carrier is booked while every label is open
    run(host, pid, "dispatch", "bob")
    assert.equal(1, count(host, pid, "booked", "DONE"))
    assert.equal(3, #instances(host, pid, "label", "ASSIGNED"))
    assert.equal("STARTED", status(host, pid))
    host:execute(labels[2].id, {}, { as = "alice" })
    host:execute(labels[1].id, {}, { as = "alice" })
    assert.equal(2, controller(host, pid, "label").data.done)
    assert.equal(0, count(host, pid, "labelled"))
    host:execute(labels[3].id, {}, { as = "alice" })
    assert.same({ "start:DONE", "fork:DONE", "label[group]:DONE", "label:DONE", "label:DONE", "label:DONE",
      "dispatch:DONE", "booked:DONE", "labelled:DONE" }, trail(host, pid))
    assert.equal(3, controller(host, pid, "label").data.done)
    assert.same({}, active(host, pid))
    assert.equal("DONE", status(host, pid))
  end)

  it("starts exactly one instance for one parcel", function()
    local host = ctx.host
    local pid = host:start("wcp12_mi_without_synchronization", "start", { parcels = 1 }).process.id
    assert.same({ "dispatch:ASSIGNED", "label:ASSIGNED", "label[group]:STARTED" }, active(host, pid))
    check_instances(instances(host, pid, "label"), controller(host, pid, "label"), { 1 })
  end)
end)

pattern("wcp13_mi_design_time_knowledge", function(ctx)
  it("runs three instances and synchronizes once after the third", function()
    local host = ctx.host
    local pid = host:start("wcp13_mi_design_time_knowledge", "start", {}).process.id
    local ctrl = controller(host, pid, "sign")
    assert.equal("STARTED", ctrl.status)
    assert.equal("start", ctrl.token)
    local signs = instances(host, pid, "sign")
    check_instances(signs, ctrl, { "alice", "bob", "carol" })
    for k, user in ipairs { "alice", "bob", "carol" } do
      assert.equal("ASSIGNED", signs[k].status)
      assert.equal(user, signs[k].owner)
    end
    host:execute(signs[2].id, {}, { as = "bob" })
    host:execute(signs[1].id, {}, { as = "alice" })
    assert.equal(0, count(host, pid, "file"))
    assert.equal("STARTED", controller(host, pid, "sign").status)
    assert.equal(2, controller(host, pid, "sign").data.done)
    host:execute(signs[3].id, {}, { as = "carol" })
    assert.equal("DONE", controller(host, pid, "sign").status)
    assert.same({ "alice:DONE", "bob:DONE", "carol:DONE" }, items(instances(host, pid, "sign")))
    assert.same({ ctrl.id }, H.one(host, pid, "file").previous)
    assert.equal(1, data(host, pid).filed)
    assert.equal(3, data(host, pid).signatures)
    assert.same({ "start:DONE", "sign[group]:DONE", "sign:DONE", "sign:DONE", "sign:DONE", "file:DONE",
      "finish:DONE" }, trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp14_mi_runtime_knowledge", function(ctx)
  local flow = "wcp14_mi_runtime_knowledge"

  it("runs one review per reviewer named at the start, and synchronizes them", function()
    local host = ctx.host
    local pid = host:start(flow, "start", { reviewers = { "bob", "dave" } }).process.id
    local ctrl = controller(host, pid, "review")
    local reviews = instances(host, pid, "review")
    check_instances(reviews, ctrl, { "bob", "dave" })
    assert.same({ "review:ASSIGNED", "review:ASSIGNED", "review[group]:STARTED" }, active(host, pid))
    assert.equal("bob", reviews[1].owner)
    assert.equal("dave", reviews[2].owner)
    host:execute(reviews[2].id, {}, { as = "dave" })
    assert.equal(0, count(host, pid, "decide"))
    host:execute(reviews[1].id, {}, { as = "bob" })
    assert.equal("DONE", controller(host, pid, "review").status)
    assert.equal(1, count(host, pid, "decide", "DONE"))
    assert.equal(1, data(host, pid).decided)
    assert.same({ "start:DONE", "review[group]:DONE", "review:DONE", "review:DONE", "decide:DONE", "finish:DONE" },
      trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)

  it("waits for all four of four", function()
    local host = ctx.host
    local users = { "alice", "bob", "carol", "erin" }
    local pid = host:start(flow, "start", { reviewers = users }).process.id
    local reviews = instances(host, pid, "review")
    check_instances(reviews, controller(host, pid, "review"), users)
    for k = 4, 2, -1 do
      host:execute(reviews[k].id, {}, { as = users[k] })
      assert.equal(0, count(host, pid, "decide"))
    end
    host:execute(reviews[1].id, {}, { as = "alice" })
    assert.equal(4, controller(host, pid, "review").data.done)
    assert.equal(1, count(host, pid, "decide", "DONE"))
    assert.equal("DONE", status(host, pid))
  end)

  it("with no reviewer goes on at once", function()
    local host = ctx.host
    local pid = host:start(flow, "start", { reviewers = {} }).process.id
    assert.same({ "start:DONE", "review[group]:DONE", "decide:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)

  it("refuses a list that is not of user names", function()
    local host = ctx.host
    H.refused("flow_error", function() host:start(flow, "start", { reviewers = 3 }) end)
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
  local flow = "wcp26_cancel_mi_activity"

  -- the group's boundary timer row (type "timeout")
  local function group_timer(host, pid)
    local rows = timeouts(host, pid)
    assert.equal(1, #rows)
    return rows[1]
  end

  it("three days without every signature cancel the activity; the signature given stays", function()
    local host = ctx.host
    local pid = host:start(flow, "start", {}).process.id
    local ctrl = controller(host, pid, "sign")
    local timer = group_timer(host, pid)
    assert.equal(ctrl.id, timer.timeout.guards)
    assert.equal("expired", timer.timeout.node)
    assert.equal("SCHEDULED", timer.status)
    assert.equal("2030-01-04T00:00:00.000Z", timer.due_at)
    check_instances(instances(host, pid, "sign"), ctrl, { "alice", "bob", "dave" })
    run_instance(host, pid, "sign", "alice")
    assert.equal(0, host:advance(3 * 86400 - 1))
    assert.equal(2, #instances(host, pid, "sign", "ASSIGNED"))
    assert.equal(1, host:advance(1))
    assert.same({ "alice:DONE", "bob:CANCELED", "dave:CANCELED" }, items(instances(host, pid, "sign")))
    assert.equal("DONE", group_timer(host, pid).status)
    assert.same({ "start:DONE", "sign[group]:CANCELED", "sign:DONE", "sign:CANCELED", "sign:CANCELED",
      "expired:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("start", H.one(host, pid, "expired").token)
    assert.equal(1, data(host, pid).expired)
    assert.is_nil(data(host, pid).file)
    assert.equal("DONE", status(host, pid))
    H.refused("conflict", function() host:execute(instances(host, pid, "sign")[2].id, {}, { as = "bob" }) end)
  end)

  it("all three signing in time files the contract and disarms the timer", function()
    local host = ctx.host
    local pid = host:start(flow, "start", {}).process.id
    run_instance(host, pid, "sign", "dave")
    run_instance(host, pid, "sign", "alice")
    run_instance(host, pid, "sign", "bob")
    assert.equal("CANCELED", group_timer(host, pid).status)
    assert.equal(0, host:advance(4 * 86400))
    assert.same({ "start:DONE", "sign[group]:DONE", "sign:DONE", "sign:DONE", "sign:DONE", "file:DONE",
      "finish:DONE" }, trail(host, pid))
    assert.equal(1, data(host, pid).file)
    assert.is_nil(data(host, pid).expired)
    assert.equal("DONE", status(host, pid))
  end)

  it("a manager cancels the activity as one: its open instances go with it", function()
    local host = ctx.host
    local pid = host:start(flow, "start", {}).process.id
    run_instance(host, pid, "sign", "alice")
    host:cancel(controller(host, pid, "sign").id, { as = "admin" })
    assert.same({ "alice:DONE", "bob:CANCELED", "dave:CANCELED" }, items(instances(host, pid, "sign")))
    assert.equal("CANCELED", controller(host, pid, "sign").status)
    assert.equal("CANCELED", group_timer(host, pid).status)
    assert.equal(0, host:advance(4 * 86400))
    assert.same({ "start:DONE", "sign[group]:CANCELED", "sign:DONE", "sign:CANCELED", "sign:CANCELED" },
      trail(host, pid))
    -- no subsequent task: like any canceled task, the process waits for a manager (revive or cancel it)
    assert.same({}, active(host, pid))
    assert.equal("STARTED", status(host, pid))
  end)
end)

pattern("wcp27_complete_mi_activity", function(ctx)
  local flow = "wcp27_complete_mi_activity"

  it("two days after the request the missing quotes are withdrawn and the quotes compared", function()
    local host = ctx.host
    local pid = host:start(flow, "start", {}).process.id
    local ctrl = controller(host, pid, "quotes")
    check_instances(instances(host, pid, "quotes"), ctrl, { "alice", "bob", "dave" })
    local timer = timeouts(host, pid)[1]
    assert.equal(ctrl.id, timer.timeout.guards)
    assert.equal("compare", timer.timeout.node)
    run_instance(host, pid, "quotes", "alice")
    run_instance(host, pid, "quotes", "bob")
    assert.equal(0, count(host, pid, "compare"))
    assert.equal(1, host:advance(2 * 86400))
    assert.same({ "alice:DONE", "bob:DONE", "dave:CANCELED" }, items(instances(host, pid, "quotes")))
    assert.same({ "start:DONE", "quotes[group]:CANCELED", "quotes:DONE", "quotes:DONE", "quotes:CANCELED",
      "compare:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("start", H.one(host, pid, "compare").token)
    assert.equal(1, data(host, pid).compared)
    assert.equal("DONE", status(host, pid))
  end)

  it("all three quotes in time: compared once, the timer disarmed", function()
    local host = ctx.host
    local pid = host:start(flow, "start", {}).process.id
    execute_all(host, instances(host, pid, "quotes"))
    assert.equal("CANCELED", timeouts(host, pid)[1].status)
    assert.equal(0, host:advance(3 * 86400))
    assert.same({ "start:DONE", "quotes[group]:DONE", "quotes:DONE", "quotes:DONE", "quotes:DONE", "compare:DONE",
      "finish:DONE" }, trail(host, pid))
    assert.equal(1, data(host, pid).compared)
    assert.equal("DONE", status(host, pid))
  end)

  it("the buyer completes it early: open bids withdrawn, the normal path goes on", function()
    local host = ctx.host
    local pid = host:start(flow, "with_buyer", {}).process.id
    local fork = H.one(host, pid, "fork")
    local ctrl = controller(host, pid, "bids")
    assert.equal("start/" .. fork.id .. "_1", ctrl.token)
    check_instances(instances(host, pid, "bids"), ctrl, { "alice", "bob", "dave" })
    run_instance(host, pid, "bids", "alice")
    assert.equal(0, count(host, pid, "compare"))
    run(host, pid, "enough", "carol")
    assert.same({ "alice:DONE", "bob:CANCELED", "dave:CANCELED" }, items(instances(host, pid, "bids")))
    assert.same({ "with_buyer:DONE", "fork:DONE", "bids[group]:CANCELED", "bids:DONE", "bids:CANCELED", "bids:CANCELED",
      "enough:DONE", "stop_quotes:DONE", "compare:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal(0, count(host, pid, "all_in"))
    assert.equal("start", H.one(host, pid, "compare").token)
    assert.equal(1, data(host, pid).compared)
    assert.equal("DONE", status(host, pid))
  end)

  it("without the buyer, waits for all three bids and withdraws the option", function()
    local host = ctx.host
    local pid = host:start(flow, "with_buyer", {}).process.id
    run_instance(host, pid, "bids", "dave")
    run_instance(host, pid, "bids", "alice")
    assert.equal("ASSIGNED", open(host, pid, "enough").status)
    run_instance(host, pid, "bids", "bob")
    assert.same({ "with_buyer:DONE", "fork:DONE", "bids[group]:DONE", "bids:DONE", "bids:DONE", "bids:DONE",
      "enough:CANCELED", "all_in:DONE", "compare:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("start", H.one(host, pid, "compare").token)
    assert.equal(1, data(host, pid).compared)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp34_static_partial_join_mi", function(ctx)
  it("goes on after two of three instances; the third runs to its end and changes nothing", function()
    local host = ctx.host
    local pid = host:start("wcp34_static_partial_join_mi", "start", {}).process.id
    local ctrl = controller(host, pid, "inspect")
    check_instances(instances(host, pid, "inspect"), ctrl, { "alice", "bob", "carol" })
    run_instance(host, pid, "inspect", "alice")
    assert.equal(0, count(host, pid, "release"))
    run_instance(host, pid, "inspect", "carol")
    assert.equal(1, count(host, pid, "release", "DONE"))
    assert.equal("DONE", controller(host, pid, "inspect").status)
    assert.equal(2, controller(host, pid, "inspect").data.done)
    assert.same({ "alice:DONE", "bob:ASSIGNED", "carol:DONE" }, items(instances(host, pid, "inspect")))
    assert.equal("STARTED", status(host, pid))
    run_instance(host, pid, "inspect", "bob")
    assert.same({ "alice:DONE", "bob:DONE", "carol:DONE" }, items(instances(host, pid, "inspect")))
    assert.equal(1, count(host, pid, "release"))
    assert.equal(1, data(host, pid).released)
    assert.same({ "start:DONE", "inspect[group]:DONE", "inspect:DONE", "inspect:DONE", "inspect:DONE",
      "release:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp35_cancelling_partial_join_mi", function(ctx)
  local flow = "wcp35_cancelling_partial_join_mi"

  it("goes on after two of three instances and withdraws the third", function()
    local host = ctx.host
    local pid = host:start(flow, "start", { inspectors = { "alice", "bob", "carol" } }).process.id
    local ctrl = controller(host, pid, "inspect")
    check_instances(instances(host, pid, "inspect"), ctrl, { "alice", "bob", "carol" })
    run_instance(host, pid, "inspect", "bob")
    assert.equal(0, count(host, pid, "release"))
    assert.equal(1, controller(host, pid, "inspect").data.done)
    run_instance(host, pid, "inspect", "carol")
    assert.same({ "alice:CANCELED", "bob:DONE", "carol:DONE" }, items(instances(host, pid, "inspect")))
    assert.equal(2, controller(host, pid, "inspect").data.done)
    assert.same({ "start:DONE", "inspect[group]:DONE", "inspect:CANCELED", "inspect:DONE", "inspect:DONE",
      "release:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal(1, data(host, pid).released)
    assert.equal("DONE", status(host, pid))
    H.refused("conflict", function() host:execute(instances(host, pid, "inspect")[1].id, {}, { as = "alice" }) end)
  end)

  it("with four instances, two done withdraw the other two", function()
    local host = ctx.host
    local pid = host:start(flow, "start", { inspectors = { "alice", "bob", "carol", "dave" } }).process.id
    run_instance(host, pid, "inspect", "dave")
    run_instance(host, pid, "inspect", "alice")
    assert.same({ "alice:DONE", "bob:CANCELED", "carol:CANCELED", "dave:DONE" }, items(instances(host, pid, "inspect")))
    assert.equal(1, count(host, pid, "release", "DONE"))
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

-- Helpers of the lock and milestone patterns (17, 40, 18, 39).

-- node -> how many tasks of it the process has (boundary-timer rows left out): how often each
-- node ran.
local function runs(host, pid)
  local out = {}
  for _, t in ipairs(tasks(host, pid)) do out[t.node] = (out[t.node] or 0) + 1 end
  return out
end

-- Checks every task's token: the nodes listed in branches[k] run on the k-th branch of the
-- (single) task of `split` ("<its token>/<its id>_<k>"), every other node on the split's own
-- token.
local function check_tokens(host, pid, split, branches)
  local s = of(host, pid, split)
  assert.equal(1, #s)
  local where = {}
  for k, nodes in ipairs(branches) do
    for _, node in ipairs(nodes) do where[node] = string.format("%s/%d_%d", s[1].token, s[1].id, k) end
  end
  for _, t in ipairs(tasks(host, pid)) do assert.equal(where[t.node] or s[1].token, t.token, t.node) end
end

-- The Lock tasks waiting for their lock (STARTED, type "lock"), sorted node names.
local function waiting(host, pid)
  local out = {}
  for _, t in ipairs(tasks(host, pid)) do
    if t.type == "lock" and t.status == "STARTED" then out[#out + 1] = t.node end
  end
  table.sort(out)
  return out
end

-- Asserts that at most one task of the nodes in `section` (a set) is active; returns the
-- active one's node name, or nil.
local function exclusive(host, pid, section)
  local inside = {}
  for _, t in ipairs(tasks(host, pid)) do
    if section[t.node] and ACTIVE[t.status] then inside[#inside + 1] = t.node end
  end
  assert(#inside <= 1, "two tasks inside the section active at once: " .. table.concat(inside, ", "))
  return inside[1]
end

pattern("wcp17_interleaved_parallel_routing", function(ctx)
  local SECTION = { pick = true, pack = true, invoice = true }
  local BRANCHES = {
    { "lock_pick", "pick", "unlock_pick", "lock_pack", "pack", "unlock_pack" },
    { "lock_invoice", "invoice", "unlock_invoice" },
  }

  local function start(host)
    local pid = host:start("wcp17_interleaved_parallel_routing", "start", {}).process.id
    assert.equal("pick", exclusive(host, pid, SECTION))
    return pid
  end

  -- runs the single active task of node as user; then still at most one of the three is active
  local function step(host, pid, node, user)
    run(host, pid, node, user)
    return exclusive(host, pid, SECTION)
  end

  it("runs each task once, one at a time, pack only after pick", function()
    local host = ctx.host
    local pid = start(host)
    assert.same({ "lock_invoice:STARTED", "pick:ASSIGNED" }, active(host, pid))
    assert.same({ "lock_invoice" }, waiting(host, pid))
    assert.equal(0, count(host, pid, "invoice"))
    assert.equal("invoice", step(host, pid, "pick", "alice"))
    -- invoice was waiting first; the pick branch now waits at the pack lock
    assert.same({ "invoice:ASSIGNED", "lock_pack:STARTED" }, active(host, pid))
    assert.same({ "lock_pack" }, waiting(host, pid))
    assert.equal(0, count(host, pid, "pack"))
    assert.equal("pack", step(host, pid, "invoice", "bob"))
    assert.same({ "pack:ASSIGNED", "step:STARTED" }, active(host, pid))
    assert.is_nil(step(host, pid, "pack", "carol"))
    assert.same({ "start:DONE", "dispatch:DONE", "lock_pick:DONE", "lock_invoice:DONE", "pick:DONE",
      "unlock_pick:DONE", "invoice:DONE", "lock_pack:DONE", "unlock_invoice:DONE", "pack:DONE", "step:DONE",
      "unlock_pack:DONE", "finish:DONE" }, trail(host, pid))
    assert.same({ start = 1, dispatch = 1, lock_pick = 1, pick = 1, unlock_pick = 1, lock_pack = 1, pack = 1,
      unlock_pack = 1, lock_invoice = 1, invoice = 1, unlock_invoice = 1, step = 1, finish = 1 }, runs(host, pid))
    check_tokens(host, pid, "dispatch", BRANCHES)
    assert.equal("DONE", status(host, pid))
  end)

  it("lets the lock go when a manager cancels the running task; the join goes on without it", function()
    -- Engine bug: a lock handed over at an Unlock is not written (the task UPDATE leaves out
    -- event_key), so the old holder stays "held" in the database and the new one (here
    -- lock_invoice) is not: canceling invoice lets nothing go and lock_pack waits for ever.
    local host = ctx.host
    local pid = start(host)
    step(host, pid, "pick", "alice")
    host:cancel(open(host, pid, "invoice").id, { as = "admin" })
    -- the invoice branch has nothing active any more: its lock goes to the waiting pack branch
    assert.equal("pack", exclusive(host, pid, SECTION))
    assert.same({ "pack:ASSIGNED" }, active(host, pid))
    assert.same({}, waiting(host, pid))
    step(host, pid, "pack", "carol")
    assert.same({ "start:DONE", "dispatch:DONE", "lock_pick:DONE", "lock_invoice:DONE", "pick:DONE",
      "unlock_pick:DONE", "invoice:CANCELED", "lock_pack:DONE", "pack:DONE", "unlock_pack:DONE", "step:DONE",
      "finish:DONE" }, trail(host, pid))
    assert.equal(0, count(host, pid, "unlock_invoice"))
    check_tokens(host, pid, "dispatch", BRANCHES)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp40_interleaved_routing", function(ctx)
  local SECTION = { audit_books = true, audit_stock = true, audit_payroll = true }
  local BRANCHES = {
    { "lock_books", "audit_books", "unlock_books" },
    { "lock_stock", "audit_stock", "unlock_stock" },
    { "lock_payroll", "audit_payroll", "unlock_payroll" },
  }

  local function start(host)
    local pid = host:start("wcp40_interleaved_routing", "start", {}).process.id
    assert.equal("audit_books", exclusive(host, pid, SECTION))
    return pid
  end

  local function step(host, pid, node, user)
    run(host, pid, node, user)
    return exclusive(host, pid, SECTION)
  end

  it("lets one audit in at a time, the waiting ones oldest first, and reports once all are done", function()
    local host = ctx.host
    local pid = start(host)
    assert.same({ "audit_books:ASSIGNED", "lock_payroll:STARTED", "lock_stock:STARTED" }, active(host, pid))
    assert.same({ "lock_payroll", "lock_stock" }, waiting(host, pid))
    assert.equal(0, count(host, pid, "audit_stock"))
    assert.equal(0, count(host, pid, "audit_payroll"))
    assert.equal("audit_stock", step(host, pid, "audit_books", "alice"))
    assert.same({ "audit_stock:ASSIGNED", "lock_payroll:STARTED", "step:STARTED" }, active(host, pid))
    assert.equal("audit_payroll", step(host, pid, "audit_stock", "bob"))
    assert.same({ "audit_payroll:ASSIGNED", "step:STARTED" }, active(host, pid))
    assert.same({}, waiting(host, pid))
    assert.is_nil(step(host, pid, "audit_payroll", "carol"))
    assert.same({ "report:ASSIGNED" }, active(host, pid))
    run(host, pid, "report", "dave")
    assert.same({ "start:DONE", "audits:DONE", "lock_books:DONE", "lock_stock:DONE", "lock_payroll:DONE",
      "audit_books:DONE", "unlock_books:DONE", "audit_stock:DONE", "step:DONE", "unlock_stock:DONE",
      "audit_payroll:DONE", "unlock_payroll:DONE", "report:DONE", "finish:DONE" }, trail(host, pid))
    assert.same({ start = 1, audits = 1, lock_books = 1, audit_books = 1, unlock_books = 1, lock_stock = 1,
      audit_stock = 1, unlock_stock = 1, lock_payroll = 1, audit_payroll = 1, unlock_payroll = 1, step = 1,
      report = 1, finish = 1 }, runs(host, pid))
    check_tokens(host, pid, "audits", BRANCHES)
    assert.equal("DONE", status(host, pid))
  end)

  it("keeps the others waiting while the audit let in takes its time (gives it back, takes it again)", function()
    -- Engine bug: the handover at unlock_books is not stored (the old holder lock_books stays
    -- "held" in the database), so the next action on the process finds lock_books' branch
    -- finished and lets the lock go again: audit_payroll comes in beside audit_stock.
    local host = ctx.host
    local pid = start(host)
    assert.equal("audit_stock", step(host, pid, "audit_books", "alice"))
    local stock = open(host, pid, "audit_stock")
    host:unassign(stock.id, { as = "bob" })
    assert.equal("audit_stock", exclusive(host, pid, SECTION))
    assert.same({ "audit_stock:NEW", "lock_payroll:STARTED", "step:STARTED" }, active(host, pid))
    host:assign(stock.id, { as = "bob" })
    assert.equal("audit_payroll", step(host, pid, "audit_stock", "bob"))
    assert.is_nil(step(host, pid, "audit_payroll", "carol"))
    run(host, pid, "report", "dave")
    assert.same({ start = 1, audits = 1, lock_books = 1, audit_books = 1, unlock_books = 1, lock_stock = 1,
      audit_stock = 1, unlock_stock = 1, lock_payroll = 1, audit_payroll = 1, unlock_payroll = 1, step = 1,
      report = 1, finish = 1 }, runs(host, pid))
    assert.equal("DONE", status(host, pid))
  end)

  it("a manager cancels the running audit and a waiting Lock: the lock moves on, the join still fires", function()
    local host = ctx.host
    local pid = start(host)
    -- a waiting Lock task may be canceled (a STARTED task of type "lock"), not executed
    local lock_payroll = open(host, pid, "lock_payroll")
    assert.equal("lock", lock_payroll.type)
    assert.same({ "cancel" }, H.actions(host, lock_payroll.id, "admin"))
    H.refused("conflict", function() host:execute(lock_payroll.id, {}, { as = "admin" }) end)
    host:cancel(lock_payroll.id, { as = "admin" })
    assert.same({ "audit_books:ASSIGNED", "lock_stock:STARTED" }, active(host, pid))
    -- alice cannot do the books: canceled, her branch has nothing active, stock comes in
    host:cancel(open(host, pid, "audit_books").id, { as = "admin" })
    assert.equal("audit_stock", exclusive(host, pid, SECTION))
    assert.same({ "audit_stock:ASSIGNED" }, active(host, pid))
    assert.is_nil(step(host, pid, "audit_stock", "bob"))
    run(host, pid, "report", "dave")
    assert.same({ "start:DONE", "audits:DONE", "lock_books:DONE", "lock_stock:DONE", "lock_payroll:CANCELED",
      "audit_books:CANCELED", "audit_stock:DONE", "unlock_stock:DONE", "step:DONE", "report:DONE",
      "finish:DONE" }, trail(host, pid))
    assert.equal(0, count(host, pid, "audit_payroll"))
    check_tokens(host, pid, "audits", BRANCHES)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp18_milestone", function(ctx)
  local function start(host)
    return host:start("wcp18_milestone", "start", { order = "O-18", address = "Old Road 1" }).process.id
  end

  -- refused with 409 (conflict), naming the milestone
  local function outside(fn)
    local err = H.refused("conflict", fn)
    assert.truthy(err.message:find("only while 'ship' is active", 1, true), err.message)
  end

  it("takes changes only while ship is active, as often as asked; before and after, refuses them", function()
    local host = ctx.host
    local pid = start(host)
    local first = open(host, pid, "change")
    assert.same({ "change:NEW", "confirm:ASSIGNED" }, active(host, pid))
    -- before the milestone: not offered, and refused
    assert.same({}, H.actions(host, first.id, "carol"))
    assert.same({ "cancel" }, H.actions(host, first.id, "admin"))
    outside(function() host:assign(first.id, { as = "carol" }) end)
    assert.equal("NEW", open(host, pid, "change").status)
    run(host, pid, "confirm", "alice")
    -- in the window: offered, taken, done; and again
    assert.same({ "assign" }, H.actions(host, first.id, "carol"))
    assert.same({ "assign", "cancel", "reassign" }, H.actions(host, first.id, "admin"))   -- NEW: hand it over too
    host:assign(first.id, { as = "carol" })
    assert.same({ "execute", "unassign" }, H.actions(host, first.id, "carol"))
    host:execute(first.id, { address = "New Street 3" }, { as = "carol" })
    assert.equal("New Street 3", data(host, pid).address)
    local second = open(host, pid, "change")
    host:assign(second.id, { as = "carol" })
    host:execute(second.id, { address = "New Street 5" }, { as = "carol" })
    assert.equal("New Street 5", data(host, pid).address)
    assert.equal(2, data(host, pid).changes)
    -- a third, taken up in the window, but bob ships first: the test does not hold ship back
    local third = open(host, pid, "change")
    host:assign(third.id, { as = "carol" })
    assert.same({ "change:ASSIGNED", "ship:ASSIGNED" }, active(host, pid))
    run(host, pid, "ship", "bob")
    assert.same({ "change:ASSIGNED", "deliver:ASSIGNED" }, active(host, pid))
    assert.same({ "unassign" }, H.actions(host, third.id, "carol"))
    outside(function() host:execute(third.id, { address = "Too Late 7" }, { as = "carol" }) end)
    assert.equal("New Street 5", data(host, pid).address)
    assert.equal(2, data(host, pid).changes)
    -- delivered: the change that can no longer be done is withdrawn
    run(host, pid, "deliver", "dave")
    assert.same({ "start:DONE", "fork:DONE", "confirm:DONE", "change:DONE", "ship:DONE", "apply:DONE",
      "change:DONE", "apply:DONE", "change:CANCELED", "deliver:DONE", "close:DONE", "finish:DONE" },
      trail(host, pid))
    assert.same({ start = 1, fork = 1, confirm = 1, ship = 1, deliver = 1, close = 1, finish = 1, change = 3,
      apply = 2 }, runs(host, pid))
    check_tokens(host, pid, "fork", { { "confirm", "ship", "deliver", "close" }, { "change", "apply" } })
    assert.equal("DONE", status(host, pid))
  end)

  it("a change nobody took in the window can no longer be taken, and is withdrawn at the end", function()
    local host = ctx.host
    local pid = start(host)
    run(host, pid, "confirm", "alice")
    run(host, pid, "ship", "bob")
    local change = open(host, pid, "change")
    assert.equal("NEW", change.status)
    assert.same({}, H.actions(host, change.id, "carol"))
    assert.same({ "cancel" }, H.actions(host, change.id, "admin"))
    outside(function() host:assign(change.id, { as = "carol" }) end)
    run(host, pid, "deliver", "dave")
    assert.same({ "start:DONE", "fork:DONE", "confirm:DONE", "change:CANCELED", "ship:DONE", "deliver:DONE",
      "close:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal("Old Road 1", data(host, pid).address)
    assert.is_nil(data(host, pid).changes)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp39_critical_section", function(ctx)
  local SECTION = { update_a = true, confirm_a = true, update_b = true, confirm_b = true }
  local BRANCHES = {
    { "lock_a", "update_a", "confirm_a", "unlock_a" },
    { "lock_b", "update_b", "confirm_b", "unlock_b" },
  }

  local function start(host)
    local pid = host:start("wcp39_critical_section", "start", {}).process.id
    assert.equal("update_a", exclusive(host, pid, SECTION))
    return pid
  end

  local function step(host, pid, node, user)
    run(host, pid, node, user)
    return exclusive(host, pid, SECTION)
  end

  it("never lets both sections be active at once: B waits at its Lock until A unlocks", function()
    local host = ctx.host
    local pid = start(host)
    assert.same({ "lock_b:STARTED", "update_a:ASSIGNED" }, active(host, pid))
    assert.same({ "lock_b" }, waiting(host, pid))
    assert.equal("DONE", of(host, pid, "lock_a")[1].status)
    -- the waiting Lock runs by itself: nobody executes or takes it; a manager may cancel it
    local lock_b = open(host, pid, "lock_b")
    assert.same({ "cancel" }, H.actions(host, lock_b.id, "admin"))
    H.refused("conflict", function() host:execute(lock_b.id, {}, { as = "admin" }) end)
    H.refused("conflict", function() host:assign(lock_b.id, { as = "admin" }) end)
    assert.equal("confirm_a", step(host, pid, "update_a", "alice"))
    assert.equal(0, count(host, pid, "update_b"))   -- A's section is not over yet
    assert.same({ "lock_b" }, waiting(host, pid))
    assert.equal("update_b", step(host, pid, "confirm_a", "alice"))
    assert.same({ "done:STARTED", "update_b:ASSIGNED" }, active(host, pid))
    assert.same({}, waiting(host, pid))
    assert.equal("confirm_b", step(host, pid, "update_b", "bob"))
    assert.is_nil(step(host, pid, "confirm_b", "bob"))
    assert.same({ "start:DONE", "fork:DONE", "lock_a:DONE", "lock_b:DONE", "update_a:DONE", "confirm_a:DONE",
      "unlock_a:DONE", "update_b:DONE", "done:DONE", "confirm_b:DONE", "unlock_b:DONE", "finish:DONE" },
      trail(host, pid))
    assert.same({ start = 1, fork = 1, lock_a = 1, update_a = 1, confirm_a = 1, unlock_a = 1, lock_b = 1,
      update_b = 1, confirm_b = 1, unlock_b = 1, done = 1, finish = 1 }, runs(host, pid))
    check_tokens(host, pid, "fork", BRANCHES)
    assert.equal("DONE", status(host, pid))
  end)

  it("a section canceled midway does not keep the lock: B enters at once", function()
    local host = ctx.host
    local pid = start(host)
    step(host, pid, "update_a", "alice")
    host:cancel(open(host, pid, "confirm_a").id, { as = "admin" })
    assert.equal("update_b", exclusive(host, pid, SECTION))
    assert.same({ "update_b:ASSIGNED" }, active(host, pid))
    step(host, pid, "update_b", "bob")
    step(host, pid, "confirm_b", "bob")
    assert.same({ "start:DONE", "fork:DONE", "lock_a:DONE", "lock_b:DONE", "update_a:DONE", "confirm_a:CANCELED",
      "update_b:DONE", "confirm_b:DONE", "unlock_b:DONE", "done:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal(0, count(host, pid, "unlock_a"))
    check_tokens(host, pid, "fork", BRANCHES)
    assert.equal("DONE", status(host, pid))
  end)

  it("a manager cancels the waiting Lock: B's section never runs, A's branch finishes the process", function()
    local host = ctx.host
    local pid = start(host)
    host:cancel(open(host, pid, "lock_b").id, { as = "admin" })
    assert.same({ "update_a:ASSIGNED" }, active(host, pid))
    step(host, pid, "update_a", "alice")
    step(host, pid, "confirm_a", "alice")
    assert.same({ "start:DONE", "fork:DONE", "lock_a:DONE", "lock_b:CANCELED", "update_a:DONE", "confirm_a:DONE",
      "unlock_a:DONE", "done:DONE", "finish:DONE" }, trail(host, pid))
    assert.equal(0, count(host, pid, "update_b"))
    assert.equal("DONE", status(host, pid))
  end)

  it("keeps the locks of two processes apart", function()
    local host = ctx.host
    local one = start(host)
    local two = start(host)   -- its A holds its own "record" lock while one's A holds one's
    assert.same({ "lock_b:STARTED", "update_a:ASSIGNED" }, active(host, two))
    step(host, one, "update_a", "alice")
    step(host, one, "confirm_a", "alice")
    assert.equal("ASSIGNED", open(host, one, "update_b").status)
    assert.same({ "lock_b" }, waiting(host, two))
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
  local flow = "wcp22_recursion"

  -- The ids of the children of pid, in creation order.
  local function children(host, pid)
    local out = {}
    for i, c in ipairs(host:process(pid).children) do out[i] = c.id end
    return out
  end

  it("invokes the estimate again, as a child process, for each half; adds up on the way back", function()
    local host = ctx.host
    local root = host:start(flow, "start", { amount = 100 }).process.id
    -- the root and each inner invocation: a group of two calls, each waiting for its child
    local levels = { [root] = 0 }
    local queue, inner, leaves = { root }, {}, {}
    while #queue > 0 do
      local pid = table.remove(queue, 1)
      local kids = children(host, pid)
      if #kids == 0 then
        leaves[#leaves + 1] = pid
      else
        inner[#inner + 1] = pid
        assert.equal(2, #kids)
        local ctrl = controller(host, pid, "halves")
        assert.equal("STARTED", ctrl.status)
        local calls = instances(host, pid, "halves")
        local half = data(host, pid).amount / 2
        check_instances(calls, ctrl, { half, half })
        for k, call in ipairs(calls) do
          assert.equal("STARTED", call.status)
          assert.equal("subprocess", call.type)
          assert.equal(kids[k], call.child_id)
          local child = host:process(kids[k]).process
          assert.same({ process_id = pid, task_id = call.id }, child.parent)
          assert.equal(flow, child.flow)
          assert.equal(half, child.data.amount)
          levels[kids[k]] = levels[pid] + 1
          queue[#queue + 1] = kids[k]
        end
        assert.equal(0, count(host, pid, "estimate_part"))
      end
    end
    assert.equal(3, #inner)
    assert.equal(4, #leaves)
    for _, pid in ipairs(leaves) do
      assert.equal(2, levels[pid])
      assert.equal(25, data(host, pid).amount)
      assert.same({ "start:DONE", "estimate:DONE", "estimate_part:ASSIGNED" }, trail(host, pid))
      assert.equal("alice", open(host, pid, "estimate_part").owner)
    end
    -- the leaves return one by one; the root finishes with the last
    for i, pid in ipairs(leaves) do
      run(host, pid, "estimate_part", "alice")
      assert.equal("DONE", status(host, pid))
      if i < #leaves then assert.equal("STARTED", status(host, root)) end
    end
    for _, pid in ipairs(inner) do
      assert.same({ "start:DONE", "estimate:DONE", "halves[group]:DONE", "halves:DONE", "halves:DONE",
        "finish:DONE" }, trail(host, pid))
      assert.equal(data(host, pid).amount, data(host, pid).total)
      assert.equal("DONE", status(host, pid))
    end
    for _, pid in ipairs(leaves) do
      assert.same({ "start:DONE", "estimate:DONE", "estimate_part:DONE", "record:DONE", "finish:DONE" },
        trail(host, pid))
    end
    assert.equal(100, data(host, root).total)
    assert.equal(7, #host:processes {})
    assert.equal("DONE", status(host, root))
  end)

  it("does not recurse when the amount is small", function()
    local host = ctx.host
    local pid = host:start(flow, "start", { amount = 20 }).process.id
    run(host, pid, "estimate_part", "alice")
    assert.same({ "start:DONE", "estimate:DONE", "estimate_part:DONE", "record:DONE", "finish:DONE" },
      trail(host, pid))
    assert.same({}, host:process(pid).children)
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
    -- the first due-work look delivers only messages a crash cut off (still pending), never a
    -- kept one, even though on the manual clock the message and the receiver share a timestamp
    assert.equal(0, host:advance(3600))
    assert.equal("STARTED", open(host, pid, "wait_stock").status)
    assert.equal(0, count(host, pid, "pick"))
    assert.same({ "start:DONE", "prepare:DONE", "wait_stock:STARTED" }, trail(host, pid))
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
  -- the active task of node in round k (1-based, in creation order), executed as user
  local function run_round(host, pid, node, k, user)
    local t = of(host, pid, node)[k]
    assert(t and ACTIVE[t.status], string.format("no active %s in round %d", node, k))
    return host:execute(t.id, {}, { as = user })
  end

  it("fires on the first branch and blocks the next round until the earlier one is complete", function()
    local host = ctx.host
    local pid = host:start("wcp28_blocking_discriminator", "start", { rounds = 2 }).process.id
    run_round(host, pid, "check_a", 1, "alice")
    assert.equal(1, data(host, pid).acted)
    assert.equal(2, count(host, pid, "fork", "DONE"))          -- round two started at once
    assert.same({ "check_a:ASSIGNED", "check_b:ASSIGNED", "check_b:ASSIGNED" }, active(host, pid))
    run_round(host, pid, "check_a", 2, "alice")                -- round two's first arrival
    assert.equal(1, data(host, pid).acted)                      -- blocked by round one's check_b
    assert.equal("STARTED", of(host, pid, "first")[2].status)
    run_round(host, pid, "check_b", 1, "bob")                  -- round one complete
    assert.equal(2, data(host, pid).acted)
    assert.equal("DONE", of(host, pid, "first")[2].status)
    assert.equal(1, count(host, pid, "finish", "DONE"))
    assert.equal("STARTED", status(host, pid))                 -- round two's check_b still open
    run_round(host, pid, "check_b", 2, "bob")                  -- ends at its join
    assert.equal(2, count(host, pid, "act", "DONE"))
    assert.equal(2, count(host, pid, "first", "DONE"))
    -- the rounds are kept apart by their tokens
    local checks = of(host, pid, "check_a")
    assert.are_not.equal(checks[1].token, checks[2].token)
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
  local function run_round(host, pid, node, k, user)
    local t = of(host, pid, node)[k]
    assert(t and ACTIVE[t.status], string.format("no active %s in round %d", node, k))
    return host:execute(t.id, {}, { as = user })
  end

  it("decides on two reviews and blocks the next round's decision until the third is in", function()
    local host = ctx.host
    local pid = host:start("wcp31_blocking_partial_join", "start", { rounds = 2 }).process.id
    run_round(host, pid, "review_a", 1, "alice")
    run_round(host, pid, "review_b", 1, "bob")
    assert.equal(1, data(host, pid).decided)
    assert.equal(2, count(host, pid, "fork", "DONE"))
    run_round(host, pid, "review_a", 2, "alice")
    run_round(host, pid, "review_b", 2, "bob")
    assert.equal(1, data(host, pid).decided)                    -- blocked: carol's first review is open
    assert.equal("STARTED", of(host, pid, "two_reviews")[2].status)
    run_round(host, pid, "review_c", 1, "carol")
    assert.equal(2, data(host, pid).decided)
    assert.equal(1, count(host, pid, "finish", "DONE"))
    run_round(host, pid, "review_c", 2, "carol")
    assert.equal(2, count(host, pid, "decide", "DONE"))
    assert.equal(2, count(host, pid, "two_reviews", "DONE"))
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
    local ctrl = controller(host, pid, "pack")
    local packs = instances(host, pid, "pack")
    check_instances(packs, ctrl, { 1, 2, 3 })
    for _, t in ipairs(packs) do
      assert.equal("ASSIGNED", t.status)
      assert.equal("start", t.token)
    end
    host:execute(packs[3].id, {}, { as = "alice" })
    host:execute(packs[1].id, {}, { as = "alice" })
    assert.equal(0, count(host, pid, "close"))
    assert.equal("STARTED", controller(host, pid, "pack").status)
    host:execute(packs[2].id, {}, { as = "alice" })
    assert.same({ "start:DONE", "pack[group]:DONE", "pack:DONE", "pack:DONE", "pack:DONE", "close:DONE",
      "finish:DONE" }, trail(host, pid))
    assert.equal("start", H.one(host, pid, "close").token)
    assert.same({ ctrl.id }, H.one(host, pid, "close").previous)
    assert.equal(1, data(host, pid).closed)
    assert.equal("DONE", status(host, pid))
  end)
end)

pattern("wcp42_thread_split", function(ctx)
  local flow = "wcp42_thread_split"

  it("starts three threads of the review task on the branch, each ending on its own", function()
    local host = ctx.host
    local pid = host:start(flow, "start", {}).process.id
    assert.equal(0, count(host, pid, "review"))
    run(host, pid, "confirm", "alice")
    local ctrl = controller(host, pid, "review")
    local reviews = instances(host, pid, "review")
    check_instances(reviews, ctrl, { 1, 2, 3 })
    assert.same({ "bob", "carol", "dave" }, { reviews[1].owner, reviews[2].owner, reviews[3].owner })
    for _, t in ipairs(reviews) do assert.equal("start", t.token) end
    run_instance(host, pid, "review", "dave")
    run_instance(host, pid, "review", "bob")
    assert.same({ "review:ASSIGNED", "review[group]:STARTED" }, active(host, pid))
    run_instance(host, pid, "review", "carol")
    assert.same({ "start:DONE", "confirm:DONE", "review[group]:DONE", "review:DONE", "review:DONE", "review:DONE",
      "reviewed:DONE" }, trail(host, pid))
    assert.equal("DONE", status(host, pid))
  end)

  it("threads of several tasks run as child processes, one per thread", function()
    local host = ctx.host
    local pid = host:start(flow, "pallets", { pallets = 2 }).process.id
    local kids = host:process(pid).children
    assert.equal(2, #kids)
    check_instances(instances(host, pid, "each_pallet"), controller(host, pid, "each_pallet"), { 1, 2 })
    for k, c in ipairs(kids) do
      assert.equal(k, data(host, c.id).pallet_no)
      assert.same({ "pallet:DONE", "label:ASSIGNED" }, trail(host, c.id))
    end
    -- the threads go on independently: the second is loaded before the first is labelled
    run(host, kids[2].id, "label", "alice")
    run(host, kids[2].id, "load", "bob")
    assert.equal("DONE", status(host, kids[2].id))
    assert.same({ "pallet:DONE", "label:ASSIGNED" }, trail(host, kids[1].id))
    assert.equal("STARTED", status(host, pid))
    run(host, kids[1].id, "label", "alice")
    run(host, kids[1].id, "load", "bob")
    for _, c in ipairs(kids) do
      assert.same({ "pallet:DONE", "label:DONE", "load:DONE", "loaded_end:DONE" }, trail(host, c.id))
    end
    assert.same({ "pallets:DONE", "each_pallet[group]:DONE", "each_pallet:DONE", "each_pallet:DONE",
      "shipped:DONE" }, trail(host, pid))
    assert.equal(2, data(host, pid).loaded)
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
