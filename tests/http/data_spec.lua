-- Search by process data, comments and the audit of submitted data (issue 15) against a real
-- `flowhost serve` with the casefile fixture (tests/fixtures/flows/casefile.lua): exact and range
-- searches of every field kind, combined with the other filters and keyset paging, the 400s,
-- who sees what; comments on processes and tasks with their 400/403/404; a View whose execute
-- needs a comment; the audit of a start and an execute; a flow that gains a search field
-- getting its existing processes indexed at the next start.
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local socket = require "socket"

local ok = C.ok
local flows, srv, admin, alice, bob, carol, dave
local cases = {}   -- customer -> {pid, review task id}

local function esc(s) return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end)) end

local function ids(res)
  local out = {}
  for _, p in ipairs(ok(res).items) do out[#out + 1] = p.id end
  return out
end

local function open_case(client, data)
  local res = ok(client:post("/api/flows/casefile/start/open", { data = data }), 201)
  local review
  for _, t in ipairs(ok(client:get("/api/processes/" .. res.process.id)).tasks) do
    if t.node == "review" then review = t.id end
  end
  return res.process.id, review
end

setup(function()
  flows = C.tmpdir()
  C.write_file(flows .. "/casefile.lua", assert(C.read_file(C.SOURCE .. "/tests/fixtures/flows/casefile.lua")))
  C.write_file(flows .. "/helloworld.lua", assert(C.read_file(C.SOURCE .. "/flows/helloworld.lua")))
  srv = C.server { flows = flows, users = {
      admin = { admin = true }, alice = { perms = { "casefile.open" } }, bob = { perms = { "casefile.open" } },
      carol = { perms = { "casefile.review" } }, dave = {} },
    tokens = { "admin", "alice", "bob", "carol", "dave" } }
  admin, alice, bob, carol, dave = srv:bearer("admin"), srv:bearer("alice"), srv:bearer("bob"), srv:bearer("carol"),
    srv:bearer("dave")
  local p, t = open_case(alice, { customer = "ACME", amount = 100, count = 3, due = "2026-01-10", urgent = true,
                                  kind = "claim", note = "first" })
  cases.acme1 = { pid = p, review = t }
  p, t = open_case(alice, { customer = "Globex", amount = 250.5, count = 1, due = "2026-02-20", urgent = false,
                            kind = "refund", note = "second" })
  cases.globex = { pid = p, review = t }
  p, t = open_case(alice, { customer = "ACME", amount = 900, count = 7, due = "2026-03-05", kind = "refund" })
  cases.acme2 = { pid = p, review = t }
  p, t = open_case(bob, { customer = "ACME", amount = 5, count = 0, due = "2025-12-31" })
  cases.bob = { pid = p, review = t }
end)

teardown(function()
  if srv then
    srv:stop_clean()
    srv:cleanup()
  end
  if flows then os.execute("rm -rf " .. C.quote(flows)) end
end)

describe("search by process data", function()
  it("finds exact matches of text, number, integer, boolean, choice and date fields", function()
    assert.same({ cases.bob.pid, cases.acme2.pid, cases.acme1.pid }, ids(admin:get("/api/processes?data.customer=ACME")))
    assert.same({ cases.globex.pid }, ids(admin:get("/api/processes?data.amount=250.5")))
    assert.same({ cases.acme2.pid }, ids(admin:get("/api/processes?data.count=7")))
    assert.same({ cases.acme1.pid }, ids(admin:get("/api/processes?data.urgent=true")))
    assert.same({ cases.globex.pid }, ids(admin:get("/api/processes?data.urgent=false")))
    assert.same({ cases.acme2.pid, cases.globex.pid }, ids(admin:get("/api/processes?data.kind=refund")))
    assert.same({ cases.acme1.pid }, ids(admin:get("/api/processes?data.due=2026-01-10")))
    assert.same({}, ids(admin:get("/api/processes?data.customer=acme")))   -- exact: case counts
    assert.same({}, ids(admin:get("/api/processes?data.customer=" .. esc("ACME Corp"))))
  end)

  it("takes ranges of numbers and dates, and combines filters with flow, status and paging", function()
    assert.same({ cases.globex.pid, cases.acme1.pid },
      ids(admin:get("/api/processes?data.amount_gte=100&data.amount_lt=900")))
    assert.same({ cases.acme2.pid }, ids(admin:get("/api/processes?data.amount_gt=250.5")))
    assert.same({ cases.bob.pid, cases.acme1.pid }, ids(admin:get("/api/processes?data.amount_lte=100")))
    assert.same({ cases.bob.pid, cases.acme1.pid }, ids(admin:get("/api/processes?data.due_lt=2026-02-01")))
    assert.same({ cases.acme2.pid, cases.globex.pid }, ids(admin:get("/api/processes?data.due_gte=2026-02-01")))
    assert.same({ cases.acme2.pid }, ids(admin:get("/api/processes?data.customer=ACME&data.count_gte=3&data.count_lt=10"
      .. "&data.kind=refund")))
    assert.same({ cases.bob.pid, cases.acme2.pid, cases.acme1.pid },
      ids(admin:get("/api/processes?flow=casefile&status=STARTED&data.customer=ACME")))
    assert.same({}, ids(admin:get("/api/processes?status=DONE&data.customer=ACME")))
    local page1 = ok(admin:get("/api/processes?data.customer=ACME&limit=2"))
    assert.same({ cases.bob.pid, cases.acme2.pid }, { page1.items[1].id, page1.items[2].id })
    assert.equal(cases.acme2.pid, page1.next_after)
    local page2 = ok(admin:get("/api/processes?data.customer=ACME&limit=2&after=" .. page1.next_after))
    assert.equal(1, #page2.items)
    assert.equal(cases.acme1.pid, page2.items[1].id)
    assert.equal(C.null, page2.next_after)
  end)

  it("shows each user only the processes they may see", function()
    assert.same({ cases.bob.pid }, ids(bob:get("/api/processes?data.customer=ACME")))
    assert.same({ cases.acme2.pid, cases.acme1.pid }, ids(alice:get("/api/processes?data.customer=ACME")))
    assert.same({}, ids(dave:get("/api/processes?data.customer=ACME")))
  end)

  it("filters task lists by their process's data", function()
    local function task_pids(res)
      local out = {}
      for _, t in ipairs(ok(res).items) do out[#out + 1] = t.process_id end
      return out
    end
    assert.same({ cases.globex.pid }, task_pids(carol:get("/api/tasks?view=queue&data.customer=Globex")))
    assert.same({ cases.acme2.pid, cases.acme1.pid },
      task_pids(carol:get("/api/tasks?view=queue&flow=casefile&data.customer=ACME&data.amount_gte=100")))
    assert.same({ cases.acme1.pid }, task_pids(admin:get("/api/tasks?view=all&status=NEW&data.urgent=true")))
  end)

  it("answers 400 for a field that is not searchable and for a malformed value", function()
    local bad = {
      "data.note=first",                       -- not searchable
      "data.nope=1",                           -- no such field
      "flow=helloworld&data.customer=ACME",    -- not in that flow
      "data.customer_gte=A",                   -- ranges are for numbers and dates
      "data.kind_lt=claim",
      "data.amount=abc", "data.amount_gte=", "data.count=1e999", "data.amount=0x10",
      "data.due=2026-13-01", "data.due_lt=tomorrow", "data.urgent=yes",
      "data.=x",
    }
    for _, q in ipairs(bad) do
      local e = C.assert_error(admin:get("/api/processes?" .. q), 400, "bad_request")
      assert.truthy(e.message:find("data%."), q .. ": " .. e.message)
    end
    C.assert_error(admin:get("/api/tasks?view=all&data.note=x"), 400, "bad_request")
    local many = {}
    for i = 1, 9 do many[#many + 1] = "data.amount_gte=" .. i end
    C.assert_error(admin:get("/api/processes?data.customer=A&data.count=1&data.amount=1&data.due=2026-01-01"
      .. "&data.urgent=true&data.kind=claim&data.amount_gt=1&data.amount_lt=2&data.count_gt=1"), 400, "bad_request")
  end)
end)

describe("comments", function()
  it("are added and listed on a process and on a task by whoever sees the process", function()
    local pid, tid = cases.acme1.pid, cases.acme1.review
    local c1 = ok(alice:post("/api/processes/" .. pid .. "/comments", { text = "Called the customer." }), 201)
    assert.equal("alice", c1.author)
    assert.equal("Called the customer.", c1.text)
    assert.equal(C.null, c1.task_id)
    assert.truthy(c1.created_at:match("^%d%d%d%d%-%d%d%-%d%dT"))
    local c2 = ok(admin:post("/api/tasks/" .. tid .. "/comments", { text = "Ünïcödé ✓" }), 201)
    assert.equal(tid, c2.task_id)
    assert.equal("admin", c2.author)
    local all = ok(alice:get("/api/processes/" .. pid .. "/comments")).items
    assert.same({ c1.id, c2.id }, { all[1].id, all[2].id })
    local of_task = ok(alice:get("/api/tasks/" .. tid .. "/comments")).items
    assert.equal(1, #of_task)
    assert.equal("Ünïcödé ✓", of_task[1].text)
    ok(alice:post("/api/processes/" .. pid .. "/comments", { text = string.rep("é", 4000) }), 201)
  end)

  it("answers 400 for a bad text, 404 for an unknown or hidden process, 403 for a queue-only task", function()
    local pid, tid = cases.acme1.pid, cases.acme1.review
    for _, body in ipairs { {}, { text = "" }, { text = "   \n" }, { text = 7 }, { text = string.rep("x", 4001) },
                            { text = "a", extra = 1 } } do
      C.assert_error(alice:post("/api/processes/" .. pid .. "/comments", body), 400, "bad_request")
    end
    C.assert_error(alice:post("/api/processes/999999/comments", { text = "x" }), 404, "not_found")
    C.assert_error(alice:get("/api/tasks/999999/comments"), 404, "not_found")
    C.assert_error(dave:get("/api/processes/" .. pid .. "/comments"), 404, "not_found")
    C.assert_error(dave:post("/api/tasks/" .. tid .. "/comments", { text = "x" }), 404, "not_found")
    C.assert_error(bob:get("/api/processes/" .. pid .. "/audit"), 404, "not_found")
    -- carol sees the review task in her queue, not yet its process
    ok(carol:get("/api/tasks/" .. tid))
    C.assert_error(carol:get("/api/tasks/" .. tid .. "/comments"), 403, "forbidden")
    C.assert_error(carol:post("/api/tasks/" .. tid .. "/comments", { text = "x" }), 403, "forbidden")
    C.assert_error(srv:anon():get("/api/processes/" .. pid .. "/comments"), 401, "unauthenticated")
    local res = alice:request("DELETE", "/api/processes/" .. pid .. "/comments")
    C.assert_error(res, 405, "method_not_allowed")
  end)
end)

describe("a View with comment = \"required\"", function()
  it("needs a comment to execute, stores it with the task, and the audit shows the change", function()
    local pid, tid = cases.globex.pid, cases.globex.review
    ok(carol:post("/api/tasks/" .. tid .. "/assign", {}))
    C.assert_error(carol:post("/api/tasks/" .. tid .. "/execute", { data = { amount = 300 } }), 400, "bad_request")
    C.assert_error(carol:post("/api/tasks/" .. tid .. "/execute", { data = { amount = 300 }, comment = "" }), 400,
      "bad_request")
    assert.same({ cases.globex.pid }, ids(admin:get("/api/processes?data.amount=250.5")))   -- nothing written
    ok(carol:post("/api/tasks/" .. tid .. "/execute", { data = { amount = 300 }, comment = "Checked the invoice." }))
    local cs = ok(carol:get("/api/tasks/" .. tid .. "/comments")).items
    assert.equal(1, #cs)
    assert.same({ "carol", "Checked the invoice.", tid }, { cs[1].author, cs[1].text, cs[1].task_id })
    -- the index follows the data in the same write
    assert.same({}, ids(admin:get("/api/processes?data.amount=250.5")))
    assert.same({ pid }, ids(admin:get("/api/processes?data.amount=300")))
    local audit = ok(carol:get("/api/processes/" .. pid .. "/audit")).items
    assert.equal(2, #audit)
    assert.same({ "alice", "open" }, { audit[1].user, audit[1].node })
    local started = {}
    for _, c in ipairs(audit[1].changes) do started[c.field] = c end
    assert.equal(C.null, started.customer.old)
    assert.equal("Globex", started.customer.new)
    assert.equal(250.5, started.amount.new)
    assert.same({ "carol", "review", tid }, { audit[2].user, audit[2].node, audit[2].task_id })
    assert.same({ { field = "amount", old = 250.5, new = 300 } }, audit[2].changes)
    -- a View without the option takes an optional comment, and checks it
    local settle
    for _, t in ipairs(ok(carol:get("/api/processes/" .. pid)).tasks) do
      if t.node == "settle" then settle = t.id end
    end
    ok(carol:post("/api/tasks/" .. settle .. "/assign", {}))
    C.assert_error(carol:post("/api/tasks/" .. settle .. "/execute", { comment = 5 }), 400, "bad_request")
    ok(carol:post("/api/tasks/" .. settle .. "/execute", { data = { customer = "Globex" } }))
    assert.equal(2, #ok(carol:get("/api/processes/" .. pid .. "/audit")).items)   -- nothing changed: no entry
    local graph = ok(admin:get("/api/flows/casefile"))
    for _, n in ipairs(graph.nodes) do
      if n.name == "review" then assert.equal("required", n.comment) end
      if n.name == "settle" then assert.is_nil(n.comment) end
    end
    local customer
    for _, f in ipairs(graph.fields) do if f.name == "customer" then customer = f end end
    assert.is_true(customer.search)
  end)
end)

describe("a flow that gains a search field", function()
  it("has its existing processes indexed at the next start", function()
    C.assert_error(admin:get("/api/processes?data.note=first"), 400, "bad_request")
    local src = assert(C.read_file(flows .. "/casefile.lua"))
    src = src:gsub('note     = field.Text    { label = "Note" }', 'note     = field.Text    { label = "Note", search = true }')
    C.write_file(flows .. "/casefile.lua", src)
    srv:stop_clean()
    srv:start { }
    admin = srv:bearer("admin")
    assert.same({ cases.acme1.pid }, ids(admin:get("/api/processes?data.note=first")))
    assert.same({ cases.globex.pid }, ids(admin:get("/api/processes?data.note=second")))
  end)

  it("after a hot reload, has them indexed by the job workers while requests go on", function()
    local src = assert(C.read_file(flows .. "/casefile.lua"))
    src = src:gsub('note     = field.Text    { label = "Note", search = true }',
                   'note     = field.Text    { label = "Note" }')
    C.write_file(flows .. "/casefile.lua", src)
    -- the reload drops the field: searching it is refused again
    local deadline = socket.gettime() + 10
    while admin:get("/api/processes?data.note=first").status ~= 400 and socket.gettime() < deadline do C.sleep(0.05) end
    C.assert_error(admin:get("/api/processes?data.note=first"), 400, "bad_request")
    src = src:gsub('note     = field.Text    { label = "Note" }', 'note     = field.Text    { label = "Note", search = true }')
    C.write_file(flows .. "/casefile.lua", src)
    -- no request does the indexing: each answers at once, and the workers' index shows up
    local found
    deadline = socket.gettime() + 15
    repeat
      local t0 = socket.gettime()
      local res = admin:get("/api/processes?data.note=first")
      assert.is_true(socket.gettime() - t0 < 2, "a request waited for the indexing")
      if res.status == 200 and #res.json.items == 1 then found = res.json.items[1].id end
      if not found then C.sleep(0.05) end
    until found or socket.gettime() > deadline
    assert.equal(cases.acme1.pid, found)
    assert.same({ cases.globex.pid }, ids(admin:get("/api/processes?data.note=second")))
    assert.matches("search index of flow 'casefile'", C.read_file(srv.err) or "", 1, true)
  end)
end)
