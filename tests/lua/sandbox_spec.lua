-- The sandbox of flow code and the time budget of C-level calls (issue 16, items 1 and 2).
--
--  - Every function flows may not call fails the action with an error naming it (at call
--    time, an ordinary Lua error: 422 flow_error), nothing is written, nothing happens on
--    disk, and the host goes on working.  What flows keep (os.time, string, table, load of
--    text, debug.traceback, lib/ modules...) works.
--  - lua_unsafe (serve --lua-unsafe, flowhost --lua-unsafe) gives the system back; the CLI
--    flag is checked too.
--  - Runaway calls the count hook cannot see (backtracking patterns, plain finds of long
--    needles, table loops driven by __len and __index, sorting with a bad comparator) end
--    with the budget error within budget + GRACE, also when the flow catches the first error,
--    while another process's actions on the same database file complete meanwhile.
--  - string.rep and table.concat are capped at 64 MiB; "" repeated 10^15 times is "" at once.
--  - The budgeted pattern functions give Lua's own results and errors on generated cases.
--
-- The fixture flow (tests/fixtures/sandbox/probe.lua) runs the Lua code of its start form.

local flowhost = require "flowhost"
local socket = require "socket"
local H = require "helpers"

local FLOWS = "tests/fixtures/sandbox"
local SANDBOXED = "is not available to flows (the host runs them sandboxed; see serve --lua-unsafe)"
local BIN = os.getenv("FLOWHOST_BIN") or "build/flowhost"
-- How far past its budget a runaway call may end: the budget is wall time, and on a loaded
-- 2-core CI machine (the suite runs two tests at once) the thread may wait for a core. A call
-- that the budget did not stop would never end, so any bound proves the point.
local GRACE = 2.0
local RUNAWAY = "return string.rep('a', 60):find(string.rep('a*', 20) .. 'b')"

local function open(opts)
  opts = opts or {}
  return flowhost.open { flows = FLOWS, db = opts.db or ":memory:", budget = opts.budget,
    lua_unsafe = opts.lua_unsafe }
end

local function count(host)
  return #host:processes { flow = "probe", limit = 200 }
end

-- Runs code in the probe flow and returns its result (the process must end DONE).
local function probe(host, code, arg)
  local r = host:start("probe", "start", { code = code, arg = arg })
  assert.equal("DONE", r.process.status)
  return r.process.data.result
end

-- Runs code that must fail: returns the error message, after checking nothing was written.
local function refused(host, code, arg)
  local before = count(host)
  local err = H.refused("flow_error", function() host:start("probe", "start", { code = code, arg = arg }) end)
  assert.equal(before, count(host), "a refused action wrote a process")
  return err.message
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- name (as the error says it), code, and how to set up / check the disk around it.
local BLOCKED = {
  { "os.execute", "return os.execute('touch ' .. ...)", absent = true },
  { "os.exit", "os.exit(3)" },
  { "os.remove", "return os.remove(...)", present = true },
  { "os.rename", "return os.rename(..., ... .. '.moved')", present = true },
  { "os.tmpname", "return os.tmpname()" },
  { "os.getenv", "return os.getenv('HOME')" },
  { "os.setlocale", "return os.setlocale('C')" },
  { "io.open", "local f = io.open(..., 'w') f:write('x') f:close()", absent = true },
  { "io.open", "return io.open('/etc/hostname'):read('a')" },
  { "io.lines", "for line in io.lines('/etc/passwd') do end" },
  { "io.popen", "return io.popen('echo hi'):read('a')" },
  { "io.write", "io.write('x')" },
  { "io.read", "return io.read('l')" },
  { "io.stdout", "io.stdout:write('x')" },
  { "io.stderr", "io.stderr:write('x')" },
  { "package.loadlib", "return package.loadlib('libc.so.6', '*')" },
  { "package.searchpath", "return package.searchpath('passwd', '/etc/?')" },
  { "C modules", "return require('lfs')", says = "C modules are not available to flows (the host runs them sandboxed" },
  { "load of binary chunks", "return load('\\27LuaT\\0')" },
  { "string.dump", "return string.dump(function() end)" },
  { "debug.getinfo", "return debug.getinfo(1).short_src" },
  { "debug.sethook", "debug.sethook()" },
  { "debug.getregistry", "return debug.getregistry()" },
  { "debug.getlocal", "return debug.getlocal(1, 1)" },
  { "debug.getupvalue", "return debug.getupvalue(string.gsub, 1)" },
  { "debug.setmetatable", "debug.setmetatable(1, {})" },
  { "dofile", "return dofile('/etc/passwd')" },
  { "loadfile", "return loadfile('/etc/passwd')" },
  { 'collectgarbage("stop")', "collectgarbage('stop')" },
  { 'collectgarbage("generational")', "collectgarbage('generational')" },
  { 'collectgarbage("setpause")', "collectgarbage('setpause', 100)" },
}

