-- The sandbox and runaway callbacks against a real `flowhost serve` (issue 16), with the
-- probe flow of tests/fixtures/sandbox (its start form takes Lua code that a handler runs):
--  - os.execute in a flow fails the request with 422 flow_error naming it: no file is made,
--    no process written; `serve --lua-unsafe` runs it (and says so in the log);
--  - a runaway pattern match in one request is answered 422 (time budget) within its budget
--    plus a grace, while other clients' requests are served at once meanwhile;
--  - SIGTERM during a stuck callback stops the server within 10 s: at the end of the
--    callback's budget (its request answered, exit 0, no leak), or, when the budget is
--    longer than a shutdown may take, at the shutdown limit (exit 1, nothing written).
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local socket = require "socket"

local FLOWS = C.SOURCE .. "/tests/fixtures/sandbox"
local START = "/api/flows/probe/start/start"
local RUNAWAY = "return string.rep('a', 60):find(string.rep('a*', 20) .. 'b')"
local GRACE = 0.5

local function server(args)
  -- an admin: the 422 answers carry the Lua error (end users get a plain message)
  return C.server { flows = FLOWS, users = { alice = { admin = true } }, tokens = { "alice" }, args = args }
end

-- Sends a request on a connection of its own without waiting for the answer.
local function send(port, text)
  local s = assert(socket.tcp())
  s:settimeout(30)
  assert(s:connect("127.0.0.1", port))
  assert(s:send(text))
  return s
end

