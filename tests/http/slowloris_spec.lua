-- Slow clients against a real `flowhost serve`: 1,280 connections from ten loopback addresses
-- (127.0.0.2 .. 127.0.0.11, 128 each: the per-address limit) send a request one byte at a time
-- and reconnect whenever the server closes them; meanwhile a normal client on 127.0.0.1 must
-- get its answers within 2 s.  The global limit keeps its last quarter for addresses that hold
-- few connections, and a connection that has not sent a whole request within --request-timeout
-- is closed.  Needs about 1,400 file descriptors (tests.cmake raises the limit).  And a host
-- started with 96 descriptors, out of them.
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local socket = require "socket"

local ATTACKERS, PER_ADDRESS = 10, 128
local DEADLINE = 4      -- the server's --request-timeout for this spec
local srv, alice

setup(function()
  srv = C.server { users = { alice = {} }, tokens = { "alice" }, args = "--request-timeout " .. DEADLINE }
  alice = srv:bearer("alice")
end)

teardown(function()
  if srv then
    srv:stop_clean()
    srv:cleanup()
  end
end)

-- A connection from `addr` that has sent the start of a request and keeps it unfinished.
local function trickler(addr)
  local s = socket.tcp()
  if not s then return nil, "no socket (file descriptors?)" end
  assert(s:bind(addr, 0))
  s:settimeout(2)
  local ok, err = s:connect("127.0.0.1", srv.port)
  if not ok then
    s:close()
    return nil, err
  end
  s:settimeout(0)
  s:send("GET /api/health HTTP/1.1\r\nHost: x\r\n")
  return s
end

-- Still open?  (a closed one reads as "closed"; an open one has nothing to read)
local function open(s)
  local _, err = s:receive(1)
  return err == "timeout"
end

-- One normal request from 127.0.0.1; returns its status and how long it took.
local function timed(fn)
  local t0 = socket.gettime()
  local res = fn()
  return res.status, socket.gettime() - t0
end

