-- kill -9 test of composition: parents and children never diverge.  Parents start three
-- children each (:ForEach on a Subprocess); the children wait on a timer and a job run by
-- `flowhost serve --jobs 2`, which is SIGKILLed at random moments and restarted; meanwhile a
-- third of the parents are canceled by CLI commands that are themselves SIGKILLed at random
-- moments (a parent that finished before its cancel stays DONE).  Afterwards: every parent is DONE with its three children DONE and counted once,
-- or CANCELED with no child still running; no Subprocess task waits on a finished child.
local src = assert(os.getenv("FLOWHOST_SOURCE"), "FLOWHOST_SOURCE")
local C = dofile(src .. "/tests/jobs/crash_lib.lua")(src .. "/tests/fixtures/crash_compose")
local N = C.processes(45)
local bin = os.getenv("FLOWHOST_BIN")

-- parents start in three waves: before any host runs, and while hosts are being killed
local parents, canceled = {}, {}
local function start_wave(from, to)
  for i = from, to do
    parents[i] = C.json("start parent start").process.id
    if i % 3 == 0 then canceled[parents[i]] = true end
  end
end
local third = N // 3
start_wave(1, third)

-- a cancel run by the CLI in the background, killed after `delay` seconds if still running
local function cancel_killed(pid, delay)
  os.execute(string.format("(%s process %d cancel --db %s/crash.db --flows %s/tests/fixtures/crash_compose"
    .. " >/dev/null 2>&1 & c=$!; sleep %.3f; kill -9 $c 2>/dev/null) ", bin, pid, C.dir, src, delay))
end

math.randomseed(os.time())
local kills = 0
for round = 1, 8 do
  local pid = C.start_host()
  os.execute(string.format("sleep %.2f", 0.15 + math.random() * 0.35))
  if round == 2 then start_wave(third + 1, 2 * third) end
  if round == 4 then start_wave(2 * third + 1, N) end
  -- cancels, each killed at a random moment; the rest are repeated at the end
  if round == 1 then for i = 3, third, 3 do cancel_killed(parents[i], math.random() * 0.05) end end
  if round == 3 then for i = third + 3, 2 * third, 3 do cancel_killed(parents[i], math.random() * 0.05) end end
  if round == 5 then for i = 2 * third + 3, N, 3 do cancel_killed(parents[i], math.random() * 0.05) end end
  C.kill(pid)
  kills = kills + 1
  io.write(string.format("round %d: killed the host; %d processes DONE\n", round, C.count("DONE")))
end
-- the cancels that were cut off are done again; a parent that finished first stays DONE
for p in pairs(canceled) do
  local status = C.json(string.format("process %d", p)).process.status
  if status == "STARTED" then C.cli(string.format("process %d cancel", p))
  elseif status == "DONE" then canceled[p] = nil end
end

local pid = C.start_host()
-- until nothing runs any more
local deadline = os.time() + 60
while C.count("STARTED") > 0 and os.time() < deadline do os.execute("sleep 0.2") end
C.stop(pid)

local failures = 0
local function fail(text)
  failures = failures + 1
  io.write(text .. "\n")
end
for _, p in ipairs(parents) do
  local detail = C.json(string.format("process %d", p))
  local status = detail.process.status
  local children = detail.children
  if canceled[p] then
    if status ~= "CANCELED" then fail(string.format("parent %d: %s, expected CANCELED", p, status)) end
    for _, c in ipairs(children) do
      if c.status == "STARTED" or c.status == "NEW" then fail(string.format("parent %d: child %d still %s", p, c.id, c.status)) end
    end
  else
    if status ~= "DONE" then fail(string.format("parent %d: %s, expected DONE", p, status)) end
    local done = 0
    for _, c in ipairs(children) do if c.status == "DONE" then done = done + 1 end end
    if #children ~= 3 or done ~= 3 then fail(string.format("parent %d: %d children, %d DONE", p, #children, done)) end
    if detail.process.data.done ~= 3 then fail(string.format("parent %d: output ran %s times", p, tostring(detail.process.data.done))) end
  end
  -- no Subprocess task waits on a finished child, none is DONE over a running one
  local by_id = {}
  for _, c in ipairs(children) do by_id[c.id] = c end
  for _, t in ipairs(detail.tasks) do
    local c = t.child_id and by_id[t.child_id]
    if t.type == "subprocess" and c then
      if t.status == "STARTED" and c.status ~= "STARTED" then fail(string.format("task %d waits on finished child %d", t.id, c.id)) end
      if t.status == "DONE" and c.status ~= "DONE" then fail(string.format("task %d DONE over child %d %s", t.id, c.id, c.status)) end
    end
  end
end
C.cleanup()
local ncanceled = 0
for _ in pairs(canceled) do ncanceled = ncanceled + 1 end
io.write(string.format("%d parents (%d canceled), %d kills, %d failures\n", N, ncanceled, kills, failures))
os.exit(failures == 0 and 0 or 1)
