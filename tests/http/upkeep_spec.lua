-- The index upkeep of `serve` on PostgreSQL (host/upkeep.h, docs/architecture-pg.md): a
-- partial index of open work left sparse by finished tasks is rebuilt by the running host
-- (REINDEX CONCURRENTLY), logged, while it serves; an invalid copy a cut-short rebuild left
-- behind is dropped.  Needs FLOWHOST_TEST_PG (the pg label runs it); pending without it.
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local socket = require "socket"

local PG = os.getenv("FLOWHOST_TEST_PG")
local pg_it = (PG and PG ~= "") and it or pending

local function psql(db, sql)
  local code, out = C.sh("psql -Atq " .. C.quote(db) .. " -c " .. C.quote(sql))
  assert(code == 0, "psql failed: " .. out)
  return (out:gsub("%s+$", ""))
end

local function pages(db, index)
  return tonumber(psql(db, "SELECT coalesce((SELECT relpages FROM pg_class WHERE relname = '" .. index
    .. "'), -1)"))
end

describe("index upkeep", function()
  pg_it("rebuilds the queue's index that finished tasks left sparse, while serving", function()
    -- the host starts with no upkeep: a round between the writes below and the test's
    -- VACUUM could find the index bloated (autovacuum's statistics) and rebuild it first
    local srv = C.server { users = { ann = { admin = true } }, args = "--index-upkeep 0" }
    finally(function() srv:cleanup() end)   -- stopped and removed also when a check fails
    local db = srv.db
    -- 60,000 queued tasks of which every 300th stays open, written beside the host
    psql(db, "INSERT INTO process(id, flow, status, created_at) SELECT 1000000 + i, 'helloworld', 'STARTED', 'now'"
      .. " FROM generate_series(1, 1000) i")
    psql(db, "INSERT INTO task(id, process_id, flow_task, flow_task_type, status, token, created_at)"
      .. " SELECT 1000000 + i, 1000001 + i % 1000, 'helloworld.approve', 'view', 'NEW', 'start', 'now'"
      .. " FROM generate_series(1, 60000) i")
    psql(db, "UPDATE task SET status = 'DONE' WHERE id >= 1000000 AND id % 300 <> 0")
    -- and a copy that a rebuild cut short would leave (invalid: a unique index over duplicates)
    C.sh("psql -Atq " .. C.quote(db) .. " -c " .. C.quote("CREATE UNIQUE INDEX CONCURRENTLY"
      .. " task_queue_node_ccnew ON task(process_id) WHERE status = 'NEW'"))
    assert.is_true(pages(db, "task_queue_node_ccnew") >= 0)
    psql(db, "VACUUM ANALYZE task")
    local before = pages(db, "task_queue_node")
    assert.is_true(before >= 256, "the index is not bloated: " .. before .. " pages")
    srv:stop_clean()
    srv:start { args = "--index-upkeep 1" }
    -- rounds every second: within 30 s
    local t0 = socket.gettime()
    while pages(db, "task_queue_node") > before / 10 do
      assert(socket.gettime() - t0 < 30, "task_queue_node still " .. pages(db, "task_queue_node") .. " pages")
      C.sleep(0.1)
    end
    assert.equal(-1, pages(db, "task_queue_node_ccnew"))
    -- the host served meanwhile and serves on
    local page = C.ok(srv:login("ann"):get("/api/tasks?view=all&status=NEW&limit=5"))
    assert.equal(5, #page.items)
    assert.equal(1059900, page.items[1].id)   -- the newest open one
    local log = srv:stop_clean()
    assert.matches("index task_queue_node rebuilt: " .. before .. " pages", log, 1, true)
  end)
end)