describe("slow clients", function()
  it("serve a normal client within 2 s while 1,280 connections trickle", function()
    local conns = {}
    for a = 1, ATTACKERS do
      local addr = "127.0.0." .. (a + 1)
      for i = 1, PER_ADDRESS do
        local s, err = trickler(addr)
        assert(s, "cannot open trickling connection " .. #conns + 1 .. ": " .. tostring(err))
        conns[#conns + 1] = { s = s, addr = addr }
      end
    end
    assert.equal(ATTACKERS * PER_ADDRESS, #conns)

    local worst, normal, reconnects, held_min, held_max = 0, 0, 0, math.huge, 0
    local stop = socket.gettime() + 3 * DEADLINE
    local next_normal = socket.gettime()
    while socket.gettime() < stop do
      local held = 0
      for _, c in ipairs(conns) do
        if open(c.s) then
          c.s:send("X")   -- one more byte of a header line that never ends
          held = held + 1
        else               -- closed by the server (a limit or the deadline): come back at once
          c.s:close()
          c.s = assert(trickler(c.addr))
          reconnects = reconnects + 1
        end
      end
      held_min, held_max = math.min(held_min, held), math.max(held_max, held)
      if socket.gettime() >= next_normal then
        local status, took = timed(function() return C.request(srv.port, "GET", "/api/health") end)
        assert.equal(200, status)
        worst = math.max(worst, took)
        status, took = timed(function() return alice:get("/api/tasks?view=inbox") end)
        assert.equal(200, status)
        worst = math.max(worst, took)
        normal = normal + 2
        next_normal = socket.gettime() + 0.5
      end
      socket.sleep(0.2)
    end
    for _, c in ipairs(conns) do c.s:close() end
    print(string.format("slowloris: %d trickling connections (%d reconnects, the client saw %d..%d still open); "
      .. "%d normal requests, the slowest took %.3f s", #conns, reconnects, held_min, held_max, normal, worst))
    assert.is_true(normal >= 10)
    -- (a request queued behind the trickling connections would wait up to their DEADLINE, 4 s)
    assert.is_true(worst < 3, string.format("a normal request took %.3f s", worst))
    assert.is_true(reconnects > 0, "no trickling connection was ever closed")
  end)

  it("closes a connection that has not sent its whole request by the deadline", function()
    C.sleep(1)   -- the last spec's connections are gone
    local s = assert(trickler("127.0.0.12"))
    local t0 = socket.gettime()
    while open(s) and socket.gettime() - t0 < DEADLINE + 5 do
      s:send("X")
      C.sleep(0.1)
    end
    local took = socket.gettime() - t0
    s:close()
    assert.is_true(took >= DEADLINE - 0.5 and took < DEADLINE + 2,
      string.format("closed after %.2f s (deadline %d s)", took, DEADLINE))
    -- a request that arrives whole in time is answered as ever, also on a kept-alive connection
    local k = socket.tcp()
    k:settimeout(5)
    assert(k:connect("127.0.0.1", srv.port))
    for _ = 1, 2 do
      k:send("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
      local line = k:receive("*l")
      assert.matches("^HTTP/1.1 200", line)
      local len
      repeat
        line = k:receive("*l")
        len = len or tonumber(line:match("^[Cc]ontent%-[Ll]ength: (%d+)"))
      until line == ""
      k:receive(len)
    end
    k:close()
  end)

  it("holds at most 128 connections of one address", function()
    C.sleep(1)
    local conns = {}
    for i = 1, 140 do conns[i] = assert(trickler("127.0.0.13")) end
    -- the server takes the connections from its queue and closes those over the limit when it
    -- gets to them (a loaded machine may take more than a moment): count until they are closed,
    -- before the request deadline closes the rest (a closed one stays closed)
    local held
    local t0 = socket.gettime()
    repeat
      C.sleep(0.1)
      held = 0
      for _, s in ipairs(conns) do
        if open(s) then held = held + 1 end
      end
    until held <= 128 or socket.gettime() - t0 > DEADLINE - 1
    for _, s in ipairs(conns) do s:close() end
    assert.equal(128, held)
  end)

  it("logs what the limits did", function()
    C.sleep(0.5)
    local log = srv:stop_clean()
    srv.stopped = true
    assert.matches("connections: %d+ refused by the limits, %d+ closed for not sending a whole request", log)
  end)
end)

-- Out of file descriptors: the acceptor cannot take the connections waiting in the kernel's
-- queue (accept fails with EMFILE) and must not spin on them (host/http_accept.c waits a
-- moment between tries); once clients let go, the host takes connections again.
describe("out of file descriptors", function()
  local low
  teardown(function()
    if low then
      low:stop_clean()
      low:cleanup()
    end
  end)

  it("waits instead of spinning, says so, and serves again when descriptors come back", function()
    low = C.server { threads = 2, args = "--jobs 0", before = "ulimit -n 96;" }
    local anon = low:anon()
    for _ = 1, 4 do C.ok(anon:get("/api/health")) end   -- the workers' engines are open
    local conns = {}
    for i = 1, 120 do
      local s = assert(socket.tcp())
      s:settimeout(5)
      assert(s:connect("127.0.0.1", low.port))
      conns[i] = s
    end
    C.eventually(function() return (C.read_file(low.err) or ""):find("cannot accept connections", 1, true) end,
      "the log says the host cannot accept")
    local function cpu()
      local sum = 0
      for _, t in pairs(C.thread_cpu(low.pid)) do sum = sum + t end
      return sum
    end
    local before, t0 = cpu(), socket.gettime()
    C.sleep(1)
    local used, took = cpu() - before, socket.gettime() - t0
    assert(used < 0.3 * took, string.format("the host used %.2f s of CPU in %.2f s without descriptors", used, took))
    for _, s in ipairs(conns) do s:close() end
    C.eventually(function()
      local res = C.request(low.port, "GET", "/api/health", { timeout = 2 })
      return res.status == 200
    end, "served again")
  end)
end)
