-- Messages and signals over HTTP (POST /api/messages/{name}, POST /api/signals/{name}) against
-- a real `flowhost serve` with the events fixture flow (tests/fixtures/flows/events.lua):
-- delivery to a waiting receiver, a message kept until a receiver starts, a signal to every
-- waiting receiver, the message.<name> permission, CSRF, and every 400/405 of the routes.
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"

local flows, srv, admin, payer, payer_web, carol, carol_api

local ok = C.ok

local function find(items, pred)
  for _, item in ipairs(items) do
    if pred(item) then return item end
  end
end

-- Starts a process at a start function of the events flow (a manager's right: admin).
local function start(node, data)
  return ok(admin:post("/api/flows/events/start/" .. node, { data = data or {} }), 201)
end

local function process(pid)
  return ok(admin:get("/api/processes/" .. pid))
end

local function task_of(p, node)
  return find(p.tasks, function(t) return t.node == node end)
end

-- A payment receiver waiting for the order key; returns the process id.
local function waiting_payment(order)
  local started = start("pay", { order = order })
  assert.equal("STARTED", started.process.status)
  local wait = task_of(process(started.process.id), "wait_payment")
  assert.equal("STARTED", wait.status)
  return started.process.id, wait.id
end

setup(function()
  flows = C.tmpdir()
  C.write_file(flows .. "/events.lua", assert(C.read_file(C.SOURCE .. "/tests/fixtures/flows/events.lua")))
  srv = C.server {
    flows = flows,
    users = {
      admin = { admin = true },
      payer = { perms = { "message.payment", "message.bell" } },
      carol = {},
    },
    tokens = { "admin", "payer", "carol" },
  }
  admin, payer, carol_api = srv:bearer("admin"), srv:bearer("payer"), srv:bearer("carol")
  payer_web, carol = srv:login("payer"), srv:login("carol")
end)

teardown(function()
  if srv then
    srv:stop_clean()
    srv:cleanup()
  end
  if flows then os.execute("rm -rf " .. C.quote(flows)) end
end)

describe("POST /api/messages/{name}", function()
  it("delivers to the receiver waiting for the name and key: the process goes on with the data", function()
    local pid, wait_id = waiting_payment("A-1")
    local sent = ok(payer:post("/api/messages/payment", { key = "A-1", data = { amount = 12.5 } }))
    assert.equal("payment", sent.message)
    assert.equal("A-1", sent.key)
    assert.equal(C.null, sent.kept)
    assert.equal(1, #sent.completed)
    local t = sent.completed[1]
    assert.equal(wait_id, t.id)
    assert.equal(pid, t.process_id)
    assert.equal("wait_payment", t.node)
    assert.equal("DONE", t.status)
    local p = process(pid)
    assert.equal("DONE", p.process.status)
    assert.equal(12.5, p.process.data.amount)
    assert.equal("A-1", p.process.data.order)
    assert.equal("DONE", task_of(p, "finish").status)
    -- the receiver is gone: the same message again is kept, not delivered twice
    local again = ok(payer:post("/api/messages/payment", { key = "A-1", data = { amount = 1 }, ttl = 1 }))
    assert.same({}, again.completed)
    assert.equal("number", type(again.kept.id))
    assert.equal(12.5, process(pid).process.data.amount)
  end)

  it("takes an integer key as its decimal text", function()
    local pid = waiting_payment("42")
    local sent = ok(payer:post("/api/messages/payment", { key = 42, data = { amount = 3 } }))
    assert.equal("42", sent.key)
    assert.equal(1, #sent.completed)
    assert.equal(pid, sent.completed[1].process_id)
    assert.equal("DONE", process(pid).process.status)
  end)

  it("keeps a message nobody waits for, for the receiver started later", function()
    local sent = ok(payer:post("/api/messages/payment", { key = "B-7", data = { amount = 99 }, ttl = 3600 }))
    assert.equal("B-7", sent.key)
    assert.same({}, sent.completed)
    assert.equal("table", type(sent.kept))
    assert.equal("number", type(sent.kept.id))
    assert.is_true(math.type(sent.kept.id) == "integer" and sent.kept.id > 0)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", sent.kept.expires_at)
    -- a receiver for another key does not take it
    local other = start("pay", { order = "B-8" })
    assert.equal("STARTED", process(other.process.id).process.status)
    -- the receiver for B-7 takes it as it is created: its process runs to the end at once
    local started = start("pay", { order = "B-7" })
    local p = process(started.process.id)
    assert.equal("DONE", p.process.status)
    assert.equal(99, p.process.data.amount)
    assert.equal("DONE", task_of(p, "wait_payment").status)
    -- taken once: the next receiver for B-7 waits
    local next_one = start("pay", { order = "B-7" })
    assert.equal("STARTED", process(next_one.process.id).process.status)
  end)

  it("answers the receiver's field errors as 400 invalid and delivers nothing", function()
    local pid = waiting_payment("C-3")
    local e = C.assert_error(payer:post("/api/messages/payment", { key = "C-3", data = { amount = "lots" } }), 400,
      "invalid")
    assert.equal("table", type(e.fields))
    assert.equal("string", type(e.fields.amount))
    local p = process(pid)
    assert.equal("STARTED", p.process.status)
    assert.equal("STARTED", task_of(p, "wait_payment").status)
    assert.is_nil(p.process.data.amount)
    ok(payer:post("/api/messages/payment", { key = "C-3", data = { amount = 7 } }))
    assert.equal(7, process(pid).process.data.amount)
  end)

  it("needs the permission message.<name>: 403 without it, 200 once granted; 401 without a login", function()
    local pid = waiting_payment("D-4")
    local e = C.assert_error(carol_api:post("/api/messages/payment", { key = "D-4", data = { amount = 1 } }), 403,
      "forbidden")
    assert.matches("message%.payment", e.message)
    C.assert_error(carol:post("/api/messages/payment", { key = "D-4" }), 403, "forbidden")
    C.assert_error(srv:anon():post("/api/messages/payment", { key = "D-4" }), 401, "unauthenticated")
    assert.equal("STARTED", process(pid).process.status)
    -- a session needs the CSRF token like every cookie-authenticated change
    C.assert_error(payer_web:post("/api/messages/payment", { key = "D-4" }, { csrf = false }), 403, "forbidden")
    assert.equal("STARTED", process(pid).process.status)

    -- granted through this host (its own change holds for the next request; one by another
    -- program, the CLI, reaches a host on PostgreSQL by notification, moments later: pg_spec)
    ok(admin:post("/api/users/carol/grants", { permission = "message.payment" }))
    local sent = ok(carol_api:post("/api/messages/payment", { key = "D-4", data = { amount = 2 } }))
    assert.equal(pid, sent.completed[1].process_id)
    assert.equal("DONE", process(pid).process.status)
    -- the grant is for payment only
    C.assert_error(carol_api:post("/api/signals/bell", {}), 403, "forbidden")
    -- an admin may send anything; a session with its CSRF token too
    local pid2 = waiting_payment("D-5")
    ok(payer_web:post("/api/messages/payment", { key = "D-5", data = { amount = 5 } }))
    assert.equal("DONE", process(pid2).process.status)
    ok(admin:post("/api/messages/payment", { key = "D-6" }))
  end)

  it("refuses bad bodies and names with 400 bad_request, and changes nothing", function()
    local pid = waiting_payment("E-5")
    local path = "/api/messages/payment"
    local bad = {
      { "not JSON", '{"key": "E-5", ' },
      { "not an object", '["E-5"]' },
      { "empty body: no key", "" },
      { "no key", { data = { amount = 1 } } },
      { "float key", { key = 1.5 } },
      { "boolean key", { key = true } },
      { "null key", '{"key": null}' },
      { "empty key", { key = "" } },
      { "object key", { key = { id = 1 } } },
      { "array data", '{"key": "E-5", "data": [1]}' },
      { "string data", { key = "E-5", data = "x" } },
      { "number data", { key = "E-5", data = 5 } },
      { "unknown body key", { key = "E-5", amount = 1 } },
      { "zero ttl", { key = "E-5", ttl = 0 } },
      { "negative ttl", { key = "E-5", ttl = -5 } },
      { "string ttl", { key = "E-5", ttl = "60" } },
      { "ttl over ten years", { key = "E-5", ttl = 1e12 } },
      { "duplicate key", '{"key": "E-5", "key": "E-6"}' },
      { "key over 200 bytes", { key = string.rep("k", 201) } },
    }
    for _, case in ipairs(bad) do
      local res = payer:post(path, case[2])
      assert(res.status == 400, case[1] .. ": expected 400, got " .. res.status .. ": " .. res.body)
      C.assert_error(res, 400, "bad_request")
    end
    -- a body must be sent as JSON
    local res = C.request(srv.port, "POST", path, { body = '{"key": "E-5"}', no_content_type = true,
      headers = { Authorization = "Bearer " .. srv.tokens.payer } })
    C.assert_error(res, 400, "bad_request")
    -- query parameters are not taken
    C.assert_error(payer:post(path .. "?key=E-5", { key = "E-5" }), 400, "bad_request")
    -- names the engine refuses
    for _, name in ipairs { "Payment", "1pay", "pay%20ment", "pay$", string.rep("p", 101) } do
      local r = payer:post("/api/messages/" .. name, { key = "E-5" })
      assert(r.status == 400, name .. ": expected 400, got " .. r.status .. ": " .. r.body)
      assert.matches("name", C.assert_error(r, 400, "bad_request").message)
    end
    local p = process(pid)
    assert.equal("STARTED", p.process.status)
    assert.equal("STARTED", task_of(p, "wait_payment").status)
  end)

  it("is POST only: 405 with an Allow header, and 404 without a name", function()
    for _, method in ipairs { "GET", "DELETE", "PUT" } do
      local res = payer:request(method, "/api/messages/payment", nil)
      C.assert_error(res, 405, "method_not_allowed")
      assert.equal("POST", res.headers["allow"])
    end
    C.assert_error(payer:post("/api/messages/", { key = "x" }), 404, "not_found")
    C.assert_error(payer:post("/api/messages", { key = "x" }), 404, "not_found")
    C.assert_error(payer:post("/api/messages/payment/x", { key = "x" }), 404, "not_found")
  end)
end)

describe("POST /api/signals/{name}", function()
  it("completes every receiver waiting for the signal now, and is never kept", function()
    -- nobody waits: nothing happens, and nothing is kept for later
    local none = ok(payer:post("/api/signals/bell", {}))
    assert.same({ signal = "bell", completed = {} }, none)
    local a, b = start("bell"), start("bell")
    local other = waiting_payment("F-6")
    local rung = ok(payer_web:post("/api/signals/bell", { data = { note = "rung" } }))
    assert.equal("bell", rung.signal)
    assert.is_nil(rung.kept)
    assert.equal(2, #rung.completed)
    local pids = {}
    for _, t in ipairs(rung.completed) do
      assert.equal("wait_bell", t.node)
      assert.equal("DONE", t.status)
      pids[t.process_id] = true
    end
    assert.is_true(pids[a.process.id] and pids[b.process.id])
    for _, pid in ipairs { a.process.id, b.process.id } do
      local p = process(pid)
      assert.equal("DONE", p.process.status)
      assert.equal("rung", p.process.data.note)
    end
    assert.equal("STARTED", process(other).process.status)
    -- a bell started after the signal waits for the next one; an empty body is {}
    local late = start("bell")
    assert.equal("STARTED", process(late.process.id).process.status)
    local res = payer:request("POST", "/api/signals/bell", "")
    assert.equal(1, #ok(res).completed)
    assert.equal("DONE", process(late.process.id).process.status)
  end)

  it("refuses bad bodies and names with 400, other users with 403, other methods with 405", function()
    local bell = start("bell")
    local path = "/api/signals/bell"
    for _, body in ipairs { '{"data": ', '{"key": "x"}', '{"ttl": 5}', '{"data": [1]}', '{"data": "x"}', "[]" } do
      local res = payer:post(path, body)
      assert(res.status == 400, body .. ": expected 400, got " .. res.status .. ": " .. res.body)
      C.assert_error(res, 400, "bad_request")
    end
    C.assert_error(payer:post("/api/signals/Bell", {}), 400, "bad_request")
    C.assert_error(payer:post("/api/signals/" .. string.rep("b", 101), {}), 400, "bad_request")
    C.assert_error(carol_api:post(path, {}), 403, "forbidden")
    C.assert_error(payer_web:post(path, {}, { csrf = false }), 403, "forbidden")
    C.assert_error(srv:anon():post(path, {}), 401, "unauthenticated")
    local res = payer:get(path)
    C.assert_error(res, 405, "method_not_allowed")
    assert.equal("POST", res.headers["allow"])
    assert.equal("STARTED", process(bell.process.id).process.status)
    ok(payer:post(path, '{"data": null}'))
    assert.equal("DONE", process(bell.process.id).process.status)
  end)
end)

describe("GET /api/tasks?sort=due_at", function()
  it("lists the earliest due first and tasks without a due date last; refuses other sorts", function()
    local late = start("review", { delay = 7200 }).process.id
    local early = start("review", { delay = 60 }).process.id
    local plain = start("hang").process.id
    local list = ok(admin:get("/api/tasks?view=all&status=NEW&sort=due_at&limit=500")).items
    local order = {}
    for _, t in ipairs(list) do
      if t.process_id == late or t.process_id == early or t.process_id == plain then order[#order + 1] = t end
    end
    assert.equal(early, order[1].process_id)
    assert.equal(late, order[2].process_id)
    assert.is_string(order[1].due_at)
    assert.equal(plain, order[3].process_id)
    assert.is_nil(order[3].due_at)
    local bad = admin:get("/api/tasks?view=all&sort=due")
    assert.equal(400, bad.status)
    assert.equal("bad_request", bad.json.error.code)
  end)
end)
