-- wrk script: starts the all-automatic flow (bench/flows/auto.lua) as fast as possible; one
-- start runs a whole process to DONE in one write.  Needs ALICE_TOKEN (a manager of `auto`:
-- a StartFunction is started from code).  Every answer is checked: anything but a 201 whose
-- process is DONE (a 3xx, 4xx, 5xx, a short or unexpected body) counts as bad.
-- Prints: RESULT <requests/s> <p50> <p90> <p99> <bad answers> <socket errors> <processes/s>
local alice = os.getenv("ALICE_TOKEN")
bad, done_processes = 0, 0

function request()
  return wrk.format("POST", "/api/flows/auto/start/start",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. alice }, '{"data":{"n":3}}')
end

function response(status, headers, body)
  if status == 201 and body:find('^{"process":{"id":%d+,"flow":"auto","status":"DONE"') then
    done_processes = done_processes + 1
  else
    bad = bad + 1
  end
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

function done(summary, latency, requests)
  local n_bad, n_done = 0, 0
  for _, t in ipairs(threads) do
    n_bad = n_bad + (t:get("bad") or 0)
    n_done = n_done + (t:get("done_processes") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %d %d %.1f\n", summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, n_bad,
    e.connect + e.read + e.write + e.timeout, n_done / seconds))
end