local function receive(s)
  local chunks = {}
  while true do
    local data, _, partial = s:receive(8192)
    if data then
      chunks[#chunks + 1] = data
    else
      chunks[#chunks + 1] = partial or ""
      break
    end
  end
  s:close()
  return C.parse_response(table.concat(chunks))
end

local function start_text(api, code, arg)
  return api:text("POST", START, { data = { code = code, arg = arg } })
end

-- One answer on a kept-alive connection: its status and body.
local function answer_on(s)
  local status = assert(s:receive("*l"))
  local len = 0
  repeat
    local line = assert(s:receive("*l"))
    len = tonumber(line:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")) or len
  until line == ""
  return tonumber(status:match("^HTTP/1%.1 (%d%d%d)")), len > 0 and assert(s:receive(len)) or ""
end

-- The request text without "Connection: close": the connection stays open after it.
local function kept(text) return (text:gsub("Connection: close\r\n", "")) end

-- A new connection to the server, to keep open.
local function connect(port)
  local s = assert(socket.tcp())
  s:settimeout(30)
  assert(s:connect("127.0.0.1", port))
  return s
end

-- A connection kept alive on a worker, answered once (GET /api/health): with --threads 1 the
-- writes of other connections go to the executors, the worker holding this one too.
local function hold_worker(srv, api)
  local s = connect(srv.port)
  assert(s:send(kept(api:text("GET", "/api/health"))))
  assert.equal(200, (answer_on(s)))
  return s
end

-- The text of GET /metrics of a server started with --metrics-listen.
local function metrics_of(srv)
  local mport = tonumber(srv.stdout:match("metrics on http://127%.0%.0%.1:(%d+)/metrics"))
  return C.client(mport):get("/metrics").body
end

-- A gauge of the executors (flowhost_http_executor_writes{state=...}).
local function executor_writes(srv, state)
  return tonumber(metrics_of(srv):match('flowhost_http_executor_writes{state="' .. state .. '"} (%d+)'))
end

-- The open connections of each of the first n workers (flowhost_http_connections), in order.
local function connections_per_worker(srv, n)
  local body, out = metrics_of(srv), {}
  for w = 0, n - 1 do
    out[#out + 1] = tonumber(body:match('flowhost_http_connections{worker="' .. w .. '"} (%d+)'))
  end
  return out
end

-- Runs fn(srv) against a server of its own (args: serve's options), then stops it, which
-- must exit cleanly, and removes its folder; returns its log.
local function with_server(args, fn)
  local srv = server(args)
  local ok, err = pcall(fn, srv)
  local log = srv:stop_clean()
  srv:cleanup()
  assert(ok, err)
  return log
end

-- Runs fn(srv) against a server of its own that the test stops itself (SIGTERM), then removes
-- its folder.
local function with_stopping_server(args, fn)
  local srv = server(args)
  local ok, err = pcall(fn, srv)
  srv:cleanup()
  assert(ok, err)
end

-- SIGTERM now, to a server that stops by itself.
local function sigterm(srv)
  os.execute("kill -TERM " .. srv.pid)
  srv.stopped = true
end

-- Waits up to `limit` s for the server to end; returns its exit code (once the shell around
-- it has written it down) and the seconds the server itself took to end.
local function exit_code(srv, limit)
  local took = C.wait_exit(srv.pid, limit) or limit
  for _ = 1, 600 do
    local rc = C.read_file(srv.rcfile)
    if rc then return tonumber(rc), took end
    socket.sleep(0.05)
  end
  return nil, took
end

-- SIGTERM now; then exit_code.
local function terminate(srv, limit)
  sigterm(srv)
  return exit_code(srv, limit)
end

-- The probe flow has no process in the server's database.
local function no_probe_written(srv)
  local out = C.cli(srv.db, FLOWS, "processes --flow probe")
  assert.is_nil(out:find('"id"', 1, true), "a process was written: " .. out)
end

-- Sends the runaway on a connection of its own; returns once a thread of the server is
-- busy with it (not after a guessed while: the request may not have reached Lua yet).
local function send_runaway(srv, api)
  local cpu = C.thread_cpu(srv.pid)
  local stuck = send(srv.port, start_text(api or srv:bearer("alice"), RUNAWAY))
  C.wait_busy_thread(srv.pid, cpu, 0.1)
  return stuck
end

local function probe_count(srv)
  local res = srv:bearer("alice"):get("/api/processes?flow=probe&limit=200")
  assert(res.status == 200, res.body)
  return #res.json.items
end

describe("a sandboxed server", function()
  local srv, api
  setup(function()
    srv = server("--budget 2 --metrics-listen 127.0.0.1:0")
    api = srv:bearer("alice")
  end)
  teardown(function()
    if srv then
      srv:stop_clean()
      srv:cleanup()
    end
  end)

  it("answers os.execute with 422 flow_error naming it, makes no file and writes no process", function()
    local made = srv.dir .. "/made"
    local res = api:post(START, { data = { code = "return os.execute('touch ' .. ...)", arg = made } })
    local e = C.assert_error(res, 422, "flow_error")
    assert.matches("os.execute is not available to flows (the host runs them sandboxed; see serve --lua-unsafe)",
      e.message, 1, true)
    assert.is_nil(C.read_file(made))
    assert.equal(0, probe_count(srv))
    res = api:post(START, { data = { code = "return 6 * 7" } })
    assert.equal(201, res.status, res.body)
    assert.equal(42, res.json.process.data.result)
  end)

  it("answers a runaway pattern with 422 within its budget while other requests are served", function()
    local before = probe_count(srv)
    local t0 = socket.gettime()
    local stuck = send_runaway(srv, api)
    local last_done
    for i = 1, 5 do
      local t = socket.gettime()
      local res = api:post(START, { data = { code = "return " .. i } })
      last_done = socket.gettime()
      assert.equal(201, res.status, res.body)
      assert.equal("DONE", res.json.process.status)
      assert.is_true(last_done - t < 1, string.format("a request took %.3f s beside the runaway", last_done - t))
    end
    local res = receive(stuck)
    local took = socket.gettime() - t0
    local e = C.assert_error(res, 422, "flow_error")
    assert.matches("time budget of 2 s exceeded", e.message, 1, true)
    assert.is_true(took < 2 + GRACE, string.format("the runaway was answered after %.3f s", took))
    assert.is_true(last_done < t0 + 2, "the other requests waited for the runaway")
    assert.equal(before + 5, probe_count(srv))
  end)

  -- A worker answers one read at a time (writes go to the executors, host/http_exec.c): new
  -- connections go to the workers with no request being answered (host/http_conn.c counts
  -- one as 8 connections), even where every worker holds as many.
  it("gives new connections to the workers that are not inside a long callback", function()
    local function request(s)
      assert(s:send("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
    end
    local function answer(s) return (answer_on(s)) end   -- its status
    local function open() return connect(srv.port) end
    -- one kept-alive connection on each of the 4 workers, each answered once
    local held = {}
    for i = 1, 4 do
      held[i] = open()
      request(held[i])
      assert.equal(200, answer(held[i]))
    end
    -- the runaway on one of them keeps its worker busy for the 2 s budget
    local cpu = C.thread_cpu(srv.pid)
    assert(held[1]:send(start_text(api, RUNAWAY)))
    C.wait_busy_thread(srv.pid, cpu, 0.1)
    local t0 = socket.gettime()
    -- four new connections, all taken (the gauge of --metrics-listen) before any asks
    local function per_worker()
      local out = connections_per_worker(srv, 4)
      table.sort(out)
      return out
    end
    local new = {}
    for i = 1, 4 do new[i] = open() end
    local counts
    C.eventually(function()
      counts = per_worker()
      return counts[1] + counts[2] + counts[3] + counts[4] == 8
    end, "8 connections taken")
    assert.same({ 1, 2, 2, 3 }, counts)   -- the busy worker kept its one; counted as 1, it gets a second
    for i, s in ipairs(new) do
      local t = socket.gettime()
      request(s)
      assert.equal(200, answer(s))
      local took = socket.gettime() - t
      assert.is_true(took < 1, string.format("new connection %d was answered after %.3f s", i, took))
      held[#held + 1] = s
    end
    assert.is_true(socket.gettime() - t0 < 2, "the new connections waited for the runaway")
    local e = C.assert_error(receive(held[1]), 422, "flow_error")
    assert.matches("time budget of 2 s exceeded", e.message, 1, true)
    for _, s in ipairs(held) do s:close() end
  end)
end)

-- A write's callbacks run on an executor thread (host/http_exec.c), not on the worker that
-- holds its connection: the worker's other connections, kept alive, are answered meanwhile.
describe("one worker and a write inside a long callback", function()
  it("answers the reads of the worker's kept-alive connection while the write runs", function()
    with_server("--budget 2 --threads 1 --metrics-listen 127.0.0.1:0", function(srv)
      local api = srv:bearer("alice")
      local function writes(state) return executor_writes(srv, state) end
      local held = connect(srv.port)   -- kept alive, on the only worker
      local function ask(path)   -- one answer on the kept-alive connection: status and body
        assert(held:send(kept(api:text("GET", path))))
        return answer_on(held)
      end
      assert.equal(200, (ask("/api/health")))
      local stuck = send_runaway(srv, api)   -- returns once a thread of the server runs it
      -- reads through the engine, on the worker whose connection sent the runaway too
      local status, body = ask("/api/processes?flow=probe")
      assert.equal(200, status)
      assert.matches('"items"', body, 1, true)
      assert.equal(200, (ask("/api/flows")))
      assert.equal(1, writes("running"))   -- on the executor, not on the worker
      assert.equal(0, writes("queued"))
      stuck:settimeout(0)
      local early, why = stuck:receive(1)
      assert.is_nil(early, "the runaway was answered before the reads")
      assert.equal("timeout", why)
      stuck:settimeout(30)
      local e = C.assert_error(receive(stuck), 422, "flow_error")
      assert.matches("time budget of 2 s exceeded", e.message, 1, true)
      -- and the worker's connection is still served after it
      assert.equal(200, (ask("/api/health")))
      C.eventually(function() return writes("running") == 0 end, "the executor done")
      assert.equal(0, writes("queued"))
      held:close()
    end)
  end)
end)

describe("serve --executors", function()
  it("runs as many writes' callbacks at once, beside one worker", function()
    with_server("--budget 2 --threads 1 --executors 2 --metrics-listen 127.0.0.1:0", function(srv)
      local api = srv:bearer("alice")
      local held = hold_worker(srv, api)
      local t0 = socket.gettime()
      local one = send(srv.port, start_text(api, RUNAWAY))
      local two = send(srv.port, start_text(api, RUNAWAY))
      C.eventually(function() return executor_writes(srv, "running") == 2 end, "both writes running")
      assert.equal(0, executor_writes(srv, "queued"))
      for _, s in ipairs { one, two } do C.assert_error(receive(s), 422, "flow_error") end
      -- side by side: both within one budget (one after the other would take two)
      local took = socket.gettime() - t0
      assert.is_true(took < 3.5, string.format("the two runaways took %.2f s", took))
      held:close()
    end)
  end)
end)

describe("a write on an executor", function()
  it("is answered before the request its client sent behind it; a client gone meanwhile harms nothing", function()
    local log = with_server("--budget 1 --threads 1 --metrics-listen 127.0.0.1:0", function(srv)
      local api = srv:bearer("alice")
      local function running() return executor_writes(srv, "running") end
      -- another connection on the only worker: the writes go to the executor
      local other = hold_worker(srv, api)
      -- a write and a read sent at once on one connection (pipelined): MHD may hold the
      -- read's bytes already while the write's connection is suspended
      local s = connect(srv.port)
      assert(s:send(kept(start_text(api, "return 7")) .. kept(api:text("GET", "/api/processes?flow=probe"))))
      local status, body = answer_on(s)
      assert.equal(201, status, body)
      local id = C.json_decode(body).process.id
      status, body = answer_on(s)
      assert.equal(200, status, body)
      local items = C.json_decode(body).items
      assert.equal(id, items[1].id)   -- the write was done before the read behind it was answered
      assert.equal(7, items[1].data.result)
      s:close()
      -- a runaway whose client leaves before its answer: the executor answers no one
      local gone = send_runaway(srv, api)
      gone:close()
      C.eventually(function() return running() == 0 end, "the executor done with the runaway")
      assert.equal(200, C.request(srv.port, "GET", "/api/health").status)
      assert(other:send(kept(api:text("GET", "/api/flows"))))
      assert.equal(200, (answer_on(other)))
      other:close()
      local out = C.cli(srv.db, FLOWS, "processes --flow probe")
      assert.equal(1, #C.json_decode(out).items, out)   -- the runaway wrote nothing
    end)
    -- the runaway's answer, made for a client that had left
    assert.matches("POST /api/flows/probe/start/start 422 [%d.]+ms %(error%)", log)
  end)
end)

-- The acceptor gives a new connection to the worker holding the fewest, a request its worker
-- answers counting as 8 (host/http_conn.c): a write on an executor does not count, its worker
-- being free.  Two workers holding 3 and 2 connections; a long write from one on the second:
-- the next connection still goes to the second.
describe("a worker whose write is on an executor", function()
  it("takes the next new connection as any free worker would", function()
    with_server("--budget 2 --threads 2 --metrics-listen 127.0.0.1:0", function(srv)
      local api = srv:bearer("alice")
      local function per_worker() return connections_per_worker(srv, 2) end
      -- opens a connection; returns it and the worker it went to
      local function open_on()
        local before = per_worker()
        local s = connect(srv.port)
        local now
        C.eventually(function()
          now = per_worker()
          return now[1] + now[2] == before[1] + before[2] + 1
        end, "the connection taken")
        return s, now[1] > before[1] and 0 or 1
      end
      local on = { [0] = {}, [1] = {} }
      for _ = 1, 5 do
        local s, w = open_on()
        table.insert(on[w], s)
      end
      local few = #on[0] < #on[1] and 0 or 1
      assert.same({ 2, 3 }, { #on[few], #on[1 - few] })
      local cpu = C.thread_cpu(srv.pid)
      assert(on[few][1]:send(kept(start_text(api, RUNAWAY))))
      C.wait_busy_thread(srv.pid, cpu, 0.1)
      assert.equal(1, executor_writes(srv, "running"))
      local s, w = open_on()
      assert.equal(few, w, "the new connection avoided the worker whose write is on the executor")
      local status, body = answer_on(on[few][1])
      assert.equal(422, status, body)
      s:close()
      for k = 0, 1 do for _, c in ipairs(on[k]) do c:close() end end
    end)
  end)
end)

-- kill -9 at random moments while writes are on the executor (three kept-alive connections on
-- the only worker): every start a client saw answered 201 is in the database afterwards, DONE.
describe("kill -9 while an executor answers writes", function()
  it("loses no acknowledged write", function()
    with_server("--threads 1", function(srv)
      local api = srv:bearer("alice")
      local acked, unanswered = {}, 0
      math.randomseed(os.time())
      for round = 1, 4 do
        if round > 1 then srv:start { threads = 1 } end
        local conns = {}
        for i = 1, 3 do conns[i] = connect(srv.port) end
        local batches = math.random(2, 12)
        for batch = 1, batches do
          -- each start computes for 3 ms: the three take ~10 ms on the one executor
          local code = "local t = os.clock() while os.clock() - t < 0.003 do end return " .. (round * 100 + batch)
          for i = 1, 3 do assert(conns[i]:send(kept(start_text(api, code)))) end
          if batch == batches then   -- the last batch: killed while it is being answered
            socket.sleep(math.random() * 0.012)
            os.execute("kill -KILL " .. srv.pid)
          end
          for i = 1, 3 do
            local got, status, body = pcall(answer_on, conns[i])
            if got and status == 201 then
              acked[#acked + 1] = C.json_decode(body).process.id
            else
              assert(batch == batches, "a write before the kill was not answered 201: " .. tostring(status))
              unanswered = unanswered + 1
            end
          end
        end
        for i = 1, 3 do conns[i]:close() end
        srv:stop()   -- collects the killed server's exit code
      end
      srv:start { threads = 1 }
      local out = C.cli(srv.db, FLOWS, "processes --flow probe --limit 500")
      local status = {}
      for _, p in ipairs(C.json_decode(out).items) do status[p.id] = p.status end
      assert.is_true(#acked >= 4 * 3, "too few answers to say anything: " .. #acked)
      for _, id in ipairs(acked) do assert.equal("DONE", status[id], "acknowledged process " .. id) end
      local written = 0
      for _ in pairs(status) do written = written + 1 end
      io.stderr:write(string.format("\n  4 kills: %d starts answered 201, %d cut off by the kill, %d processes written\n",
        #acked, unanswered, written))
    end)
  end)
end)

describe("SIGTERM during a stuck callback", function()
  it("stops the server when the callback's budget ends: the request is answered, exit 0", function()
    with_stopping_server("--budget 3", function(srv)
      local stuck = send_runaway(srv)
      local rc, took = terminate(srv, 15)
      assert.is_true(took < 10, string.format("the server took %.2f s to stop", took))
      assert.equal(0, rc)
      local res = receive(stuck)
      local e = C.assert_error(res, 422, "flow_error")
      assert.matches("time budget of 3 s exceeded", e.message, 1, true)
      local log = srv:stop_clean()
      assert.matches("SIGTERM received", log)
      io.stderr:write(string.format("\n  budget 3 s: the server stopped %.2f s after SIGTERM\n", took))
    end)
  end)

  -- A write queued for the only executor behind the stuck one: serve gives the requests in
  -- flight 5 s, then answers the queued write 503 (it was not run) without waiting for the
  -- stuck one, which its budget ends before the shutdown limit (8 s).
  it("answers a write queued behind it 503 after 5 s, not run; the stuck one ends by its budget: exit 0", function()
    with_stopping_server("--budget 6.5 --threads 1 --metrics-listen 127.0.0.1:0", function(srv)
      local api = srv:bearer("alice")
      local other = hold_worker(srv, api)
      local stuck = send_runaway(srv, api)
      assert.equal(1, executor_writes(srv, "running"))
      assert(other:send(kept(start_text(api, "return 7"))))
      C.eventually(function() return executor_writes(srv, "queued") == 1 end, "the write queued")
      local t0 = socket.gettime()
      sigterm(srv)
      local status, body = answer_on(other)
      local took = socket.gettime() - t0
      assert.equal(503, status, body)
      local e = C.json_decode(body).error
      assert.equal("busy", e.code)
      assert.equal("the server is stopping; the request was not run", e.message)
      assert.is_true(took > 4.5 and took < 6, string.format("the queued write was answered after %.2f s", took))
      stuck:settimeout(0)
      assert.is_nil((stuck:receive(1)), "the stuck write was answered before the queued one")
      stuck:settimeout(30)
      e = C.assert_error(receive(stuck), 422, "flow_error")
      assert.matches("time budget of 6.5 s exceeded", e.message, 1, true)
      other:close()
      assert.equal(0, (exit_code(srv, 10)))
      local log = srv:stop_clean()
      assert.matches("1 queued writes answered 503 (stopping)", log, 1, true)
      no_probe_written(srv)
      io.stderr:write(string.format("\n  the queued write answered 503 %.2f s after SIGTERM\n", took))
    end)
  end)

  it("stops the server within 10 s even when the budget is longer: exit 1, nothing written", function()
    with_stopping_server("--budget 60", function(srv)
      local stuck = send_runaway(srv)
      local rc, took = terminate(srv, 15)
      assert.is_true(took < 10, string.format("the server took %.2f s to stop", took))
      assert.equal(1, rc)
      assert.equal(0, receive(stuck).status)   -- the connection closed without an answer
      local log = C.read_file(srv.err) or ""
      assert.matches("shutdown took over 8 s; exiting now", log, 1, true)
      no_probe_written(srv)
      io.stderr:write(string.format("\n  budget 60 s: the server stopped %.2f s after SIGTERM\n", took))
    end)
  end)
end)

describe("serve --lua-unsafe", function()
  it("lets flows reach the system, and says so in the log", function()
    with_stopping_server("--lua-unsafe", function(srv)
      local made = srv.dir .. "/made"
      local res = srv:bearer("alice"):post(START, { data = { code = "return os.execute('touch ' .. ...)", arg = made } })
      assert.equal(201, res.status, res.body)
      assert.is_true(res.json.process.data.result)
      assert.equal("", C.read_file(made))
      local log = srv:stop_clean()
      assert.matches("--lua-unsafe: flows get Lua's full libraries", log, 1, true)
    end)
  end)
end)
