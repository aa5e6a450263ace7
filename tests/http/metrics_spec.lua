-- GET /metrics (Prometheus text format 0.0.4) against a real `flowhost serve` with
-- --metrics-listen: who may scrape (401/403/200 on the main listener, anyone on the private
-- one, nothing else there), then traffic (starts, task actions, errors, jobs that succeed,
-- retry and fail) and a second scrape whose numbers must have moved by exactly that much;
-- route labels are patterns, never raw paths; the database statements (and round trips on
-- PostgreSQL) of the backend in use move; `promtool check metrics` accepts the answer.
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local socket = require "socket"

local flows, srv, admin, alice, alice_web, mport

local ok = C.ok

-- { ['name{labels}'] = number }
local function parse(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    if line:sub(1, 1) ~= "#" then
      local series, value = line:match("^(%S+) (%S+)$")
      assert(series, "not a sample line: " .. line)
      assert(out[series] == nil, "series twice: " .. series)
      out[series] = tonumber(value) or (value == "+Inf" and math.huge)
    end
  end
  return out
end

local function scrape(client)
  local res = (client or admin):get("/metrics")
  assert(res.status == 200, "scrape: " .. res.status .. " " .. res.body)
  assert.equal("text/plain; version=0.0.4; charset=utf-8", res.headers["content-type"])
  return parse(res.body), res.body
end

local function v(m, series) return m[series] or 0 end

local function process_status(pid)
  return ok(admin:get("/api/processes/" .. pid)).process.status
end

-- Polls until the process is in one of the statuses (the job worker runs it).
local function wait_for(pid, want)
  local deadline = os.time() + 15
  local status
  repeat
    status = process_status(pid)
    if want[status] then return status end
    C.sleep(0.05)
  until os.time() > deadline
  error("process " .. pid .. " still " .. tostring(status))
end

local function task_of(pid, node)
  for _, t in ipairs(ok(admin:get("/api/processes/" .. pid)).tasks) do
    if t.node == node then return t end
  end
end

setup(function()
  flows = C.tmpdir()
  C.write_file(flows .. "/helloworld.lua", assert(C.read_file(C.SOURCE .. "/flows/helloworld.lua")))
  C.write_file(flows .. "/jobs.lua", assert(C.read_file(C.SOURCE .. "/tests/fixtures/flows/jobs.lua")))
  srv = C.server {
    flows = flows,
    users = { admin = { admin = true }, alice = { perms = { "helloworld.start", "helloworld.approve" } } },
    tokens = { "admin", "alice" },
    -- every scrape reads the gauges (they are kept 5 s by default; the C test
    -- test_metrics gauge_cache checks the keeping with the manual clock)
    args = "--metrics-listen 127.0.0.1:0 --metrics-max-age 0",
  }
  admin, alice = srv:bearer("admin"), srv:bearer("alice")
  alice_web = srv:login("alice")
  mport = tonumber(srv.stdout:match("metrics on http://127%.0%.0%.1:(%d+)/metrics"))
  assert(mport, "no metrics listener in: " .. srv.stdout)
end)

teardown(function()
  if srv then
    srv:stop_clean()
    srv:cleanup()
  end
  if flows then os.execute("rm -rf " .. C.quote(flows)) end
end)

describe("who may scrape", function()
  it("answers 401 without credentials and 403 to a user who is not an admin", function()
    C.assert_error(srv:anon():get("/metrics"), 401, "unauthenticated")
    C.assert_error(alice:get("/metrics"), 403, "forbidden")
    C.assert_error(alice_web:get("/metrics"), 403, "forbidden")
    C.assert_error(admin:get("/metrics?x=1"), 400, "bad_request")
    local res = admin:post("/metrics", {})
    C.assert_error(res, 405, "method_not_allowed")
    assert.equal("GET, HEAD", res.headers["allow"])
  end)

  it("serves an admin, and anyone on --metrics-listen, which serves nothing else", function()
    scrape()
    scrape(C.client(mport))
    C.assert_error(C.client(mport):get("/api/health"), 404, "not_found")
    C.assert_error(C.client(mport):get("/"), 404, "not_found")
  end)
end)

describe("the numbers", function()
  it("move by exactly the traffic, with route patterns as labels", function()
    local before = scrape()
    -- two starts; the second one is approved (assign + execute), the first waits
    local p1 = ok(alice:post("/api/flows/helloworld/start/start", { data = { text = "one" } }), 201).process.id
    local p2 = ok(alice:post("/api/flows/helloworld/start/start", { data = { text = "two" } }), 201).process.id
    local t2 = task_of(p2, "approve").id
    ok(alice:post("/api/tasks/" .. t2 .. "/assign"))
    ok(alice:post("/api/tasks/" .. t2 .. "/execute", { data = { approved = true } }))
    assert.equal("DONE", process_status(p2))
    -- failures: invalid form, unknown task, an unknown route with a raw id in it
    C.assert_error(alice:post("/api/flows/helloworld/start/start", { data = {} }), 400, "invalid")
    C.assert_error(alice:get("/api/tasks/987654"), 404, "not_found")
    C.assert_error(alice:get("/api/nope/987654"), 404, "not_found")
    -- jobs: one done at once, one retried then done, one failed (no retry left: ERROR)
    local j1 = ok(admin:post("/api/flows/jobs/start/once", { data = {} }), 201).process.id
    local j2 = ok(admin:post("/api/flows/jobs/start/start", { data = { fail_times = 1 } }), 201).process.id
    local j3 = ok(admin:post("/api/flows/jobs/start/once", { data = { fail_times = 5 } }), 201).process.id
    assert.equal("DONE", wait_for(j1, { DONE = true }))
    assert.equal("DONE", wait_for(j2, { DONE = true }))
    local deadline = os.time() + 15
    while task_of(j3, "fetch_once").status ~= "ERROR" and os.time() < deadline do C.sleep(0.05) end
    assert.equal("ERROR", task_of(j3, "fetch_once").status)

    -- a worker counts a job's run (outcome, action, jobs running) just after the write whose
    -- status was seen above: on a loaded machine a scrape may come in between; scrape until
    -- no job runs any more (nothing is left to run), then every run is counted
    local after, text
    deadline = os.time() + 15
    repeat
      after, text = scrape()
      if v(after, "flowhost_jobs_running") == 0 then break end
      C.sleep(0.05)
    until os.time() > deadline
    local function moved(series) return v(after, series) - v(before, series) end
    assert.equal(2 + 3, moved('flowhost_actions_total{kind="start",outcome="ok"}'))
    assert.equal(1, moved('flowhost_actions_total{kind="start",outcome="invalid"}'))
    assert.equal(1, moved('flowhost_actions_total{kind="task.assign",outcome="ok"}'))
    assert.equal(1, moved('flowhost_actions_total{kind="task.execute",outcome="ok"}'))
    assert.equal(6, moved('flowhost_action_duration_seconds_count{kind="start"}'))
    assert.equal(5, moved('flowhost_http_requests_total{method="POST",route="/api/flows/{flow}/start/{node}",status="201"}'))
    assert.equal(1, moved('flowhost_http_requests_total{method="POST",route="/api/flows/{flow}/start/{node}",status="400"}'))
    assert.equal(2, moved('flowhost_http_requests_total{method="POST",route="/api/tasks/{id}/{action}",status="200"}'))
    assert.equal(1, moved('flowhost_http_requests_total{method="GET",route="/api/tasks/{id}",status="404"}'))
    assert.equal(1, moved('flowhost_http_requests_total{method="GET",route="unmatched",status="404"}'))
    assert.is_nil(text:find("987654", 1, true), "a raw path made it into a label")
    -- the gauge from the store: p1 waits at approve; p2 is done
    assert.equal(1, after['flowhost_tasks{flow="helloworld",node="approve",status="NEW"}'])
    assert.equal(1, after['flowhost_tasks{flow="jobs",node="fetch_once",status="ERROR"}'])
    -- jobs: j1 and j2 done (j2 after one retry), j3 failed
    assert.equal(2, moved('flowhost_job_runs_total{outcome="done"}'))
    assert.equal(1, moved('flowhost_job_runs_total{outcome="retried"}'))
    assert.equal(1, moved('flowhost_job_runs_total{outcome="failed"}'))
    assert.equal(4, moved('flowhost_actions_total{kind="job",outcome="ok"}'))
    assert.equal(0, moved("flowhost_job_lease_expiries_total"))   -- a retry is no lost lease
    assert.equal(0, after["flowhost_jobs_running"])
    assert.equal(0, after["flowhost_jobs_due"])
    -- every successful write committed; commits carry at least one action each
    assert.is_true(moved("flowhost_commits_total") >= 2 + 2 + 3 + 4)
    assert.is_true(moved("flowhost_actions_per_commit_count") >= 2 + 2 + 3 + 4)
    assert.equal(moved("flowhost_commits_total"), moved("flowhost_actions_per_commit_count"))
    -- the syncs of SQLite's WAL (the server runs at FULL): they made every action above durable,
    -- each covering one commit or more; PostgreSQL syncs its own WAL, and the series stay 0
    local syncs = moved("flowhost_actions_per_wal_sync_count")
    assert.equal(syncs, moved("flowhost_wal_sync_duration_seconds_count"))
    assert.equal(0, after["flowhost_wal_sync_failures_total"])
    if os.getenv("FLOWHOST_TEST_PG") then
      assert.equal(0, after["flowhost_actions_per_wal_sync_count"])
      assert.equal(0, after["flowhost_actions_per_wal_sync_sum"])
    else
      assert.is_true(syncs >= 1 and syncs <= moved("flowhost_commits_total") + 1, "syncs moved by " .. syncs)
      assert.is_true(moved("flowhost_actions_per_wal_sync_sum") >= 2 + 2 + 3 + 4)
      assert.is_true(moved("flowhost_wal_sync_duration_seconds_sum") > 0)
    end
    assert.is_true(moved("flowhost_lua_callback_duration_seconds_count") > 0)
    -- statements and round trips to the database, by backend: the one in use moved (at least
    -- a token look-up and an insert per request above), the other did not
    local backend = os.getenv("FLOWHOST_TEST_PG") and "postgresql" or "sqlite"
    local other = backend == "sqlite" and "postgresql" or "sqlite"
    local statements = moved('flowhost_db_statements_total{backend="' .. backend .. '"}')
    assert.is_true(statements >= 2 * (2 + 2 + 3), "statements moved by " .. statements)
    assert.equal(0, moved('flowhost_db_statements_total{backend="' .. other .. '"}'))
    assert.equal(0, moved('flowhost_db_round_trips_total{backend="' .. other .. '"}'))
    if backend == "postgresql" then   -- each statement is a round trip, and preparing one is too
      assert.is_true(moved('flowhost_db_round_trips_total{backend="postgresql"}') >= statements)
    else                              -- SQLite runs in the process
      assert.equal(0, after['flowhost_db_round_trips_total{backend="sqlite"}'])
    end
    assert.equal(2, after['flowhost_flows{status="ok"}'])
    assert.is_true(after["flowhost_process_start_time_seconds"] > 1.6e9)
    assert.equal(1, after['flowhost_build_info{version="dev",lua="5.4"}'])
    assert.equal(0, after["flowhost_external_tasks_fetched_total"])
    -- histograms are cumulative and end in their count
    assert.equal(after['flowhost_action_duration_seconds_count{kind="start"}'],
      after['flowhost_action_duration_seconds_bucket{kind="start",le="+Inf"}'])
  end)

  it("passes promtool check metrics", function()
    local code = C.sh("command -v promtool")
    if code ~= 0 then
      pending("promtool is not installed (tools/install-deps.sh --test installs it)")
      return
    end
    local _, text = scrape(C.client(mport))
    local file = flows .. "/scrape.txt"
    C.write_file(file, text)
    local rc, out = C.sh("promtool check metrics < " .. C.quote(file))
    assert(rc == 0 and not out:find("%S"), "promtool: " .. out)
  end)
end)

describe("connections", function()
  -- Connections opened at once go to the workers in turn (host/http_accept.c): with MHD's
  -- own pool, the worker that woke first took up to ten of them, and a client's whole burst
  -- was often served by one thread on one CPU.  Scraped on --metrics-listen, whose own
  -- connections are not counted.
  it("are spread over the worker threads, the fewest first, and counted until they close", function()
    local function per_worker()
      local m = scrape(C.client(mport))
      local out = {}
      for w = 0, 3 do out[#out + 1] = m['flowhost_http_connections{worker="' .. w .. '"}'] end
      assert.is_nil(m['flowhost_http_connections{worker="4"}'])
      return out
    end
    local function sum(t)
      local n = 0
      for _, x in ipairs(t) do n = n + x end
      return n
    end
    C.eventually(function() return sum(per_worker()) == 0 end, "no connection left open")
    -- no request is sent until the end: a worker answering one counts as 8 connections in
    -- the choice (sandbox_spec.lua), which would move where the next connections go
    local socks = {}
    for i = 1, 8 do
      socks[i] = assert(socket.tcp())
      socks[i]:settimeout(10)
      assert(socks[i]:connect("127.0.0.1", srv.port))
    end
    local counts
    C.eventually(function()
      counts = per_worker()
      return sum(counts) == 8
    end, "8 connections counted")
    assert.same({ 2, 2, 2, 2 }, counts)
    for i = 1, 3 do socks[i]:close() end
    C.eventually(function()
      counts = per_worker()
      return sum(counts) == 5
    end, "5 connections left")
    -- the next three go where the closed ones were
    for i = 1, 3 do
      socks[i] = assert(socket.tcp())
      socks[i]:settimeout(10)
      assert(socks[i]:connect("127.0.0.1", srv.port))
    end
    C.eventually(function()
      counts = per_worker()
      return sum(counts) == 8
    end, "8 connections counted again")
    assert.same({ 2, 2, 2, 2 }, counts)
    -- each answers a request on its kept-alive connection: the workers have them
    for _, s in ipairs(socks) do assert(s:send("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) end
    for _, s in ipairs(socks) do
      local status = assert(s:receive("*l"))
      assert.truthy(status:match("^HTTP/1%.1 200"), status)
    end
    for _, s in ipairs(socks) do s:close() end
    C.eventually(function() return sum(per_worker()) == 0 end, "every connection closed")
  end)
end)
