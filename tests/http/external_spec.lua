-- Black-box specs of the external task routes (issue 15, http-api.md "External tasks"):
-- POST /api/external/fetch and /api/external/{id}/complete|fail|extend against a real
-- `flowhost serve`: the shapes, every error code (400/401/403/404/405/409), two workers racing
-- on fetch, lease expiry, retries then ERROR then revive; and examples/pdf_worker.py run
-- against the host for a handful of invoices.
-- Fixtures: tests/fixtures/flows/external.lua, flows/invoice_pdf.lua.
-- The server has no test clock: the one lease expiry here waits out a one-second lease (the
-- clock-driven expiry and backoff are in tests/lua/external_spec.lua).

package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local ok, assert_error = C.ok, C.assert_error

local srv, flows, admin, bot, pdfonly, nobody

setup(function()
  flows = C.tmpdir()
  C.write_file(flows .. "/external.lua", assert(C.read_file(C.SOURCE .. "/tests/fixtures/flows/external.lua")))
  C.write_file(flows .. "/invoice_pdf.lua", assert(C.read_file(C.SOURCE .. "/flows/invoice_pdf.lua")))
  srv = C.server {
    flows = flows,
    users = {
      admin = { admin = true },
      bot = { perms = { "external.pdf", "external.ocr", "external.slow" } },
      pdfonly = { perms = { "external.pdf" } },
      nobody = {},
    },
    tokens = { "admin", "bot", "pdfonly", "nobody" },
  }
  admin, bot, pdfonly, nobody = srv:bearer("admin"), srv:bearer("bot"), srv:bearer("pdfonly"), srv:bearer("nobody")
end)

teardown(function()
  if srv then
    srv:stop_clean()
    srv:cleanup()
  end
  if flows then os.execute("rm -rf " .. C.quote(flows)) end
end)

local function start(doc)
  return ok(admin:post("/api/flows/external/start/start", { data = { doc = doc or "d" } }), 201).process.id
end

local function fetch(client, worker, topics, extra)
  local body = { worker = worker, topics = topics or { "pdf" }, max = 10, lease = 30 }
  for k, v in pairs(extra or {}) do body[k] = v end
  return ok(client:post("/api/external/fetch", body)).items
end

local function task_of(pid, node)
  local found
  for _, t in ipairs(ok(admin:get("/api/processes/" .. pid)).tasks) do
    if t.node == node and t.type ~= "timeout" then found = t end
  end
  return found
end

-- Takes every task of these topics that is free now, so that each test starts clean.
local function drain(topics)
  for _, item in ipairs(fetch(admin, "drain", topics or { "pdf", "ocr", "slow" }, { max = 100, lease = 86400 })) do
    admin:post("/api/tasks/" .. item.id .. "/cancel", {})
  end
end

