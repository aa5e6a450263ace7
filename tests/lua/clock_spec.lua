-- The test clock: flowhost.open { clock = "manual" } stops time at 2030-01-01T00:00:00Z (or at
-- `now`); host:advance(s) moves it forward from due time to due time, running what falls due on
-- the way, so days-long timers are tested in milliseconds.  Also the argument checks of
-- host:send and host:signal.
-- Flows: tests/fixtures/flows/timers.lua, and two small flows written to a temporary folder.

local H = require "helpers"
local flowhost = require "flowhost"

local START = 1893456000   -- 2030-01-01T00:00:00Z

local FLOWS = {
  chain = [[
local flow = require "flow"
local this = flow.this
-- the second timer is created only when the first fires
return flow.Flow {
  start = flow.StartFunction():Next(this.first),
  first = flow.Timer(5):Next(this.second),
  second = flow.Timer(5):Next(this.finish),
  finish = flow.End(),
}
]],
  escalation = [[
local flow = require "flow"
local this = flow.this
-- an approval that escalates when nobody answered for three days
return flow.Flow {
  start = flow.StartFunction():Next(this.split),
  split = flow.Split():Always(this.approve):Always(this.wait),
  approve = flow.View { title = "Approve" }:Next(this.finish),
  wait = flow.Timer(3 * 86400):Next(this.escalate),
  escalate = flow.Handler(this.do_escalate):Next(this.finish),
  finish = flow.End(),
  do_escalate = function(self, activation) activation.process.data.escalated = true end,
}
]],
}

describe("the manual clock", function()
  local dir, host
  setup(function()
    dir = H.tmpdir()
    os.execute("cp " .. H.FIXTURES .. "/timers.lua '" .. dir .. "/'")
    for name, text in pairs(FLOWS) do H.write(dir .. "/" .. name .. ".lua", text) end
  end)
  teardown(function() H.rmdir(dir) end)
  before_each(function() host = H.open { flows = dir, clock = "manual" } end)
  after_each(function() if host then host:close() end end)

  it("starts at 2030-01-01T00:00:00Z and stands still until advanced", function()
    assert.equal(START, host:now())
    local r = host:start("timers", "fixed", {})
    assert.equal("2030-01-01T00:00:00.000Z", r.process.created_at)
    assert.equal("2030-01-01T00:00:00.300Z", r.tasks[2].due_at)
    assert.equal(START, host:now())
    assert.equal(0, host:run_jobs())
    assert.equal(1, host:advance(1.5))   -- the timer of 0.3 s ran on the way
    assert.equal(START + 1.5, host:now())
    assert.equal("DONE", H.status(host, r.process.id))
    assert.equal("2030-01-01T00:00:00.300Z", H.one(host, r.process.id, "wait_fixed").finished_at)
  end)

  it("starts at `now` when given, and advance(0) runs only what is due already", function()
    host:close()
    host = H.open { flows = dir, clock = "manual", now = START + 86400 }
    assert.equal(START + 86400, host:now())
    local pid = host:start("timers", "computed", { delay = 0 }).process.id
    assert.equal(1, host:advance(0))
    assert.equal("DONE", H.status(host, pid))
    assert.equal(START + 86400, host:now())
  end)

  it("runs timers in due-time order, each at its own due time", function()
    local ten = host:start("timers", "computed", { delay = 10 }).process.id
    local five = host:start("timers", "computed", { delay = 5 }).process.id
    assert.equal(2, host:advance(20))
    local t10, t5 = H.one(host, ten, "wait_computed"), H.one(host, five, "wait_computed")
    assert.equal("2030-01-01T00:00:05.000Z", t5.finished_at)
    assert.equal("2030-01-01T00:00:10.000Z", t10.finished_at)
    assert.is_true(t5.id > t10.id and t5.finished_at < t10.finished_at, "the 5 s timer completes first")
    assert.is_true(H.one(host, five, "finish").id < H.one(host, ten, "finish").id)
    assert.equal(START + 20, host:now())
  end)

  it("runs a timer created mid-advance when it falls due within the window", function()
    local pid = host:start("chain", "start", {}).process.id
    assert.equal(1, host:advance(9))     -- first fires at 5 s; second is due at 10 s
    assert.same({ "start:DONE", "first:DONE", "second:SCHEDULED" }, H.trail(host, pid))
    assert.equal("2030-01-01T00:00:10.000Z", H.one(host, pid, "second").due_at)
    host:close()
    host = H.open { flows = dir, clock = "manual" }
    pid = host:start("chain", "start", {}).process.id
    assert.equal(2, host:advance(12))    -- both, in one advance
    assert.same({ "start:DONE", "first:DONE", "second:DONE", "finish:DONE" }, H.trail(host, pid))
    assert.equal("2030-01-01T00:00:10.000Z", H.one(host, pid, "second").finished_at)
  end)

  it("fires a three-day timer after three days, not a second earlier", function()
    local pid = host:start("escalation", "start", {}).process.id
    assert.equal(0, host:advance(3 * 86400 - 1))
    assert.equal("SCHEDULED", H.one(host, pid, "wait").status)
    assert.is_nil(H.data(host, pid).escalated)
    assert.equal(1, host:advance(1))
    assert.equal("DONE", H.one(host, pid, "wait").status)
    assert.is_true(H.data(host, pid).escalated)
    assert.equal("2030-01-04T00:00:00.000Z", H.one(host, pid, "escalate").finished_at)
  end)

  it("refuses negative, infinite and NaN seconds (invalid)", function()
    H.refused("invalid", function() host:advance(-1) end)
    H.refused("invalid", function() host:advance(math.huge) end)
    H.refused("invalid", function() host:advance(0 / 0) end)
    assert.equal(START, host:now())
  end)

  it("is turned off when its host closes", function()
    host:close()
    host = H.open { flows = dir }
    assert.is_true(math.abs(host:now() - os.time()) < 5, "the real clock is back")
  end)
end)

