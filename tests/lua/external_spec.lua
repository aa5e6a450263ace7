-- External tasks (issue 15) through the Lua module: host:external_fetch / external_complete /
-- external_fail / external_extend take the bodies of the HTTP routes.  The hosts run on the
-- manual clock, so lease expiry, retries and the :OnTimeout are driven by host:advance.
-- Fixture: tests/fixtures/flows/external.lua.

local H = require "helpers"

local W = { as = "w" }   -- holds external.pdf, external.ocr, external.slow

local function fetch(host, worker, topics, opts, as)
  local body = { worker = worker, topics = topics or { "pdf" } }
  for k, v in pairs(opts or {}) do body[k] = v end
  return host:external_fetch(body, as or W)
end

describe("External", function()
  local host
  before_each(function()
    host = H.open { clock = "manual", users = {
      w = { perms = { "external.pdf", "external.ocr", "external.slow" } },
      pdfonly = { perms = { "external.pdf" } },
      nobody = {},
      boss = { perms = { "external.manage" } },
    } }
  end)
  after_each(function() host:close() end)

  local function start(doc) return host:start("external", "start", { doc = doc or "d" }).process.id end

  it("stays SCHEDULED for a worker: the host's job workers never run it", function()
    local pid = start()
    local t = H.one(host, pid, "render")
    assert.equal("SCHEDULED", t.status)
    assert.equal("external", t.type)
    assert.same({ topic = "pdf", attempts = 0 }, t.external)   -- worker and lease_until null
    assert.equal(0, host:run_jobs())
    assert.equal(0, host:advance(3600))
    assert.equal("SCHEDULED", H.one(host, pid, "render").status)
  end)

  it("fetch leases it, complete merges the cleaned data and the flow continues", function()
    local pid = start("invoice")
    local items = fetch(host, "w1", { "pdf" }, { max = 10, lease = 30 })
    assert.equal(1, #items)
    local it1 = items[1]
    assert.equal("pdf", it1.topic)
    assert.equal(pid, it1.process_id)
    assert.equal("external", it1.flow)
    assert.equal("render", it1.node)
    assert.same({ doc = "invoice" }, it1.data)
    assert.equal(0, it1.attempts)
    assert.equal("2030-01-01T00:00:30.000Z", it1.lease_until)
    local leased = H.one(host, pid, "render")
    assert.same({ topic = "pdf", worker = "w1", lease_until = it1.lease_until, attempts = 0 }, leased.external)
    assert.same({}, fetch(host, "w2"))   -- locked: offered to nobody else
    local out = host:external_complete(it1.id, { worker = "w1", data = { pages = 3, url = "u" } }, W)
    assert.equal("DONE", out.task.status)
    assert.equal("DONE", out.process.status)
    assert.same({ doc = "invoice", pages = 3, url = "u", seen_pages = 3 }, H.data(host, pid))
    assert.same({ "start:DONE", "render:DONE", "after:DONE", "finish:DONE" }, H.trail(host, pid))
    H.refused("conflict", function() host:external_complete(it1.id, { worker = "w1", data = {} }, W) end)
  end)

  it("refuses data its fields refuse, keeping the lease; the flow's fields clean a node without its own", function()
    local pid = start()
    local id = fetch(host, "w1")[1].id
    local err = H.refused("invalid", function()
      host:external_complete(id, { worker = "w1", data = { pages = 0 } }, W)
    end)
    assert.is_string(err.fields.pages)
    assert.equal("SCHEDULED", H.one(host, pid, "render").status)
    host:external_complete(id, { worker = "w1", data = { pages = 2 } }, W)
    assert.equal(2, H.data(host, pid).pages)

    local opid = host:start("external", "start_ocr", {}).process.id
    local oid = fetch(host, "w1", { "ocr" })[1].id
    H.refused("invalid", function() host:external_complete(oid, { worker = "w1", data = { late = "no" } }, W) end)
    host:external_complete(oid, { worker = "w1", data = { text = "hello" } }, W)
    assert.equal("hello", H.data(host, opid).text)
    assert.equal("DONE", H.status(host, opid))
  end)

  it("takes up to max tasks of the asked topics, oldest first, and no other topic", function()
    local a, b, c = start("a"), start("b"), start("c")
    host:start("external", "start_ocr", {})
    local got = fetch(host, "w1", { "pdf" }, { max = 2 })
    assert.same({ a, b }, { got[1].process_id, got[2].process_id })
    got = fetch(host, "w2", { "pdf", "ocr" }, { max = 10 })
    assert.equal(2, #got)
    assert.equal(c, got[1].process_id)
    assert.equal("ocr", got[2].topic)
    assert.same({}, fetch(host, "w3", { "pdf", "ocr" }, { max = 10 }))
    start("d")
    start("e")
    got = fetch(host, "w4", { "pdf", "pdf" }, { max = 10 })   -- a topic asked twice: each task once
    assert.equal(2, #got)
    assert.are_not.equal(got[1].id, got[2].id)
  end)

  it("offers it again once the lease ran out, and counts that; the old worker gets a conflict", function()
    local pid = start()
    local id = fetch(host, "w1", nil, { lease = 30 })[1].id
    host:advance(29)
    assert.same({}, fetch(host, "w2"))
    assert.equal(0, host:external_lease_expiries())
    host:advance(2)
    local again = fetch(host, "w2", nil, { lease = 60 })
    assert.equal(id, again[1].id)
    assert.equal(1, host:external_lease_expiries())
    H.refused("conflict", function() host:external_complete(id, { worker = "w1", data = { pages = 1 } }, W) end)
    H.refused("conflict", function() host:external_fail(id, { worker = "w1", message = "x" }, W) end)
    H.refused("conflict", function() host:external_extend(id, { worker = "w1", lease = 10 }, W) end)
    host:external_complete(id, { worker = "w2", data = { pages = 1 } }, W)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("a lease run out with nobody fetching again is no longer live", function()
    local id = (function() start(); return fetch(host, "w1", nil, { lease = 10 })[1].id end)()
    host:advance(11)
    H.refused("conflict", function() host:external_complete(id, { worker = "w1", data = { pages = 1 } }, W) end)
  end)

  it("extend moves the lease for the holder only", function()
    start()
    local id = fetch(host, "w1", nil, { lease = 10 })[1].id
    local out = host:external_extend(id, { worker = "w1", lease = 100 }, W)
    assert.equal(id, out.id)
    assert.equal("2030-01-01T00:01:40.000Z", out.lease_until)
    H.refused("conflict", function() host:external_extend(id, { worker = "w2", lease = 100 }, W) end)
    host:advance(50)
    assert.same({}, fetch(host, "w2"))   -- still leased
    host:external_complete(id, { worker = "w1", data = { pages = 1 } }, W)
  end)

  it("fail retries per :Retry (retry_in overrides the backoff), then ERROR; a manager revives", function()
    local pid = start()
    local id = fetch(host, "w1")[1].id
    local out = host:external_fail(id, { worker = "w1", message = "printer on fire" }, W)
    assert.equal("SCHEDULED", out.task.status)
    assert.equal(1, out.task.attempts)
    assert.equal("printer on fire", out.task.error.message)
    assert.equal("2030-01-01T00:00:10.000Z", out.task.due_at)   -- backoff 10 s
    assert.same({}, fetch(host, "w1"))
    host:advance(9.9)
    assert.same({}, fetch(host, "w1"))
    host:advance(0.1)
    local again = fetch(host, "w1")[1]
    assert.equal(id, again.id)
    assert.equal(1, again.attempts)
    out = host:external_fail(id, { worker = "w1", message = "again", retry_in = 0 }, W)
    assert.equal("SCHEDULED", out.task.status)
    assert.equal(2, out.task.attempts)
    assert.equal(id, fetch(host, "w1")[1].id)   -- retry_in 0: at once
    out = host:external_fail(id, { worker = "w1", message = "gave up" }, W)
    assert.equal("ERROR", out.task.status)
    assert.equal("gave up", out.task.error.message)
    assert.same({}, fetch(host, "w1"))
    assert.equal("STARTED", H.status(host, pid))
    H.refused("not_found", function() host:revive(id, { as = "w" }) end)   -- a worker sees no process
    host:revive(id, { as = "admin" })
    local fresh = H.last(host, pid, "render")
    assert.equal("SCHEDULED", fresh.status)
    assert.equal(0, fresh.external.attempts)
    local item = fetch(host, "w1")[1]
    assert.equal(fresh.id, item.id)
    host:external_complete(item.id, { worker = "w1", data = { pages = 4 } }, W)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("without :Retry the first failure is an ERROR; a manager may cancel it", function()
    local pid = host:start("external", "start_ocr", {}).process.id
    local id = fetch(host, "w1", { "ocr" })[1].id
    assert.equal("ERROR", host:external_fail(id, { worker = "w1", message = "unreadable" }, W).task.status)
    host:cancel(id, { as = "admin" })
    assert.equal("CANCELED", H.one(host, pid, "ocr").status)
  end)

  it(":OnTimeout fires while a worker holds it; the worker's answer then conflicts", function()
    local pid = host:start("external", "start_slow", {}).process.id
    local id = fetch(host, "w1", { "slow" }, { lease = 600 })[1].id
    assert.equal(1, host:advance(61))
    assert.equal("CANCELED", H.one(host, pid, "slow").status)
    assert.is_true(H.data(host, pid).late)
    assert.equal("DONE", H.status(host, pid))
    H.refused("conflict", function() host:external_complete(id, { worker = "w1", data = {} }, W) end)
  end)

  it("needs external.<topic> for every topic asked or touched (admins may all)", function()
    start()
    host:start("external", "start_ocr", {})
    H.refused("forbidden", function() fetch(host, "w1", { "pdf" }, nil, { as = "nobody" }) end)
    H.refused("forbidden", function() fetch(host, "w1", { "pdf", "ocr" }, nil, { as = "pdfonly" }) end)
    H.refused("forbidden", function() fetch(host, "w1", { "pdf" }, nil, { as = "boss" }) end)
    local ocr = fetch(host, "w1", { "ocr" }, nil, { as = "admin" })[1]
    H.refused("forbidden", function()
      host:external_complete(ocr.id, { worker = "w1", data = {} }, { as = "pdfonly" })
    end)
    local pdf = fetch(host, "w1", { "pdf" }, nil, { as = "pdfonly" })[1]
    host:external_complete(pdf.id, { worker = "w1", data = { pages = 1 } }, { as = "pdfonly" })
  end)

  it("answers not_found for an unknown id or a task that is not external", function()
    local pid = start()
    local start_task = H.one(host, pid, "start")
    H.refused("not_found", function() host:external_complete(999999, { worker = "w1" }, W) end)
    H.refused("not_found", function() host:external_fail(start_task.id, { worker = "w1", message = "m" }, W) end)
    H.refused("not_found", function() host:external_extend(start_task.id, { worker = "w1", lease = 5 }, W) end)
  end)

  it("refuses malformed bodies with bad_request", function()
    local bad = {
      { topics = { "pdf" } },                              -- no worker
      { worker = "", topics = { "pdf" } },
      { worker = "has space", topics = { "pdf" } },
      { worker = string.rep("w", 64), topics = { "pdf" } },
      { worker = "w1" },                                   -- no topics
      { worker = "w1", topics = { "PDF" } },
      { worker = "w1", topics = { 7 } },
      { worker = "w1", topics = { "pdf" }, max = 0 },
      { worker = "w1", topics = { "pdf" }, max = 101 },
      { worker = "w1", topics = { "pdf" }, max = 1.5 },
      { worker = "w1", topics = { "pdf" }, lease = 0 },
      { worker = "w1", topics = { "pdf" }, lease = 86401 },
      { worker = "w1", topics = { "pdf" }, lease = "30" },
      { worker = "w1", topics = { "pdf" }, colour = "red" },
    }
    for i, body in ipairs(bad) do
      H.refused("bad_request", function() host:external_fetch(body, W) end, i)
    end
    start()
    local id = fetch(host, "w1")[1].id
    H.refused("bad_request", function() host:external_fail(id, { worker = "w1" }, W) end)
    H.refused("bad_request", function() host:external_fail(id, { worker = "w1", message = "m", retry_in = -1 }, W) end)
    H.refused("bad_request", function() host:external_extend(id, { worker = "w1" }, W) end)
    H.refused("bad_request", function() host:external_complete(id, { worker = "w1", data = "x" }, W) end)
    assert.equal("SCHEDULED", H.last(host, 1, "render").status)
  end)
end)

describe("External after a reload", function()
  local V1 = [[
local flow = require "flow"
local this = flow.this
return flow.Flow {
  start = flow.StartFunction():Next(this.render),
  render = flow.External { topic = "pdf" }:Next(this.finish),
  finish = flow.End(),
}
]]
  local dir, host
  before_each(function()
    dir = H.tmpdir()
    H.write(dir .. "/pdfs.lua", V1)
    host = H.open { flows = dir }
  end)
  after_each(function()
    host:close()
    H.rmdir(dir)
  end)

  it("keeps the topic it was created with, and is not offered once its node left the flow", function()
    local first = host:start("pdfs", "start", {}).process.id
    H.write(dir .. "/pdfs.lua", (V1:gsub('topic = "pdf"', 'topic = "print"')))
    host:reload()
    local second = host:start("pdfs", "start", {}).process.id
    local got = host:external_fetch { worker = "w", topics = { "print" }, max = 10 }
    assert.same({ second }, { got[1].process_id, got[2] })
    got = host:external_fetch { worker = "w", topics = { "pdf" }, max = 10 }
    assert.same({ first }, { got[1].process_id, got[2] })
    local third = host:start("pdfs", "start", {}).process.id
    H.write(dir .. "/pdfs.lua", (V1:gsub("render", "draw")))
    host:reload()
    assert.same({}, host:external_fetch { worker = "w", topics = { "pdf", "print" }, max = 10 })
    assert.equal("SCHEDULED", H.one(host, third, "render").status)   -- obsolete: a manager cancels it
  end)
end)

describe("flow.External in the DSL", function()
  local flow = require "flow"
  local HEADER = 'local flow = require "flow"; local this, field = flow.this, flow.field\n'
  local function compile(body)
    local ok, result = pcall(assert(load(HEADER .. body, "@inline.lua")))
    if ok then return result end
    return nil, result
  end
  local function flow_with(node)
    return "return flow.Flow { start = flow.Start():Next(this.x), x = " .. node .. ", e = flow.End() }"
  end

  it("compiles topic, fields, :Retry and :OnTimeout into the definition", function()
    local def = assert(compile("return flow.Flow { fields = { n = field.Integer {} },"
      .. " start = flow.Start():Next(this.x),"
      .. " x = flow.External { topic = 'pdf', fields = { 'n' } }:Retry { attempts = 2, backoff = 5 }"
      .. "   :OnTimeout(30, this.e):Next(this.e), e = flow.End() }"))
    local x = def.by_name.x
    assert.equal("external", x.kind)
    assert.equal("pdf", x.topic)
    assert.same({ "n" }, x.fields)
    assert.same({ attempts = 2, backoff = 5 }, x.retry)
    assert.equal(30, x.timeouts[1].seconds)
    assert.is_function(flow.External)
  end)

  it("refuses a missing or malformed topic, unknown options and the methods a Job has not", function()
    for _, case in ipairs {
      { "flow.External {}:Next(this.e)", 'External needs topic = "name"' },
      { "flow.External { topic = 'PDF' }:Next(this.e)", "External: topic must be a name" },
      { "flow.External { topic = 'pdf', colour = 1 }:Next(this.e)", "unknown option 'colour'" },
      { "flow.External { topic = 'pdf' }:Permission('x'):Next(this.e)", "Permission" },
      { "flow.External { topic = 'pdf' }", "Next" },
    } do
      local def, err = compile(flow_with(case[1]))
      assert.is_nil(def, case[1])
      assert.is_truthy(tostring(err.message or err):find(case[2], 1, true), tostring(err.message or err))
    end
  end)
end)
