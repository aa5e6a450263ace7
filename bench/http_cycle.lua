-- wrk script: the whole helloworld cycle over the API, as fast as possible.
--   alice: POST /api/flows/helloworld/start/start  -> the approve task id
--   bob:   POST /api/tasks/{id}/assign, then POST /api/tasks/{id}/execute {"data":{"approved":true}}
-- Each wrk thread keeps a queue of follow-up steps; a connection that finds the queue empty
-- starts a new process.  The body of each answer tells which step it answered, so
-- responses need not be matched to connections.  Needs ALICE_TOKEN and BOB_TOKEN.
-- Prints: RESULT <requests/s> <p50> <p90> <p99> <bad answers> <socket errors> <cycles/s>
local alice = os.getenv("ALICE_TOKEN")
local bob = os.getenv("BOB_TOKEN")
local queue, head, tail = {}, 1, 0   -- FIFO of follow-up steps
bad, cycles = 0, 0

local json_headers = function(token)
  return { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
end

function request()
  local step = queue[head]
  if step then
    queue[head] = nil
    head = head + 1
    if step.kind == "assign" then
      return wrk.format("POST", "/api/tasks/" .. step.id .. "/assign", json_headers(bob), "{}")
    end
    return wrk.format("POST", "/api/tasks/" .. step.id .. "/execute", json_headers(bob), '{"data":{"approved":true}}')
  end
  return wrk.format("POST", "/api/flows/helloworld/start/start", json_headers(alice), '{"data":{"text":"wrk"}}')
end

-- Every answer is checked: anything but a 201 with the approve task, or a 200 with the task
-- ASSIGNED or DONE (a 3xx, 4xx, 5xx, a short or unexpected body), counts as bad.
function response(status, headers, body)
  if status == 201 then
    local id = body:match('"id":(%d+),"process_id":%d+,"flow":"helloworld","node":"approve"')
    if not id then
      bad = bad + 1
      return
    end
    tail = tail + 1
    queue[tail] = { kind = "assign", id = id }
    return
  end
  local task = status == 200 and body:match('"task":(%b{})')
  local id = task and task:match('^{"id":(%d+)')
  if not id then
    bad = bad + 1
  elseif task:find('"status":"ASSIGNED"', 1, true) then
    tail = tail + 1
    queue[tail] = { kind = "execute", id = id }
  elseif task:find('"status":"DONE"', 1, true) then
    cycles = cycles + 1
  else
    bad = bad + 1
  end
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

function done(summary, latency, requests)
  local non2xx, done_cycles = 0, 0
  for _, t in ipairs(threads) do
    non2xx = non2xx + (t:get("bad") or 0)
    done_cycles = done_cycles + (t:get("cycles") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %d %d %.1f\n", summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, non2xx,
    e.connect + e.read + e.write + e.timeout, done_cycles / seconds))
end
