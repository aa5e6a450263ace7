-- Black-box helpers for the HTTP tests: start a real `flowhost serve` on a free port with a
-- fresh database, create its users with the CLI, and talk HTTP/1.1 to it over plain
-- sockets (so a test controls every byte: raw paths, truncated and oversized bodies).
--
--   local C = require "client"
--   local srv = C.server { users = { alice = { perms = { "helloworld.start" } } }, tokens = { "alice" } }
--   local alice = srv:login("alice")               -- cookie session (sends X-CSRF-Token)
--   local res = alice:post("/api/flows/helloworld/start/start", { data = { text = "hi" } })
--   assert.equal(201, res.status); print(res.json.process.id)
--   local api = srv:bearer("alice")                -- Authorization: Bearer <token>
--   local rc, log = srv:stop()                     -- SIGTERM; exit code and the server's stderr

local socket = require "socket"
local cjson = require "cjson"     -- encoding: an empty table is {}
local dkjson = require "dkjson"   -- decoding: integers stay integers

local C = {}
C.null = dkjson.null
-- Decodes JSON text (integers stay integers, null is C.null).
function C.json_decode(text) return dkjson.decode(text, 1, dkjson.null) end

local SOURCE = os.getenv("FLOWHOST_SOURCE") or "."
C.SOURCE = SOURCE
C.BIN = os.getenv("FLOWHOST_BIN") or (SOURCE .. "/build/flowhost")
C.PASSWORD = "correct horse battery"

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
C.quote = sh_quote

-- Runs a shell command; returns its exit code and its output (stdout and stderr).
function C.sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  return code, out
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
C.read_file = read_file

function C.write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function C.tmpdir()
  local code, out = C.sh("mktemp -d /tmp/flowhost-http.XXXXXX")
  assert(code == 0, out)
  return (out:gsub("%s+$", ""))
end

function C.sleep(seconds) socket.sleep(seconds) end

-- Holds the write lock of the SQLite database db in a sqlite3 process in the background from
-- the moment it returns (once the lock is held) until the release function it returns is
-- called, and for `seconds` at most. sqlite3 itself makes the flag file after its UPDATE ran
-- and then waits in the transaction (a flag touched by the shell could come before sqlite3
-- even started); it waits for a lock the host holds at that moment, and with .bail stops at
-- any error before making the flag (a BEGIN or UPDATE that failed holds no lock), and then it
-- is started again. A hold of fixed length raced the host's busy timeout (5 s of SQLite's own
-- sleeps, which a loaded machine stretches): a write that waited past the hold succeeded.
function C.hold_write_lock(db, seconds, dir)
  local flag, gone, release = dir .. "/locked", dir .. "/lock-holder-gone", dir .. "/lock-release"
  local wait = "i=0; while [ ! -f " .. sh_quote(release) .. " ] && [ $i -lt " .. math.floor(seconds * 20)
    .. " ]; do sleep 0.05; i=$((i+1)); done"
  for _ = 1, 5 do
    os.remove(flag)
    os.remove(gone)
    os.remove(release)
    os.execute("( printf '%s\\n' '.bail on' '.timeout 10000' 'BEGIN IMMEDIATE;' "
      .. "'UPDATE user SET is_admin = is_admin;' " .. sh_quote(".shell touch " .. sh_quote(flag)) .. " "
      .. sh_quote(".shell " .. wait) .. " 'COMMIT;' | sqlite3 " .. sh_quote(db)
      .. "; touch " .. sh_quote(gone) .. " ) >/dev/null 2>&1 &")
    for _ = 1, 400 do
      if read_file(flag) then
        return function()   -- release: the lock goes once sqlite3 commits, moments later
          local f = assert(io.open(release, "w"))
          f:close()
        end
      end
      if read_file(gone) then break end
      C.sleep(0.05)
    end
  end
  error("sqlite3 did not take the write lock of " .. db)
end

