-- history = "lean" (docs/flow-dsl.md): the steps a process runs through within one action
-- (StartFunction, Handler, If, Switch, Send, and the End that ends it) leave no task row; what
-- waited (people, jobs, messages, joins) and what a later action reads of them stays:
--  - an automatic process: its row and its data, its audit entry, no task;
--  - a human task between automatic steps: only it, linked to the kept task it came from
--    through them (none after the start);
--  - a Join: the tasks that arrived at it (it counts them by their links), so a join waiting
--    for a person completes; but a Join done in the action that made it, with nothing of its
--    round left active, runs through with its arrivals (no branch can come later): an
--    automatic split and join writes no task, a partial join with a branch still open is kept;
--  - an End that ends one branch while another still runs (the process ends by it later);
--  - a Subprocess task stays; a lean child is lean, whatever its parent's history;
--  - a Split runs through (its branches carry its id in their tokens), but for one whose task
--    a later action reads: a first-wins Split's and a Cancel's region; a job stays, and a step
--    that failed after it (ERROR), which a revive runs again;
--  - undo is refused (the steps after a task are not kept), start answers list only what is
--    kept, the flow's definition says "lean"; the same flows without it keep every step.

local H = require "helpers"

local HEAD = [[
local flow = require "flow"
local this = flow.this
]]

-- A callback `mark` that counts how often each node that calls it ran, in the process data.
local COUNT_RUNS = [[
  mark = function(self, activation)
    local d = activation.process.data
    d[activation.task.node] = (d[activation.task.node] or 0) + 1
  end,
]]

