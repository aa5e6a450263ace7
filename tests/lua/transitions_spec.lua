-- The task transitions of flow-dsl.md, each one done and each one refused with the right code:
--   conflict  = the task or process is in the wrong state (or the node kind has no such action),
--   forbidden = the user may see the process but is not allowed to do this,
--   not_found = the user may not even see the process (or the id does not exist).
-- Fixture: tests/fixtures/flows/steps.lua (start -> first -> second -> finish, and auto -> trigger).

local H = require "helpers"

local USERS = {
  manager = { perms = { "steps.manage" } },            -- manages, but may not do the work
  alice = { perms = { "steps.start", "steps.work" } },
  bob = { perms = { "steps.work" } },
  carol = {},                                          -- a stranger
  dave = { perms = { "steps.start" } },                -- starts processes, cannot do the work
}

local function setup()
  local host = H.open { users = USERS }
  local r = host:start("steps", "start", { note = "hi" }, { as = "dave" })
  return host, r.process.id, r.tasks[2].id
end

describe("assign", function()
  local host, pid, first
  before_each(function() host, pid, first = setup() end)

  it("NEW -> ASSIGNED to the user, by a holder of the node's permission", function()
    local r = host:assign(first, { as = "alice" })
    assert.equal("ASSIGNED", r.task.status)
    assert.equal("alice", r.task.owner)
    assert.is_string(r.task.assigned_at)
    assert.same({}, r.tasks)   -- nothing else happens
    assert.equal("STARTED", r.process.status)
  end)

  it("is refused to users without the permission, to the system, and when not NEW", function()
    H.refused("not_found", function() host:assign(first, { as = "carol" }) end)   -- cannot see it
    H.refused("forbidden", function() host:assign(first, { as = "dave" }) end)    -- the creator
    H.refused("forbidden", function() host:assign(first, { as = "manager" }) end) -- manage is not work
    H.refused("forbidden", function() host:assign(first) end)                      -- nobody to own it
    host:assign(first, { as = "alice" })
    H.refused("conflict", function() host:assign(first, { as = "alice" }) end)
    H.refused("conflict", function() host:assign(first, { as = "admin" }) end)
    H.refused("not_found", function() host:assign(first, { as = "bob" }) end)     -- no longer in his queue
    assert.equal("alice", H.one(host, pid, "first").owner)
  end)

  it("is refused on tasks that people do not do", function()
    local start = H.one(host, pid, "start")
    H.refused("conflict", function() host:assign(start.id, { as = "admin" }) end)
    H.refused("not_found", function() host:assign(999999, { as = "admin" }) end)
    H.refused("unauthenticated", function() host:assign(first, { as = "nobody" }) end)
  end)
end)

describe("unassign", function()
  local host, pid, first
  before_each(function()
    host, pid, first = setup()
    host:assign(first, { as = "alice" })
  end)

  it("ASSIGNED -> NEW, by the owner", function()
    local r = host:unassign(first, { as = "alice" })
    assert.equal("NEW", r.task.status)
    assert.is_nil(r.task.owner)
    assert.is_nil(r.task.assigned_at)
    assert.same({ first }, H.task_ids(host, { view = "queue", as = "bob" }))
  end)

  it("ASSIGNED -> NEW, by a manager", function()
    assert.equal("NEW", host:unassign(first, { as = "manager" }).task.status)
  end)

  it("is refused to others and when not ASSIGNED", function()
    H.refused("forbidden", function() host:unassign(first, { as = "dave" }) end)
    H.refused("not_found", function() host:unassign(first, { as = "bob" }) end)
    H.refused("not_found", function() host:unassign(first, { as = "carol" }) end)
    host:unassign(first, { as = "alice" })
    H.refused("conflict", function() host:unassign(first, { as = "manager" }) end)
    H.refused("conflict", function() host:unassign(H.one(host, pid, "start").id, { as = "manager" }) end)
  end)
end)

