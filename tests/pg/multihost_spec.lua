-- Three `flowhost serve` on ONE PostgreSQL database are one installation (issue 12): the
-- same task assigned or executed from several hosts at once is done once (the others get
-- 409); the two branches of a split executed on two hosts at once continue the Join once;
-- the job workers of every host share the jobs, each run once; a host killed with SIGKILL
-- in the middle of the load leaves its leased jobs to the others once the lease runs out,
-- and after it is restarted nothing is lost (every acknowledged start is in the database and
-- every process reaches its end) and nothing is doubled (one task per process, node and
-- token).  The fixture flow: tests/fixtures/multihost/multihost.lua.  Needs FLOWHOST_TEST_PG
-- (the pg label runs it under tests/pg/pg_cluster.sh); pending without it.
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local socket = require "socket"

local PG = os.getenv("FLOWHOST_TEST_PG")
local pg_it = (PG and PG ~= "") and it or pending
local ok = C.ok

local FLOWS = C.SOURCE .. "/tests/fixtures/multihost"
-- a job's lease is its budget plus the grace: 2.5 s, so a killed host's jobs run again soon
local SERVE = { flows = FLOWS, threads = 3, args = "--jobs 2 --budget 2 --lease-grace 0.5" }
local USERS = { "alice", "bob", "carol" }

local hosts, tokens, db = {}, nil, nil
local acked = {}          -- process id -> true for every start a host acknowledged
local victim_leases = {}  -- {id, lease_until} of the jobs the killed host held when it died
local T0 = socket.gettime()
local function stamp(what) print(string.format("  [%5.1f s] %s", socket.gettime() - T0, what)) end

local function psql(sql)
  local code, out = C.sh("psql -Atq " .. C.quote(db) .. " -c " .. C.quote(sql))
  assert(code == 0, "psql failed: " .. out)
  return (out:gsub("%s+$", ""))
end

local function num(sql) return tonumber(psql(sql)) end

-- An API client of host i acting as user (default alice).
local function api(i, user)
  return C.client(hosts[i].port, { token = tokens[user or "alice"] })
end

