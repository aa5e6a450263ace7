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