describe("reassign", function()
  local host, pid, first
  before_each(function()
    host, pid, first = setup()
    host:assign(first, { as = "alice" })
  end)

  it("ASSIGNED -> ASSIGNED to another holder of the permission, by a manager", function()
    local r = host:reassign(first, "bob", { as = "manager" })
    assert.equal("ASSIGNED", r.task.status)
    assert.equal("bob", r.task.owner)
    assert.same({ first }, H.task_ids(host, { view = "inbox", as = "bob" }))
    assert.same({}, H.task_ids(host, { view = "inbox", as = "alice" }))
  end)

  it("refuses a target without the permission or unknown (invalid, on the user field)", function()
    local err = H.refused("invalid", function() host:reassign(first, "carol", { as = "manager" }) end)
    assert.is_string(err.fields.user)
    err = H.refused("invalid", function() host:reassign(first, "nobody", { as = "manager" }) end)
    assert.is_string(err.fields.user)
    assert.equal("alice", H.one(host, pid, "first").owner)
  end)

  it("is for managers only, on ASSIGNED and NEW tasks", function()
    H.refused("forbidden", function() host:reassign(first, "bob", { as = "alice" }) end)   -- the owner
    H.refused("forbidden", function() host:reassign(first, "bob", { as = "dave" }) end)
    H.refused("not_found", function() host:reassign(first, "bob", { as = "carol" }) end)
    host:unassign(first, { as = "alice" })
    assert.equal("NEW", H.one(host, pid, "first").status)
    -- a manager hands a NEW task to a named person: it is theirs, ASSIGNED
    H.refused("invalid", function() host:reassign(first, "carol", { as = "manager" }) end)
    host:reassign(first, "bob", { as = "manager" })
    local t = H.one(host, pid, "first")
    assert.equal("ASSIGNED", t.status)
    assert.equal("bob", t.owner)
  end)
end)

describe("execute", function()
  local host, pid, first
  before_each(function() host, pid, first = setup() end)

  it("ASSIGNED -> DONE by the owner; the next task is activated", function()
    host:assign(first, { as = "alice" })
    local form = host:task(first, { as = "alice" }).form
    assert.equal("note", form.fields[1].name)
    assert.equal("hi", form.fields[1].value)   -- the form shows the stored value
    local r = host:execute(first, { note = "changed" }, { as = "alice" })
    assert.equal("DONE", r.task.status)
    assert.same({ "second" }, H.nodes(r.tasks))
    assert.same({ first }, r.tasks[1].previous)
    assert.equal("changed", r.process.data.note)
    assert.same({ "start:DONE", "first:DONE", "second:NEW" }, H.trail(host, pid))
  end)

  it("is refused when NEW, DONE, to non-owners, and on invalid data", function()
    H.refused("conflict", function() host:execute(first, {}, { as = "admin" }) end)   -- assign it first
    host:assign(first, { as = "alice" })
    H.refused("forbidden", function() host:execute(first, {}, { as = "dave" }) end)
    H.refused("forbidden", function() host:execute(first, {}, { as = "manager" }) end)
    H.refused("forbidden", function() host:execute(first, {}, { as = "admin" }) end)
    H.refused("forbidden", function() host:execute(first, {}) end)                    -- the system
    H.refused("not_found", function() host:execute(first, {}, { as = "carol" }) end)
    local err = H.refused("invalid", function() host:execute(first, { note = "far too long" }, { as = "alice" }) end)
    assert.is_string(err.fields.note)
    assert.same({ "start:DONE", "first:ASSIGNED" }, H.trail(host, pid))
    host:execute(first, {}, { as = "alice" })
    H.refused("conflict", function() host:execute(first, {}, { as = "alice" }) end)
    assert.equal("hi", H.data(host, pid).note)   -- an empty form kept the stored value
  end)
end)

describe("cancel", function()
  local host, pid, first
  before_each(function() host, pid, first = setup() end)

  it("NEW or ASSIGNED -> CANCELED, by a manager", function()
    local r = host:cancel(first, { as = "manager" })
    assert.equal("CANCELED", r.task.status)
    assert.is_string(r.task.finished_at)
    -- nothing is active and no End was reached: the process waits for a manager
    assert.equal("STARTED", r.process.status)
    host:revive(first, { as = "manager" })
    local again = H.last(host, pid, "first")
    host:assign(again.id, { as = "bob" })
    assert.equal("CANCELED", host:cancel(again.id, { as = "admin" }).task.status)
  end)

  it("is refused to non-managers and on finished tasks", function()
    host:assign(first, { as = "alice" })
    H.refused("forbidden", function() host:cancel(first, { as = "alice" }) end)   -- even the owner
    H.refused("forbidden", function() host:cancel(first, { as = "dave" }) end)
    H.refused("not_found", function() host:cancel(first, { as = "carol" }) end)
    H.refused("conflict", function() host:cancel(H.one(host, pid, "start").id, { as = "manager" }) end)
    host:cancel(first, { as = "manager" })
    H.refused("conflict", function() host:cancel(first, { as = "manager" }) end)
  end)
end)

