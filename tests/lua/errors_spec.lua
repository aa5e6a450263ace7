-- The error policy (flow-dsl.md, "Locking and errors"):
--  - a human action whose later nodes fail is rolled back entirely: the caller gets the error;
--  - after a job, a failing node is saved as ERROR (message + traceback) for a manager to
--    revive (it runs again) or cancel;
--  - a runaway callback is stopped by its time budget and counts as an error.
-- Fixtures: failing.lua, jobs.lua, runaway.lua in tests/fixtures/flows/.

local H = require "helpers"

describe("a handler error during a human action", function()
  local host, pid, edit
  before_each(function()
    host = H.open { users = { alice = { perms = { "failing.start" } } } }
    local r = host:start("failing", "start", { text = "first" }, { as = "alice" })
    pid, edit = r.process.id, r.tasks[2].id
    assert.equal("ASSIGNED", r.tasks[2].status)
  end)

  it("leaves the database exactly as it was, and returns the message and traceback", function()
    local before = host:process(pid)
    local all_before = host:tasks { view = "all" }
    local err = H.refused("flow_error", function()
      host:execute(edit, { text = "second", fail = true }, { as = "alice" })
    end)
    assert.matches("refused: second", err.message, 1, true)
    assert.matches("stack traceback", err.traceback, 1, true)
    assert.matches("failing.lua:%d+", err.traceback)
    assert.equal("flow_error: " .. err.message, tostring(err))
    assert.same(before, host:process(pid))                 -- same tasks, statuses, data
    assert.same(all_before, host:tasks { view = "all" })   -- no new task anywhere
    assert.same({ "start:DONE", "edit:ASSIGNED" }, H.trail(host, pid))
    assert.same({ text = "first", fail = false }, H.data(host, pid))
    assert.same({ "execute", "unassign" }, H.actions(host, edit, "alice"))
  end)

  it("lets the person correct the input and try again", function()
    H.refused("flow_error", function() host:execute(edit, { text = "oops", fail = true }, { as = "alice" }) end)
    local r = host:execute(edit, { text = "fixed", fail = false }, { as = "alice" })
    assert.equal("DONE", r.process.status)
    assert.same({ text = "fixed", fail = false, checked = true }, r.process.data)
    assert.same({ "start:DONE", "edit:DONE", "check:DONE", "finish:DONE" }, H.trail(host, pid))
  end)
end)

