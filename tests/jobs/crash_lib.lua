-- Shared by the kill -9 tests: a temporary folder and database, the CLI on it, and hosts
-- (`flowhost serve --jobs 2`) started in the background, killed and stopped.
--
--   local C = dofile(src .. "/tests/jobs/crash_lib.lua")(flows_dir)
--   C.cli("start crashy start")               -- raises when the command fails
--   local pid = C.start_host(); C.kill(pid); C.stop(pid); C.cleanup()
local cjson = require "cjson"

return function(flows)
  local C = {}
  local bin = assert(os.getenv("FLOWHOST_BIN"), "FLOWHOST_BIN")
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  C.dir = dir
  local common = string.format(" --db %s/crash.db --flows %s", dir, flows)

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
      if pid and pid ~= "" then return pid end
      os.execute("sleep 0.05")
    end
    error("host did not start")
  end

  function C.kill(pid)
    os.execute("kill -9 " .. pid .. " 2>/dev/null")
    os.execute("sleep 0.05")
  end

  -- SIGTERM, then wait until it is gone, so that no host outlives the test.
  function C.stop(pid)
    os.execute("kill -TERM " .. pid .. " 2>/dev/null")
    for _ = 1, 100 do
      if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then break end
      os.execute("sleep 0.05")
    end
    os.execute("kill -9 " .. pid .. " 2>/dev/null")
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

  function C.cleanup() os.execute("rm -rf " .. dir) end

  return C
end