-- Each flow's body; `history = "lean"` or nothing is put in front of its nodes.
local BODIES = {
  auto = [[
  title = "Automatic",
  start = flow.StartFunction(this.prepare):Next(this.compute),
  compute = flow.Handler(this.double):Next(this.big),
  big = flow.If(this.is_big):Then(this.mark_big):Else(this.finish),
  mark_big = flow.Handler(this.set_big):Next(this.finish),
  finish = flow.End(),
  prepare = function(self, activation, data) activation.process.data.n = (data and data.n) or 1 end,
  double = function(self, activation) activation.process.data.n = activation.process.data.n * 2 end,
  is_big = function(self, activation) return activation.process.data.n > 10 end,
  set_big = function(self, activation) activation.process.data.big = true end,
]],
  human = [[
  title = "Approval",
  start = flow.StartFunction():Next(this.prepare),
  prepare = flow.Handler(this.mark):Next(this.approve),
  approve = flow.View { title = "Approve" }:Next(this.check),
  check = flow.If(this.is_prepared):Then(this.after):Else(this.finish),
  after = flow.Handler(this.mark_after):Next(this.finish),
  finish = flow.End(),
  mark = function(self, activation) activation.process.data.prepared = true end,
  is_prepared = function(self, activation) return activation.process.data.prepared == true end,
  mark_after = function(self, activation) activation.process.data.after = true end,
]],
  join = [[
  title = "Join",
  start = flow.StartFunction():Next(this.split),
  split = flow.Split():Always(this.quick):Always(this.review),
  quick = flow.Handler(this.mark):Next(this.both),
  review = flow.View { title = "Review" }:Next(this.both),
  both = flow.Join():Next(this.done),
  done = flow.Handler(this.mark):Next(this.finish),
  finish = flow.End(),
]] .. COUNT_RUNS,
  early_end = [[
  title = "Two ends",
  start = flow.StartFunction():Next(this.split),
  split = flow.Split():Always(this.quick):Always(this.review),
  quick = flow.Handler(this.mark):Next(this.end_quick),
  end_quick = flow.End(),
  review = flow.View { title = "Review" }:Next(this.end_review),
  end_review = flow.End(),
  mark = function(self, activation) activation.process.data.quick = true end,
]],
  -- a job, then a handler that fails on its first call (the counter lives in the Lua state,
  -- per process, so it survives the rolled-back call): saved as ERROR after the job
  job = [[
  title = "Job",
  start = flow.StartFunction():Next(this.fetch),
  fetch = flow.Job(this.do_fetch):Next(this.after),
  after = flow.Handler(this.do_after):Next(this.finish),
  finish = flow.End(),
  do_fetch = function(self, activation) activation.process.data.fetched = true end,
  do_after = function(self, activation)
    local pid = activation.process.id
    CALLS = CALLS or {}
    CALLS[pid] = (CALLS[pid] or 0) + 1
    if CALLS[pid] == 1 then error("after failed on call 1") end
    activation.process.data.after_ran = CALLS[pid]
  end,
]],
  -- automatic branches into a Join: all in one action
  auto_join = [[
  title = "Automatic join",
  start = flow.StartFunction():Next(this.split),
  split = flow.Split():Always(this.left):Always(this.right),
  left = flow.Handler(this.mark):Next(this.both),
  right = flow.Handler(this.mark):Next(this.both),
  both = flow.Join():Next(this.after),
  after = flow.Handler(this.mark):Next(this.finish),
  finish = flow.End(),
]] .. COUNT_RUNS,
  -- a Join that goes on at the first arrival while a person's branch is still open
  first_arrival = [[
  title = "First arrival",
  start = flow.StartFunction():Next(this.split),
  split = flow.Split():Always(this.quick):Always(this.review),
  quick = flow.Handler(this.mark):Next(this.any),
  review = flow.View { title = "Review" }:Next(this.any),
  any = flow.Join { wait = 1 }:Next(this.after),
  after = flow.Handler(this.mark):Next(this.wait),
  wait = flow.View { title = "Wait" }:Next(this.finish),
  finish = flow.End(),
]] .. COUNT_RUNS,
  -- a Split whose round a Cancel cancels in a later action, and a first-wins Split: both kept
  -- (the later action finds the round by the Split's task)
  cancel = [[
  title = "Cancel",
  start = flow.StartFunction():Next(this.split),
  split = flow.Split():Always(this.review):Always(this.stop_view),
  review = flow.View { title = "Review" }:Next(this.both),
  stop_view = flow.View { title = "Stop" }:Next(this.stop),
  stop = flow.Cancel(this.split):Next(this.finish),
  both = flow.Join():Next(this.finish),
  finish = flow.End(),
]],
  first = [[
  title = "First wins",
  start = flow.StartFunction():Next(this.race),
  race = flow.Split { first = true }:Always(this.a):Always(this.b),
  a = flow.View { title = "A" }:Next(this.finish_a),
  b = flow.View { title = "B" }:Next(this.finish_b),
  finish_a = flow.End(),
  finish_b = flow.End(),
]],
  -- two Views with automatic steps between them: a loop of 1,000 (a Handler and an If each)
  two_views = [[
  title = "Two views",
  start = flow.StartFunction():Next(this.first),
  first = flow.View { title = "First" }:Next(this.mid),
  mid = flow.Handler(this.count):Next(this.check),
  check = flow.If(this.done):Then(this.second):Else(this.mid),
  second = flow.View { title = "Second" }:Next(this.finish),
  finish = flow.End(),
  count = function(self, activation) activation.process.data.n = (activation.process.data.n or 0) + 1 end,
  done = function(self, activation) return activation.process.data.n >= 1000 end,
]],
  -- a Subprocess of the lean "auto", which ends at once (taken over in the same action)
  parent = [[
  title = "Parent",
  start = flow.StartFunction():Next(this.call),
  call = flow.Subprocess("auto", { input = this.input, output = this.output }):Next(this.finish),
  finish = flow.End(),
  input = function(self, activation) return { n = 7 } end,
  output = function(self, activation, child) activation.process.data.child_n = child.data.n end,
]],
}

local function write_flows(dir)
  for name, body in pairs(BODIES) do
    H.write(dir .. "/" .. name .. ".lua", HEAD .. "return flow.Flow {\n  history = \"lean\",\n" .. body .. "}\n")
    H.write(dir .. "/full_" .. name .. ".lua", HEAD .. "return flow.Flow {\n" .. body .. "}\n")
  end
end

local function nodes(tasks)
  local out = {}
  for i, t in ipairs(tasks) do out[i] = t.node .. ":" .. t.status end
  return out
end

describe("history = \"lean\"", function()
  local dir, host
  setup(function()
    dir = H.tmpdir()
    write_flows(dir)
  end)
  teardown(function() os.execute("rm -rf '" .. dir .. "'") end)
  before_each(function() host = H.open { flows = dir, users = { ann = {} } } end)
  after_each(function() host:close() end)

  it("keeps an automatic process's row, data and audit, and no task", function()
    local r = host:start("auto", "start", { n = 7 }, { as = "admin" })
    assert.equal("DONE", r.process.status)
    assert.same({}, r.tasks)   -- the answer lists what is kept
    local pid = r.process.id
    local p = host:process(pid)
    assert.equal("DONE", p.process.status)
    assert.same({ n = 14, big = true }, p.process.data)
    assert.same({}, p.tasks)
    local audit = host:audit(pid)
    assert.equal(1, #audit)
    assert.is_nil(audit[1].task_id)   -- credited to the start, which is not kept
    assert.is_nil(audit[1].node)
    local changes = audit[1].changes
    table.sort(changes, function(a, b) return a.field < b.field end)
    assert.same({ { field = "big", new = true }, { field = "n", new = 14 } }, changes)
    -- the same flow with the full history: every step
    local full = host:start("full_auto", "start", { n = 7 }, { as = "admin" })
    assert.same({ "start:DONE", "compute:DONE", "big:DONE", "mark_big:DONE", "finish:DONE" },
      nodes(host:process(full.process.id).tasks))
    assert.equal(5, #full.tasks)
    assert.equal("lean", host:flow("auto").history)
    assert.equal("full", host:flow("full_auto").history)
  end)

  it("keeps a human task, without links to the steps it came from", function()
    local r = host:start("human", "start", {}, { as = "admin" })
    local pid = r.process.id
    assert.same({ "approve:NEW" }, nodes(r.tasks))
    local approve = r.tasks[1]
    assert.same({}, approve.previous)
    assert.same({ "approve:NEW" }, H.trail(host, pid))
    assert.equal("ASSIGNED", host:assign(approve.id, { as = "ann" }).task.status)
    local done = host:execute(approve.id, {}, { as = "ann" })
    assert.equal("DONE", done.process.status)
    assert.same({}, done.tasks)   -- check, after and finish ran through
    assert.same({ "approve:DONE" }, H.trail(host, pid))
    assert.same({ prepared = true, after = true }, host:process(pid).process.data)
    -- with the full history the task keeps its link to the step before it
    local full = host:start("full_human", "start", {}, { as = "admin" })
    local fa = H.one(host, full.process.id, "approve")
    assert.same({ H.one(host, full.process.id, "prepare").id }, fa.previous)
  end)

  it("links a kept task to the kept one it came from, through the steps not kept", function()
    local pid = host:start("two_views", "start", {}, { as = "admin" }).process.id
    local first = H.one(host, pid, "first")
    host:assign(first.id, { as = "ann" })
    local r = host:execute(first.id, {}, { as = "ann" })
    assert.same({ "second:NEW" }, nodes(r.tasks))
    assert.same({ first.id }, r.tasks[1].previous)   -- through 2,000 steps that are not kept
    assert.equal(1000, host:process(pid).process.data.n)
    assert.same({ "first:DONE", "second:NEW" }, H.trail(host, pid))
    assert.same({ first.id }, H.one(host, pid, "second").previous)   -- as stored
  end)

  it("keeps what arrived at a Join, which completes when the person is done; refuses undo", function()
    local r = host:start("join", "start", {}, { as = "admin" })
    local pid = r.process.id
    -- the start and the Split ran through; quick arrived at the join (kept: the join counts it)
    assert.same({ "quick:DONE", "review:NEW", "both:STARTED" }, H.trail(host, pid))
    assert.same({}, H.one(host, pid, "quick").previous)   -- the start and the Split not kept
    local e = H.refused("conflict", function() host:undo(H.one(host, pid, "quick").id, { as = "admin" }) end)
    assert.equal('cannot undo in a flow of history = "lean": the steps after the task are not kept', e.message)
    local review = H.one(host, pid, "review")
    host:assign(review.id, { as = "ann" })
    local done = host:execute(review.id, {}, { as = "ann" })
    assert.equal("DONE", done.process.status)
    assert.same({ "quick:DONE", "review:DONE", "both:DONE" }, H.trail(host, pid))
    assert.same({ quick = 1, done = 1 }, host:process(pid).process.data)
    local join = H.one(host, pid, "both")
    assert.same(H.sorted { H.one(host, pid, "quick").id, review.id }, H.sorted(join.previous))
    -- the full history: the same, with every step
    local full = host:start("full_join", "start", {}, { as = "admin" })
    local fr = H.one(host, full.process.id, "review")
    host:assign(fr.id, { as = "ann" })
    assert.equal("DONE", host:execute(fr.id, {}, { as = "ann" }).process.status)
    assert.same({ "start:DONE", "split:DONE", "quick:DONE", "review:DONE", "both:DONE", "done:DONE",
      "finish:DONE" }, H.trail(host, full.process.id))
  end)

  it("keeps a job, and a step that failed after it as ERROR, which a manager revives", function()
    local pid = host:start("job", "start", {}, { as = "admin" }).process.id
    assert.same({ "fetch:SCHEDULED" }, H.trail(host, pid))
    assert.equal(1, host:run_jobs())
    assert.same({ "fetch:DONE", "after:ERROR" }, H.trail(host, pid))
    local after = H.one(host, pid, "after")
    assert.matches("after failed on call 1", after.error.message, 1, true)
    assert.same({ H.one(host, pid, "fetch").id }, after.previous)
    local r = host:revive(after.id, { as = "admin" })
    assert.equal("REVIVED", r.task.status)
    assert.equal("DONE", r.process.status)
    assert.same({}, r.tasks)   -- the revived step and the End ran through
    assert.same({ "fetch:DONE", "after:REVIVED" }, H.trail(host, pid))
    assert.same({ fetched = true, after_ran = 2 }, host:process(pid).process.data)
  end)

  it("writes a child of a lean flow lean, whatever its parent's history", function()
    for _, flow in ipairs { "full_parent", "parent" } do
      local r = host:start(flow, "start", {}, { as = "admin" })
      local p = host:process(r.process.id)   -- the child starts right after the parent's write
      assert.equal("DONE", p.process.status)
      assert.same({ child_n = 14 }, p.process.data)
      assert.equal(1, #p.children)
      local child = host:process(p.children[1].id)
      assert.equal("DONE", child.process.status)
      assert.same({}, child.tasks)   -- the lean child's steps ran through
      -- the parent's Subprocess task names its child: kept in both; the rest as its history says
      local want = flow == "parent" and { "call:DONE" } or { "start:DONE", "call:DONE", "finish:DONE" }
      assert.same(want, H.trail(host, r.process.id))
      assert.equal(p.children[1].id, H.one(host, r.process.id, "call").child_id)
    end
  end)

  it("keeps an End that ends one branch while another runs; the process ends with the other", function()
    local r = host:start("early_end", "start", {}, { as = "admin" })
    local pid = r.process.id
    assert.equal("STARTED", r.process.status)
    assert.same({ "review:NEW", "end_quick:DONE" }, H.trail(host, pid))
    local review = H.one(host, pid, "review")
    host:assign(review.id, { as = "ann" })
    local done = host:execute(review.id, {}, { as = "ann" })
    assert.equal("DONE", done.process.status)
    assert.same({ "review:DONE", "end_quick:DONE" }, H.trail(host, pid))   -- end_review ended it
  end)

  it("runs an automatic split and join through, and keeps a join whose round is still open", function()
    local r = host:start("auto_join", "start", {}, { as = "admin" })
    assert.equal("DONE", r.process.status)
    assert.same({}, host:process(r.process.id).tasks)   -- no task at all: nothing can arrive later
    assert.same({ left = 1, right = 1, after = 1 }, host:process(r.process.id).process.data)
    local full = host:start("full_auto_join", "start", {}, { as = "admin" })
    assert.same({ "start:DONE", "split:DONE", "left:DONE", "right:DONE", "both:DONE", "after:DONE",
      "finish:DONE" }, H.trail(host, full.process.id))
    -- the first arrival sets the join off while review is open: the join and quick are kept,
    -- so review's late arrival finds the join done and ends there (after runs once)
    local pid = host:start("first_arrival", "start", {}, { as = "admin" }).process.id
    assert.same({ "quick:DONE", "review:NEW", "any:DONE", "wait:NEW" }, H.trail(host, pid))
    local review = H.one(host, pid, "review")
    host:assign(review.id, { as = "ann" })
    assert.equal("STARTED", host:execute(review.id, {}, { as = "ann" }).process.status)
    assert.same({ "quick:DONE", "review:DONE", "any:DONE", "wait:NEW" }, H.trail(host, pid))
    assert.same(H.sorted { H.one(host, pid, "quick").id, review.id }, H.sorted(H.one(host, pid, "any").previous))
    local wait = H.one(host, pid, "wait")
    host:assign(wait.id, { as = "ann" })
    assert.equal("DONE", host:execute(wait.id, {}, { as = "ann" }).process.status)
    assert.same({ quick = 1, after = 1 }, host:process(pid).process.data)
  end)

  it("keeps a Split whose round a later action looks for: a Cancel's region, a first-wins one", function()
    local pid = host:start("cancel", "start", {}, { as = "admin" }).process.id
    assert.same({ "split:DONE", "review:NEW", "stop_view:NEW" }, H.trail(host, pid))
    local stop = H.one(host, pid, "stop_view")
    host:assign(stop.id, { as = "ann" })
    local r = host:execute(stop.id, {}, { as = "ann" })
    assert.equal("DONE", r.process.status)   -- the Cancel found the round, review went with it
    assert.same({ "split:DONE", "review:CANCELED", "stop_view:DONE", "stop:DONE" }, H.trail(host, pid))
    pid = host:start("first", "start", {}, { as = "admin" }).process.id
    assert.same({ "race:DONE", "a:NEW", "b:NEW" }, H.trail(host, pid))
    local a = H.one(host, pid, "a")
    host:assign(a.id, { as = "ann" })
    assert.equal("DONE", host:execute(a.id, {}, { as = "ann" }).process.status)
    assert.same({ "race:DONE", "a:DONE", "b:CANCELED" }, H.trail(host, pid))
  end)
end)
