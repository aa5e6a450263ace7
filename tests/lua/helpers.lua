-- Shared setup for the engine specs (tests/lua/*_spec.lua).
--
-- Every spec drives the real engine in-process through the `flowhost` Lua module, on a fresh
-- in-memory database, from the repository root (flows = "flows" or "tests/fixtures/flows").
--
--   local H = require "helpers"
--   local host = H.open { users = { alice = { perms = { "x.start" } } } }
--   local pid = host:start("x", "start", {}, { as = "alice" }).process.id
--   assert.same({ "start:DONE", "review:NEW" }, H.trail(host, pid))
--   local err = H.refused("forbidden", function() host:assign(id, { as = "carol" }) end)

local flowhost = require "flowhost"

local H = {}

H.FIXTURES = "tests/fixtures/flows"

-- A fresh database: ":memory:", or, when FLOWHOST_TEST_PG names a PostgreSQL server
-- (tests/pg/pg_cluster.sh runs the specs with it), a new empty database there.
local pg_dbs = nil
function H.fresh_db()
  local url = os.getenv("FLOWHOST_TEST_PG")
  if not url or url == "" then return ":memory:" end
  pg_dbs = pg_dbs or dofile((os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/pg/fresh_db.lua")
  return pg_dbs.new(url, "lua")
end

-- Opens a host on a fresh database. opts: flows (default: the fixtures), db, budget,
-- clock = "manual" (time stands still until host:advance(s)), now (the manual start time),
-- users = { name = {admin =, perms =, groups =} }. An "admin" user always exists.
-- Close a manual host when done (after_each): the manual clock is process-wide.
function H.open(opts)
  opts = opts or {}
  local host = flowhost.open { flows = opts.flows or H.FIXTURES, db = opts.db or H.fresh_db(), budget = opts.budget,
    clock = opts.clock, now = opts.now }
  if not opts.no_admin then host:user("admin", { admin = true }) end
  local names = {}
  for name in pairs(opts.users or {}) do names[#names + 1] = name end
  table.sort(names)   -- user ids in a stable order
  for _, name in ipairs(names) do host:user(name, opts.users[name]) end
  return host
end

-- Calls fn and expects it to raise a flowhost error table; returns that table.
function H.fails(fn)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error, but the call succeeded")
  assert(type(err) == "table" and err.code, "expected a flowhost error table, got " .. tostring(err))
  return err
end

-- Like H.fails, and checks the error code (conflict, forbidden, not_found, invalid, flow_error...).
function H.refused(code, fn)
  local err = H.fails(fn)
  assert(err.code == code, string.format("expected error code '%s', got '%s' (%s)", code, tostring(err.code),
    tostring(err.message)))
  return err
end

-- Every task of process pid, in creation order (as the system sees them).
function H.tasks(host, pid)
  return host:process(pid).tasks
end

-- The tasks of one node, in creation order (boundary timer rows, type "timeout", left out:
-- H.timeouts lists them).
function H.of_node(host, pid, node)
  local out = {}
  for _, t in ipairs(H.tasks(host, pid)) do
    if t.node == node and t.type ~= "timeout" then out[#out + 1] = t end
  end
  return out
end

-- The single task of a node (fails when there is not exactly one).
function H.one(host, pid, node)
  local list = H.of_node(host, pid, node)
  assert(#list == 1, string.format("expected exactly one '%s' task, found %d", node, #list))
  return list[1]
end

-- The latest task of a node (fails when there is none).
function H.last(host, pid, node)
  local list = H.of_node(host, pid, node)
  assert(#list > 0, "no '" .. node .. "' task")
  return list[#list]
end

-- The instances of a :ForEach node in process pid with status (any when nil), in creation
-- order: no controller, no boundary timer row.
function H.instances(host, pid, node, status)
  local out = {}
  for _, t in ipairs(H.tasks(host, pid)) do
    if t.node == node and t.type ~= "foreach" and t.type ~= "timeout" and (not status or t.status == status) then
      out[#out + 1] = t
    end
  end
  return out
end

-- The controller task of a :ForEach node in process pid (nil when there is none).
function H.controller(host, pid, node)
  for _, t in ipairs(H.tasks(host, pid)) do
    if t.node == node and t.type == "foreach" then return t end
  end
end

-- "node:STATUS" of every task, in creation order: the history of a process at a glance
-- (boundary timer rows left out).
function H.trail(host, pid)
  local out = {}
  for _, t in ipairs(H.tasks(host, pid)) do
    if t.type ~= "timeout" then out[#out + 1] = t.node .. ":" .. t.status end
  end
  return out
end

-- "guarded->target:STATUS" of every boundary timer row of a process, in creation order.
function H.timeouts(host, pid)
  local out = {}
  for _, t in ipairs(H.tasks(host, pid)) do
    if t.type == "timeout" then out[#out + 1] = t.node .. "->" .. t.timeout.node .. ":" .. t.status end
  end
  return out
end

-- The process status.
function H.status(host, pid)
  return host:process(pid).process.status
end

-- The process data.
function H.data(host, pid)
  return host:process(pid).process.data
end

-- Sorted copy of a list (for comparing sets).
function H.sorted(list)
  local out = {}
  for i, v in ipairs(list or {}) do out[i] = v end
  table.sort(out)
  return out
end

-- The actions a user may take on a task now, sorted.
function H.actions(host, id, as)
  return H.sorted(host:task(id, { as = as }).actions)
end

-- Node names of a task list (host:tasks items, created task lists...).
function H.nodes(items)
  local out = {}
  for i, t in ipairs(items) do out[i] = t.node end
  return out
end

-- Ids of the items of host:tasks{...} for the given query.
function H.task_ids(host, query)
  local items = host:tasks(query)
  local out = {}
  for i, t in ipairs(items) do out[i] = t.id end
  return out
end

-- Wall-clock sleep.  Only for what real time is the point of (the real clock itself);
-- backoffs and timers are tested on the manual clock with host:advance.
function H.sleep(seconds)
  os.execute(string.format("sleep %.3f", seconds))
end

-- Monotonic-enough wall time in seconds, with sub-second precision.
function H.now()
  local pipe = io.popen("date +%s.%N")
  local text = pipe:read("*l")
  pipe:close()
  return tonumber(text)
end

-- A fresh empty folder (for flows written by a spec); removed by H.rmdir.
function H.tmpdir()
  local path = os.tmpname()
  os.remove(path)
  assert(os.execute("mkdir -p '" .. path .. "'"))
  return path
end

function H.rmdir(path)
  if path and path:match("^/tmp/") then os.execute("rm -rf '" .. path .. "'") end
end

-- Runs one SQL statement on a database H.open used: a PostgreSQL URL (psql) or a database
-- file (the sqlite3 shell); a host may have it open. For what only an older host or a hand in
-- the database could have written.
function H.sql(db, statement)
  local quoted = "'" .. statement:gsub("'", "'\\''") .. "'"
  local command = db:match("^postgres")
    and string.format("env -u LD_PRELOAD psql -q -v ON_ERROR_STOP=1 '%s' -c %s >/dev/null", db, quoted)
    or string.format("sqlite3 -bail '%s' %s >/dev/null", db, quoted)
  assert(os.execute(command), "H.sql failed: " .. statement)
end

function H.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

return H
