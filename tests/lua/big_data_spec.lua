-- Large process data (over 64 values): callbacks get process.data built when they first look at
-- it, and read back only then (activation.c). What a callback sees and what is saved must be the
-- same as for small data: reads, writes, a callback that leaves the data alone, an assignment of a
-- new table, pairs over the process, a failed callback, a process table kept past its callback.
-- And a :ForEach over a process field of 10,000 items (the most it takes), which read its list
-- once per instance before (a 10,000-item group took ~50 s to start).
-- Fixture: tests/fixtures/big_data/big_data.lua.

local H = require "helpers"

local function start(host, node, data)
  return host:start("big_data", node, data or {}).process.id
end

local instances, controller = H.instances, H.controller

describe("large process data in callbacks", function()
  local host
  before_each(function()
    host = H.open { flows = "tests/fixtures/big_data", users = { ann = {}, bob = {} } }
  end)
  after_each(function() host:close() end)

  it("is read and written as small data is; left alone, it stays as it was", function()
    local pid = start(host, "steps")
    local d = H.data(host, pid)
    assert.equal(100, d.count)
    assert.equal(100, #d.list)
    assert.equal(-1, d.list[1])
    assert.equal(100, d.list[100])
    assert.equal("filled", d.tag)
    assert.is_nil(d.note)   -- a field of the process table, not of its data
    local check = H.one(host, pid, "check")
    host:assign(check.id, { as = "admin" })
    host:execute(check.id, {}, { as = "admin" })
    assert.equal("DONE", H.status(host, pid))
    d = H.data(host, pid)
    assert.is_true(d.replaced)
    assert.is_true(d.raw_before)   -- rawget on an untouched process misses it, as documented
    assert.is_nil(d.count)         -- the assigned table replaced the data
    assert.equal(80, #d.list)
    assert.equal(160, d.list[80])
    assert.equal("created_at,data,flow,id,status", d.keys)   -- started by the system: no created_by
    assert.equal("gone", d.kept_data)   -- a process table kept past its callback has no data
  end)

  it("answers a flow that calls the process table's metamethods itself with errors, not a crash", function()
    local pid = host:start("big_data", "abuse", {}).process.id
    assert.equal("DONE", H.status(host, pid))
    assert.same({ no_args = false, other = "x", set_ok = false, walked = 3, count = 100 }, H.data(host, pid).poked)
  end)

  it("drops a failed callback's changes", function()
    local pid = start(host, "failing")
    assert.equal(1, host:run_jobs())
    local fail = H.one(host, pid, "fail")
    assert.equal("ERROR", fail.status)
    assert.truthy(tostring(fail.error.message):find("failed on purpose", 1, true))
    assert.equal("filled", H.data(host, pid).tag)
    assert.equal(100, #H.data(host, pid).list)
  end)

  it("starts a :ForEach of 10,000 items, each instance with its item, index and owner", function()
    local pid = start(host, "many", { n = 10000 })
    local list = instances(host, pid, "each")
    assert.equal(10000, #list)
    for _, i in ipairs({ 1, 2, 5000, 9999, 10000 }) do
      local t = list[i]
      local who = (i % 2 == 0) and "ann" or "bob"
      assert.same({ item = who, index = i }, t.data)
      assert.equal(who, t.owner)
      assert.equal("ASSIGNED", t.status)
    end
    local ctrl = controller(host, pid, "each")
    assert.equal(10000, ctrl.data.total)
    assert.equal(10000, ctrl.data.next)
    assert.equal(0, ctrl.data.done)
    assert.equal(10000, #ctrl.data.items)
    host:execute(list[2].id, {}, { as = "ann" })
    ctrl = controller(host, pid, "each")
    assert.equal(1, ctrl.data.done)
    assert.equal(10000, ctrl.data.next)
    assert.equal("STARTED", ctrl.status)
  end)

  it("runs an :Assign function that reads the data, and goes on once after every instance", function()
    local pid = start(host, "owned", { n = 70 })
    local list = instances(host, pid, "each_owned")
    assert.equal(70, #list)
    for _, t in ipairs(list) do assert.equal("ann", t.owner) end
    for _, t in ipairs(list) do host:execute(t.id, {}, { as = "ann" }) end
    assert.equal("DONE", controller(host, pid, "each_owned").status)
    assert.equal(70, H.data(host, pid).after)
    assert.equal("DONE", H.status(host, pid))
  end)
end)
