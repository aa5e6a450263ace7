-- `flowhost serve` on PostgreSQL when the server drops every connection of the host (as a
-- restarted or failed-over PostgreSQL does): a request that finds its connection gone
-- reconnects (its first statement, a read outside a transaction, runs again on the new
-- connection: store_pg.c) or answers 503 busy in the error shape, never 500; the next ones
-- work; nothing acknowledged is lost and nothing is written twice.  Needs FLOWHOST_TEST_PG (the pg label
-- runs it under tests/pg/pg_cluster.sh); pending without it.
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"

local PG = os.getenv("FLOWHOST_TEST_PG")
local pg_it = (PG and PG ~= "") and it or pending
local ok = C.ok

local srv, alice

setup(function()
  if not PG or PG == "" then return end
  srv = C.server { users = { alice = { admin = true } }, tokens = { "alice" }, threads = 2, args = "--jobs 1" }
  alice = srv:bearer("alice")
end)

teardown(function()
  if srv then
    srv:stop_clean()
    srv:cleanup()
  end
end)

-- Terminates every connection to the server's database but psql's own.
local function drop_connections()
  local sql = "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
    .. " WHERE datname = current_database() AND pid <> pg_backend_pid()"
  local code, out = C.sh("psql -Atq " .. C.quote(srv.db) .. " -c " .. C.quote(sql))
  assert(code == 0, out)
  return tonumber(out:match("%d+"))
end

local function start(text)
  return alice:post("/api/flows/helloworld/start/start", { data = { text = text } })
end

-- The statements the host sent to PostgreSQL so far (GET /metrics).
local function statements()
  local res = alice:get("/metrics")
  assert(res.status == 200, res.body)
  return tonumber(res.body:match('flowhost_db_statements_total{backend="postgresql"} (%d+)'))
end

-- psql on the server's database, as another program that writes would.
local function psql(sql)
  local code, out = C.sh("psql -Atq " .. C.quote(srv.db) .. " -c " .. C.quote(sql))
  assert(code == 0, out)
end

-- A host on PostgreSQL keeps what tokens and sessions stand for (host/identity_cache.c): a
-- sign-in costs no statement while nothing changes, and every change, whoever writes it
-- (the CLI, psql, this host), holds within moments; this host's own at once.
describe("sign-ins kept in memory", function()
  pg_it("are served without a statement, and forgotten on every change from any writer", function()
    C.cli(srv.db, srv.flows, "user add bob --password " .. C.quote(C.PASSWORD))
    local bob = C.client(srv.port, { token = (C.cli(srv.db, srv.flows, "token create bob"):gsub("%s+$", "")) })
    ok(bob:get("/api/session"))
    -- Nothing is kept until the host's listener listens (its connection is made after the
    -- server answers), which on a loaded machine can take a moment: rounds of 20 requests
    -- until one costs (almost) nothing, for up to 5 s.
    C.eventually(function()
      local before = statements()
      for _ = 1, 20 do ok(bob:get("/api/session")) end
      return statements() - before < 10
    end, "20 signed-in requests costing under 10 statements")
    -- a permission granted by another program (the CLI)
    C.cli(srv.db, srv.flows, "user grant bob helloworld.approve")
    local took = C.eventually(function()
      local perms = ok(bob:get("/api/session")).user.permissions
      for _, p in ipairs(perms) do if p == "helloworld.approve" then return true end end
    end, "a grant by the CLI")
    print(string.format("  a grant by the CLI held after %.3f s", took))
    -- a session ended by psql
    local session = assert(C.login(srv.port, "bob", C.PASSWORD))
    ok(session:get("/api/session"))
    ok(session:get("/api/session"))
    psql("UPDATE session SET expires_at = '2000-01-01T00:00:00.000Z'")
    C.eventually(function() return session:get("/api/session").status == 401 end, "a session ended by psql")
    C.assert_error(session:get("/api/session"), 401, "unauthenticated")
    -- a token deleted by psql
    ok(bob:get("/api/session"))
    psql([[DELETE FROM api_token WHERE user_id = (SELECT id FROM "user" WHERE username = 'bob')]])
    C.eventually(function() return bob:get("/api/session").status == 401 end, "a token deleted by psql")
    -- this host's own change holds for the very next request
    bob = C.client(srv.port, { token = (C.cli(srv.db, srv.flows, "token create bob"):gsub("%s+$", "")) })
    C.eventually(function() return bob:get("/api/session").status == 200 end, "a new token")
    ok(bob:get("/api/session"))
    local r = alice:request("PATCH", "/api/users/bob", { active = false })
    assert.equal(200, r.status, r.body)
    C.assert_error(bob:get("/api/session"), 401, "unauthenticated")
  end)
