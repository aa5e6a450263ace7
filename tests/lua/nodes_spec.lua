-- Every node kind, driven through the engine (fixtures in tests/fixtures/flows/).
-- Jobs and Timers are in jobs_spec.lua, Split/Join tokens in tokens_spec.lua, End and the
-- implicit termination in patterns_spec.lua (WCP-11), Obsolete in migration_spec.lua.

local H = require "helpers"

describe("Start", function()
  local host
  before_each(function()
    host = H.open { users = {
      alice = { perms = { "forms.start" } },
      bob = { perms = { "forms.review" } },
      carol = {},
    } }
  end)

  it("creates the process with the form's cleaned data and a DONE start task owned by the starter", function()
    local r = host:start("forms", "start", { text = "hello" }, { as = "alice" })
    assert.equal("STARTED", r.process.status)
    assert.equal("alice", r.process.created_by)
    assert.same({ text = "hello", amount = 7 }, r.process.data)   -- amount took its default
    assert.same({ "start", "review" }, H.nodes(r.tasks))
    local start = r.tasks[1]
    assert.equal("DONE", start.status)
    assert.equal("alice", start.owner)
    assert.equal("start", start.token)
    assert.same({}, start.previous)
    assert.equal("NEW", r.tasks[2].status)
    assert.same({ start.id }, r.tasks[2].previous)
  end)

  it("refuses invalid data with the fields at fault, and leaves no process", function()
    local err = H.refused("invalid", function()
      host:start("forms", "start", { amount = 500, extra = 1 }, { as = "alice" })
    end)
    assert.is_string(err.fields.text)      -- required
    assert.is_string(err.fields.amount)    -- > max
    assert.is_string(err.fields.extra)     -- unknown field
    assert.same({}, host:processes {})
  end)

  it("refuses a user without the start permission (forbidden) and the system may start", function()
    H.refused("forbidden", function() host:start("forms", "start", { text = "x" }, { as = "carol" }) end)
    local r = host:start("forms", "start", { text = "x" })
    assert.is_nil(r.process.created_by)
    assert.is_nil(r.tasks[1].owner)
    assert.equal("DONE", r.tasks[1].status)
  end)

  it("refuses unknown flows and nodes that are not start nodes (not_found)", function()
    H.refused("not_found", function() host:start("nope", "start", {}) end)
    H.refused("not_found", function() host:start("forms", "review", {}) end)
    H.refused("not_found", function() host:start("forms", "missing", {}) end)
  end)
end)

describe("StartFunction", function()
  local host
  before_each(function()
    host = H.open { users = { manager = { perms = { "functions.manage" } }, alice = {} } }
  end)

  it("with a callback: fn(self, activation, data) fills the process data", function()
    local r = host:start("functions", "by_code", { n = 21 }, { as = "manager" })
    assert.same({ n = 42, filled_by = "manager" }, r.process.data)
    assert.same({ "by_code", "wait" }, H.nodes(r.tasks))
    assert.equal("DONE", r.tasks[1].status)
    assert.equal("NEW", r.tasks[2].status)
    assert.equal("STARTED", r.process.status)
  end)

  it("with a callback that raises: flow_error, traceback, and no process left", function()
    local err = H.refused("flow_error", function() host:start("functions", "by_code", { n = "boom" }) end)
    assert.matches("cannot start with boom", err.message, 1, true)
    assert.is_string(err.traceback)
    assert.same({}, host:processes {})
  end)

  it("without a callback: the data is validated against the flow's fields", function()
    local r = host:start("functions", "plain", { n = 3, label = "x" })
    assert.same({ n = 3, label = "x" }, r.process.data)
    assert.is_nil(r.process.created_by)   -- started by the system
    local err = H.refused("invalid", function() host:start("functions", "plain", { label = "far too long a label" }) end)
    assert.is_string(err.fields.label)
    H.refused("invalid", function() host:start("functions", "plain", { unknown = 1 }) end)
  end)

  it("without a node name, starts at the flow's first start node", function()
    local r = host:start("functions", nil, { n = 1 })
    assert.equal("by_code", r.tasks[1].node)
    assert.equal(2, r.process.data.n)
  end)

  it("is only for managers (forbidden otherwise)", function()
    H.refused("forbidden", function() host:start("functions", "plain", {}, { as = "alice" }) end)
    H.refused("forbidden", function() host:start("functions", "by_code", {}, { as = "alice" }) end)
    host:start("functions", "plain", {}, { as = "admin" })
  end)
end)

