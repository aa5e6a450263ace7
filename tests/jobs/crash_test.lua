-- kill -9 test: start processes whose jobs and timers run in `flowhost
-- serve --jobs 2`, SIGKILL the host at random moments, restart it, and
-- check that every process reaches the same end state as without a crash:
-- DONE, each follow-up of a job run exactly once, nothing lost.
local cjson = require "cjson"

local bin = assert(os.getenv("FLOWHOST_BIN"), "FLOWHOST_BIN")
local src = assert(os.getenv("FLOWHOST_SOURCE"), "FLOWHOST_SOURCE")
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local db = dir .. "/crash.db"
local flows = src .. "/tests/fixtures/crash"
local common = string.format(" --db %s --flows %s", db, flows)
local N = tonumber(os.getenv("CRASH_PROCESSES") or "150")

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>/dev/null"))
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local function cli(args)
  local ok, out = run(bin .. " " .. args .. common)
  assert(ok, "flowhost " .. args .. " failed: " .. out)
  return out
end

-- start the processes before any host runs (the CLI and the host share the db)
for _ = 1, N do cli("start crashy start") end

local function start_host()
  local pidfile = dir .. "/pid"
  -- a pidfile left from the last round would name the host just killed,
  -- and the new one would then outlive the test
  os.remove(pidfile)
  assert(os.execute(string.format(
    "sh -c 'echo $$ > %s; exec %s serve --listen 127.0.0.1:0 --jobs 2 --lease-grace 0.5 --budget 1%s' >%s/out.log 2>>%s/err.log &",
    pidfile, bin, common, dir, dir)))
  for _ = 1, 100 do
    local f = io.open(pidfile)
    local pid = f and f:read("l")
    if f then f:close() end
    if pid and pid ~= "" then return pid end
    os.execute("sleep 0.05")
  end
  error("host did not start")
end

local function done_count()
  local out = cli("processes --status DONE --limit 500")
  return #cjson.decode(out).items
end

math.randomseed(os.time())
local kills = 0
for round = 1, 8 do
  local pid = start_host()
  os.execute(string.format("sleep %.2f", 0.15 + math.random() * 0.4))
  os.execute("kill -9 " .. pid .. " 2>/dev/null")
  os.execute("sleep 0.05")
  kills = kills + 1
  io.write(string.format("round %d: killed the host; %d of %d processes DONE\n", round, done_count(), N))
end

-- the last host runs until everything is done (leases of killed workers expire after ~1.5 s)
local pid = start_host()
local deadline = os.time() + 60
while done_count() < N and os.time() < deadline do os.execute("sleep 0.2") end
os.execute("kill -TERM " .. pid .. " 2>/dev/null")
-- wait for it to be gone, so that no host outlives the test
for _ = 1, 100 do
  if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then break end
  os.execute("sleep 0.05")
end
os.execute("kill -9 " .. pid .. " 2>/dev/null")
os.remove(dir .. "/pid")

local failures = 0
local list = cjson.decode(cli("processes --limit 500")).items
assert(#list == N, "expected " .. N .. " processes, got " .. #list)
for _, p in ipairs(list) do
  local detail = cjson.decode(cli(string.format("process %d", p.id)))
  local counts = {}
  for _, t in ipairs(detail.tasks) do
    counts[t.node .. ":" .. t.status] = (counts[t.node .. ":" .. t.status] or 0) + 1
  end
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
os.execute("rm -rf " .. dir)
io.write(string.format("%d processes, %d kills, %d failures\n", N, kills, failures))
os.exit(failures == 0 and 0 or 1)
