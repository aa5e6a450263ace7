-- kill -9 test: start processes whose jobs and timers run in `flowhost
-- serve --jobs 2`, SIGKILL the host at random moments, restart it, and
-- check that every process reaches the same end state as without a crash:
-- DONE, each follow-up of a job run exactly once, nothing lost.
local src = assert(os.getenv("FLOWHOST_SOURCE"), "FLOWHOST_SOURCE")
local C = dofile(src .. "/tests/jobs/crash_lib.lua")(src .. "/tests/fixtures/crash")
local cli, start_host = C.cli, C.start_host
local N = C.processes(150)

-- start the processes before any host runs (the CLI and the host share the db)
for _ = 1, N do cli("start crashy start") end

local function done_count() return C.count("DONE") end

math.randomseed(os.time())
local kills = 0
for round = 1, 8 do
  local pid = start_host()
  os.execute(string.format("sleep %.2f", 0.15 + math.random() * 0.4))
  C.kill(pid)
  kills = kills + 1
  io.write(string.format("round %d: killed the host; %d of %d processes DONE\n", round, done_count(), N))
end

-- the last host runs until everything is done (leases of killed workers expire after ~1.5 s)
local pid = start_host()
C.wait_done(N, 60)
C.stop(pid)

local failures = 0
local list = C.json("processes --limit 500").items
assert(#list == N, "expected " .. N .. " processes, got " .. #list)
for _, p in ipairs(list) do
  local detail, counts = C.task_counts(p.id)
  local function expect(cond, what)
    if not cond then
      failures = failures + 1
      io.write(string.format("process %d: %s\n", p.id, what))
    end
  end
  expect(detail.process.status == "DONE", "status " .. detail.process.status)
  expect(detail.process.data.after == 1, "after_j1 ran " .. tostring(detail.process.data.after) .. " times")
  expect(counts["after_j1:DONE"] == 1, "after_j1 tasks: " .. tostring(counts["after_j1:DONE"]))
  expect(counts["join:DONE"] == 1, "join tasks: " .. tostring(counts["join:DONE"]))
  expect(counts["j2:DONE"] == 1, "j2 tasks: " .. tostring(counts["j2:DONE"]))
  expect(counts["finish:DONE"] == 1, "finish tasks: " .. tostring(counts["finish:DONE"]))
  expect(counts["wait:DONE"] == 1, "timer tasks: " .. tostring(counts["wait:DONE"]))
end
C.cleanup()
io.write(string.format("%d processes, %d kills, %d failures\n", N, kills, failures))
os.exit(failures == 0 and 0 or 1)