describe("View", function()
  local host, pid, review
  before_each(function()
    host = H.open { users = {
      alice = { perms = { "forms.start" } },
      bob = { perms = { "forms.review" } },
    } }
    local r = host:start("forms", "start", { text = "hello", amount = 3 }, { as = "alice" })
    pid, review = r.process.id, r.tasks[2].id
  end)

  it("shows a form over its fields with the current values", function()
    local view = host:task(review, { as = "bob" })
    local names = {}
    for i, f in ipairs(view.form.fields) do names[i] = f.name end
    assert.same({ "approved", "note" }, names)
    assert.equal("boolean", view.form.fields[1].type)
    assert.equal("Approved?", view.form.fields[1].label)
    assert.equal("view", view.task.type)
    assert.equal("Review", view.task.title)
  end)

  it("is assigned, then executed with its fields merged into the process data", function()
    local a = host:assign(review, { as = "bob" })
    assert.equal("ASSIGNED", a.task.status)
    assert.equal("bob", a.task.owner)
    assert.is_string(a.task.assigned_at)
    local r = host:execute(review, { approved = true }, { as = "bob" })
    assert.equal("DONE", r.task.status)
    assert.is_string(r.task.finished_at)
    assert.same({ "stamp", "finish" }, H.nodes(r.tasks))
    assert.equal("DONE", r.process.status)
    assert.same({ text = "hello", amount = 3, approved = true, stamped_by = "stamp", stamp_token = "start" },
      r.process.data)
  end)

  it("refuses fields outside its form and bad values (invalid), leaving the task ASSIGNED", function()
    host:assign(review, { as = "bob" })
    local err = H.refused("invalid", function() host:execute(review, { text = "sneaky" }, { as = "bob" }) end)
    assert.is_string(err.fields.text)
    err = H.refused("invalid", function() host:execute(review, { approved = "yes please" }, { as = "bob" }) end)
    assert.is_string(err.fields.approved)
    assert.equal("ASSIGNED", H.one(host, pid, "review").status)
    assert.same({ text = "hello", amount = 3 }, H.data(host, pid))
  end)

  it("runs validate(self, activation, data): its {field = message} refuses the form", function()
    host:assign(review, { as = "bob" })
    local err = H.refused("invalid", function() host:execute(review, { approved = false }, { as = "bob" }) end)
    assert.same({ note = "Say why (review)." }, err.fields)
    assert.equal("ASSIGNED", H.one(host, pid, "review").status)
    local r = host:execute(review, { approved = false, note = "too short" }, { as = "bob" })
    assert.equal("DONE", r.process.status)
    assert.equal("too short", r.process.data.note)
  end)
end)

describe("Handler", function()
  it("runs in the same action, sees activation.task, and keeps its task data", function()
    local host = H.open { users = { alice = { perms = { "forms.start", "forms.review" } } } }
    local r = host:start("forms", "start", { text = "x" }, { as = "alice" })
    host:assign(r.tasks[2].id, { as = "alice" })
    host:execute(r.tasks[2].id, { approved = true }, { as = "alice" })
    local stamp = H.one(host, r.process.id, "stamp")
    assert.equal("DONE", stamp.status)
    assert.equal("handler", stamp.type)
    assert.is_nil(stamp.owner)
    assert.same({ seen = true }, stamp.data)
    assert.same({ r.tasks[2].id }, stamp.previous)
  end)
end)

