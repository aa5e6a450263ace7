-- Jobs and Timers: SCHEDULED until host:run_jobs() finds them due, then they continue.
-- Backoffs and timers are real seconds: the fixtures use fractions of a second.
-- Fixtures: tests/fixtures/flows/jobs.lua, tests/fixtures/flows/timers.lua.

local H = require "helpers"

describe("Job", function()
  local host
  before_each(function() host = H.open() end)

  it("stays SCHEDULED until run_jobs, then runs and the process continues", function()
    local r = host:start("jobs", "start", {})
    local pid = r.process.id
    local job = r.tasks[2]
    assert.equal("fetch", job.node)
    assert.equal("job", job.type)
    assert.equal("SCHEDULED", job.status)
    assert.is_string(job.due_at)
    assert.equal("STARTED", r.process.status)
    assert.equal(1, host:run_jobs())
    assert.same({ "start:DONE", "fetch:DONE", "after:DONE", "finish:DONE" }, H.trail(host, pid))
    local done = H.one(host, pid, "fetch")
    assert.is_nil(done.due_at)
    assert.same({ fetched_at_call = 1 }, done.data)
    assert.same({ fetch_calls = 1, fetched = true, after_ran = 1 }, H.data(host, pid))
    assert.equal("DONE", H.status(host, pid))
    assert.equal(0, host:run_jobs())
  end)

  it("run_jobs(max) runs at most max jobs", function()
    host:start("jobs", "start", {})
    host:start("jobs", "start", {})
    assert.equal(1, host:run_jobs(1))
    assert.equal(1, host:run_jobs())
    assert.equal(0, host:run_jobs())
  end)

  it("retries with a growing backoff, counting attempts, then succeeds", function()
    local pid = host:start("jobs", "start", { fail_times = 2 }).process.id
    assert.equal(1, host:run_jobs())
    local job = H.one(host, pid, "fetch")
    assert.equal("SCHEDULED", job.status)
    assert.equal(1, job.attempts)
    assert.matches("fetch failed on call 1", job.error.message, 1, true)
    assert.is_nil(H.data(host, pid).fetch_calls)   -- a failed job's changes are dropped
    assert.equal(0, host:run_jobs())               -- not due yet (backoff 0.2 s)
    H.sleep(0.25)
    assert.equal(1, host:run_jobs())
    job = H.one(host, pid, "fetch")
    assert.equal("SCHEDULED", job.status)
    assert.equal(2, job.attempts)
    H.sleep(0.25)
    assert.equal(0, host:run_jobs())               -- the second backoff is longer (0.4 s)
    H.sleep(0.2)
    assert.equal(1, host:run_jobs())
    job = H.one(host, pid, "fetch")
    assert.equal("DONE", job.status)
    assert.is_nil(job.error)
    assert.same({ "start:DONE", "fetch:DONE", "after:DONE", "finish:DONE" }, H.trail(host, pid))
    assert.equal(3, H.data(host, pid).fetch_calls)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("ends in ERROR, with the message and traceback, when the attempts are used up", function()
    local pid = host:start("jobs", "start", { fail_times = 99 }).process.id
    host:run_jobs()
    H.sleep(0.25)
    host:run_jobs()
    H.sleep(0.45)
    assert.equal(1, host:run_jobs())
    local job = H.one(host, pid, "fetch")
    assert.equal("ERROR", job.status)
    assert.equal(3, job.attempts)
    assert.matches("fetch failed on call 3", job.error.message, 1, true)
    assert.matches("traceback", job.error.traceback, 1, true)
    assert.equal("STARTED", H.status(host, pid))
    assert.equal(0, host:run_jobs())
    assert.same({ "cancel", "revive" }, H.actions(host, job.id, "admin"))
  end)

  it("without :Retry fails into ERROR at once", function()
    local pid = host:start("jobs", "once", { fail_times = 1 }).process.id
    assert.equal(1, host:run_jobs())
    local job = H.one(host, pid, "fetch_once")
    assert.equal("ERROR", job.status)
    assert.equal(1, job.attempts)
    assert.is_string(job.error.traceback)
    -- a manager revives it: a new SCHEDULED job, which now succeeds
    local r = host:revive(job.id, { as = "admin" })
    assert.equal("REVIVED", r.task.status)
    assert.equal("SCHEDULED", r.tasks[1].status)
    assert.same({ job.id }, r.tasks[1].previous)
    assert.equal(1, host:run_jobs())
    assert.same({ "once:DONE", "fetch_once:REVIVED", "fetch_once:DONE", "after:DONE", "finish:DONE" },
      H.trail(host, pid))
    assert.equal("DONE", H.status(host, pid))
  end)

  it("is stopped by its :Timeout and counts as an error", function()
    local pid = host:start("jobs", "spin", {}).process.id
    local t0 = H.now()
    assert.equal(1, host:run_jobs())
    local elapsed = H.now() - t0
    assert.is_true(elapsed >= 0.15 and elapsed < 3, "the job ran " .. elapsed .. " s")
    local job = H.one(host, pid, "runaway")
    assert.equal("ERROR", job.status)
    assert.matches("time budget", job.error.message, 1, true)
    assert.same({ "spin:DONE", "runaway:ERROR" }, H.trail(host, pid))
  end)

  it("canceled while SCHEDULED never runs", function()
    local r = host:start("jobs", "start", {})
    host:cancel(r.tasks[2].id, { as = "admin" })
    assert.equal(0, host:run_jobs())
    assert.same({ "start:DONE", "fetch:CANCELED" }, H.trail(host, r.process.id))
    assert.is_nil(H.data(host, r.process.id).fetch_calls)
  end)

  it("never runs once its process is canceled", function()
    local r = host:start("jobs", "start", {})
    host:cancel_process(r.process.id, { as = "admin" })
    assert.equal(0, host:run_jobs())
    assert.same({ "start:DONE", "fetch:CANCELED" }, H.trail(host, r.process.id))
    assert.equal("CANCELED", H.status(host, r.process.id))
  end)

  it("refuses human transitions (conflict) except a manager's cancel", function()
    host:user("alice", {})
    local job = host:start("jobs", "start", {}).tasks[2].id
    H.refused("conflict", function() host:assign(job, { as = "admin" }) end)
    H.refused("conflict", function() host:execute(job, {}, { as = "admin" }) end)
    H.refused("conflict", function() host:undo(job, { as = "admin" }) end)
    H.refused("not_found", function() host:cancel(job, { as = "alice" }) end)
    assert.same({ "cancel" }, H.actions(host, job, "admin"))
  end)
end)

describe("Timer", function()
  it("waits SCHEDULED with a due_at, then runs with run_jobs after its time", function()
    local host = H.open()
    local r = host:start("timers", "fixed", {})
    local pid = r.process.id
    local timer = r.tasks[2]
    assert.equal("wait_fixed", timer.node)
    assert.equal("timer", timer.type)
    assert.equal("SCHEDULED", timer.status)
    assert.is_string(timer.due_at)
    assert.is_true(timer.due_at > timer.created_at)
    assert.equal(0, host:run_jobs())
    H.sleep(0.35)
    assert.equal(1, host:run_jobs())
    assert.same({ "fixed:DONE", "wait_fixed:DONE", "ring:DONE", "finish:DONE" }, H.trail(host, pid))
    assert.equal(1, H.data(host, pid).rang)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("takes its seconds from a function, and a manager may cancel it", function()
    local host = H.open()
    local soon = host:start("timers", "computed", { delay = 0 }).process.id
    local late = host:start("timers", "computed", { delay = 3600 }).process.id
    assert.equal(1, host:run_jobs())
    assert.equal("DONE", H.status(host, soon))
    local timer = H.one(host, late, "wait_computed")
    assert.equal("SCHEDULED", timer.status)
    host:cancel(timer.id, { as = "admin" })
    assert.equal(0, host:run_jobs())
    assert.same({ "computed:DONE", "wait_computed:CANCELED" }, H.trail(host, late))
  end)

  it("a function returning something else than seconds >= 0 is an error at creation", function()
    local host = H.open()
    H.refused("flow_error", function() host:start("timers", "computed", { delay = -1 }) end)
    H.refused("flow_error", function() host:start("timers", "computed", {}) end)
    assert.same({}, host:processes {})
  end)

  it("survives a restart of the host", function()
    local db = os.tmpname()
    local host = H.open { db = db }
    local pid = host:start("timers", "fixed", {}).process.id
    host:close()
    H.sleep(0.35)
    host = H.open { db = db, no_admin = true }
    assert.equal(1, host:run_jobs())
    assert.equal("DONE", H.status(host, pid))
    host:close()
    os.remove(db)
    os.remove(db .. "-wal")
    os.remove(db .. "-shm")
  end)
end)