describe("undo", function()
  local host, pid, first, second
  before_each(function()
    host, pid, first = setup()
    host:assign(first, { as = "alice" })
    second = host:execute(first, {}, { as = "alice" }).tasks[1].id
  end)

  it("DONE -> CANCELED once every task after it is CANCELED; then it can be revived", function()
    H.refused("conflict", function() host:undo(first, { as = "manager" }) end)   -- `second` is NEW
    host:cancel(second, { as = "manager" })
    local r = host:undo(first, { as = "manager" })
    assert.equal("CANCELED", r.task.status)
    r = host:revive(first, { as = "manager" })
    assert.equal("REVIVED", r.task.status)
    assert.same({ "first" }, H.nodes(r.tasks))
    assert.equal("NEW", r.tasks[1].status)
    assert.same({ first }, r.tasks[1].previous)
    assert.same({ "start:DONE", "first:REVIVED", "second:CANCELED", "first:NEW" }, H.trail(host, pid))
  end)

  it("is refused to non-managers, on tasks not DONE, and on the start", function()
    host:cancel(second, { as = "manager" })
    H.refused("forbidden", function() host:undo(first, { as = "alice" }) end)
    H.refused("forbidden", function() host:undo(first, { as = "dave" }) end)
    H.refused("not_found", function() host:undo(first, { as = "carol" }) end)
    H.refused("conflict", function() host:undo(second, { as = "manager" }) end)   -- CANCELED
    H.refused("conflict", function() host:undo(H.one(host, pid, "start").id, { as = "manager" }) end)
    host:undo(first, { as = "manager" })
    H.refused("conflict", function() host:undo(first, { as = "manager" }) end)
  end)
end)

describe("revive", function()
  local host, pid, first
  before_each(function() host, pid, first = setup() end)

  it("CANCELED -> REVIVED, with a new task of the same node and token", function()
    host:cancel(first, { as = "manager" })
    local r = host:revive(first, { as = "admin" })
    assert.equal("REVIVED", r.task.status)
    local again = r.tasks[1]
    assert.equal("first", again.node)
    assert.equal("NEW", again.status)
    assert.equal("start", again.token)
    assert.same({ first }, again.previous)
    -- the new task runs normally to the end
    host:assign(again.id, { as = "bob" })
    host:execute(again.id, {}, { as = "bob" })
    local second = H.one(host, pid, "second")
    host:assign(second.id, { as = "bob" })
    assert.equal("DONE", host:execute(second.id, {}, { as = "bob" }).process.status)
  end)

  it("is refused to non-managers and on tasks neither ERROR nor CANCELED", function()
    H.refused("conflict", function() host:revive(first, { as = "manager" }) end)   -- NEW
    host:cancel(first, { as = "manager" })
    H.refused("forbidden", function() host:revive(first, { as = "dave" }) end)
    H.refused("not_found", function() host:revive(first, { as = "carol" }) end)
    H.refused("conflict", function() host:revive(H.one(host, pid, "start").id, { as = "manager" }) end)
    host:revive(first, { as = "manager" })
    H.refused("conflict", function() host:revive(first, { as = "manager" }) end)   -- REVIVED
  end)
end)

describe("process cancel", function()
  local host, pid, first
  before_each(function()
    host, pid, first = setup()
    host:assign(first, { as = "alice" })
  end)

  it("turns every active task CANCELED and the process CANCELED; DONE tasks stay DONE", function()
    local p = host:cancel_process(pid, { as = "manager" })
    assert.equal("CANCELED", p.status)
    assert.is_string(p.finished_at)
    assert.same({ "start:DONE", "first:CANCELED" }, H.trail(host, pid))
    -- nothing can be done on it any more
    H.refused("conflict", function() host:cancel_process(pid, { as = "manager" }) end)
    H.refused("conflict", function() host:revive(first, { as = "manager" }) end)
    H.refused("conflict", function() host:execute(first, {}, { as = "alice" }) end)
    assert.same({}, host:task(first, { as = "admin" }).actions)
  end)

  it("is refused to non-managers", function()
    H.refused("forbidden", function() host:cancel_process(pid, { as = "alice" }) end)
    H.refused("forbidden", function() host:cancel_process(pid, { as = "dave" }) end)
    H.refused("not_found", function() host:cancel_process(pid, { as = "carol" }) end)
    H.refused("not_found", function() host:cancel_process(424242, { as = "admin" }) end)
    assert.equal("STARTED", H.status(host, pid))
  end)

  it("is refused on a finished process", function()
    host:execute(first, {}, { as = "alice" })
    local second = H.one(host, pid, "second")
    host:assign(second.id, { as = "alice" })
    host:execute(second.id, {}, { as = "alice" })
    assert.equal("DONE", H.status(host, pid))
    H.refused("conflict", function() host:cancel_process(pid, { as = "manager" }) end)
  end)
end)

