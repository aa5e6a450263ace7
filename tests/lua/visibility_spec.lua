-- Who sees what: a user sees the processes they started or took part in (not_found
-- otherwise), a manager (`<flow>.manage`, or an admin) sees them all; the queue shows a NEW
-- human task only to holders of its node's permission (directly, through a group, as admin).
-- Flow: flows/helloworld.lua.

local H = require "helpers"

describe("visibility", function()
  local host, p1, p2, approve1, approve2
  before_each(function()
    host = H.open { flows = "flows", users = {
      alice = { perms = { "helloworld.start" } },
      carol = { perms = { "helloworld.start" } },
      bob = { perms = { "helloworld.approve" } },
      dan = { groups = { "approvers" } },
      manager = { perms = { "helloworld.manage" } },
      eve = {},
    } }
    host:grant("@approvers", "helloworld.approve")
    local r1 = host:start("helloworld", "start", { text = "one" }, { as = "alice" })
    local r2 = host:start("helloworld", "start", { text = "two" }, { as = "carol" })
    p1, p2 = r1.process.id, r2.process.id
    approve1, approve2 = r1.tasks[2].id, r2.tasks[2].id
  end)

  local function pids(list)
    local out = {}
    for i, p in ipairs(list) do out[i] = p.id end
    return H.sorted(out)
  end

  it("shows a process to its creator, queue candidates, managers and admins only", function()
    assert.equal(p1, host:process(p1, { as = "alice" }).process.id)
    H.refused("not_found", function() host:process(p1, { as = "carol" }) end)
    H.refused("not_found", function() host:process(p1, { as = "eve" }) end)
    -- bob may take its NEW approve task: he reads the process (issue 14, defect 1)
    assert.equal(p1, host:process(p1, { as = "bob" }).process.id)
    assert.equal(p1, host:process(p1, { as = "manager" }).process.id)
    assert.equal(p1, host:process(p1, { as = "admin" }).process.id)
    H.refused("not_found", function() host:process(4242, { as = "admin" }) end)

    assert.same({ p1 }, pids(host:processes { as = "alice" }))
    assert.same({ p2 }, pids(host:processes { as = "carol" }))
    assert.same({}, pids(host:processes { as = "eve" }))
    assert.same({ p1, p2 }, pids(host:processes { as = "manager" }))
    assert.same({ p1, p2 }, pids(host:processes { as = "admin" }))
    assert.same({ p1, p2 }, pids(host:processes {}))
  end)

  it("puts NEW tasks in the queue of the permission's holders only", function()
    assert.same(H.sorted { approve1, approve2 }, H.sorted(H.task_ids(host, { view = "queue", as = "bob" })))
    assert.same(H.sorted { approve1, approve2 }, H.sorted(H.task_ids(host, { view = "queue", as = "dan" })))
    assert.same(H.sorted { approve1, approve2 }, H.sorted(H.task_ids(host, { view = "queue", as = "admin" })))
    for _, user in ipairs { "alice", "carol", "eve", "manager" } do
      assert.same({}, H.task_ids(host, { view = "queue", as = user }), user)
    end
    -- a queue member may look at the task before taking part, others may not
    assert.equal("approve", host:task(approve1, { as = "dan" }).task.node)
    H.refused("not_found", function() host:task(approve1, { as = "eve" }) end)
    H.refused("not_found", function() host:task(approve1, { as = "carol" }) end)
    assert.same({ inbox = 0, queue = 2 }, host:counts { as = "bob" })
  end)

  it("shows the process to whoever takes part, and moves the task to their inbox", function()
    host:assign(approve1, { as = "bob" })
    assert.equal(p1, host:process(p1, { as = "bob" }).process.id)
    assert.same({ p1 }, pids(host:processes { as = "bob" }))
    assert.same({ approve1 }, H.task_ids(host, { view = "inbox", as = "bob" }))
    assert.same({ approve2 }, H.task_ids(host, { view = "queue", as = "bob" }))
    assert.same({ approve2 }, H.task_ids(host, { view = "queue", as = "dan" }))
    H.refused("not_found", function() host:task(approve1, { as = "dan" }) end)
    assert.same({ inbox = 1, queue = 1 }, host:counts { as = "bob" })
    host:execute(approve1, { approved = true }, { as = "bob" })
    assert.same({}, H.task_ids(host, { view = "inbox", as = "bob" }))
    assert.same({ approve1 }, H.task_ids(host, { view = "archive", as = "bob" }))
    assert.equal("DONE", host:process(p1, { as = "bob" }).process.status)
  end)

  it("keeps view=all for managers, limited to the flows they manage", function()
    H.refused("forbidden", function() host:tasks { view = "all", as = "alice" } end)
    H.refused("forbidden", function() host:tasks { view = "all", as = "bob" } end)
    assert.equal(4, #host:tasks { view = "all", as = "manager" })
    assert.equal(4, #host:tasks { view = "all", as = "admin" })
    -- a process of a flow the manager does not manage: the admin sees its tasks, the manager not
    local other = host:start("sample", "start", {}, { as = "admin" }).process.id
    local all = host:tasks { view = "all", as = "admin" }
    assert.is_true(#all > 4)
    assert.equal(other, all[1].process_id)
    local mine = host:tasks { view = "all", as = "manager" }
    assert.equal(4, #mine)
    for _, t in ipairs(mine) do assert.equal("helloworld", t.flow) end
    assert.same({ approve1 }, H.task_ids(host, { view = "all", process = p1, status = "NEW", as = "manager" }))
  end)

  it("pages through task lists with limit and next_after", function()
    local items, next_after = host:tasks { view = "queue", as = "bob", limit = 1 }
    assert.same({ approve2 }, { items[1].id })   -- newest first
    assert.equal(approve2, next_after)
    items, next_after = host:tasks { view = "queue", as = "bob", limit = 1, after = next_after }
    assert.same({ approve1 }, { items[1].id })
    assert.is_nil(next_after)
  end)

  it("refuses an unknown user (unauthenticated)", function()
    H.refused("unauthenticated", function() host:process(p1, { as = "mallory" }) end)
    H.refused("unauthenticated", function() host:tasks { view = "inbox", as = "mallory" } end)
  end)
end)

describe("the queue of a :Permission(fn) node", function()
  it("is filtered per task, and its count agrees with the list", function()
    local host = H.open { flows = "flows", users = {
      alice = { perms = { "separation_of_duties.start", "separation_of_duties.approve" } },
      bob = { perms = { "separation_of_duties.start", "separation_of_duties.approve" } },
    } }
    host:start("separation_of_duties", "start", { amount = 1 }, { as = "alice" })
    host:start("separation_of_duties", "start", { amount = 2 }, { as = "alice" })
    host:start("separation_of_duties", "start", { amount = 3 }, { as = "bob" })
    assert.equal(1, #host:tasks { view = "queue", as = "alice" })
    assert.equal(2, #host:tasks { view = "queue", as = "bob" })
    assert.same({ inbox = 0, queue = 1 }, host:counts { as = "alice" })
    assert.same({ inbox = 0, queue = 2 }, host:counts { as = "bob" })
    assert.same({ inbox = 0, queue = 3 }, host:counts { as = "admin" })
  end)
end)

describe("queue pages with :Permission(fn) nodes", function()
  local flowhost = require "flowhost"

  it("fill every page although the function refuses some tasks", function()
    local host = flowhost.open { flows = "flows", db = ":memory:" }
    local perms = { "separation_of_duties.start", "separation_of_duties.approve" }
    host:user("alice", { perms = perms })
    host:user("bob", { perms = perms })
    -- interleave: alice's requests (bob may approve them) and bob's (he may not)
    for i = 1, 12 do
      host:start("separation_of_duties", "start", { amount = i }, { as = i % 2 == 0 and "alice" or "bob" })
    end
    local seen, after, pages = {}, nil, 0
    repeat
      local items, next_after = host:tasks { view = "queue", flow = "separation_of_duties", limit = 2,
                                             after = after, as = "bob" }
      pages = pages + 1
      if next_after then assert.equal(2, #items) end   -- no short page before the last
      for _, t in ipairs(items) do seen[#seen + 1] = t.id end
      after = next_after
    until not after
    assert.equal(6, #seen)          -- exactly alice's six requests
    assert.equal(3, pages)
    assert.equal(6, host:counts { as = "bob" }.queue)
    host:close()
  end)
end)

-- A :Permission(fn) that loops (until its budget stops it) unless the process says "open":
-- the queue and the counts ask it per queued task, a task's or a process's page per task it
-- decides on; it costs each answer 0.1 s per call and 0.5 s in all, not a callback budget per
-- call (engine_rules.c's rules_may_do_node, for a run that is reading).  Past that a task
-- counts as one the user may not take, for that answer.
local STUCK = [[
local flow = require "flow"
local this, field = flow.this, flow.field
return flow.Flow {
  title = "Stuck",
  fields = { open = field.Boolean { label = "Open" } },
  start = flow.Start { fields = { "open" } }:Next(this.take),
  begin = flow.Start { title = "Begin" }:Permission(function() while true do end end):Next(this.finish),
  take = flow.View { title = "Take" }:Permission(function(self, user, activation)
    if activation.process.data.open then return true end
    local t = os.clock()
    while os.clock() - t < 60 do end
    return true
  end):Next(this.finish),
  finish = flow.End(),
}
]]

describe("a :Permission(fn) that does not end", function()
  it("costs a queue page, the counts and the flows' list at most half a second", function()
    local dir = H.tmpdir()
    local host
    finally(function()   -- a failed check too
      if host then host:close() end
      os.execute("rm -rf '" .. dir .. "'")
    end)
    H.write(dir .. "/stuck.lua", STUCK)
    host = H.open { flows = dir, budget = 5, users = { ann = { perms = { "stuck.start" } } } }
    local open = host:start("stuck", "start", { open = true }, { as = "ann" }).process.id
    for _ = 1, 12 do host:start("stuck", "start", {}, { as = "ann" }) end
    local t = os.clock()   -- the CPU of this process: the loops run in it
    local items = host:tasks { view = "queue", as = "ann", sort = "created_at" }
    local took = os.clock() - t
    assert.is_true(took < 2, string.format("the queue took %.2f s of CPU", took))
    -- oldest first: the open one is asked first and shown; the stuck ones are refused
    assert.equal(1, #items)
    assert.equal(open, items[1].process_id)
    t = os.clock()
    local counts = host:counts { as = "ann" }
    took = os.clock() - t
    assert.is_true(took < 2, string.format("the counts took %.2f s of CPU", took))
    assert.equal(1, counts.queue)
    -- the flows' list asks the Start nodes: "begin" loops, so ann may not start it
    t = os.clock()
    local flows = host:flows { as = "ann" }
    took = os.clock() - t
    assert.is_true(took < 2, string.format("the flows' list took %.2f s of CPU", took))
    local can = {}
    for _, node in ipairs(flows[1].start_nodes) do can[node.name] = node.can_start end
    assert.same({ start = true, begin = false }, can)
  end)

  -- One task's or one process's page asks the function too: whether a user who took no
  -- part may see it (a queue member), and which action buttons it shows.  Each call had a
  -- whole budget (5 s here) before.
  it("costs a task's page and a process's page at most half a second", function()
    local dir = H.tmpdir()
    local host
    finally(function()
      if host then host:close() end
      os.execute("rm -rf '" .. dir .. "'")
    end)
    H.write(dir .. "/stuck.lua", STUCK)
    host = H.open { flows = dir, budget = 5, users = { ann = { perms = { "stuck.start" } }, bob = {} } }
    local open = host:start("stuck", "start", { open = true }, { as = "ann" })
    local stuck = host:start("stuck", "start", {}, { as = "ann" })
    local function take_task(r)
      for _, t in ipairs(r.tasks) do if t.node == "take" then return t.id end end
    end
    local function timed(what, fn)
      local t = os.clock()
      local out = fn()
      local took = os.clock() - t
      assert.is_true(took < 2, string.format("%s took %.2f s of CPU", what, took))
      return out
    end
    -- ann started both: she sees them; the buttons ask whether she may take the task
    local page = timed("a task's page", function() return host:task(take_task(stuck), { as = "ann" }) end)
    assert.equal(stuck.process.id, page.task.process_id)
    assert.same({}, page.actions)
    page = timed("a task's page", function() return host:task(take_task(open), { as = "ann" }) end)
    assert.same({ "assign" }, page.actions)
    -- bob took no part: he sees a process only as its NEW task's candidate, which he is for
    -- the open one (the function says yes at once) and is not, in time, for the stuck one
    timed("a process's page", function()
      H.refused("not_found", function() host:process(stuck.process.id, { as = "bob" }) end)
    end)
    timed("a task's page", function()
      H.refused("not_found", function() host:task(take_task(stuck), { as = "bob" }) end)
    end)
    assert.equal(open.process.id, timed("a process's page", function()
      return host:process(open.process.id, { as = "bob" })
    end).process.id)
    assert.same({ "assign" }, timed("a task's page", function()
      return host:task(take_task(open), { as = "bob" })
    end).actions)
    -- a write still asks within the whole budget: bob takes the open task
    assert.equal("ASSIGNED", host:assign(take_task(open), { as = "bob" }).task.status)
  end)
end)
