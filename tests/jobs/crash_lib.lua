-- Shared by the kill -9 tests: a temporary folder and database, the CLI on it, and hosts
-- (`flowhost serve --jobs 2`) started in the background, killed and stopped.
--
--   local C = dofile(src .. "/tests/jobs/crash_lib.lua")(flows_dir)
--   C.cli("start crashy start")               -- raises when the command fails
--   local pid = C.start_host(); C.kill(pid); C.stop(pid); C.cleanup()
--
-- A pid is signalled only while /proc says it is a `flowhost serve` on this test's database, so
-- a pid that was reused after its host exited is never touched.  Every host started is stopped
-- by C.cleanup(), and also when the test ends with an error (the Lua state's close runs a
-- finalizer), so no host outlives its test.
local cjson = require "cjson"

return function(flows)
  local C = {}
  local bin = assert(os.getenv("FLOWHOST_BIN"), "FLOWHOST_BIN")
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  C.dir = dir

  -- How many processes a test runs: CRASH_PROCESSES, else its default times CRASH_SCALE
  -- (tools/test.sh runs the sanitizer builds at 0.4: their CLI calls cost ~4 times as much,
  -- and the host, as slow, still has work in flight at each kill)
  function C.processes(default)
    local n = tonumber(os.getenv("CRASH_PROCESSES") or "")
    if n then return n end
    local scale = tonumber(os.getenv("CRASH_SCALE") or "") or 1
    return math.max(6, math.floor(default * scale + 0.5))
  end
  local common = string.format(" --db %s/crash.db --flows %s", dir, flows)
  local started = {}   -- pid -> true for every host started and not known gone

  -- Is pid still a host of this test?  (its command line names this test's database)
  local function ours(pid)
    local f = io.open("/proc/" .. pid .. "/cmdline", "rb")
    if not f then return false end
    local cmd = f:read("a") or ""
    f:close()
    return cmd:find("serve", 1, true) ~= nil and cmd:find(dir .. "/crash.db", 1, true) ~= nil
  end

  local function signal(pid, sig)
    if ours(pid) then os.execute("kill -" .. sig .. " " .. pid .. " 2>/dev/null") end
  end

  -- flowhost ARGS on the test's database; its standard output (raises with its standard
  -- error when it fails)
  function C.cli(args)
    local p = assert(io.popen(bin .. " " .. args .. common .. " 2>" .. dir .. "/cli.err"))
    local out = p:read("a")
    if not p:close() then
      local f = io.open(dir .. "/cli.err")
      error("flowhost " .. args .. " failed: " .. out .. (f and f:read("a") or ""))
    end
    return out
  end

  function C.json(args) return cjson.decode(C.cli(args)) end

  -- How many processes have `status`.
  function C.count(status)
    return #C.json("processes --status " .. status .. " --limit 500").items
  end

  -- Starts a host in the background; returns its pid.
  function C.start_host()
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
      if pid and pid ~= "" then
        started[pid] = true
        return pid
      end
      os.execute("sleep 0.05")
    end
    error("host did not start")
  end

  -- SIGKILL, and wait until it is gone.
  function C.kill(pid)
    signal(pid, 9)
    for _ = 1, 100 do
      if not ours(pid) then break end
      os.execute("sleep 0.02")
    end
    started[pid] = nil
  end

  -- SIGTERM, wait until it is gone (SIGKILL after 5 s), so that no host outlives the test.
  function C.stop(pid)
    signal(pid, "TERM")
    for _ = 1, 100 do
      if not ours(pid) then break end
      os.execute("sleep 0.05")
    end
    C.kill(pid)
    os.remove(dir .. "/pid")
  end

  -- Waits (at most `seconds`) until every one of n processes is DONE; returns how many are.
  function C.wait_done(n, seconds)
    local deadline = os.time() + seconds
    local done = C.count("DONE")
    while done < n and os.time() < deadline do
      os.execute("sleep 0.2")
      done = C.count("DONE")
    end
    return done
  end

  -- "node:STATUS" -> how many tasks of process id (boundary timer rows as "node@timeout:STATUS").
  function C.task_counts(id)
    local detail = C.json(string.format("process %d", id))
    local counts = {}
    for _, t in ipairs(detail.tasks) do
      local key = t.node .. (t.type == "timeout" and "@timeout" or "") .. ":" .. t.status
      counts[key] = (counts[key] or 0) + 1
    end
    return detail, counts
  end

  -- Stops every host still running, then removes the folder.
  function C.cleanup()
    for pid in pairs(started) do C.stop(pid) end
    os.execute("rm -rf " .. dir)
  end

  -- If the test raises before C.cleanup, closing the Lua state still stops the hosts.
  C.guard = setmetatable({}, { __gc = function() if next(started) then C.cleanup() end end })

  return C
end