describe("the actions of host:task()", function()
  local host, pid, first
  before_each(function() host, pid, first = setup() end)

  it("list exactly what each user may do now", function()
    -- NEW
    assert.same({ "assign" }, H.actions(host, first, "alice"))
    assert.same({ "assign" }, H.actions(host, first, "bob"))         -- seen through his queue
    assert.same({}, H.actions(host, first, "dave"))                  -- the creator only looks
    assert.same({ "cancel", "reassign" }, H.actions(host, first, "manager"))   -- hand it to someone
    assert.same({ "assign", "cancel", "reassign" }, H.actions(host, first, "admin"))
    assert.same({ "cancel", "reassign" }, H.actions(host, first, nil))   -- the system owns nothing
    H.refused("not_found", function() host:task(first, { as = "carol" }) end)
    -- ASSIGNED
    host:assign(first, { as = "alice" })
    assert.same({ "execute", "unassign" }, H.actions(host, first, "alice"))
    assert.same({ "cancel", "reassign", "unassign" }, H.actions(host, first, "manager"))
    assert.same({}, H.actions(host, first, "dave"))
    H.refused("not_found", function() host:task(first, { as = "bob" }) end)
    -- DONE, with an active task after it
    host:execute(first, {}, { as = "alice" })
    assert.same({}, H.actions(host, first, "alice"))
    assert.same({}, H.actions(host, first, "manager"))
    -- DONE, everything after it canceled
    host:cancel(H.one(host, pid, "second").id, { as = "manager" })
    assert.same({ "undo" }, H.actions(host, first, "manager"))
    assert.same({ "revive" }, H.actions(host, H.one(host, pid, "second").id, "manager"))
    -- the start task
    assert.same({}, H.actions(host, H.one(host, pid, "start").id, "manager"))
  end)

  it("list execute and cancel for a manager on a Function task", function()
    local r = host:start("steps", "auto", {}, { as = "manager" })
    local trigger = r.tasks[2].id
    assert.same({ "cancel", "execute" }, H.actions(host, trigger, "manager"))
    assert.same({ "cancel", "execute" }, H.actions(host, trigger, "admin"))
    host:execute(trigger, {}, { as = "manager" })
    assert.equal("DONE", H.status(host, r.process.id))
  end)
end)

describe("transitions on the activation", function()
  local flowhost = require "flowhost"

  it("answer can_proceed, refuse what the rules refuse, and keep the callback's data", function()
    local host = flowhost.open { flows = "tests/fixtures/flows", db = ":memory:" }
    local r = host:start("nested", "start", {})
    local poke
    for _, t in ipairs(r.tasks) do if t.node == "poke" then poke = t end end
    assert.truthy(poke)
    local out = host:execute(poke.id, {})
    local d = out.process.data
    assert.is_true(d.before)
    assert.is_true(d.after)
    assert.is_false(d.can_unassign)
    assert.is_true(d.refused)
    assert.equal("STARTED", out.process.status)   -- review is still open
    host:close()
  end)
end)

-- Starts the flow whose source is `text` (saved as NAME.lua in a fresh folder) on a private
-- host, and returns the start's answer; the host and the folder are gone afterwards.
local function start_flow_text(name, text)
  local flowhost = require "flowhost"
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -p " .. dir)
  local f = assert(io.open(dir .. "/" .. name .. ".lua", "w"))
  f:write(text)
  f:close()
  local host = flowhost.open { flows = dir, db = ":memory:" }
  local ok, r = pcall(host.start, host, name, "start", {})
  host:close()
  os.remove(dir .. "/" .. name .. ".lua")
  os.remove(dir)
  return assert(ok and r, r)
