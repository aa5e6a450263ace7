-- wrk script: no request changes; prints one machine-readable line at the end:
--   RESULT <requests/s> <p50 ms> <p90 ms> <p99 ms> <bad answers> <socket errors> <max ms>
-- An answer is bad when its status is not 2xx, or its body is shorter than the
-- bytes given after wrk's "--" (default 1): a redirect, an error or a short page
-- is a failed run, not a fast one.
bad = 0   -- global: done() reads it from each thread
min_bytes = 1
function init(args) min_bytes = tonumber(args[1]) or 1 end
function response(status, headers, body)
  if status < 200 or status >= 300 or #body < min_bytes then bad = bad + 1 end
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

function done(summary, latency, requests)
  local non2xx = 0
  for _, t in ipairs(threads) do non2xx = non2xx + (t:get("bad") or 0) end
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %d %d %.2f\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, non2xx,
    e.connect + e.read + e.write + e.timeout, latency.max / 1000))
end
