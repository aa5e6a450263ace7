-- What an action costs as its process grows, in process through the `flowhost` Lua module on a
-- database file (wall time):
--   group    a :ForEach of N View tasks, each assigned by an :Assign function (a process field of
--            N names; the controller's data holds the list): the start that creates the group,
--            and one instance's execute (the mean of 20 spread over the group);
--   history  a View in a loop (View -> If -> the View again), executed until the process holds N
--            ended tasks: one execute at that point (the mean of the next 200);
-- each beside the same action in a group of 2 (its first instance) and in a loop of one round,
-- measured in the same run (the baselines, each measured twice: the first warms up).
-- Every answer is checked: N instances, each ASSIGNED to its item's person with its item and
-- index, each execute answering DONE, the controller counting them; a group of at most 100 is
-- run to its end and its process must be DONE; the loop's process holds the tasks it should.
-- Any failed check fails the run (exit 1).
--
--   lua5.4 bench/process_size_bench.lua [N ...]   (default 2 100 1000 10000; BUILD_DIR=build-release)
--
-- On PostgreSQL, a new database per size on a private durable cluster (from the repository root):
--   FLOWHOST_BIN=build-release/flowhost PG_CLUSTER_DURABLE=1 sh tests/pg/pg_cluster.sh \
--       lua5.4 bench/process_size_bench.lua [N ...]
--
-- Results: bench/README.md, sections 50 and 51.
local src = os.getenv("FLOWHOST_SOURCE") or "."
local build = os.getenv("BUILD_DIR") or (src .. "/build-release")
package.cpath = build .. "/?.so;" .. package.cpath
local flowhost = require "flowhost"
local socket = require "socket"

local sizes = {}
for _, a in ipairs(arg) do sizes[#sizes + 1] = assert(tonumber(a), "sizes are numbers") end
if #sizes == 0 then sizes = { 2, 100, 1000, 10000 } end

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp .. "/flows"))
local function cleanup() os.execute("rm -rf " .. tmp) end

local f = assert(io.open(tmp .. "/flows/group.lua", "w"))
f:write([[
local flow = require "flow"
local this = flow.this
return flow.Flow {
  title = "Group",
  start = flow.StartFunction(this.fill):Next(this.each),
  loop = flow.StartFunction(this.fill):Next(this.step),
  step = flow.View { title = "Step" }:Assign(function() return "ann" end):Next(this.again),
  again = flow.If(function(self, a) a.process.data.rounds = a.process.data.rounds + 1 return true end)
    :Then(this.step):Else(this.finish),
  each = flow.View { title = "One" }:ForEach("people"):Assign(this.by_item):Next(this.finish),
  finish = flow.End(),
  fill = function(self, a, data)
    if data.loop then a.process.data.rounds = 0 return end
    local people = {}
    for i = 1, data.n do people[i] = (i % 2 == 0) and "ann" or "bob" end
    a.process.data.people = people
  end,
  by_item = function(self, a) return a.task.data.item end,
}
]])
f:close()

local pg_url = os.getenv("FLOWHOST_TEST_PG")
local pg_dbs = pg_url and pg_url ~= "" and dofile(src .. "/tests/pg/fresh_db.lua") or nil

local opened = 0

local function new_host(name)
  opened = opened + 1
  local db = pg_dbs and pg_dbs.new(pg_url, "size") or string.format("%s/%s_%d.db", tmp, name, opened)
  local host = flowhost.open { flows = tmp .. "/flows", db = db }
  host:user("admin", { admin = true })
  host:user("ann", {})
  host:user("bob", {})
  return host
end

local function fail(msg)
  io.stderr:write("process_size_bench: FAILED: " .. msg .. "\n")
  cleanup()
  os.exit(1)
end

local function check(cond, msg) if not cond then fail(msg) end end