end

describe("the activation's transitions, built when first looked at", function()
  local FLOW = [[
local flow = require "flow"
local this = flow.this
local kept_used, kept_untouched
return flow.Flow {
  start = flow.StartFunction(this.begin):Next(this.look),
  look = flow.Handler(this.look_at):Next(this.later),
  later = flow.Handler(this.use_kept):Next(this.finish),
  finish = flow.End(),
  look_at = function(self, activation)
    local d = activation.process.data
    d.missing = activation.nope == nil and activation[1] == nil
    local keys = {}
    for k in pairs(activation) do keys[#keys + 1] = k end
    table.sort(keys)
    d.keys = keys
    d.callable = type(activation.cancel) == "table" and type(activation.cancel.can_proceed) == "function"
    d.same = activation.cancel == activation.cancel
    kept_used = activation
  end,
  begin = function(self, activation) kept_untouched = activation end,
  use_kept = function(self, activation)
    local d = activation.process.data
    local ok, msg = pcall(kept_used.cancel)
    d.used_ok, d.used_msg = ok, tostring(msg)
    ok, msg = pcall(function() return kept_untouched.execute.can_proceed() end)
    d.untouched_ok, d.untouched_msg = ok, tostring(msg)
  end,
}
]]

  it("show in pairs, answer every name, and die with their callback", function()
    local r = start_flow_text("lazy", FLOW)
    local d = r.process.data
    assert.equal("DONE", r.process.status)
    assert.is_true(d.missing)
    assert.same({ "assign", "cancel", "execute", "flow", "process", "reassign", "revive", "task", "unassign",
                  "undo" }, d.keys)
    assert.is_true(d.callable)
    assert.is_true(d.same)
    assert.is_false(d.used_ok)
    assert.matches("activation used after its callback returned", d.used_msg)
    assert.is_false(d.untouched_ok)   -- first looked at after its callback returned
    assert.matches("activation used after its callback returned", d.untouched_msg)
  end)
end)

describe("the activation's task table, built when first looked at", function()
  local FLOW = [[
local flow = require "flow"
local this = flow.this
local kept_looked, kept_untouched
return flow.Flow {
  start = flow.StartFunction(this.begin):Next(this.look),
  look = flow.Handler(this.look_at):Next(this.check),
  check = flow.If(this.is_check):Then(this.later):Else(this.finish),
  later = flow.Handler(this.use_kept):Next(this.finish),
  finish = flow.End(),
  begin = function(self, activation) kept_untouched = activation end,
  look_at = function(self, activation)
    local d = activation.process.data
    d.node, d.status, d.same = activation.task.node, activation.task.status, activation.task == activation.task
    d.has_id = math.type(activation.task.id) == "integer"
    activation.task.data.note = "from look"
    kept_looked = activation
  end,
  is_check = function(self, activation)
    activation.process.data.if_node = activation.task.node   -- a condition sees its task too
    return true
  end,
  use_kept = function(self, activation)
    local d = activation.process.data
    d.kept_looked_node = kept_looked.task and kept_looked.task.node or "none"
    d.kept_untouched_task = kept_untouched.task == nil
    d.raw_before = rawget(activation, "task") == nil
    d.later_node = activation.task.node
    d.raw_after = rawget(activation, "task") ~= nil
  end,
}
]]

  it("shows the task, keeps its data, and is gone with a callback that never looked", function()
    local r = start_flow_text("lazytask", FLOW)
    local look
    for _, t in ipairs(r.tasks) do if t.node == "look" then look = t end end
    local d = r.process.data
    assert.equal("DONE", r.process.status)
    assert.equal("look", d.node)
    assert.equal("NEW", d.status)   -- as before: a handler runs on its task as it was made
    assert.is_true(d.same)
    assert.is_true(d.has_id)
    assert.same({ note = "from look" }, look.data)   -- task data written through the lazy table is kept
    assert.equal("check", d.if_node)
    assert.equal("look", d.kept_looked_node)       -- looked at during its callback: still readable
    assert.is_true(d.kept_untouched_task)          -- never looked at: nil once its callback returned
    assert.is_true(d.raw_before)
    assert.equal("later", d.later_node)
    assert.is_true(d.raw_after)
  end)
end)
