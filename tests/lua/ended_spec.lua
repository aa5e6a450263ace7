-- An action reads its process's open tasks, and the ended ones (DONE, CANCELED, REVIVED) only when
-- it asks about one (engine_state.c, pstate_load_live; docs/flow-dsl.md, "Locking and errors").
-- Each case here needs an ended task written by an earlier action; the other cases that need one
-- (a late branch at a fired Join, a blocking Join, a Lock, a :ForEach's count, a node's last
-- owner, an action on an ended task) are in the pattern, event, compose and transition specs.
-- Fixture: tests/fixtures/ended/ended.lua.

local H = require "helpers"

describe("ended tasks", function()
  local host
  before_each(function()
    host = H.open { flows = "tests/fixtures/ended", users = { ann = {}, bob = {} } }
  end)
  after_each(function() host:close() end)

  it("a Cancel outside its region cancels the Split's newest round, ended in an earlier action", function()
    local pid = host:start("ended", "outside", {}).process.id
    host:execute(H.one(host, pid, "a").id, {}, { as = "ann" })
    assert.equal("STARTED", H.one(host, pid, "two").status)
    host:execute(H.one(host, pid, "b").id, {}, { as = "ann" })   -- the Join fires, then the Cancel
    assert.equal("DONE", H.one(host, pid, "two").status)
    assert.equal("DONE", H.one(host, pid, "stop").status)
    assert.equal("CANCELED", H.one(host, pid, "c").status)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("a loop of 300 rounds keeps its rules: owners, undo refused, the end", function()
    local pid = host:start("ended", "loop", {}).process.id
    local r
    for round = 1, 299 do
      local open = H.of_node(host, pid, "step")
      local step = open[#open]
      assert.equal(round == 1 and "ann" or "bob", step.owner)
      r = host:execute(step.id, {}, { as = step.owner })
      assert.equal("DONE", r.task.status)
    end
    local steps = H.of_node(host, pid, "step")
    assert.equal(300, #steps)
    -- the step before the open one is DONE, and so is the If after it: no undo of the one before
    H.refused("conflict", function() host:undo(steps[298].id, { as = "admin" }) end)
    r = host:execute(steps[300].id, {}, { as = "bob" })
    assert.equal("DONE", H.status(host, pid))
    assert.equal(300, H.data(host, pid).rounds)
    assert.equal(602, #H.tasks(host, pid))   -- the start, 300 steps, 300 Ifs and the End
  end)
end)