describe("a host on the real clock", function()
  it("reads the wall clock and refuses to advance (conflict)", function()
    local host = H.open()
    assert.is_true(math.abs(host:now() - os.time()) < 5)
    local err = H.refused("conflict", function() host:advance(1) end)
    assert.matches("not manual", err.message, 1, true)
    host:close()
  end)

  it("refuses a clock other than manual, and now without it", function()
    local ok, err = pcall(flowhost.open, { flows = H.FIXTURES, clock = "fast" })
    assert.is_false(ok)
    assert.matches('clock must be "manual"', tostring(err), 1, true)
    ok, err = pcall(flowhost.open, { flows = H.FIXTURES, now = START })
    assert.is_false(ok)
    assert.matches("only for clock", tostring(err), 1, true)
    ok, err = pcall(flowhost.open, { flows = H.FIXTURES, clock = "manual", now = "tomorrow" })
    assert.is_false(ok)
    assert.matches("now must be", tostring(err), 1, true)
  end)
end)

describe("host:send and host:signal arguments", function()
  local host
  before_each(function() host = H.open() end)
  after_each(function() host:close() end)

  it("refuse a key that is neither a string nor an integer", function()
    for _, key in ipairs { {}, 1.5, true } do
      local err = H.refused("invalid", function() host:send("payment", key, {}) end)
      assert.is_string(err.fields.key)
    end
    H.refused("invalid", function() host:send("payment", nil, {}) end)
  end)

  it("refuse a ttl that is not seconds > 0, and data that is not a table", function()
    for _, ttl in ipairs { 0, -5, "soon" } do
      local err = H.refused("invalid", function() host:send("payment", "A-17", {}, { ttl = ttl }) end)
      assert.is_string(err.fields.ttl)
    end
    H.refused("invalid", function() host:send("payment", 17, "paid") end)
    H.refused("invalid", function() host:signal("closing", 5) end)
  end)

  it("refuse an unknown user in as", function()
    H.refused("unauthenticated", function() host:send("payment", 17, {}, { as = "nobody" }) end)
    H.refused("unauthenticated", function() host:signal("closing", {}, { as = "nobody" }) end)
  end)
end)

-- Delivery through the module on the manual clock (the rest of it: tests/lua/events_spec.lua).
describe("host:send and host:signal delivering", function()
  local dir, host
  setup(function()
    dir = H.tmpdir()
    H.write(dir .. "/payment.lua", [[
local flow = require "flow"
local this = flow.this
return flow.Flow {
  start = flow.StartFunction(this.read):Next(this.wait_pay),
  wait_pay = flow.Receive { message = "payment", key = this.order_key }:Next(this.finish),
  finish = flow.End(),
  read = function(self, activation, data) activation.process.data.order = data.order end,
  order_key = function(self, activation) return activation.process.data.order end,
}
]])
  end)
  teardown(function() H.rmdir(dir) end)
  before_each(function() host = H.open { flows = dir, clock = "manual" } end)
  after_each(function() host:close() end)

  it("completes the receiver waiting for that key (an integer key is its decimal text)", function()
    local pid = host:start("payment", "start", { order = "17" }).process.id
    local r = host:send("payment", 17, {})
    assert.equal("payment", r.message)
    assert.equal("17", r.key)
    assert.equal(1, #r.completed)
    assert.equal("wait_pay", r.completed[1].node)
    assert.is_nil(r.kept)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("keeps a message nobody waits for until its ttl is over", function()
    local r = host:send("payment", "A-1", {}, { ttl = 60 })
    assert.same({}, r.completed)
    assert.is_number(r.kept.id)
    assert.equal("2030-01-01T00:01:00.000Z", r.kept.expires_at)
    host:send("payment", "A-2", {}, { ttl = 60 })
    host:advance(30)
    local early = host:start("payment", "start", { order = "A-1" }).process.id
    assert.equal("DONE", H.status(host, early))          -- took the kept message
    host:advance(31)
    local late = host:start("payment", "start", { order = "A-2" }).process.id
    assert.equal("STARTED", H.status(host, late))        -- A-2 expired at 60 s
  end)

  it("a signal completes the receivers waiting now and is not kept", function()
    local r = host:signal("closing", {})
    assert.equal("closing", r.signal)
    assert.same({}, r.completed)
  end)
end)
