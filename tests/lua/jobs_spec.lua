-- Jobs and Timers: SCHEDULED until host:run_jobs() finds them due, then they continue.
-- The hosts run on the manual clock: time stands still, so a backoff or a timer is due only
-- once host:advance(s) moved the clock past it (and advance runs what falls due on the way).
-- Fixtures: tests/fixtures/flows/jobs.lua, tests/fixtures/flows/timers.lua.

local H = require "helpers"

describe("Job", function()
  local host
  before_each(function() host = H.open { clock = "manual" } end)
  after_each(function() host:close() end)

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
    assert.equal(0, host:advance(0.15))            -- nor 0.15 s later
    assert.equal(1, H.one(host, pid, "fetch").attempts)
    assert.equal(1, host:advance(0.1))             -- 0.25 s: the backoff is over
    job = H.one(host, pid, "fetch")
    assert.equal("SCHEDULED", job.status)
    assert.equal(2, job.attempts)
    assert.equal(0, host:advance(0.25))            -- the second backoff is longer (0.4 s)
    assert.equal(2, H.one(host, pid, "fetch").attempts)
    assert.equal(1, host:advance(0.2))
    job = H.one(host, pid, "fetch")
    assert.equal("DONE", job.status)
    assert.is_nil(job.error)
    assert.same({ "start:DONE", "fetch:DONE", "after:DONE", "finish:DONE" }, H.trail(host, pid))
    assert.equal(3, H.data(host, pid).fetch_calls)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("ends in ERROR, with the message and traceback, when the attempts are used up", function()
    local pid = host:start("jobs", "start", { fail_times = 99 }).process.id
    assert.equal(1, host:run_jobs())
    assert.equal(2, host:advance(1))               -- both retries, each at its own due time
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
    -- a job's time budget is real (monotonic) time even on the manual clock, so real time is
    -- measured here: the job must really have been stopped after about 0.2 s
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
  local host
  before_each(function() host = H.open { clock = "manual" } end)
  after_each(function() if host then host:close() end end)

  it("waits SCHEDULED with a due_at, then runs once the clock passed its time", function()
    local r = host:start("timers", "fixed", {})
    local pid = r.process.id
    local timer = r.tasks[2]
    assert.equal("wait_fixed", timer.node)
    assert.equal("timer", timer.type)
    assert.equal("SCHEDULED", timer.status)
    assert.is_string(timer.due_at)
    assert.is_true(timer.due_at > timer.created_at)
    assert.equal(0, host:run_jobs())
    assert.equal(0, host:advance(0.29))            -- a timer of 0.3 s
    assert.equal("SCHEDULED", H.one(host, pid, "wait_fixed").status)
    assert.equal(1, host:advance(0.01))
    assert.same({ "fixed:DONE", "wait_fixed:DONE", "ring:DONE", "finish:DONE" }, H.trail(host, pid))
    assert.equal(1, H.data(host, pid).rang)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("takes its seconds from a function, and a manager may cancel it", function()
    local soon = host:start("timers", "computed", { delay = 0 }).process.id
    local late = host:start("timers", "computed", { delay = 3600 }).process.id
    assert.equal(1, host:run_jobs())
    assert.equal("DONE", H.status(host, soon))
    assert.equal(0, host:advance(3599))            -- an hour, less a second
    local timer = H.one(host, late, "wait_computed")
    assert.equal("SCHEDULED", timer.status)
    host:cancel(timer.id, { as = "admin" })
    assert.equal(0, host:advance(3600))            -- canceled: never runs
    assert.same({ "computed:DONE", "wait_computed:CANCELED" }, H.trail(host, late))
  end)

  it("a function returning something else than seconds >= 0 is an error at creation", function()
    H.refused("flow_error", function() host:start("timers", "computed", { delay = -1 }) end)
    H.refused("flow_error", function() host:start("timers", "computed", {}) end)
    assert.same({}, host:processes {})
  end)

  it("survives a restart of the host", function()
    host:close()
    local db = os.tmpname()
    host = H.open { db = db, clock = "manual" }
    local pid = host:start("timers", "fixed", {}).process.id
    local stopped_at = host:now()
    host:close()
    -- restarted 0.2 s later: its row is there, not due yet; due after 0.1 s more
    host = H.open { db = db, no_admin = true, clock = "manual", now = stopped_at + 0.2 }
    assert.equal(0, host:run_jobs())
    assert.equal(1, host:advance(0.1))
    assert.equal("DONE", H.status(host, pid))
    host:close()
    host = nil
    os.remove(db)
    os.remove(db .. "-wal")
    os.remove(db .. "-shm")
  end)
end)

describe("Timer on the real clock", function()
  -- Without clock = "manual" the host reads the wall clock; real time passing is what is under
  -- test here, so this is the one place that sleeps.
  it("runs once real time passed its due time", function()
    local host = H.open()
    local pid = host:start("timers", "fixed", {}).process.id
    assert.equal(0, host:run_jobs())
    H.sleep(0.35)
    assert.equal(1, host:run_jobs())
    assert.equal("DONE", H.status(host, pid))
    host:close()
  end)
end)
