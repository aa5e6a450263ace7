-- A PostgreSQL server that goes away for a while and comes back (issue 12): `flowhost serve`
-- answers 503 busy in the error shape meanwhile, at once (a stopped server's Unix socket is
-- gone: the connection fails fast, it does not hang), GET /api/health says the database is
-- down, and once the server is back the host serves fully again, with every acknowledged
-- write there once.  Stops and starts the cluster of tests/pg/pg_cluster.sh with
-- FLOWHOST_TEST_PG_CTL; pending without it.
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local socket = require "socket"

local PG, CTL = os.getenv("FLOWHOST_TEST_PG"), os.getenv("FLOWHOST_TEST_PG_CTL")
local HAVE = PG and PG ~= "" and CTL and CTL ~= ""
local pg_it = HAVE and it or pending
local ok = C.ok

local srv, token
local pg_stopped = false

-- A request of alice's that must be answered within `bound` seconds; the response and
-- how long it took.
local function timed(method, path, body, bound)
  local t0 = socket.gettime()
  local headers = { Authorization = "Bearer " .. token }
  local res = C.request(srv.port, method, path, { body = body, headers = headers, timeout = bound or 5 })
  local took = socket.gettime() - t0
  assert(res.status ~= 0, string.format("%s %s: no answer within %.1f s (%s)", method, path, took, tostring(res.error)))
  return res, took
end

-- C.ok, with the end of the server's log when the status is not the one expected.
local function served(res, status)
  if res.status ~= (status or 200) then
    print("server log:\n" .. (C.read_file(srv.err) or ""):sub(-3000))
  end
  return ok(res, status)
end

local function start(text)
  return timed("POST", "/api/flows/helloworld/start/start", { data = { text = text } })
end

local function health()
  socket.sleep(1.05)   -- one answer serves for a second
  return served((timed("GET", "/api/health")))
end

local function pg_ctl(action)
  local code, out = C.sh(CTL .. " " .. action)
  assert(code == 0, "pg_ctl " .. action .. ": " .. out)
end

setup(function()
  if not HAVE then return end
  srv = C.server { users = { alice = { admin = true } }, tokens = { "alice" }, threads = 4, args = "--jobs 1" }
  token = srv.tokens.alice
end)

teardown(function()
  if pg_stopped then pg_ctl("start") end   -- after a failure: the cluster's owner stops it
  if srv then
    if not srv.stopped then srv:stop() end
    srv:cleanup()
  end
end)

describe("PostgreSQL going away for a while", function()
  pg_it("gives 503 busy at once meanwhile, health says down, then full service with nothing lost", function()
    local acked = {}
    for i = 1, 3 do
      acked[#acked + 1] = served(start("before " .. i), 201).process.id
    end
    assert.equal("ok", health().db)

    pg_ctl("stop -m fast")
    pg_stopped = true
    local slowest = 0
    for i = 1, 8 do
      local res, took = start("while down " .. i)
      C.assert_error(res, 503, "busy")
      slowest = math.max(slowest, took)
      res, took = timed("GET", "/api/processes?flow=helloworld")
      C.assert_error(res, 503, "busy")
      slowest = math.max(slowest, took)
    end
    -- (a request that tried to connect would wait for libpq's connect_timeout, 10 s; the bound
    -- leaves room for a loaded machine)
    assert.is_true(slowest < 5, string.format("a request took %.2f s while the database was down", slowest))
    -- the health, on threads that hold a connection and on threads that never opened one
    socket.sleep(1.05)
    local texts = {}
    for i = 1, 4 do texts[i] = C.request_text("GET", "/api/health") end
    for _, res in ipairs(C.concurrent(srv.port, texts)) do
      local h = ok(res)
      assert.equal("degraded", h.status)
      assert.equal("down", h.db)
      assert.is_string(h.db_detail)
    end

    pg_ctl("start")
    pg_stopped = false
    -- the connections the host held died with the server: a request may find its own gone
    -- (503, and it reconnects); then every request is served
    local busy, n_served = 0, 0
    for i = 1, 20 do
      local res = start("after " .. i)
      if res.status == 503 and n_served == 0 then
        C.assert_error(res, 503, "busy")
        busy = busy + 1
      else
        acked[#acked + 1] = served(res, 201).process.id
        n_served = n_served + 1
      end
    end
    print(string.format("  database back: %d requests answered 503, then %d served (slowest while down: %.3f s)",
      busy, n_served, slowest))
    assert.equal(0, busy, "503s after the server came back")
    assert.is_true(n_served >= 16)
    assert.equal("ok", health().db)

    -- every acknowledged start is there, once; nothing of the refused ones
    local list = served((timed("GET", "/api/processes?flow=helloworld&limit=100"))).items
    assert.equal(#acked, #list)
    local seen = {}
    for _, p in ipairs(list) do
      assert.is_nil(seen[p.data.text], "written twice: " .. p.data.text)
      assert.is_nil(p.data.text:find("while down", 1, true), "a refused start was written")
      seen[p.data.text] = true
    end
    -- and the process goes on: assign and execute after the outage
    local task = served((timed("GET", "/api/processes/" .. acked[1]))).tasks
    local approve
    for _, t in ipairs(task) do if t.node == "approve" then approve = t end end
    served((timed("POST", "/api/tasks/" .. approve.id .. "/assign", {})))
    served((timed("POST", "/api/tasks/" .. approve.id .. "/execute", { data = { approved = true } })))
    assert.equal("DONE", served((timed("GET", "/api/processes/" .. acked[1]))).process.status)
    srv:stop_clean()
  end)
end)