-- The CPU time each thread of process pid has used so far: { [tid] = seconds } (from
-- /proc/PID/task/TID/stat: utime and stime, in clock ticks of 1/100 s on Linux).
function C.thread_cpu(pid)
  local times = {}
  local list = io.popen("ls /proc/" .. pid .. "/task 2>/dev/null")
  for tid in list:lines() do
    local stat = read_file("/proc/" .. pid .. "/task/" .. tid .. "/stat")
    -- the fields after the command name (in parentheses, which may hold spaces)
    local rest = stat and stat:match("%) (.*)$")
    if rest then
      local f = {}
      for word in rest:gmatch("%S+") do f[#f + 1] = word end
      times[tid] = (tonumber(f[12]) + tonumber(f[13])) / 100
    end
  end
  list:close()
  return times
end

-- Waits until one thread of process pid has used `cpu` seconds of CPU more than in `before`
-- (a C.thread_cpu reading): the way to know a busy callback is running now, where sleeping a
-- while and hoping is not, on a loaded machine. Raises after `limit` seconds.
function C.wait_busy_thread(pid, before, cpu, limit)
  local deadline = socket.gettime() + (limit or 20)
  repeat
    for tid, t in pairs(C.thread_cpu(pid)) do
      if t - (before[tid] or 0) >= cpu then return end
    end
    C.sleep(0.02)
  until socket.gettime() > deadline
  error(string.format("no thread of process %d used %.2f s of CPU within %d s", pid, cpu, limit or 20))
end

-- Waits until process pid has ended (gone, or a zombie not yet reaped); returns the seconds
-- waited, or nil after `limit` seconds.  The server's own exit, apart from the shell around
-- it that records the exit code (whose file writes may lag on a loaded disk).
function C.wait_exit(pid, limit)
  local t0 = socket.gettime()
  while socket.gettime() - t0 < limit do
    local stat = read_file("/proc/" .. pid .. "/stat")
    if not stat or stat:match("%) Z ") then return socket.gettime() - t0 end
    C.sleep(0.02)
  end
  return nil
end

-- Repeats probe() until it returns true, for up to 5 s (asserts it did, naming `what`); the
-- seconds it took.  For
-- a change by another program (the CLI): on PostgreSQL a host hears of it by notification,
-- moments after its commit, and serves the sign-ins it keeps meanwhile (docs/http-api.md).
function C.eventually(probe, what)
  local t0 = socket.gettime()
  while not probe() do
    assert(socket.gettime() - t0 < 5, what .. ": not within 5 s")
    C.sleep(0.02)
  end
  return socket.gettime() - t0
end

-- `flowhost --db DB --flows FLOWS args...`; asserts success; returns stdout.
function C.cli(db, flows, args)
  local cmd = sh_quote(C.BIN) .. " --db " .. sh_quote(db) .. " --flows " .. sh_quote(flows) .. " " .. args
  local code, out = C.sh(cmd)
  assert(code == 0, "flowhost " .. args .. " failed (" .. tostring(code) .. "): " .. out)
  return out
end

-- --- HTTP --------------------------------------------------------------------------------

local function parse_response(raw)
  local head_end = raw:find("\r\n\r\n", 1, true)
  if not head_end then return { status = 0, raw = raw, headers = {}, body = "" } end
  local head, body = raw:sub(1, head_end - 1), raw:sub(head_end + 4)
  local status_line, rest = head:match("^([^\r\n]*)\r?\n?(.*)$")
  local status = tonumber(status_line:match("^HTTP/%d%.%d (%d%d%d)")) or 0
  local headers, cookies = {}, {}
  for line in (rest .. "\r\n"):gmatch("(.-)\r\n") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then
      k = k:lower()
      headers[k] = headers[k] and (headers[k] .. ", " .. v) or v
      if k == "set-cookie" then cookies[#cookies + 1] = v end
    end
  end
  local res = { status = status, headers = headers, cookies = cookies, body = body, raw = raw }
  if (headers["content-type"] or ""):find("application/json", 1, true) and #body > 0 then
    local v = dkjson.decode(body, 1, dkjson.null)
    res.json = type(v) == "table" and v or nil
  end
  return res
end
C.parse_response = parse_response

-- Sends `text` as is on a new connection and reads until the server closes it.
-- opts.half_close: shut down our sending side after the text (a truncated body);
-- opts.bind: the local address to connect from (any of 127.0.0.0/8 works on Linux).
function C.raw(port, text, opts)
  opts = opts or {}
  local s = assert(socket.tcp())
  if opts.bind then assert(s:bind(opts.bind, 0)) end
  s:settimeout(opts.timeout or 20)
  assert(s:connect("127.0.0.1", port))
  if #text > 0 then s:send(text) end
  if opts.half_close then s:shutdown("send") end
  local chunks = {}
  while true do
    local data, err, partial = s:receive(8192)
    if data then
      chunks[#chunks + 1] = data
    else
      if partial and #partial > 0 then chunks[#chunks + 1] = partial end
      if err ~= "closed" then chunks.error = err end
      break
    end
  end
  s:close()
  local res = parse_response(table.concat(chunks))
  res.error = chunks.error
  return res
end

-- Builds the text of one request.  opts: body (table -> JSON, string -> as is), headers.
function C.request_text(method, path, opts)
  opts = opts or {}
  local body = opts.body
  if type(body) == "table" then body = cjson.encode(body) end
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: 127.0.0.1", "Connection: close" }
  local headers = opts.headers or {}
  if body and not headers["Content-Type"] and not opts.no_content_type then
    lines[#lines + 1] = "Content-Type: application/json"
  end
  for k, v in pairs(headers) do lines[#lines + 1] = k .. ": " .. v end
  if body and not headers["Content-Length"] then lines[#lines + 1] = "Content-Length: " .. #body end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

function C.request(port, method, path, opts)
  return C.raw(port, C.request_text(method, path, opts), opts)
end

-- A client: anonymous, with a bearer token, or with a session cookie and its CSRF token.
local Client = {}
Client.__index = Client

function C.client(port, auth)
  return setmetatable({ port = port, auth = auth or {} }, Client)
end

function Client:request(method, path, body, opts)
  opts = opts or {}
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  if self.auth.token then headers["Authorization"] = "Bearer " .. self.auth.token end
  if self.auth.cookie then headers["Cookie"] = "flowhost_session=" .. self.auth.cookie end
  if self.auth.csrf and method ~= "GET" and opts.csrf ~= false then
    headers["X-CSRF-Token"] = opts.csrf or self.auth.csrf
  end
  return C.request(self.port, method, path, { body = body, headers = headers })
end

function Client:get(path, opts) return self:request("GET", path, nil, opts) end
function Client:post(path, body, opts) return self:request("POST", path, body or {}, opts) end
function Client:delete(path, opts) return self:request("DELETE", path, nil, opts) end

-- Logs in over the API; returns the client, or nil and the response.  from: the local address.
function C.login(port, username, password, from)
  local res = C.request(port, "POST", "/api/session",
    { body = { username = username, password = password }, bind = from })
  if res.status ~= 200 then return nil, res end
  local cookie
  for _, c in ipairs(res.cookies) do cookie = cookie or c:match("^flowhost_session=([^;]*)") end
  assert(cookie and #cookie > 0, "login set no session cookie")
  local cl = C.client(port, { cookie = cookie, csrf = res.json.csrf_token })
  cl.login_response = res
  return cl
end

-- --- the server ----------------------------------------------------------------------------

local Server = {}
Server.__index = Server

-- The database of a new server: DIR/flowhost.db, or, when FLOWHOST_TEST_PG names a
-- PostgreSQL server (tests/pg/pg_cluster.sh runs the specs with it), a new empty database there.
local pg_dbs = nil
function C.fresh_db(dir)
  local url = os.getenv("FLOWHOST_TEST_PG")
  if not url or url == "" then return dir .. "/flowhost.db" end
  pg_dbs = pg_dbs or dofile(SOURCE .. "/tests/pg/fresh_db.lua")
  return pg_dbs.new(url, "http")
end

-- Starts `flowhost serve` on 127.0.0.1:0.  opts: flows (default "flows"), web, threads, db,
-- users = { name = { admin =, perms = {...} } } (all with password C.PASSWORD, made with
-- the CLI first), tokens = { names... } (API tokens made with the CLI), args (extra).
function C.server(opts)
  opts = opts or {}
  local dir = C.tmpdir()
  local self = setmetatable({ dir = dir, db = opts.db or C.fresh_db(dir),
                              flows = opts.flows or (SOURCE .. "/flows"), tokens = {} }, Server)
  local names = {}
  for name in pairs(opts.users or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local u = opts.users[name]
    C.cli(self.db, self.flows, "user add " .. sh_quote(name) .. " --password " .. sh_quote(C.PASSWORD)
      .. (u.admin and " --admin" or ""))
    for _, perm in ipairs(u.perms or {}) do
      C.cli(self.db, self.flows, "user grant " .. sh_quote(name) .. " " .. sh_quote(perm))
    end
  end
  for _, name in ipairs(opts.tokens or {}) do
    self.tokens[name] = (C.cli(self.db, self.flows, "token create " .. sh_quote(name)):gsub("%s+$", ""))
  end
  self:start(opts)
  return self
end

function Server:start(opts)
  opts = opts or {}
  self.out, self.err, self.pidfile, self.rcfile =
    self.dir .. "/out", self.dir .. "/err", self.dir .. "/pid", self.dir .. "/rc"
  for _, f in ipairs { self.rcfile, self.pidfile, self.out, self.err } do os.remove(f) end
  self.stopped = nil
  local args = "serve --listen 127.0.0.1:0 --db " .. sh_quote(self.db) .. " --flows " .. sh_quote(self.flows)
    .. " --web " .. sh_quote(opts.web or (SOURCE .. "/web")) .. " --threads " .. (opts.threads or 4)
    .. " " .. (opts.args or "")
  -- The subshell waits for the server and records its exit code.  Leak checking is on for
  -- the server even when the test environment turns it off for lua5.4 itself.  The pid and
  -- the exit code are written aside and renamed into place, so a reader never finds the
  -- file created but still empty (which read as "exited with nil").
  local pid, rc = sh_quote(self.pidfile), sh_quote(self.rcfile)
  -- opts.before: shell commands run in the subshell first (e.g. "ulimit -n 64;")
  local cmd = "( " .. (opts.before or "") .. " ASAN_OPTIONS=detect_leaks=1 " .. sh_quote(C.BIN) .. " " .. args
    .. " >" .. sh_quote(self.out)
    .. " 2>" .. sh_quote(self.err) .. " & echo $! >" .. pid .. ".tmp; mv " .. pid .. ".tmp " .. pid
    .. "; wait $!; echo $? >" .. rc .. ".tmp; mv " .. rc .. ".tmp " .. rc .. " ) >/dev/null 2>&1 &"
  os.execute(cmd)
  local deadline = socket.gettime() + 30
  while socket.gettime() < deadline do
    local out = read_file(self.out) or ""
    local port = out:match("listening on http://127%.0%.0%.1:(%d+)")
    if port then
      self.port = tonumber(port)
      self.stdout = out
      self.pid = tonumber(read_file(self.pidfile))
      return self
    end
    if read_file(self.rcfile) then break end
    socket.sleep(0.05)
  end
  error("flowhost serve did not start: " .. (read_file(self.out) or "") .. (read_file(self.err) or ""))
end

function Server:client(auth) return C.client(self.port, auth) end
function Server:anon() return C.client(self.port) end
function Server:bearer(name)
  return C.client(self.port, { token = assert(self.tokens[name], "no token for " .. name) })
end
function Server:login(name, password)
  return assert(C.login(self.port, name, password or C.PASSWORD))
end

-- Sends a signal (default TERM) and waits for the exit.  Returns the exit code and stderr.
function Server:stop(signal)
  if self.pid and not self.stopped then
    os.execute("kill -" .. (signal or "TERM") .. " " .. self.pid .. " 2>/dev/null")
    self.stopped = true
  end
  local deadline = socket.gettime() + 30
  local rc = read_file(self.rcfile)
  while not rc and socket.gettime() < deadline do
    socket.sleep(0.05)
    rc = read_file(self.rcfile)
  end
  if not rc and self.pid then
    -- it did not exit: say where each thread is (the failure's evidence), then kill it
    local stacks = io.popen("gdb -p " .. self.pid .. " -batch -ex 'thread apply all bt' 2>&1 | grep -E '^(Thread|#)'")
    local where = stacks and stacks:read("a") or ""
    if stacks then stacks:close() end
    os.execute("kill -KILL " .. self.pid .. " 2>/dev/null")
    return nil, (read_file(self.err) or "") .. "\n--- did not exit within 30 s; its threads:\n" .. where
  end
  return tonumber(rc), read_file(self.err) or ""
end

-- Stops the server and asserts a clean exit: code 0 and no sanitizer report.
function Server:stop_clean(signal)
  local rc, log = self:stop(signal)
  assert(rc == 0, "flowhost serve exited with " .. tostring(rc) .. "\n" .. log:sub(-4000))
  for _, bad in ipairs { "AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "runtime error:" } do
    assert(not log:find(bad, 1, true), "sanitizer report in the server log:\n" .. log:sub(-6000))
  end
  return log
end

function Server:cleanup()
  if self.pid and not self.stopped then self:stop("KILL") end
  os.execute("rm -rf " .. sh_quote(self.dir))
end

-- Sends several requests at once on separate connections (all written before any answer is
-- read), and returns the responses in order.
function C.concurrent(port, texts, opts)
  opts = opts or {}
  local socks = {}
  for i, text in ipairs(texts) do
    local s = assert(socket.tcp())
    if opts.bind then assert(s:bind(opts.bind, 0)) end
    s:settimeout(30)
    assert(s:connect("127.0.0.1", port))
    socks[i] = s
  end
  for i, text in ipairs(texts) do socks[i]:send(text) end
  local out = {}
  for i, s in ipairs(socks) do
    local chunks = {}
    while true do
      local data, err, partial = s:receive(8192)
      if data then chunks[#chunks + 1] = data
      else
        if partial and #partial > 0 then chunks[#chunks + 1] = partial end
        break
      end
    end
    s:close()
    out[i] = parse_response(table.concat(chunks))
  end
  return out
end

-- The request text a client would send (for C.concurrent).
function Client:text(method, path, body)
  local headers = {}
  if self.auth.token then headers["Authorization"] = "Bearer " .. self.auth.token end
  if self.auth.cookie then headers["Cookie"] = "flowhost_session=" .. self.auth.cookie end
  if self.auth.csrf and method ~= "GET" then headers["X-CSRF-Token"] = self.auth.csrf end
  return C.request_text(method, path, { body = body, headers = headers })
end

-- Asserts a JSON answer with the status (default 200); returns its decoded body.
function C.ok(res, status)
  assert(res.status == (status or 200), string.format("expected %d, got %d: %s", status or 200, res.status, res.body))
  assert((res.headers["content-type"] or ""):find("application/json", 1, true),
    "not JSON: " .. tostring(res.headers["content-type"]))
  return res.json
end

-- Asserts the error shape of http-api.md and the status/code pair; returns the error object.
function C.assert_error(res, status, code)
  assert(res.status == status, string.format("expected HTTP %d (%s), got %d: %s", status, code, res.status, res.body))
  assert((res.headers["content-type"] or ""):find("application/json", 1, true),
    "error without a JSON content type: " .. tostring(res.headers["content-type"]))
  assert(type(res.json) == "table" and type(res.json.error) == "table", "not the error shape: " .. res.body)
  local e = res.json.error
  assert(e.code == code, string.format("expected error code %s, got %s (%s)", code, tostring(e.code), tostring(e.message)))
  assert(type(e.message) == "string" and #e.message > 0, "error without a message: " .. res.body)
  return e
end

return C
