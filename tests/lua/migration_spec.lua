-- Flow migration (flow-dsl.md): a node deleted from a flow while tasks still reference it is
-- shown as Obsolete (viewable, cancellable by a manager, nothing else); `flow.Obsolete()`
-- keeps it explicitly; host:rename_node moves tasks to a renamed node.
-- The flows are written to a temporary folder by the spec, then changed and reloaded.

local H = require "helpers"

local HEAD = 'local flow = require "flow"\nlocal this = flow.this\nreturn flow.Flow {\n'

local V1 = HEAD .. [[
  start = flow.StartFunction():Next(this.old_step),
  old_step = flow.View { title = "Old step" }:Assign("alice"):Next(this.finish),
  finish = flow.End(),
}
]]

-- old_step deleted
local V2 = HEAD .. [[
  start = flow.StartFunction():Next(this.new_step),
  new_step = flow.View { title = "New step" }:Assign("alice"):Next(this.finish),
  finish = flow.End(),
}
]]

-- old_step kept as Obsolete, with its title
local V3 = HEAD .. [[
  start = flow.StartFunction():Next(this.new_step),
  new_step = flow.View { title = "New step" }:Assign("alice"):Next(this.finish),
  old_step = flow.Obsolete():Annotation { title = "Old step (retired)" },
  finish = flow.End(),
}
]]

describe("flow migration", function()
  local dir, host, pid, old
  before_each(function()
    dir = H.tmpdir()
    H.write(dir .. "/legacy.lua", V1)
    host = H.open { flows = dir, users = { alice = {}, manager = { perms = { "legacy.manage" } } } }
    local r = host:start("legacy", "start", {})
    pid, old = r.process.id, r.tasks[2].id
    assert.equal("ASSIGNED", r.tasks[2].status)
  end)
  after_each(function()
    host:close()
    H.rmdir(dir)
  end)

  local function change_to(text)
    H.write(dir .. "/legacy.lua", text)
    host:reload()
  end

  it("shows a task of a deleted node as obsolete: viewable, only cancellable", function()
    change_to(V2)
    local view = host:task(old, { as = "alice" })
    assert.equal("obsolete", view.task.type)
    assert.equal("old_step", view.task.node)
    assert.equal("ASSIGNED", view.task.status)
    assert.same({}, view.form.fields)
    assert.same({}, view.actions)
    assert.same({ "cancel" }, H.actions(host, old, "manager"))
    H.refused("conflict", function() host:execute(old, {}, { as = "alice" }) end)
    H.refused("conflict", function() host:unassign(old, { as = "manager" }) end)
    H.refused("forbidden", function() host:cancel(old, { as = "alice" }) end)
    assert.equal("CANCELED", host:cancel(old, { as = "manager" }).task.status)
    H.refused("conflict", function() host:revive(old, { as = "manager" }) end)
    -- new processes use the new definition
    local r = host:start("legacy", "start", {})
    assert.same({ "start", "new_step" }, H.nodes(r.tasks))
  end)

  it("keeps the title of a node written as flow.Obsolete()", function()
    change_to(V3)
    local view = host:task(old, { as = "manager" })
    assert.equal("obsolete", view.task.type)
    assert.equal("Old step (retired)", view.task.title)
    assert.same({ "cancel" }, view.actions)
    H.refused("conflict", function() host:execute(old, {}, { as = "alice" }) end)
  end)

  it("moves the tasks of a renamed node with rename_node", function()
    change_to(V2)
    H.refused("conflict", function() host:rename_node("legacy", "old_step", "nowhere") end)
    H.refused("conflict", function() host:rename_node("legacy", "new_step", "finish") end)
    H.refused("not_found", function() host:rename_node("nope", "old_step", "new_step") end)
    assert.equal(1, host:rename_node("legacy", "old_step", "new_step"))
    local view = host:task(old, { as = "alice" })
    assert.equal("new_step", view.task.node)
    assert.equal("view", view.task.type)
    assert.same({ "execute", "unassign" }, H.sorted(view.actions))
    host:execute(old, {}, { as = "alice" })
    assert.equal("DONE", H.status(host, pid))
  end)

  it("keeps serving the previous definition when the changed file fails to load", function()
    change_to(HEAD .. "  start = flow.StartFunction():Next(this.oops),\n}\n")
    local entry
    for _, f in ipairs(host:flows()) do if f.name == "legacy" then entry = f end end
    assert.equal("error", entry.status)
    assert.matches("oops", entry.error.message, 1, true)
    host:execute(old, {}, { as = "alice" })   -- still V1
    assert.equal("DONE", H.status(host, pid))
  end)
end)

describe("a job whose node was deleted while it waited", function()
  it("fails into ERROR when it comes due, and a manager can cancel it", function()
    local dir = H.tmpdir()
    H.write(dir .. "/legacy.lua", HEAD .. [[
  start = flow.StartFunction():Next(this.work),
  work = flow.Job(this.noop):Next(this.finish),
  finish = flow.End(),
  noop = function() end,
}
]])
    local host = H.open { flows = dir }
    finally(function()   -- a failed check too
      host:close()
      H.rmdir(dir)
    end)
    local pid = host:start("legacy", "start", {}).process.id
    H.write(dir .. "/legacy.lua", V2)
    host:reload()
    assert.equal(1, host:run_jobs())
    local work = H.one(host, pid, "work")
    assert.equal("ERROR", work.status)
    assert.equal("obsolete", work.type)
    assert.matches("no longer exists", work.error.message, 1, true)
    assert.same({ "cancel" }, H.actions(host, work.id, "admin"))
    host:cancel(work.id, { as = "admin" })
    assert.equal(0, host:run_jobs())
  end)
end)

describe("a flow that never loaded", function()
  it("is listed with its error, and cannot be started (conflict)", function()
    local dir = H.tmpdir()
    H.write(dir .. "/broken.lua", HEAD .. "  start = flow.StartFunction():Next(this.nowhere),\n}\n")
    local host = H.open { flows = dir }
    finally(function()   -- a failed check too
      host:close()
      H.rmdir(dir)
    end)
    local flows = host:flows()
    assert.equal(1, #flows)
    assert.equal("error", flows[1].status)
    assert.equal(4, flows[1].error.line)
    H.refused("conflict", function() host:start("broken", "start", {}) end)
  end)
end)
