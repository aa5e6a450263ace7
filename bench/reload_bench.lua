-- Helpers of bench/reload_bench.sh (run from it, not alone).
--
--   lua5.4 bench/reload_bench.lua latency PORT TOKEN FILE [N]
--       N edits of FILE (each a temp file renamed over it, as editors save); for each, the
--       time from the rename to the first GET /api/flows/doc that answers with the new title.
--       Prints "latency_ms median=.. worst=.. best=.. n=..".
--   lua5.4 bench/reload_bench.lua storm FILE STOPFILE INTERVAL_S
--       rewrites FILE every INTERVAL_S seconds until STOPFILE exists; prints "edits=N".

package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local socket = require "socket"

local function doc_flow(title, review)
  return table.concat({
    'local flow = require "flow"',
    'local this = flow.this',
    'return flow.Flow {',
    '  title = "' .. title .. '",',
    '  start = flow.StartFunction():Next(this.write),',
    '  write = flow.View { title = "Write" }:Next(this.' .. (review and "review" or "finish") .. '),',
    review and '  review = flow.View { title = "Review" }:Next(this.finish),' or '',
    '  finish = flow.End(),',
    '}',
  }, "\n") .. "\n"
end

local function save_atomic(path, text)
  C.write_file(path .. ".tmp~", text)
  assert(os.rename(path .. ".tmp~", path))
end

local mode = arg[1]
if mode == "latency" then
  local port, token, file, n = tonumber(arg[2]), arg[3], arg[4], tonumber(arg[5] or 50)
  local cl = C.client(port, { token = token })
  local times = {}
  for i = 1, n do
    local title = string.format("Bench %d %d", os.time(), i)
    local t0 = socket.gettime()
    save_atomic(file, doc_flow(title, i % 2 == 0))
    while true do
      local res = cl:get("/api/flows/doc")
      if res.status == 200 and res.json and res.json.title == title then break end
      if socket.gettime() - t0 > 10 then error("edit " .. i .. " did not show within 10 s") end
      socket.sleep(0.001)
    end
    times[#times + 1] = (socket.gettime() - t0) * 1000
    socket.sleep(0.05)
  end
  table.sort(times)
  local median = #times % 2 == 1 and times[(#times + 1) // 2] or (times[#times // 2] + times[#times // 2 + 1]) / 2
  print(string.format("latency_ms median=%.1f worst=%.1f best=%.1f n=%d", median, times[#times], times[1], #times))
elseif mode == "storm" then
  local file, stop, interval = arg[2], arg[3], tonumber(arg[4] or 0.06)
  local edits = 0
  while not io.open(stop, "r") do
    edits = edits + 1
    save_atomic(file, doc_flow("Storm " .. edits, edits % 2 == 0))
    socket.sleep(interval)
  end
  print("edits=" .. edits)
else
  error("usage: reload_bench.lua latency PORT TOKEN FILE [N] | storm FILE STOPFILE INTERVAL")
end