-- Sends every request ({host =, user =, method =, path =, body =}) on its own connection, all
-- written before any answer is read, so they race inside the hosts; `between` (optional) runs
-- after the sending.  Returns the responses in order (status 0: no answer).
local function at_once(reqs, between)
  local socks = {}
  for i, r in ipairs(reqs) do
    local s = assert(socket.tcp())
    s:settimeout(30)
    assert(s:connect("127.0.0.1", hosts[r.host].port))
    socks[i] = s
  end
  for i, r in ipairs(reqs) do
    socks[i]:send(api(r.host, r.user):text(r.method or "POST", r.path, r.body))
  end
  if between then between() end
  local out = {}
  for i, s in ipairs(socks) do
    local chunks = {}
    while true do
      local data, err, partial = s:receive(8192)
      if data then
        chunks[#chunks + 1] = data
      else
        if partial and #partial > 0 then chunks[#chunks + 1] = partial end
        break
      end
    end
    s:close()
    out[i] = C.parse_response(table.concat(chunks))
  end
  return out
end

-- Starts a process of node `start` (a person's form) on host i; its id and its tasks by node.
local function start_human(i, label)
  local body = ok(api(i):post("/api/flows/multihost/start/start", { data = { label = label } }), 201)
  acked[body.process.id] = true
  local by_node = {}
  for _, t in ipairs(body.tasks) do by_node[t.node] = t end
  assert(by_node.pack and by_node.invoice, "the split made no pack and invoice tasks")
  return body.process.id, by_node
end

-- Of the responses, how many have each status.
local function statuses(list)
  local n = {}
  for _, res in ipairs(list) do n[res.status] = (n[res.status] or 0) + 1 end
  return n
end

-- The one response of the list with status 200 (asserts the others are 409 conflict).
local function one_winner(list, what)
  local winner
  for i, res in ipairs(list) do
    if res.status == 200 then
      assert(not winner, what .. ": two requests succeeded")
      winner = i
    else
      C.assert_error(res, 409, "conflict")
    end
  end
  assert(winner, what .. ": no request succeeded")
  return winner
end

local function metric(i, name)
  local res = api(i):get("/metrics")
  assert(res.status == 200, "GET /metrics: " .. res.status)
  return tonumber(res.body:match("\n" .. name:gsub("[%p]", "%%%0") .. " (%d+)")) or 0
end

setup(function()
  if not PG or PG == "" then return end
  local users = {}
  for _, u in ipairs(USERS) do users[u] = { admin = true } end
  local first = C.server { flows = FLOWS, threads = SERVE.threads, args = SERVE.args, users = users, tokens = USERS }
  hosts[1], tokens, db = first, first.tokens, first.db
  for i = 2, 3 do
    hosts[i] = C.server { flows = FLOWS, db = db, threads = SERVE.threads, args = SERVE.args }
  end
  stamp("three hosts up")
end)

teardown(function()
  stamp("teardown")
  for _, h in ipairs(hosts) do   -- after a failure: what still runs gets SIGTERM
    if not h.stopped then
      os.execute("kill -CONT " .. h.pid .. " 2>/dev/null")   -- a host the test froze
      h:stop()
    end
    h:cleanup()
  end
end)

describe("three hosts on one PostgreSQL database", function()
  pg_it("serve the same installation: a process started on one host is seen by the others", function()
    assert.is_true(hosts[1].port ~= hosts[2].port and hosts[2].port ~= hosts[3].port)
    local id, tasks = start_human(1, "seen everywhere")
    for i = 2, 3 do
      local body = ok(api(i, "bob"):get("/api/processes/" .. id))
      assert.equal("multihost", body.process.flow)
      assert.equal("seen everywhere", body.process.data.label)
    end
    -- assigned on one host, executed on another
    for _, t in ipairs { tasks.pack, tasks.invoice } do
      ok(api(2, "carol"):post("/api/tasks/" .. t.id .. "/assign"))
      ok(api(3, "carol"):post("/api/tasks/" .. t.id .. "/execute", { data = {} }))
    end
  end)

  pg_it("let one of the racing assigns and executes of a task win, the others get 409", function()
    for round = 1, 6 do
      local id, tasks = start_human(round % 3 + 1, "race " .. round)
      local path = "/api/tasks/" .. tasks.pack.id
      -- three users assign the same task on three hosts at once
      local res = at_once {
        { host = 1, user = USERS[(round) % 3 + 1], path = path .. "/assign" },
        { host = 2, user = USERS[(round + 1) % 3 + 1], path = path .. "/assign" },
        { host = 3, user = USERS[(round + 2) % 3 + 1], path = path .. "/assign" },
      }
      local w = one_winner(res, "assign of task " .. tasks.pack.id)
      local owner = USERS[(round + w - 1) % 3 + 1]
      assert.equal(owner, res[w].json.task.owner)
      for i = 1, 3 do   -- every host sees the winner's assignment
        local t = ok(api(i, owner):get(path)).task
        assert.equal("ASSIGNED", t.status)
        assert.equal(owner, t.owner)
      end
      -- the owner executes it on three hosts at once
      res = at_once {
        { host = 1, user = owner, path = path .. "/execute", body = { data = {} } },
        { host = 2, user = owner, path = path .. "/execute", body = { data = {} } },
        { host = 3, user = owner, path = path .. "/execute", body = { data = {} } },
      }
      one_winner(res, "execute of task " .. tasks.pack.id)
      -- the other branch, plainly: the process goes on to its jobs
      local inv = "/api/tasks/" .. tasks.invoice.id
      ok(api(round % 3 + 1):post(inv .. "/assign"))
      ok(api((round + 1) % 3 + 1):post(inv .. "/execute", { data = {} }))
      local body = ok(api(1):get("/api/processes/" .. id))
      local n = 0
      for _, t in ipairs(body.tasks) do if t.node == "pack" then n = n + 1 end end
      assert.equal(1, n, "pack tasks of process " .. id)
    end
  end)

  pg_it("continue a Join once when its two branches are executed on two hosts at once", function()
    for round = 1, 9 do
      local a, b = round % 3 + 1, (round + 1) % 3 + 1
      local id, tasks = start_human(a, "join " .. round)
      ok(api(a):post("/api/tasks/" .. tasks.pack.id .. "/assign"))
      ok(api(b):post("/api/tasks/" .. tasks.invoice.id .. "/assign"))
      local res = at_once {
        { host = a, path = "/api/tasks/" .. tasks.pack.id .. "/execute", body = { data = {} } },
        { host = b, path = "/api/tasks/" .. tasks.invoice.id .. "/execute", body = { data = {} } },
      }
      ok(res[1])
      ok(res[2])
      local body = ok(api(6 - a - b):get("/api/processes/" .. id))
      local ships, joins = 0, 0
      for _, t in ipairs(body.tasks) do
        if t.node == "ship" then ships = ships + 1 end
        if t.node == "join" and t.status == "DONE" then joins = joins + 1 end
      end
      assert.equal(1, ships, "ship tasks of process " .. id)
      assert.equal(1, joins, "done join tasks of process " .. id)
      assert.equal(1, body.process.data.shipped)
    end
  end)

  -- SIGSTOPs host 2 until it is caught holding a job's lease (a frozen host's leases cannot
  -- change under the test), then SIGKILLs it; returns the leases it held ({id, lease_until}).
  local function kill_holding_a_lease()
    local h = hosts[2]
    local sql = "SELECT id || ' ' || lease_until FROM task WHERE status = 'SCHEDULED' AND lease_owner LIKE 'job-worker-%@"
      .. h.pid .. ":%' ORDER BY id"
    for try = 1, 100 do
      if try % 10 == 0 then   -- the jobs ran out before host 2 was caught: more of them
        for _, i in ipairs { 1, 3, 1, 3 } do
          local res = api(i):post("/api/flows/multihost/start/auto", { data = { label = "more" } })
          acked[ok(res, 201).process.id] = true
        end
      end
      os.execute("kill -STOP " .. h.pid)
      -- what it sent before it stopped (a COMMIT, say) lands first; then its leases stay put
      socket.sleep(0.05)
      local held = psql(sql)
      if held ~= "" then
        h:stop("KILL")
        local ids = {}
        for line in held:gmatch("[^\n]+") do
          local id, until_ = line:match("^(%d+) (%S+)$")
          ids[#ids + 1] = { id = tonumber(id), lease_until = until_ }
        end
        return ids
      end
      os.execute("kill -CONT " .. h.pid)
      socket.sleep(0.01)
    end
    error("host 2 was never caught holding a lease")
  end

  pg_it("share the jobs among every host's workers, and finish the jobs of a host killed with SIGKILL", function()
    local starts, lost_answers = 0, 0
    local function batch(between)
      local reqs = {}
      for i = 1, 6 do
        local host = i % 3 + 1
        if hosts[host].stopped then host = host % 3 + 1 end
        reqs[i] = { host = host, path = "/api/flows/multihost/start/auto", body = { data = { label = "auto" } } }
      end
      for _, res in ipairs(at_once(reqs, between)) do
        starts = starts + 1
        if res.status == 0 then
          lost_answers = lost_answers + 1   -- the killed host's: not acknowledged
        else
          acked[ok(res, 201).process.id] = true
        end
      end
    end
    stamp("load")
    for _ = 1, 4 do batch() end
    stamp("kill")
    -- the kill comes while requests are under way and host 2's workers hold a lease
    batch(function() victim_leases = kill_holding_a_lease() end)
    local killed_at = socket.gettime()
    for _ = 1, 3 do batch() end   -- on the two hosts left
    hosts[2]:start(SERVE)         -- restarted (on a new port)
    for _ = 1, 4 do batch() end
    stamp("load sent")
    -- every process reaches its end; the killed host's leases expire after 2.5 s
    local deadline = socket.gettime() + 45
    while num("SELECT count(*) FROM process WHERE status <> 'DONE'") > 0 and socket.gettime() < deadline do
      socket.sleep(0.25)
    end
    local n = num("SELECT count(*) FROM process")
    print(string.format("  %d starts sent, %d unanswered (killed host), %d processes in all; host 2 held %d "
      .. "leases when killed; all done %.1f s after the kill", starts, lost_answers, n, #victim_leases,
      socket.gettime() - killed_at))
    assert.equal("", psql("SELECT t.id, t.process_id, t.flow_task, t.status, t.due_at, t.lease_until, t.lease_owner,"
      .. " t.attempts, t.lease_expiries, t.error_message FROM task t JOIN process p ON p.id = t.process_id"
      .. " WHERE p.status <> 'DONE' AND t.status <> 'DONE' LIMIT 10"))
    assert.is_true(#victim_leases >= 1)
    -- the killed host's jobs: done after their lease ran out, by another host
    for _, held in ipairs(victim_leases) do
      assert.equal("DONE", psql("SELECT status FROM task WHERE id = " .. held.id))
      local late = string.format("SELECT finished_at::timestamptz >= '%s'::timestamptz FROM task WHERE id = %d",
                                 held.lease_until, held.id)
      assert.equal("t", psql(late), "task " .. held.id .. " finished before its lease ran out")
    end
    -- the workers of the hosts that ran all along both ran jobs
    for _, i in ipairs { 1, 3 } do
      local done = metric(i, 'flowhost_job_runs_total{outcome="done"}')
      print(string.format("  host %d ran %d jobs", i, done))
      assert.is_true(done > 0, "host " .. i .. " ran no job")
    end
    -- and took over the leases that ran out (the restarted host 2 may have too)
    local expiries = 0
    for i = 1, 3 do expiries = expiries + metric(i, "flowhost_job_lease_expiries_total") end
    assert.is_true(expiries >= #victim_leases, "lease expiries seen: " .. expiries)
  end)

  pg_it("lost nothing and doubled nothing (audit of the database)", function()
    -- every acknowledged start is there
    local ids = {}
    for id in pairs(acked) do ids[#ids + 1] = id end
    assert.is_true(#ids >= 60)
    assert.equal(#ids, num("SELECT count(*) FROM process WHERE id IN (" .. table.concat(ids, ",") .. ")"))
    -- every process at its end, each step once
    assert.equal(0, num("SELECT count(*) FROM process WHERE status <> 'DONE'"))
    assert.equal("", psql("SELECT process_id, flow_task, token, count(*) FROM task"
      .. " GROUP BY process_id, flow_task, token HAVING count(*) > 1 LIMIT 10"))
    assert.equal(0, num("SELECT count(*) FROM task WHERE status NOT IN ('DONE')"))
    for _, node in ipairs { "j1", "j2", "jobs_done", "after", "finish" } do
      assert.equal(0, num("SELECT count(*) FROM process p WHERE (SELECT count(*) FROM task t"
        .. " WHERE t.process_id = p.id AND t.flow_task = 'multihost." .. node .. "') <> 1"), node)
    end
    assert.equal(0, num("SELECT count(*) FROM process WHERE (data::json->>'after')::int IS DISTINCT FROM 1"))
    local human = "flow_task = 'multihost.start'"
    assert.equal(0, num("SELECT count(*) FROM process p WHERE EXISTS (SELECT 1 FROM task t WHERE t.process_id = p.id AND "
      .. human .. ") AND ((data::json->>'shipped')::int IS DISTINCT FROM 1"
      .. " OR (SELECT count(*) FROM task t WHERE t.process_id = p.id AND t.flow_task = 'multihost.ship') <> 1)"))
    -- every host sees them all
    local n = num("SELECT count(*) FROM process")
    for i = 1, 3 do
      assert.equal(n, #ok(api(i):get("/api/processes?flow=multihost&status=DONE&limit=500")).items, "host " .. i)
    end
  end)

  pg_it("stop cleanly, every one, and leave nothing behind", function()
    stamp("stopping")
    for _, h in ipairs(hosts) do h:stop_clean() end
    stamp("stopped")
    for i, h in ipairs(hosts) do
      h:cleanup()
      assert.is_nil(io.open(h.pidfile), "host " .. i .. " left its pidfile")
      assert.is_false(os.execute("kill -0 " .. h.pid .. " 2>/dev/null") == true, "host " .. i .. " still runs")
    end
  end)
end)