-- One size on a database of its own: {start = s, action = s per action, n = instances}.
local function measure(n)
  local host = new_host("group" .. n)
  local t0 = socket.gettime()
  local pid = host:start("group", "start", { n = n }).process.id
  local started = socket.gettime() - t0
  local list, ctrl = {}, nil
  for _, t in ipairs(host:process(pid).tasks) do
    if t.type == "foreach" then ctrl = t
    elseif t.node == "each" then list[#list + 1] = t end
  end
  check(ctrl and ctrl.status == "STARTED", "no STARTED controller for " .. n)
  check(#list == n, string.format("%d instances for a list of %d", #list, n))
  for i, t in ipairs(list) do
    local who = (i % 2 == 0) and "ann" or "bob"
    check(t.status == "ASSIGNED" and t.owner == who and t.data.index == i and t.data.item == who,
      "instance " .. i .. " is not its item's ASSIGNED task")
  end
  -- timed: instances spread over all but the last, so no timed execute is the one that ends
  -- the group (and with it the process)
  local picks, seen = {}, {}
  local last = math.max(1, n - 1)
  local k = math.min(20, last)
  for j = 0, k - 1 do
    local i = k == 1 and 1 or 1 + math.floor(j * (last - 1) / (k - 1) + 0.5)
    if not seen[i] then seen[i] = true; picks[#picks + 1] = i end
  end
  -- the connection's statements made before the timed executes (PostgreSQL prepares each on
  -- its first use): the first instance of another group of two, untimed
  local warm = host:start("group", "start", { n = 2 })
  for _, t in ipairs(warm.tasks) do
    if t.node == "each" and t.type ~= "foreach" and t.data.index == 1 then host:execute(t.id, {}, { as = t.owner }) end
  end
  collectgarbage()
  local spent = 0
  for _, i in ipairs(picks) do
    local t = list[i]
    local a = socket.gettime()
    local r = host:execute(t.id, {}, { as = t.owner })
    spent = spent + (socket.gettime() - a)
    check(r.task.status == "DONE", "instance " .. i .. " answered " .. tostring(r.task.status))
  end
  local done = #picks
  if n <= 100 then
    for i, t in ipairs(list) do
      if not seen[i] then
        host:execute(t.id, {}, { as = t.owner })
        done = done + 1
      end
    end
    check(host:process(pid).process.status == "DONE", "the process of a finished group of " .. n .. " is not DONE")
  else
    local now
    for _, t in ipairs(host:process(pid).tasks) do if t.id == ctrl.id then now = t end end
    check(now.data.done == done and now.status == "STARTED",
      string.format("the controller counts %s done of %d", tostring(now.data.done), done))
  end
  host:close()
  return { start = started, action = spent / #picks, n = n }
end

-- The open step of the loop's process.
local function open_step(host, pid)
  local p = host:process(pid)
  local open
  for _, t in ipairs(p.tasks) do
    if t.status == "ASSIGNED" then
      check(not open, "two open steps")
      open = t
    end
  end
  check(open and open.node == "step" and open.owner == "ann", "no open step assigned to ann")
  return open, #p.tasks
end

-- The next open step from an execute's answer (the tasks it made).
local function next_step(r)
  check(r.task.status == "DONE", "a step answered " .. tostring(r.task.status))
  for _, t in ipairs(r.tasks) do
    if t.node == "step" and t.status == "ASSIGNED" and t.owner == "ann" then return t end
  end
  fail("an execute made no open step")
end

-- One loop until its process holds about n ended tasks: {action = s per execute at that point,
-- the mean of the next SAMPLES}.
local SAMPLES = 200
-- The process is read whole only before and after the timed executes (its answer is large
-- garbage for Lua's collector, which a timed execute would pay for).
local function measure_history(n)
  local host = new_host("loop" .. n)
  local pid = host:start("group", "loop", { loop = true }).process.id
  local step = open_step(host, pid)
  local rounds = 0
  while 2 * rounds + 1 < n do   -- each round ends a step and an If
    step = next_step(host:execute(step.id, {}, { as = "ann" }))
    rounds = rounds + 1
  end
  local ntasks
  step, ntasks = open_step(host, pid)
  check(ntasks == 2 * rounds + 2, string.format("%d tasks after %d rounds", ntasks, rounds))
  collectgarbage()
  local spent = 0
  for _ = 1, SAMPLES do
    local a = socket.gettime()
    local r = host:execute(step.id, {}, { as = "ann" })
    spent = spent + (socket.gettime() - a)
    step = next_step(r)
  end
  check(host:process(pid).process.data.rounds == rounds + SAMPLES, "the loop's count is off")
  host:close()
  return { action = spent / SAMPLES, tasks = ntasks }
end

local ok, err = pcall(function()
  measure(2)   -- a first process on a new database pays for warming up (PostgreSQL: its plans)
  local base = measure(2)
  print(string.format("process_size_bench: %s, %s, wall time", build,
    pg_dbs and "PostgreSQL (a database per size)" or "database file"))
  print(string.format("  %-8s %12s %14s %22s", "items", "start, s", "action, ms", "action / group of 2"))
  for _, n in ipairs(sizes) do
    local m = n == 2 and base or measure(n)
    print(string.format("  %-8d %12.3f %14.2f %21.1fx", n, m.start, m.action * 1000, m.action / base.action))
  end
  measure_history(1)
  local hbase = measure_history(1)
  print(string.format("  %-8s %12s %14s %22s", "history", "tasks", "action, ms", "action / history of 1"))
  for _, n in ipairs(sizes) do
    local m = n == 1 and hbase or measure_history(n)
    print(string.format("  %-8d %12d %14.2f %21.1fx", n, m.tasks, m.action * 1000, m.action / hbase.action))
  end
end)
cleanup()
if not ok then
  io.stderr:write("process_size_bench: FAILED: " .. tostring(err) .. "\n")
  os.exit(1)
end
