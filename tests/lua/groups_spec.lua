-- An action leaves out of what it reads the open instances of a running :ForEach group, but for
-- the one it acts on: the group's controller stands for them, its counts are read, and they are
-- read when the action asks about them (engine_state.c, pstate_load_live; docs/flow-dsl.md,
-- "Multiple instances"). Each case here needs instances that the action did not act on.
-- Fixture: tests/fixtures/groups/groups.lua.

local H = require "helpers"

local function statuses(list)
  local out = {}
  for _, t in ipairs(list) do out[t.status] = (out[t.status] or 0) + 1 end
  return out
end

-- The group of node in process pid is CANCELED, its instances by status as `counts` says.
local function canceled_group(host, pid, node, counts)
  assert.same(counts, statuses(H.instances(host, pid, node)))
  assert.equal("CANCELED", H.controller(host, pid, node).status)
end

describe("instances of a running group", function()
  local host
  before_each(function()
    host = H.open { flows = "tests/fixtures/groups",
      users = { ann = {}, bob = {}, carol = { perms = { "groups.open" } }, dave = {} } }
  end)
  after_each(function() host:close() end)

  it("an End that terminates cancels every instance", function()
    local pid = host:start("groups", "terminate", { n = 50 }).process.id
    host:execute(H.instances(host, pid, "each")[7].id, {}, { as = "bob" })
    host:execute(H.one(host, pid, "side").id, {}, { as = "ann" })
    canceled_group(host, pid, "each", { DONE = 1, CANCELED = 49 })
    assert.equal("DONE", H.status(host, pid))
  end)

  it("a Join's cancel_rest cancels the group's instances", function()
    local pid = host:start("groups", "race", { n = 40 }).process.id
    host:execute(H.one(host, pid, "race_side").id, {}, { as = "ann" })
    canceled_group(host, pid, "race_each", { CANCELED = 40 })
    assert.equal("DONE", H.one(host, pid, "first").status)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("a manager's cancel of the process cancels every instance", function()
    local pid = host:start("groups", "terminate", { n = 30 }).process.id
    host:cancel_process(pid, { as = "admin" })
    canceled_group(host, pid, "each", { CANCELED = 30 })
    assert.equal("CANCELED", H.one(host, pid, "side").status)
    assert.equal("CANCELED", H.status(host, pid))
  end)

  it("every owner of an instance takes part in the process, from the action that made them", function()
    local pid = host:start("groups", "terminate", { n = 4 }).process.id
    for _, who in ipairs { "ann", "bob" } do
      local seen = {}
      for _, p in ipairs(host:processes({ as = who })) do seen[p.id] = true end
      assert.is_true(seen[pid], who .. " does not see the process among theirs")
    end
    local seen = {}
    for _, p in ipairs(host:processes({ as = "dave" })) do seen[p.id] = true end
    assert.is_nil(seen[pid])
  end)

  it("a queue member sees a process whose group has NEW instances, through any of its tasks", function()
    local pid = host:start("groups", "queue", { n = 5 }).process.id
    local ctrl = H.controller(host, pid, "open")
    assert.equal(pid, host:process(pid, { as = "carol" }).process.id)
    assert.equal(ctrl.id, host:task(ctrl.id, { as = "carol" }).task.id)
    H.refused("not_found", function() host:process(pid, { as = "dave" }) end)
    H.refused("not_found", function() host:task(ctrl.id, { as = "dave" }) end)
  end)

  it("the controller counts its instances across actions, a canceled and revived one too", function()
    local pid = host:start("groups", "terminate", { n = 6 }).process.id
    local list = H.instances(host, pid, "each")
    host:cancel(list[1].id, { as = "admin" })
    local ctrl = H.controller(host, pid, "each")
    assert.equal("STARTED", ctrl.status)
    assert.equal(0, ctrl.data.done)
    host:revive(list[1].id, { as = "admin" })
    local again = H.instances(host, pid, "each", "ASSIGNED")
    assert.equal(6, #again)
    assert.equal(1, again[#again].data.index)
    assert.equal("bob", again[#again].owner)
    for k, t in ipairs(again) do
      local r = host:execute(t.id, {}, { as = t.owner })
      assert.equal("DONE", r.task.status)
      ctrl = H.controller(host, pid, "each")
      assert.equal(k, ctrl.data.done)
      assert.equal(k < 6 and "STARTED" or "DONE", ctrl.status)
    end
    assert.equal("STARTED", H.status(host, pid))   -- the side branch is open
    host:execute(H.one(host, pid, "side").id, {}, { as = "ann" })
    assert.equal("DONE", H.status(host, pid))
  end)

  it("instances left to run after the group went on keep the process going to their end", function()
    local pid = host:start("groups", "partial", { n = 5 }).process.id
    local list = H.instances(host, pid, "some")
    host:execute(list[2].id, {}, { as = "ann" })
    host:execute(list[4].id, {}, { as = "ann" })
    assert.equal("DONE", H.controller(host, pid, "some").status)
    assert.same({ DONE = 2, ASSIGNED = 3 }, statuses(H.instances(host, pid, "some")))
    host:execute(H.one(host, pid, "after").id, {}, { as = "ann" })
    assert.equal("STARTED", H.status(host, pid))
    for _, i in ipairs { 1, 3, 5 } do
      assert.equal("STARTED", H.status(host, pid))
      assert.equal("DONE", host:execute(list[i].id, {}, { as = "bob" }).task.status)
    end
    assert.same({ DONE = 5 }, statuses(H.instances(host, pid, "some")))
    assert.equal("DONE", H.status(host, pid))
  end)

  -- An action on a running group's instance reads the open instances of a group that went on,
  -- whatever the order of the groups' ids (below, above or between the running ones): missed,
  -- the branch of those instances would look ended and its lock be let go.
  for _, case in ipairs {
    { flow = "below", running = { "late" } },
    { flow = "above", running = { "late" } },
    { flow = "between", running = { "late", "later" } },
  } do
    it("instances that run on keep their branch's lock beside running groups (" .. case.flow .. ")", function()
      local pid = host:start("groups", case.flow, { n = 3 }).process.id
      local ids = {}
      for _, node in ipairs { "early", table.unpack(case.running) } do ids[node] = H.controller(host, pid, node).id end
      if case.flow == "below" then assert.is_true(ids.early < ids.late) end
      if case.flow == "above" then assert.is_true(ids.early > ids.late) end
      if case.flow == "between" then assert.is_true(ids.late < ids.early and ids.early < ids.later) end
      local early = H.instances(host, pid, "early")
      host:execute(early[1].id, {}, { as = early[1].owner })
      assert.equal("DONE", H.controller(host, pid, "early").status)   -- it went on; two run on
      for _, node in ipairs(case.running) do
        local list = H.instances(host, pid, node)
        for k = 1, #list - 1 do   -- the group runs on: its controller does not change
          assert.equal("DONE", host:execute(list[k].id, {}, { as = list[k].owner }).task.status)
          assert.equal("STARTED", H.one(host, pid, "lock_b").status)   -- the desk is still held
          assert.same({}, H.of_node(host, pid, "waited"))
        end
        host:execute(list[#list].id, {}, { as = list[#list].owner })
        assert.equal("DONE", H.controller(host, pid, node).status)
      end
      assert.equal("STARTED", H.one(host, pid, "lock_b").status)
      host:execute(early[2].id, {}, { as = early[2].owner })
      assert.equal("STARTED", H.one(host, pid, "lock_b").status)
      host:execute(early[3].id, {}, { as = early[3].owner })   -- the branch has nothing active
      assert.equal("DONE", H.one(host, pid, "lock_b").status)
      host:execute(H.one(host, pid, "waited").id, {}, { as = "ann" })
      assert.equal("DONE", H.status(host, pid))
    end)
  end

  it("instances that run on after the group went on keep their branch's lock", function()
    local pid = host:start("groups", "locked", { n = 3 }).process.id
    assert.equal("STARTED", H.one(host, pid, "lock_b").status)   -- waits for the desk
    local list = H.instances(host, pid, "held")
    host:execute(list[1].id, {}, { as = "bob" })
    assert.equal("DONE", H.controller(host, pid, "held").status)
    assert.equal("STARTED", H.one(host, pid, "lock_b").status)
    assert.same({}, H.of_node(host, pid, "waited"))
    host:execute(list[2].id, {}, { as = "ann" })
    assert.equal("STARTED", H.one(host, pid, "lock_b").status)
    host:execute(list[3].id, {}, { as = "bob" })   -- the branch has nothing active: the desk is free
    assert.equal("DONE", H.one(host, pid, "lock_b").status)
    host:execute(H.one(host, pid, "waited").id, {}, { as = "ann" })
    assert.equal("DONE", H.status(host, pid))
  end)
end)

-- The controller's data holds the group's list and its counters, the counters first
-- ({total, next, done, items}): an instance that ends rewrites the numbers without parsing the
-- list (engine_compose.c, "a group's counters"). Data of another layout is parsed whole: a group
-- an older host started (the list first), or data a complete function wrote.
describe("a group's counters in its controller's data", function()
  local host, dir, db
  before_each(function()
    dir = H.tmpdir()
    db = H.fresh_db()
    if db == ":memory:" then db = dir .. "/groups.db" end   -- the sqlite3 shell reaches a file
    host = H.open { flows = "tests/fixtures/groups", db = db, users = { ann = {}, bob = {} } }
  end)
  after_each(function()
    host:close()
    H.rmdir(dir)
  end)

  -- The controller's data as an older host wrote it: the list first.
  local function list_first(ctrl, next, done)
    local items = {}
    for i, v in ipairs(ctrl.data.items) do items[i] = '"' .. v .. '"' end
    H.sql(db, string.format([[UPDATE task SET data = '{"items":[%s],"total":%d,"next":%d,"done":%d}' WHERE id = %d]],
      table.concat(items, ","), ctrl.data.total, next, done, ctrl.id))
  end

  local function counters(ctrl)
    return { total = ctrl.data.total, next = ctrl.data.next, done = ctrl.data.done, items = ctrl.data.items }
  end

  local PEOPLE4 = { "bob", "ann", "bob", "ann" }

  it("count each instance that ends, the list kept as it was", function()
    local pid = host:start("groups", "terminate", { n = 4 }).process.id
    assert.same({ total = 4, next = 4, done = 0, items = PEOPLE4 }, counters(H.controller(host, pid, "each")))
    for k, t in ipairs(H.instances(host, pid, "each")) do
      host:execute(t.id, {}, { as = t.owner })
      assert.same({ total = 4, next = 4, done = k, items = PEOPLE4 }, counters(H.controller(host, pid, "each")))
    end
    assert.equal("DONE", H.controller(host, pid, "each").status)
  end)

  it("of a parallel group an older host started go on from where it left them", function()
    local pid = host:start("groups", "terminate", { n = 4 }).process.id
    local list = H.instances(host, pid, "each")
    host:execute(list[1].id, {}, { as = "bob" })
    list_first(H.controller(host, pid, "each"), 4, 1)
    host:execute(list[2].id, {}, { as = "ann" })
    local ctrl = H.controller(host, pid, "each")
    assert.same({ total = 4, next = 4, done = 2, items = PEOPLE4 }, counters(ctrl))
    assert.equal("STARTED", ctrl.status)
    host:execute(list[3].id, {}, { as = "bob" })
    host:execute(list[4].id, {}, { as = "ann" })
    ctrl = H.controller(host, pid, "each")
    assert.same({ total = 4, next = 4, done = 4, items = PEOPLE4 }, counters(ctrl))
    assert.equal("DONE", ctrl.status)
  end)

  it("of a group in turn an older host started give its next instance the next item", function()
    local pid = host:start("groups", "turns", { n = 4 }).process.id
    assert.same({ total = 4, next = 1, done = 0, items = PEOPLE4 }, counters(H.controller(host, pid, "turn")))
    host:execute(H.instances(host, pid, "turn", "ASSIGNED")[1].id, {}, { as = "bob" })
    list_first(H.controller(host, pid, "turn"), 2, 1)
    for k = 2, 4 do
      local open = H.instances(host, pid, "turn", "ASSIGNED")
      assert.equal(1, #open)
      assert.same({ item = PEOPLE4[k], index = k }, open[1].data)
      assert.equal(PEOPLE4[k], open[1].owner)
      assert.same({ total = 4, next = k, done = k - 1, items = PEOPLE4 }, counters(H.controller(host, pid, "turn")))
      host:execute(open[1].id, {}, { as = open[1].owner })
    end
    assert.same({ total = 4, next = 4, done = 4, items = PEOPLE4 }, counters(H.controller(host, pid, "turn")))
    assert.equal("DONE", H.status(host, pid))
  end)

  it("give each instance in turn its item, whatever the items hold", function()
    local pid = host:start("groups", "mixed", {}).process.id
    local want = { 'a"],{', { x = { 1, { 2 } }, y = "}]" }, 3.5, true, "z\\" }
    for k = 1, #want do
      local open = H.instances(host, pid, "mixed_turn", "ASSIGNED")
      assert.equal(1, #open)
      assert.same({ item = want[k], index = k }, open[1].data)
      assert.same({ total = 5, next = k, done = k - 1, items = want }, counters(H.controller(host, pid, "mixed_turn")))
      host:execute(open[1].id, {}, { as = "ann" })
    end
    assert.equal("DONE", H.status(host, pid))
  end)

  it("stay right beside what a complete function writes into the group's data", function()
    local pid = host:start("groups", "noted", { n = 4 }).process.id
    for k, t in ipairs(H.instances(host, pid, "note")) do
      host:execute(t.id, {}, { as = t.owner })
      local ctrl = H.controller(host, pid, "note")
      assert.same({ total = 4, next = 4, done = k, items = PEOPLE4 }, counters(ctrl))
      assert.equal(k, ctrl.data.seen)
      assert.equal(k, ctrl.data.last_done)
    end
    assert.equal("DONE", H.controller(host, pid, "note").status)
    assert.equal("DONE", H.status(host, pid))
  end)
end)