describe("Function", function()
  local host, pid, wait
  before_each(function()
    host = H.open { users = { manager = { perms = { "functions.manage" } }, alice = {} } }
    local r = host:start("functions", "by_code", { n = 1 }, { as = "manager" })
    pid, wait = r.process.id, r.tasks[2].id
  end)

  it("waits NEW, in nobody's queue, until a manager executes it", function()
    assert.equal("NEW", H.one(host, pid, "wait").status)
    assert.same({}, host:tasks { view = "queue", as = "manager" })
    assert.same({}, host:tasks { view = "queue", as = "admin" })
    assert.same({ "cancel", "execute" }, H.actions(host, wait, "manager"))
  end)

  it("with a callback: fn(self, activation, data) sees the posted data", function()
    local r = host:execute(wait, { value = "ping" }, { as = "manager" })
    assert.equal("DONE", r.task.status)
    assert.same({ note = "triggered" }, r.task.data)
    assert.equal("ping", r.process.data.triggered_with)
    assert.same({ "bare" }, H.nodes(r.tasks))
  end)

  it("without a callback: the posted data must be flow fields, and is merged", function()
    host:execute(wait, {}, { as = "manager" })
    local bare = H.one(host, pid, "bare")
    H.refused("invalid", function() host:execute(bare.id, { nope = 1 }, { as = "manager" }) end)
    local r = host:execute(bare.id, { label = "done" }, { as = "manager" })
    assert.equal("done", r.process.data.label)
    assert.equal("DONE", r.process.status)
    assert.same({ "by_code:DONE", "wait:DONE", "bare:DONE", "finish:DONE" }, H.trail(host, pid))
  end)

  it("refuses strangers (not_found), assignment (conflict: not done by people) and a second trigger", function()
    H.refused("not_found", function() host:execute(wait, {}, { as = "alice" }) end)
    H.refused("conflict", function() host:assign(wait, { as = "manager" }) end)
    H.refused("conflict", function() host:assign(wait, { as = "admin" }) end)
    host:execute(wait, {}, { as = "manager" })
    H.refused("conflict", function() host:execute(wait, {}, { as = "manager" }) end)
  end)
end)

describe("If", function()
  local host
  before_each(function() host = H.open() end)

  it("takes :Then when the condition holds, :Else otherwise", function()
    local yes = host:start("gateways", "branch", { n = 5 })
    assert.same({ "branch:DONE", "sign:DONE", "positive:DONE", "finish:DONE" }, H.trail(host, yes.process.id))
    local no = host:start("gateways", "branch", { n = -5 })
    assert.same({ "branch:DONE", "sign:DONE", "other:DONE", "finish:DONE" }, H.trail(host, no.process.id))
    assert.equal("DONE", no.process.status)
    assert.equal("if", H.one(host, no.process.id, "sign").type)
  end)
end)

describe("Switch", function()
  local host
  before_each(function() host = H.open() end)

  it("takes the first matching case, in the order written, and checks no further", function()
    local r = host:start("gateways", "switch", { n = 50 })
    assert.equal("big", r.process.data.route)
    assert.equal("big,", r.process.data.checked)
    r = host:start("gateways", "switch", { n = 5 })
    assert.equal("positive", r.process.data.route)
    assert.equal("big,positive,", r.process.data.checked)
    assert.same({ "switch:DONE", "route:DONE", "positive:DONE", "finish:DONE" }, H.trail(host, r.process.id))
  end)

  it("falls back to :Default when no case matches", function()
    local r = host:start("gateways", "switch", { n = -1 })
    assert.equal("other", r.process.data.route)
    assert.equal("DONE", r.process.status)
  end)

  it("without a match or a default is an error that rolls the whole start back", function()
    local err = H.refused("flow_error", function() host:start("gateways", "strict", { n = 1 }) end)
    assert.matches("no case matched", err.message, 1, true)
    assert.same({}, host:processes {})
    local r = host:start("gateways", "strict", { n = 11 })   -- a match works
    assert.equal("DONE", r.process.status)
  end)
end)

describe("Split with conditions", function()
  local host
  before_each(function() host = H.open() end)

  it("runs the branches whose condition holds", function()
    local r = host:start("gateways", "fork", { n = 50 })
    assert.equal("big+positive", r.process.data.route)
    -- activation is breadth first: both branch tasks, then what follows each
    assert.same({ "fork:DONE", "pick:DONE", "big:DONE", "positive:DONE", "finish:DONE", "finish:DONE" },
      H.trail(host, r.process.id))
    r = host:start("gateways", "fork", { n = 5 })
    assert.equal("positive", r.process.data.route)
    assert.same({ "fork:DONE", "pick:DONE", "positive:DONE", "finish:DONE" }, H.trail(host, r.process.id))
  end)

  it("is an error when no branch runs, and nothing is left behind", function()
    local err = H.refused("flow_error", function() host:start("gateways", "fork", { n = -1 }) end)
    assert.matches("no branch condition holds", err.message, 1, true)
    assert.same({}, host:processes {})
  end)
end)
