-- kill -9 in the middle of reloads of a pinned flow, then a restart: nothing is lost and every
-- pinned process is still on the version it started on and finishes there.
--
-- Each round starts a host, starts two processes with the CLI (on the version loaded now),
-- saves an edit of the flow (its one human step renamed: step_<round>) the way editors do,
-- and kills the host with SIGKILL 0 to 0.6 s later: before, during or after the host records
-- the new version (its job workers do so when they pick up the new generation).  At the end
-- one clean host runs; then every process is checked (it exists, it is on the version it
-- started on, its open task is at the step of its round) and finished with the CLI.
local src = os.getenv("FLOWHOST_SOURCE") or "."
local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp))
local C = dofile(src .. "/tests/jobs/crash_lib.lua")(tmp)
math.randomseed(tonumber(os.getenv("SEED") or os.time()))

local ROUNDS = 5

local function flow_text(step)
  return table.concat({
    'local flow = require "flow"',
    'local this, field = flow.this, flow.field',
    'return flow.Flow {',
    '  version = "pin",',
    '  fields = { text = field.String { label = "Text" } },',
    '  start = flow.Start { title = "New", fields = { "text" } }:Next(this.' .. step .. '),',
    '  ' .. step .. ' = flow.View { title = "Step", fields = { "text" } }:Next(this.finish),',
    '  finish = flow.End(),',
    '}',
  }, "\n") .. "\n"
end

local function save(step)
  local path = tmp .. "/doc.lua"
  local f = assert(io.open(path .. ".tmp~", "wb"))
  f:write(flow_text(step))
  f:close()
  assert(os.rename(path .. ".tmp~", path))
end

local function open_task(detail)
  for _, t in ipairs(detail.tasks) do
    if t.status == "NEW" then return t end
  end
end

local ok, err = pcall(function()
  save("step_0")
  C.cli("user add root --admin --password pw")
  local started = {}   -- {id, version, step}
  for round = 0, ROUNDS - 1 do
    local pid = C.start_host()
    for _ = 1, 2 do
      local id = math.tointeger(C.json("start doc --data '{\"text\":\"x\"}'").process.id)
      local version = C.json(string.format("process %d", id)).process.flow_version
      assert(type(version) == "string" and #version == 16, "no version recorded")
      started[#started + 1] = { id = id, version = version, step = "step_" .. round }
    end
    save("step_" .. (round + 1))
    os.execute(string.format("sleep %.3f", math.random() * 0.6))
    C.kill(pid)
  end
  local pid = C.start_host()
  os.execute("sleep 0.5")
  C.stop(pid)
  assert(C.count("STARTED") + C.count("NEW") == #started,
    "processes lost: " .. (C.count("STARTED") + C.count("NEW")) .. " of " .. #started)
  for _, p in ipairs(started) do
    local detail = C.json(string.format("process %d", p.id))
    assert(detail.process.flow_version == p.version,
      string.format("process %d moved from %s to %s", p.id, p.version, tostring(detail.process.flow_version)))
    local t = assert(open_task(detail), "no open task in process " .. p.id)
    assert(t.node == p.step, string.format("process %d waits at %s, not %s", p.id, t.node, p.step))
    local tid = math.tointeger(t.id)
    C.cli(string.format("task %d assign --as root", tid))
    local res = C.json(string.format("task %d execute --data '{\"text\":\"y\"}' --as root", tid))
    assert(res.process.status == "DONE", "process " .. p.id .. " did not finish on its version")
  end
  assert(C.count("DONE") == #started)
end)
C.cleanup()
os.execute("rm -rf " .. tmp)
if not ok then
  io.stderr:write("FAIL: ", tostring(err), "\n")
  os.exit(1)
end
print(string.format("versions kill -9: %d pinned processes over %d interrupted reloads, all on their version", ROUNDS * 2,
  ROUNDS))
