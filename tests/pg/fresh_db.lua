-- New databases on the PostgreSQL server the specs run against (FLOWHOST_TEST_PG,
-- tests/pg/pg_cluster.sh), for tests/lua/helpers.lua and tests/http/client.lua.
--
-- Every test wants a database of its own, and making one was most of a short test's time:
-- psql costs ~100 ms to start here (more with a sanitizer runtime preloaded), CREATE
-- DATABASE ~80 ms, and the schema's migrations another ~100 ms.  So the schema is made
-- once per run, by the flowhost CLI (FLOWHOST_BIN) into a template database with no flows
-- and no users, and the tests' databases are copies of it, made BATCH at a time by one
-- psql and handed out one by one.  The migrations from an empty database still run at
-- every start of a run (the template) and in the store's tests (pg_c_store_pg).  The few
-- databases left over at the end die with the throw-away cluster.

local M = {}

local BATCH = 8
local pool, made, template = {}, 0, nil

local function url_of(url, name)
  return (url:gsub("^postgresql:///[^?]*", "postgresql:///" .. name))
end

local function psql(url, commands)
  -- psql without the sanitizer runtime a sanitizer build preloads for lua5.4
  assert(os.execute(string.format("env -u LD_PRELOAD psql -q -v ON_ERROR_STOP=1 '%s' %s >/dev/null", url,
    table.concat(commands, " "))))
end

local function unique(prefix)
  made = made + 1
  return string.format("%s_%d_%d_%d", prefix, os.time(), math.random(1, 1e9), made)
end

-- The template: an empty database the CLI has migrated (`user list` on an empty flows folder).
local function make_template(url)
  local name = unique("template")
  psql(url, { string.format("-c 'CREATE DATABASE %s'", name) })
  local empty = os.tmpname()
  os.remove(empty)
  assert(os.execute("mkdir " .. empty))
  local bin = os.getenv("FLOWHOST_BIN") or "build/flowhost"
  local ok = os.execute(string.format("'%s' --db '%s' --flows '%s' user list >/dev/null", bin, url_of(url, name), empty))
  os.execute("rmdir " .. empty)
  assert(ok, "fresh_db: migrating the template database failed")
  return name
end

-- The connection string of a new database named PREFIX_..., migrated and empty, on the server of URL.
function M.new(url, prefix)
  if #pool == 0 then
    template = template or make_template(url)
    local creates = {}
    for _ = 1, BATCH do
      local name = unique(prefix)
      pool[#pool + 1] = name
      creates[#creates + 1] = string.format("-c 'CREATE DATABASE %s TEMPLATE %s'", name, template)
    end
    psql(url, creates)
  end
  return url_of(url, table.remove(pool, 1))
end

return M
