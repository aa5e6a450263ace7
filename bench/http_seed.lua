-- Seeds the database of bench/http_bench.sh through the Lua module (same engine path as
-- the API, no HTTP): N helloworld processes started by alice; the first M approve tasks
-- assigned to bob, so his inbox holds M tasks and his queue N - M.
--   lua5.4 bench/http_seed.lua DB N M
local flowhost = require "flowhost"
local db, n, m = arg[1], tonumber(arg[2] or 10000), tonumber(arg[3] or 1000)
local host = flowhost.open { flows = "flows", db = db }
local t0 = os.clock()
local approve = {}
for i = 1, n do
  local r = host:start("helloworld", "start", { text = "bench message " .. i }, { as = "alice" })
  for _, t in ipairs(r.tasks) do
    if t.node == "approve" then approve[#approve + 1] = t.id end
  end
end
for i = 1, math.min(m, #approve) do host:assign(approve[i], { as = "bob" }) end
host:close()
io.stderr:write(string.format("seeded %d processes (%d approve tasks assigned to bob) in %.1f s CPU\n",
  n, math.min(m, #approve), os.clock() - t0))