describe("external tasks over HTTP", function()
  before_each(function() drain() end)

  it("fetch answers the items, complete merges the data and continues the flow", function()
    local pid = start("invoice")
    local items = fetch(bot, "w1")
    assert.equal(1, #items)
    local it1 = items[1]
    assert.same({ "attempts", "data", "flow", "id", "lease_until", "node", "process_id", "topic" },
      (function() local k = {} for key in pairs(it1) do k[#k + 1] = key end table.sort(k) return k end)())
    assert.equal("pdf", it1.topic)
    assert.equal(pid, it1.process_id)
    assert.equal("external", it1.flow)
    assert.equal("render", it1.node)
    assert.same({ doc = "invoice" }, it1.data)
    assert.equal(0, it1.attempts)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT", it1.lease_until)
    local page = ok(admin:get("/api/tasks/" .. it1.id)).task
    assert.equal("SCHEDULED", page.status)
    assert.same({ topic = "pdf", worker = "w1", lease_until = it1.lease_until, attempts = 0 }, page.external)
    local done = ok(bot:post("/api/external/" .. it1.id .. "/complete", { worker = "w1", data = { pages = 5 } }))
    assert.equal("DONE", done.task.status)
    assert.equal("DONE", done.process.status)
    local p = ok(admin:get("/api/processes/" .. pid)).process
    assert.same({ doc = "invoice", pages = 5, seen_pages = 5 }, p.data)
  end)

  it("answers 400 for every malformed body or a query, in the error shape", function()
    start()
    for _, body in ipairs {
      "not json", "[1, 2]", '"text"', "{}",
      { worker = "w1" }, { topics = { "pdf" } },
      { worker = "w 1", topics = { "pdf" } }, { worker = 7, topics = { "pdf" } },
      { worker = "w1", topics = {} }, { worker = "w1", topics = { "Bad!" } }, { worker = "w1", topics = "pdf" },
      { worker = "w1", topics = { "pdf" }, max = 0 }, { worker = "w1", topics = { "pdf" }, max = 101 },
      { worker = "w1", topics = { "pdf" }, max = 2.5 }, { worker = "w1", topics = { "pdf" }, max = "5" },
      { worker = "w1", topics = { "pdf" }, lease = 0 }, { worker = "w1", topics = { "pdf" }, lease = 1e9 },
      { worker = "w1", topics = { "pdf" }, extra = true },
    } do
      assert_error(bot:post("/api/external/fetch", body), 400, "bad_request")
    end
    assert_error(bot:post("/api/external/fetch?max=3", { worker = "w1", topics = { "pdf" } }), 400, "bad_request")
    local id = fetch(bot, "w1")[1].id
    local base = "/api/external/" .. id
    assert_error(bot:post(base .. "/complete", { data = {} }), 400, "bad_request")
    assert_error(bot:post(base .. "/complete", { worker = "w1", data = { 1, 2 } }), 400, "bad_request")
    assert_error(bot:post(base .. "/complete", { worker = "w1", data = {}, x = 1 }), 400, "bad_request")
    assert_error(bot:post(base .. "/fail", { worker = "w1" }), 400, "bad_request")
    assert_error(bot:post(base .. "/fail", { worker = "w1", message = "" }), 400, "bad_request")
    assert_error(bot:post(base .. "/fail", { worker = "w1", message = "m", retry_in = -1 }), 400, "bad_request")
    assert_error(bot:post(base .. "/extend", { worker = "w1" }), 400, "bad_request")
    assert_error(bot:post(base .. "/extend", { worker = "w1", lease = 0 }), 400, "bad_request")
    -- the flow's fields refuse the data: 400 invalid with the fields, and the lease holds
    local e = assert_error(bot:post(base .. "/complete", { worker = "w1", data = { pages = 0 } }), 400, "invalid")
    assert.is_string(e.fields.pages)
    ok(bot:post(base .. "/complete", { worker = "w1", data = { pages = 1 } }))
  end)

  it("answers 401 without credentials, 403 without external.<topic>, 404, 405 and 409", function()
    start()
    ok(admin:post("/api/flows/external/start/start_ocr", {}), 201)
    assert_error(srv:anon():post("/api/external/fetch", { worker = "w1", topics = { "pdf" } }), 401, "unauthenticated")
    assert_error(nobody:post("/api/external/fetch", { worker = "w1", topics = { "pdf" } }), 403, "forbidden")
    assert_error(pdfonly:post("/api/external/fetch", { worker = "w1", topics = { "pdf", "ocr" } }), 403, "forbidden")
    local ocr = fetch(bot, "w1", { "ocr" })[1]
    assert_error(pdfonly:post("/api/external/" .. ocr.id .. "/complete", { worker = "w1", data = {} }), 403,
      "forbidden")
    assert_error(nobody:post("/api/external/" .. ocr.id .. "/extend", { worker = "w1", lease = 5 }), 403, "forbidden")
    assert_error(bot:post("/api/external/99999999/complete", { worker = "w1", data = {} }), 404, "not_found")
    local start_task = task_of(ocr.process_id, "start_ocr")
    assert_error(bot:post("/api/external/" .. start_task.id .. "/fail", { worker = "w1", message = "m" }), 404,
      "not_found")
    assert_error(bot:post("/api/external/abc/complete", { worker = "w1" }), 404, "not_found")
    assert_error(bot:post("/api/external/" .. ocr.id .. "/finish", { worker = "w1" }), 404, "not_found")
    assert_error(bot:get("/api/external/fetch"), 405, "method_not_allowed")
    for _, verb in ipairs { "complete", "fail", "extend" } do
      local body = { worker = "w2", data = {}, message = "m", lease = 5 }
      if verb ~= "complete" then body.data = nil end
      if verb ~= "fail" then body.message = nil end
      if verb ~= "extend" then body.lease = nil end
      assert_error(bot:post("/api/external/" .. ocr.id .. "/" .. verb, body), 409, "conflict")
    end
    local pdf = fetch(pdfonly, "w3")[1]
    ok(pdfonly:post("/api/external/" .. pdf.id .. "/complete", { worker = "w3", data = { pages = 2 } }))
    assert_error(pdfonly:post("/api/external/" .. pdf.id .. "/complete", { worker = "w3", data = {} }), 409,
      "conflict")
    ok(admin:post("/api/external/" .. ocr.id .. "/complete", { worker = "w1", data = { text = "t" } }))
  end)

  it("two workers fetching at once get disjoint tasks", function()
    for i = 1, 12 do start("race" .. i) end
    local body = function(w) return { worker = w, topics = { "pdf" }, max = 8, lease = 60 } end
    local texts = {}
    for i = 1, 4 do texts[i] = bot:text("POST", "/api/external/fetch", body("racer" .. i)) end
    local answers = C.concurrent(srv.port, texts)
    local seen, total = {}, 0
    for _, res in ipairs(answers) do
      for _, item in ipairs(ok(res).items) do
        assert.is_nil(seen[item.id], "task " .. item.id .. " fetched twice")
        seen[item.id] = true
        total = total + 1
      end
    end
    assert.equal(12, total)
    assert.same({}, fetch(bot, "late"))
  end)

  -- one counter of GET /metrics (Prometheus text), as a number
  local function metric(name)
    local res = admin:get("/metrics")
    assert.equal(200, res.status)
    return tonumber(res.body:match("\n" .. name .. " (%d+)"))
  end

  it("offers a task again once its lease ran out; extend keeps it", function()
    local fetched0, expired0 = metric("flowhost_external_tasks_fetched_total"),
      metric("flowhost_external_task_lease_expiries_total")
    local completed0 = metric("flowhost_external_tasks_completed_total")
    -- w2 extends its one-second lease right after the fetch, and w1 fetches only then: on a
    -- loaded machine a second may pass over a few requests, and w2 would find w1's task free
    -- again too, or hold no live lease any more to extend
    local kept = start()
    local other = fetch(bot, "w2", nil, { lease = 1 })[1].id
    ok(bot:post("/api/external/" .. other .. "/extend", { worker = "w2", lease = 60 }))
    assert.equal(kept, ok(admin:get("/api/tasks/" .. other)).task.process_id)
    start()
    local id = fetch(bot, "w1", nil, { lease = 1 })[1].id
    C.sleep(1.2)
    local again = fetch(bot, "w3")
    assert.equal(1, #again)
    assert.equal(id, again[1].id)
    assert_error(bot:post("/api/external/" .. id .. "/complete", { worker = "w1", data = {} }), 409, "conflict")
    ok(bot:post("/api/external/" .. id .. "/complete", { worker = "w3", data = { pages = 1 } }))
    ok(bot:post("/api/external/" .. other .. "/complete", { worker = "w2", data = { pages = 1 } }))
    -- the metrics saw three fetches, one of them after an expired lease, and two completions
    assert.equal(fetched0 + 3, metric("flowhost_external_tasks_fetched_total"))
    assert.equal(expired0 + 1, metric("flowhost_external_task_lease_expiries_total"))
    assert.equal(completed0 + 2, metric("flowhost_external_tasks_completed_total"))
  end)

  it("retries as :Retry says, then ERROR with the message; a manager revives it", function()
    local pid = start()
    local id = fetch(bot, "w1")[1].id
    local t = ok(bot:post("/api/external/" .. id .. "/fail", { worker = "w1", message = "jam" })).task
    assert.equal("SCHEDULED", t.status)
    assert.equal(1, t.attempts)
    assert.equal("jam", t.error.message)
    assert.same({}, fetch(bot, "w1"))   -- the backoff (10 s) is not over
    -- a manager may cancel and revive it meanwhile: a fresh task, attempts from 0
    assert_error(bot:post("/api/external/" .. id .. "/extend", { worker = "w1", lease = 5 }), 409, "conflict")
    ok(admin:post("/api/tasks/" .. id .. "/cancel", {}))
    ok(admin:post("/api/tasks/" .. id .. "/revive", {}))
    local fresh = task_of(pid, "render")
    assert.equal("SCHEDULED", fresh.status)
    local item = fetch(bot, "w1")[1]
    assert.equal(fresh.id, item.id)
    for attempt = 1, 2 do   -- retry_in overrides the backoff
      t = ok(bot:post("/api/external/" .. item.id .. "/fail", { worker = "w1", message = "jam " .. attempt,
        retry_in = 0 })).task
      assert.equal("SCHEDULED", t.status)
      item = fetch(bot, "w1")[1]
      assert.equal(attempt, item.attempts)
    end
    t = ok(bot:post("/api/external/" .. item.id .. "/fail", { worker = "w1", message = "out of paper" })).task
    assert.equal("ERROR", t.status)
    assert.equal("out of paper", t.error.message)
    assert.same({}, fetch(bot, "w1"))
    assert_error(bot:post("/api/tasks/" .. item.id .. "/revive", {}), 404, "not_found")   -- no manager
    ok(admin:post("/api/tasks/" .. item.id .. "/revive", {}))
    item = fetch(bot, "w1")[1]
    assert.equal(0, item.attempts)
    ok(bot:post("/api/external/" .. item.id .. "/complete", { worker = "w1", data = { pages = 9 } }))
    assert.equal("DONE", ok(admin:get("/api/processes/" .. pid)).process.status)
  end)
end)

describe("examples/pdf_worker.py", function()
  it("renders a handful of invoices and completes them with its data", function()
    local pids = {}
    for i = 1, 5 do
      pids[i] = ok(admin:post("/api/flows/invoice_pdf/start/start",
        { data = { customer = "Customer " .. i, amount = 100 * i } }), 201).process.id
    end
    local out = C.tmpdir()
    local cmd = string.format("timeout 60 python3 %s --url http://127.0.0.1:%d --token %s --worker py1 --max 2"
      .. " --lease 30 --step 0 --out %s --until-idle 2>%s", C.quote(C.SOURCE .. "/examples/pdf_worker.py"), srv.port,
      C.quote(srv.tokens.bot), C.quote(out .. "/pdfs"), C.quote(out .. "/log"))
    local rc = os.execute(cmd)
    local log = C.read_file(out .. "/log") or ""
    assert.is_true(rc == true or rc == 0, "the worker failed:\n" .. log)
    for i, pid in ipairs(pids) do
      local p = ok(admin:get("/api/processes/" .. pid)).process
      assert.equal("DONE", p.status, log)
      assert.equal(1, p.data.pages)
      local path = out .. "/pdfs/invoice-" .. pid .. ".pdf"
      assert.equal("file://" .. path, p.data.pdf_url)
      local pdf = assert(C.read_file(path))
      assert.equal("%PDF-1.4", pdf:sub(1, 8))
      assert.truthy(pdf:find("Customer " .. i, 1, true))
      assert.is_number(p.data.filed_at)
    end
    os.execute("rm -rf " .. C.quote(out))
  end)

  it("extends its lease during work longer than the lease", function()
    local pid = ok(admin:post("/api/flows/invoice_pdf/start/start", { data = { customer = "Slow", amount = 5 } }),
      201).process.id
    local out = C.tmpdir()
    -- three lines of 0.8 s each: 2.4 s of work on a 2 s lease, which would run out without extend
    local cmd = string.format("timeout 60 python3 %s --url http://127.0.0.1:%d --token %s --worker py3 --lease 2"
      .. " --step 0.8 --out %s --until-idle 2>%s", C.quote(C.SOURCE .. "/examples/pdf_worker.py"), srv.port,
      C.quote(srv.tokens.bot), C.quote(out), C.quote(out .. "/log"))
    local rc = os.execute(cmd)
    local log = C.read_file(out .. "/log") or ""
    assert.is_true(rc == true or rc == 0, "the worker failed:\n" .. log)
    local p = ok(admin:get("/api/processes/" .. pid)).process
    assert.equal("DONE", p.status, log)
    assert.equal("file://" .. out .. "/invoice-" .. pid .. ".pdf", p.data.pdf_url)
    os.execute("rm -rf " .. C.quote(out))
  end)

  it("reports a failure that the flow retries, and stops on SIGTERM", function()
    local pid = ok(admin:post("/api/flows/invoice_pdf/start/start", { data = { customer = "X", amount = 1 } }),
      201).process.id
    local render = task_of(pid, "render")
    local out = C.tmpdir()
    -- a folder where the worker writes the PDF: the rendering fails, the worker reports it
    assert(os.execute("mkdir -p " .. C.quote(out .. "/pdfs/invoice-" .. pid .. ".pdf.part")))
    local cmd = string.format("python3 %s --url http://127.0.0.1:%d --token %s --worker py2 --step 0 --out %s"
      .. " --idle-max 0.2 >/dev/null 2>%s & echo $! > %s", C.quote(C.SOURCE .. "/examples/pdf_worker.py"),
      srv.port, C.quote(srv.tokens.bot), C.quote(out .. "/pdfs"), C.quote(out .. "/log"), C.quote(out .. "/pid"))
    os.execute(cmd)
    local deadline = os.time() + 20
    local t
    repeat
      C.sleep(0.1)
      t = ok(admin:get("/api/tasks/" .. render.id)).task
    until (t.attempts or 0) >= 1 or os.time() > deadline
    local wpid = assert(tonumber(C.read_file(out .. "/pid")))
    os.execute("kill -TERM " .. wpid)
    local gone = false
    for _ = 1, 100 do
      if not os.execute("kill -0 " .. wpid .. " 2>/dev/null") then gone = true break end
      C.sleep(0.05)
    end
    local log = C.read_file(out .. "/log") or ""
    assert.is_true(gone, "the worker did not stop on SIGTERM:\n" .. log)
    assert.equal("SCHEDULED", t.status, log)   -- :Retry { attempts = 3, backoff = 10 }
    assert.equal(1, t.attempts, log)
    assert.truthy(t.error.message:find("IsADirectoryError", 1, true), t.error.message)
    assert.truthy(log:find("stopped", 1, true), log)
    ok(admin:post("/api/tasks/" .. render.id .. "/cancel", {}))
    os.execute("rm -rf " .. C.quote(out))
  end)
end)