describe("the sandbox", function()
  local host, dir
  before_each(function()
    host = open()
    dir = H.tmpdir()
  end)
  after_each(function()
    host:close()
    H.rmdir(dir)
  end)

  for _, b in ipairs(BLOCKED) do
    local name, code = b[1], b[2]
    it("refuses " .. name .. " (" .. code .. ") at call time, writes nothing, and goes on", function()
      local path = dir .. "/file"
      if b.present then H.write(path, "kept") end
      local message = refused(host, code, path)
      assert.truthy(message:find(b.says or (name .. " " .. SANDBOXED), 1, true), message)
      assert.truthy(message:find("probe:1: ", 1, true), message)
      if b.absent then assert.is_false(exists(path), "the refused call made " .. path) end
      if b.present then
        assert.is_true(exists(path), "the refused call removed " .. path)
        assert.is_false(exists(path .. ".moved"))
      end
      assert.equal(2, probe(host, "return 1 + 1"))
    end)
  end

  it("keeps require on the host's path: a flow's package.path reads no other file", function()
    local message = refused(host, "package.path = '/etc/?' return require('passwd')")
    assert.matches("module 'passwd' not found", message, 1, true)
    assert.is_nil(message:find("root:", 1, true), message)
    assert.is_nil(message:find("/etc/passwd", 1, true), message)
  end)

  it("does not let a flow watch the DSL read files (its io reads .lua files of the flows only)", function()
    -- The DSL (trusted: it has io to read source lines for its error hints) reads the file a
    -- chunk claims to come from; a flow that wraps the string functions would see its lines.
    local code = [[
      local path, seen, saved = ..., {}, {}
      for _, n in ipairs { "gsub", "match", "find", "gmatch", "sub" } do
        local f = string[n]
        saved[n] = f
        string[n] = function(s, ...) if type(s) == "string" then seen[#seen + 1] = s end return f(s, ...) end
      end
      local ok, err = pcall(assert(load("local flow = require 'flow'\n" ..
        "return flow.Flow { title = 'x', fields = 5, start = flow.Start {}:Next(flow.this.finish),\n" ..
        "  finish = flow.End() }",
        "@" .. path)))
      for n, f in pairs(saved) do string[n] = f end
      for _, s in ipairs(seen) do
        if s:find("root:", 1, true) then return "leaked: " .. s end
      end
      return tostring(err)
    ]]
    assert.equal("/etc/passwd:2: fields must be a table of flow.field values, got the number 5",
      probe(host, code, "/etc/passwd"))
  end)

  it("refuses __gc metamethods (finalizers run outside the budget)", function()
    local message = refused(host, "setmetatable({}, { __gc = function() while true do end end })")
    assert.matches("__gc metamethods are not available to flows", message, 1, true)
    assert.equal("ok", probe(host, "setmetatable({}, { __index = {} }) return 'ok'"))
  end)

  it("keeps what is safe: os.time/clock/date, math, string, table, utf8, coroutine, load of text, lib/", function()
    local result = probe(host, [[
      local util = select(2, ...)
      local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
      local first = co(1)
      local sorted = { 3, 1, 2 }
      table.sort(sorted)
      local ok, err = pcall(error, "caught", 0)
      return {
        time = os.time() > 1e9, clock = type(os.clock()), date = os.date("!%Y-%m-%d", 86400),
        diff = os.difftime(10, 4), math = math.floor(math.pi * 100), string = ("ab"):upper():rep(2, "-"),
        find = (("key=value"):find("=", 1, true)), gsub = (("a,b,c"):gsub(",", ";")),
        sorted = table.concat(sorted, ","), moved = table.concat(table.move({ 1, 2, 3 }, 1, 3, 2, { 0 }), ","),
        utf8 = utf8.char(72, 228), len = utf8.len("h\u{e4}"), co = first + co(5),
        traceback = debug.traceback("here"):find("^here\nstack traceback:") ~= nil,
        load = load("return 6 * 7")(), lib = util.loaded_at > 1e9, gc = collectgarbage("count") > 0,
        collect = collectgarbage(), step = type(collectgarbage("step")), pcall = ok == false and err,
        io = type(io), os_execute = type(os.execute),
      }
    ]])
    assert.same({
      time = true, clock = "number", date = "1970-01-02", diff = 6, math = 314, string = "AB-AB", find = 4,
      gsub = "a;b;c", sorted = "1,2,3", moved = "0,1,2,3", utf8 = "H\u{e4}", len = 2, co = 12, traceback = true,
      load = 42, lib = true, gc = true, collect = 0, step = "boolean", pcall = "caught", io = "table",
      os_execute = "function",
    }, result)
  end)

  it("lets flows reach the system with lua_unsafe = true (serve --lua-unsafe)", function()
    local unsafe = open { lua_unsafe = true }
    local made, written = dir .. "/made", dir .. "/written"
    assert.is_true(probe(unsafe, "return os.execute('touch ' .. ...)", made))
    assert.is_true(exists(made))
    assert.equal("written", probe(unsafe,
      "local path = ... local f = assert(io.open(path, 'w')) f:write('written') f:close() " ..
      "return io.open(path):read('a')",
      written))
    assert.equal(os.getenv("HOME"), probe(unsafe, "return os.getenv('HOME')"))
    assert.equal("probe", probe(unsafe, "return debug.getinfo(1, 'S').short_src"))
    assert.equal("function", probe(unsafe, "return type(require('lfs').attributes)"))
    assert.equal(5, probe(unsafe, "return load(string.dump(function() return 5 end))()"))
    assert.is_true(probe(unsafe, "return os.remove(...)", made))
    assert.is_false(exists(made))
    -- the guards against runaway calls stay
    local message = refused(unsafe, "setmetatable({}, { __gc = print })")
    assert.matches("__gc metamethods", message, 1, true)
    unsafe:close()
  end)

  it("has the same switch on the CLI: flowhost --lua-unsafe", function()
    local db, made = dir .. "/cli.db", dir .. "/made"
    local data = string.format('{"code": "return os.execute(\'touch %s\')"}', made)
    local base = quote(BIN) .. " --db " .. quote(db) .. " --flows " .. FLOWS
    local pipe = io.popen(base .. " start probe start --data " .. quote(data) .. " 2>&1")
    local out = pipe:read("a")
    local _, _, code = pipe:close()
    assert.equal(1, code, out)
    assert.matches("os.execute " .. SANDBOXED, out, 1, true)
    assert.is_false(exists(made))
    pipe = io.popen(base .. " --lua-unsafe start probe start --data " .. quote(data) .. " 2>&1")
    out = pipe:read("a")
    _, _, code = pipe:close()
    assert.equal(0, code, out)
    assert.matches('"status": "DONE"', out, 1, true)
    assert.is_true(exists(made))
  end)
end)

-- name, code: each would run for minutes (or for ever) in one C call.
local RUNAWAYS = {
  { "a backtracking find", RUNAWAY },
  { "a backtracking match", "return string.rep('a', 60):match(string.rep('a*', 20) .. 'b')" },
  { "a backtracking gmatch", "for m in string.rep('a', 60):gmatch(string.rep('a*', 20) .. 'b') do end" },
  { "a backtracking gsub", "return (string.rep('a', 60):gsub(string.rep('a*', 20) .. 'b', 'x'))" },
  { "a gsub of a lazy pattern over 64 KiB", "return (string.rep('a', 2^16):gsub('a-b', 'x'))" },
  { "a plain find of a 1 MiB needle",
    "local s = string.rep('a', 2^21) return s:find(string.rep('a', 2^20) .. 'b', 1, true)" },
  { "%b over an unbalanced text", "return string.rep('(', 2^20):find('%b()')" },
  { "a runaway the flow catches with pcall",
    "pcall(string.find, string.rep('a', 60), string.rep('a*', 20) .. 'b') return 1" },
  { "table.concat over an __index", "return table.concat(setmetatable({}, { __index = table.concat }), '', 1, 1e15)" },
  { "table.move of 10^12 slots", "table.move({}, 1, 1e12, 1, {})" },
  { "table.insert below a huge __len",
    "table.insert(setmetatable({}, { __len = function() return math.maxinteger - 1 end }), 1, 'x')" },
  { "table.remove below a huge __len",
    "table.remove(setmetatable({}, { __len = function() return math.maxinteger - 1 end }), 1)" },
  { "table.sort with a C comparator that always says yes",
    "table.sort(setmetatable({}, { __len = function() return 2^31 - 2 end, __index = rawequal, " ..
    "__newindex = rawequal }), rawequal)" },
  { "table.sort with a comparator that never returns", "table.sort({ 3, 2, 1 }, function() while true do end end)" },
}

describe("runaway C-level calls", function()
  local host
  before_each(function() host = open { budget = 1 } end)
  after_each(function() host:close() end)

  for _, r in ipairs(RUNAWAYS) do
    local name, code = r[1], r[2]
    it("stops " .. name .. " within the 1 s budget, writes nothing, and goes on", function()
      local t0 = socket.gettime()
      local message = refused(host, code)
      local took = socket.gettime() - t0
      assert.matches("time budget of 1 s exceeded", message, 1, true)
      assert.is_true(took >= 0.95 and took < 1 + GRACE, string.format("stopped after %.3f s", took))
      assert.equal(2, probe(host, "return 1 + 1"))
    end)
  end

  it("stops a runaway while another process's actions on the same database complete", function()
    local dir = H.tmpdir()
    local db, log = dir .. "/shared.db", dir .. "/others.log"
    local shared = open { db = db, budget = 3 }
    finally(function()   -- a failed check too: the host closed, its folder removed
      shared:close()
      H.rmdir(dir)
    end)
    probe(shared, "return 'first'")
    -- five starts by the CLI, one after the other, each logging when it is done
    local data = '{"code": "return 1 + 1"}'
    os.execute(string.format(
      "( for i in 1 2 3 4 5; do %s --db %s --flows %s start probe start --data %s >/dev/null 2>>%s.err" ..
      " && date +%%s.%%N >> %s; done; echo end >> %s ) &",
      quote(BIN), quote(db), FLOWS, quote(data), quote(log), quote(log), quote(log)))
    local t0 = socket.gettime()
    local err = H.refused("flow_error", function() shared:start("probe", "start", { code = RUNAWAY }) end)
    local t_end = socket.gettime()
    assert.matches("time budget of 3 s exceeded", err.message, 1, true)
    assert.is_true(t_end - t0 < 3 + GRACE, string.format("stopped after %.3f s", t_end - t0))
    local text = ""
    for _ = 1, 300 do
      local f = io.open(log)
      text = f and f:read("a") or ""
      if f then f:close() end
      if text:find("end") then break end
      H.sleep(0.1)
    end
    local stamps = {}
    for s in text:gmatch("(%d+%.%d+)\n") do stamps[#stamps + 1] = tonumber(s) end
    assert.equal(5, #stamps, "the other process's starts: " .. text)
    for i, s in ipairs(stamps) do
      assert.is_true(s < t_end,
        string.format("start %d of the other process ended %.3f s after the runaway", i, s - t_end))
    end
    local list = shared:processes { flow = "probe", limit = 200 }
    assert.equal(6, #list)
    for _, p in ipairs(list) do
      assert.equal("DONE", p.status)
      assert.is_not.equal(RUNAWAY, shared:process(p.id).process.data.code)
    end
  end)
end)

describe("string.rep and table.concat", function()
  local host
  -- a budget with room for a loaded machine: "fast" is that 32 MiB take well under it
  before_each(function() host = open { budget = 5 } end)
  after_each(function() host:close() end)

  it("build what a flow needs, fast", function()
    local t0 = socket.gettime()
    assert.equal(0, probe(host, "return #string.rep('', 1e15) + #string.rep('', 1e15, '')"))
    assert.equal("ab,ab,ab", probe(host, "return string.rep('ab', 3, ',')"))
    assert.equal("", probe(host, "return string.rep('ab', 0)"))
    assert.equal(32 * 2 ^ 20, probe(host, "return #string.rep('ab', 16 * 2^20)"))
    assert.equal(3 * 2 ^ 20 + 2, probe(host, "local s = string.rep('x', 2^20) return #table.concat({ s, s, s }, ',')"))
    assert.equal("1-2-3", probe(host, "return table.concat({ 1, 2, 3 }, '-')"))
    assert.is_true(socket.gettime() - t0 < 5)
  end)

  it("refuse to build more than 64 MiB", function()
    for _, code in ipairs {
      "return #string.rep('ab', 40 * 2^20)",
      "return #string.rep('x', 2^40)",
      "return #string.rep('x', 2^25, string.rep('y', 2^20))",
    } do
      assert.matches("string.rep would build a string of more than 64 MiB (the limit for flows)",
        refused(host, code), 1, true)
    end
    assert.matches("table.concat would build a string of more than 64 MiB (the limit for flows)",
      refused(host,
        "local s = string.rep('x', 2^20) local t = {} for i = 1, 70 do t[i] = s end return #table.concat(t)"),
      1, true)
    assert.equal(2, probe(host, "return 1 + 1"))
  end)
end)

-- --- the pattern functions against Lua's own ------------------------------------------------

local ATOMS = { "a", "b", "c", ".", "%a", "%d", "%s", "%(", "[ab]", "[^a]", "[a-c]", "[%a%d]", "%b()", "%f[%w]",
  "%f[%W]", "()", "%1", "%2", "%" }
local QUANTIFIERS = { "", "", "", "*", "+", "-", "?" }
local SUBJECT = { "a", "b", "c", "(", ")", "1", " ", "A" }
local REPLACEMENTS = { "x", "%0%0", "[%1]", "%%", "%2", "%z", "" }

local function pattern()
  local parts = {}
  if math.random() < 0.2 then parts[#parts + 1] = "^" end
  for _ = 1, math.random(0, 6) do
    local r = math.random()
    if r < 0.12 then parts[#parts + 1] = "("
    elseif r < 0.22 then parts[#parts + 1] = ")"
    else parts[#parts + 1] = ATOMS[math.random(#ATOMS)] .. QUANTIFIERS[math.random(#QUANTIFIERS)] end
  end
  if math.random() < 0.2 then parts[#parts + 1] = "$" end
  if math.random() < 0.05 then parts[#parts + 1] = "[a" end
  return table.concat(parts)
end

local function subject()
  local out = {}
  for i = 1, math.random(0, 12) do out[i] = SUBJECT[math.random(#SUBJECT)] end
  return table.concat(out)
end

local function cases(n)
  local INITS = { false, 1, 2, -3, 0, 20 }
  local FNS = { "find", "match", "gmatch", "gsub" }
  local KINDS = { "string", "string", "table", "function" }
  local out = {}
  for i = 1, n do
    local init = INITS[math.random(#INITS)]
    out[i] = { fn = FNS[math.random(#FNS)], s = subject(), p = pattern(), init = init or nil,
      plain = math.random() < 0.2 or nil, kind = KINDS[math.random(#KINDS)],
      repl = REPLACEMENTS[math.random(#REPLACEMENTS)], max = math.random() < 0.3 and math.random(0, 2) or nil }
  end
  return out
end

-- The cases as a Lua table constructor.
local function literal(list)
  local out = {}
  for i, c in ipairs(list) do
    local fields = {}
    for _, k in ipairs { "fn", "s", "p", "init", "plain", "kind", "repl", "max" } do
      local v = c[k]
      if v ~= nil then
        fields[#fields + 1] = k .. "=" .. (type(v) == "string" and string.format("%q", v) or tostring(v))
      end
    end
    out[i] = "{" .. table.concat(fields, ",") .. "}"
  end
  return "{" .. table.concat(out, ",\n") .. "}"
end

describe("the budgeted pattern functions", function()
  it("give Lua's own results and errors on 1500 generated cases", function()
    local util = dofile(FLOWS .. "/lib/sandbox_util.lua")
    math.randomseed(16)
    local list = cases(1500)
    local expected = util.run_cases(list)
    local host = open()
    local got = probe(host, "return (select(2, ...)).run_cases(" .. literal(list) .. ")")
    host:close()
    assert.equal(#list, #got)
    local errors, matches = 0, 0
    for i, c in ipairs(list) do
      assert(expected[i] == got[i], string.format("case %d: string.%s(%q, %q, init %s, %s): Lua %s, flow %s", i, c.fn,
        c.s, c.p, tostring(c.init), tostring(c.plain or c.repl), expected[i], got[i]))
      if expected[i]:find("^boolean:false") then errors = errors + 1 end
      if expected[i]:find("^boolean:true|[ns][ut]") and not expected[i]:find("^boolean:true|string:|number:0$")
        and not expected[i]:find("^boolean:true|nil") then
        matches = matches + 1
      end
    end
    assert.is_true(errors > 50 and matches > 100, string.format("%d errors, %d matches: weak cases", errors, matches))
  end)
end)