end)

-- Recording a token's use (the host's heartbeat does, token_use.h) changes nothing a sign-in
-- is: it must not make every host forget its sign-ins.  psql listens on the channel itself.
describe("a token's use recorded", function()
  pg_it("notifies no host, while a change of the token's user does", function()
    C.cli(srv.db, srv.flows, "user add carol --password " .. C.quote(C.PASSWORD))
    C.cli(srv.db, srv.flows, "token create carol")
    local function notified(sql)
      local code, out = C.sh("psql -Atq " .. C.quote(srv.db) .. " -c 'LISTEN flowhost_identity' -c "
        .. C.quote(sql) .. " -c 'SELECT 1'")
      assert(code == 0, out)
      return out:find("Asynchronous notification", 1, true) ~= nil
    end
    local carol = [[(SELECT id FROM "user" WHERE username = 'carol')]]
    assert.is_false(notified("UPDATE api_token SET last_used_at = '2026-12-05T10:00:00.000Z' WHERE user_id = " .. carol))
    assert.is_false(notified("UPDATE api_token SET name = 'ci' WHERE user_id = " .. carol))
    assert.is_true(notified("UPDATE api_token SET user_id = user_id WHERE user_id = " .. carol))
  end)
end)

describe("PostgreSQL dropping the host's connections", function()
  pg_it("answers 503 busy meanwhile and full service after, with nothing lost", function()
    local acked = 0
    for i = 1, 3 do
      ok(start("before " .. i), 201)
      acked = acked + 1
    end
    assert.is_true(drop_connections() >= 2)   -- the HTTP threads' connections at least
    local busy, after = 0, 0
    for i = 1, 12 do
      local res = start("after " .. i)
      if res.status == 503 then
        C.assert_error(res, 503, "busy")
        busy = busy + 1
      else
        ok(res, 201)
        acked = acked + 1
        after = after + 1
      end
    end
    print(string.format("  connections dropped: %d requests answered 503, then %d served", busy, after))
    assert.is_true(busy <= 4, "still busy after reconnecting: " .. busy)
    assert.is_true(after >= 8)
    -- every acknowledged start is there, once
    local list = ok(alice:get("/api/processes?flow=helloworld&limit=100"))
    assert.equal(acked, #list.items)
    local seen = {}
    for _, p in ipairs(list.items) do
      assert.is_nil(seen[p.data.text], "written twice: " .. p.data.text)
      seen[p.data.text] = true
    end
    ok(alice:get("/api/health"))
  end)
end)

describe("sign-ins after the connections were dropped", function()
  pg_it("are still forgotten on a change (the listener came back, or nothing is kept)", function()
    C.cli(srv.db, srv.flows, "user add carl --password " .. C.quote(C.PASSWORD))
    local carl = C.client(srv.port, { token = (C.cli(srv.db, srv.flows, "token create carl"):gsub("%s+$", "")) })
    ok(carl:get("/api/session"))
    ok(carl:get("/api/session"))
    psql([[DELETE FROM api_token WHERE user_id = (SELECT id FROM "user" WHERE username = 'carl')]])
    C.eventually(function() return carl:get("/api/session").status == 401 end, "a token deleted by psql")
  end)
end)
