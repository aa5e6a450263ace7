-- A load client for the reload tests and bench/reload_bench.sh: sends requests to a running
-- host, one at a time on fresh connections, until the stop file exists; then writes
-- "<requests> <ok> <failed>" and one line per failure ("status method path body") to OUT.
--
--   lua5.4 tests/reload/hammer.lua PORT TOKEN STOPFILE OUT [writes]
--
-- The mix: GET /api/flows, GET /api/tasks?view=all, GET /api/processes, and with "writes"
-- also POST /api/flows/<flow>/start/start for FLOW (env HAMMER_FLOW, default "doc").

local source = os.getenv("FLOWHOST_SOURCE") or "."
package.path = source .. "/tests/http/?.lua;" .. package.path
local C = require "client"

local port, token, stopfile, outfile, writes = tonumber(arg[1]), arg[2], arg[3], arg[4], arg[5] == "writes"
local flow = os.getenv("HAMMER_FLOW") or "doc"
local cl = C.client(port, { token = token })

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

local requests, ok, failures = 0, 0, {}
local i = 0
while not exists(stopfile) do
  i = i + 1
  local method, path, res = "GET", nil, nil
  local k = i % (writes and 4 or 3)
  if k == 0 then path = "/api/flows"
  elseif k == 1 then path = "/api/tasks?view=all&limit=20"
  elseif k == 2 then path = "/api/processes?limit=20"
  else method, path = "POST", "/api/flows/" .. flow .. "/start/start" end
  if method == "GET" then res = cl:get(path) else res = cl:post(path, { data = {} }) end
  requests = requests + 1
  if res.status >= 200 and res.status < 300 then ok = ok + 1
  else failures[#failures + 1] = string.format("%d %s %s %s", res.status, method, path, (res.body or ""):sub(1, 200)) end
end

local f = assert(io.open(outfile, "w"))
f:write(string.format("%d %d %d\n", requests, ok, #failures))
for _, line in ipairs(failures) do f:write(line:gsub("\n", " "), "\n") end
f:close()