describe("a handler error after a job", function()
  local host
  before_each(function() host = H.open { users = { manager = { perms = { "jobs.manage" } }, alice = {} } } end)

  it("keeps the job DONE and saves the handler's task as ERROR", function()
    local pid = host:start("jobs", "start", { after_fails = 1 }).process.id
    assert.equal(1, host:run_jobs())
    assert.same({ "start:DONE", "fetch:DONE", "after:ERROR" }, H.trail(host, pid))
    local after = H.one(host, pid, "after")
    assert.matches("after failed on call 1", after.error.message, 1, true)
    assert.matches("jobs.lua:%d+", after.error.traceback)
    assert.same({ H.one(host, pid, "fetch").id }, after.previous)
    local data = H.data(host, pid)
    assert.is_true(data.fetched)             -- the job's result was committed
    assert.is_nil(data.after_ran)            -- the failed handler's changes were not
    assert.equal("STARTED", H.status(host, pid))
    assert.same({ "cancel", "revive" }, H.actions(host, after.id, "manager"))
    H.refused("not_found", function() host:revive(after.id, { as = "alice" }) end)
  end)

  it("a manager revives it: it runs again and the process goes on", function()
    local pid = host:start("jobs", "start", { after_fails = 1 }).process.id
    host:run_jobs()
    local after = H.one(host, pid, "after")
    local r = host:revive(after.id, { as = "manager" })
    assert.equal("REVIVED", r.task.status)
    assert.same({ "after", "finish" }, H.nodes(r.tasks))
    assert.equal("DONE", r.tasks[1].status)
    assert.same({ after.id }, r.tasks[1].previous)
    assert.same({ "start:DONE", "fetch:DONE", "after:REVIVED", "after:DONE", "finish:DONE" }, H.trail(host, pid))
    assert.equal(2, H.data(host, pid).after_ran)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("a revive that fails again is rolled back and the task stays in ERROR", function()
    local pid = host:start("jobs", "start", { after_fails = 2 }).process.id
    host:run_jobs()
    local after = H.one(host, pid, "after")
    local err = H.refused("flow_error", function() host:revive(after.id, { as = "manager" }) end)
    assert.matches("after failed on call 2", err.message, 1, true)
    assert.same({ "start:DONE", "fetch:DONE", "after:ERROR" }, H.trail(host, pid))
    host:revive(after.id, { as = "manager" })
    assert.equal("DONE", H.status(host, pid))
  end)

  it("a manager cancels it: the process waits, and can then be canceled", function()
    local pid = host:start("jobs", "start", { after_fails = 1 }).process.id
    host:run_jobs()
    local after = H.one(host, pid, "after")
    assert.equal("CANCELED", host:cancel(after.id, { as = "manager" }).task.status)
    -- nothing is active, but no End was reached: the process is not DONE
    assert.equal("STARTED", H.status(host, pid))
    assert.equal("CANCELED", host:cancel_process(pid, { as = "manager" }).status)
    assert.same({ "start:DONE", "fetch:DONE", "after:CANCELED" }, H.trail(host, pid))
  end)
end)

describe("a node after a job that cannot even be set up", function()
  it("keeps the job DONE with its result, and saves that node's task as ERROR", function()
    local host = H.open()
    local pid = host:start("jobs", "to_review", { reviewer = "nobody" }).process.id
    assert.equal(1, host:run_jobs())
    assert.same({ "to_review:DONE", "fetch_then_review:DONE", "review:ERROR" }, H.trail(host, pid))
    local review = H.one(host, pid, "review")
    assert.matches("unknown user 'nobody'", review.error.message, 1, true)
    assert.is_nil(review.owner)
    assert.is_true(H.data(host, pid).fetched)       -- the job's result was committed
    assert.equal(0, host:run_jobs())                -- and it does not run again
    assert.same({ "cancel", "revive" }, H.actions(host, review.id, "admin"))
    -- a revive sets the node up again, in a human action: still failing, it is refused
    H.refused("flow_error", function() host:revive(review.id, { as = "admin" }) end)
    host:user("nobody", {})
    local r = host:revive(review.id, { as = "admin" })
    assert.equal("ASSIGNED", r.tasks[1].status)
    assert.equal("nobody", r.tasks[1].owner)
    host:execute(r.tasks[1].id, {}, { as = "nobody" })
    assert.equal("DONE", H.status(host, pid))
  end)
end)

describe("the time budget", function()
  local host
  before_each(function() host = H.open { budget = 0.2, users = { alice = {} } } end)

  it("stops a runaway handler in a human action: an error, rolled back", function()
    local r = host:start("runaway", "start", {})
    local review = r.tasks[2].id
    local t0 = H.now()
    local err = H.refused("flow_error", function() host:execute(review, {}, { as = "alice" }) end)
    local elapsed = H.now() - t0
    assert.matches("time budget", err.message, 1, true)
    assert.is_true(elapsed < 3, "stopped after " .. elapsed .. " s")
    assert.same({ "start:DONE", "review:ASSIGNED" }, H.trail(host, r.process.id))
  end)

  it("cannot be swallowed by pcall", function()
    local err = H.refused("flow_error", function() host:start("runaway", "stubborn_start", {}) end)
    assert.matches("time budget", err.message, 1, true)
    assert.same({}, host:processes {})
  end)

  it("stops a runaway handler after a job: the handler's task is ERROR", function()
    local pid = host:start("runaway", "later", {}).process.id
    assert.equal(1, host:run_jobs())
    assert.same({ "later:DONE", "prepare:DONE", "spin:ERROR" }, H.trail(host, pid))
    assert.matches("time budget", H.one(host, pid, "spin").error.message, 1, true)
  end)

  it("is fresh for every call: the engine keeps working after a stop", function()
    H.refused("flow_error", function() host:start("runaway", "stubborn_start", {}) end)
    local r = host:start("runaway", "start", {})
    assert.equal("ASSIGNED", r.tasks[2].status)
  end)
end)

describe("a loop of automatic nodes", function()
  it("is stopped by the step limit and rolled back", function()
    local host = H.open()
    local err = H.refused("flow_error", function() host:start("runaway", "cycle", {}) end)
    assert.matches("automatic steps", err.message, 1, true)
    assert.same({}, host:processes {})
  end)

  it("after a job, saves the task it stopped at as ERROR and keeps the job DONE", function()
    local host = H.open()
    local pid = host:start("runaway", "later_cycle", {}).process.id
    assert.equal(1, host:run_jobs())
    assert.equal("DONE", H.one(host, pid, "prepare_cycle").status)
    local errors = host:tasks { process = pid, status = "ERROR" }
    assert.equal(1, #errors)
    assert.matches("automatic steps", errors[1].error.message, 1, true)
    assert.equal(0, host:run_jobs())
    assert.equal("STARTED", H.status(host, pid))
    host:cancel(errors[1].id, { as = "admin" })
  end)
end)
