-- The JSON API of http-api.md against a real `flowhost serve` with the example flows:
-- whole processes as several users, authentication and CSRF, permissions and visibility,
-- every error row, the listing parameters, the flow chart, and concurrent actions.
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"

local srv, admin, alice, bob, carol, dave, clerk, packer, alice_api, bob_api

local function find(items, pred)
  for _, item in ipairs(items) do
    if pred(item) then return item end
  end
end

local function tasks_of(process_json, node)
  local out = {}
  for _, t in ipairs(process_json.tasks) do
    if t.node == node then out[#out + 1] = t end
  end
  return out
end

local function ok(res, status)
  assert(res.status == (status or 200), string.format("expected %d, got %d: %s", status or 200, res.status, res.body))
  assert((res.headers["content-type"] or ""):find("application/json", 1, true), "not JSON: " .. tostring(res.headers["content-type"]))
  return res.json
end

local function start_hello(client, text)
  return ok(client:post("/api/flows/helloworld/start/start", { data = { text = text or "hello" } }), 201)
end

-- The approve task of a fresh helloworld process started by alice.
local function approve_task(text)
  local started = start_hello(alice, text)
  return find(started.tasks, function(t) return t.node == "approve" end), started.process
end

setup(function()
  srv = C.server {
    users = {
      admin = { admin = true },
      alice = { perms = { "helloworld.start" } },
      bob = { perms = { "helloworld.approve" } },
      carol = {},
      dave = { perms = { "helloworld.manage", "helloworld.approve" } },
      clerk = { perms = { "shipment.start", "shipment.clerk" } },
      packer = { perms = { "shipment.package", "shipment.warehouse" } },
    },
    tokens = { "alice", "bob" },
  }
  admin, alice, bob, carol = srv:login("admin"), srv:login("alice"), srv:login("bob"), srv:login("carol")
  dave, clerk, packer = srv:login("dave"), srv:login("clerk"), srv:login("packer")
  alice_api, bob_api = srv:bearer("alice"), srv:bearer("bob")
end)

teardown(function()
  if srv then
    local log = srv:stop_clean()
    srv:cleanup()
    -- one access-log line per request: client, method, path, status, duration
    assert.matches("127%.0%.0%.1 GET /api/health 200 [%d.]+ms", log)
  end
end)

describe("health and sessions", function()
  it("answers /api/health without authentication", function()
    local h = ok(srv:anon():get("/api/health"))
    assert.equal("ok", h.status)
    assert.equal("ok", h.db)
    assert.is_true(h.flows >= 3)
  end)

  it("logs in, shows the session, and logs out", function()
    local c = srv:login("alice")
    local res = c.login_response
    assert.equal("alice", res.json.user.username)
    assert.is_false(res.json.user.is_admin)
    assert.same({ "helloworld.start" }, res.json.user.permissions)
    assert.equal("string", type(res.json.csrf_token))
    assert.matches("HttpOnly", res.cookies[1])
    assert.matches("SameSite=Lax", res.cookies[1])
    assert.matches("Path=/", res.cookies[1])
    local s = ok(c:get("/api/session"))
    assert.equal("alice", s.user.username)
    assert.equal(res.json.csrf_token, s.csrf_token)
    -- logout needs the CSRF token like every cookie-authenticated change
    C.assert_error(c:delete("/api/session", { csrf = false }), 403, "forbidden")
    local out = c:delete("/api/session")
    ok(out)
    assert.matches("Max%-Age=0", out.cookies[1])
    C.assert_error(c:get("/api/session"), 401, "unauthenticated")
    C.assert_error(c:get("/api/tasks"), 401, "unauthenticated")
  end)

  it("refuses wrong credentials with 401 and malformed logins with 400", function()
    local _, res = C.login(srv.port, "alice", "wrong password")
    C.assert_error(res, 401, "unauthenticated")
    assert.same({}, res.cookies)
    _, res = C.login(srv.port, "nobody", C.PASSWORD)
    C.assert_error(res, 401, "unauthenticated")
    C.assert_error(srv:anon():post("/api/session", { username = "alice" }), 400, "bad_request")
    C.assert_error(srv:anon():post("/api/session", { username = "alice", password = 5 }), 400, "bad_request")
    C.assert_error(srv:anon():post("/api/session", { username = "alice", password = "x", remember = true }), 400,
      "bad_request")
    C.assert_error(srv:anon():post("/api/session", '{"username": "alice", '), 400, "bad_request")
  end)

  it("answers 401 without a session or token, or with bad ones", function()
    C.assert_error(srv:anon():get("/api/flows"), 401, "unauthenticated")
    -- no credentials at all: signed out is an answer (the UI's first probe), not an error
    local none = ok(srv:anon():get("/api/session"))
    assert.equal(C.null, none.user)
    assert.equal(C.null, none.csrf_token)
    C.assert_error(srv:client({ token = "0123456789abcdef" }):get("/api/session"), 401, "unauthenticated")
    C.assert_error(srv:client({ token = "0123456789abcdef" }):get("/api/tasks"), 401, "unauthenticated")
    C.assert_error(srv:client({ cookie = string.rep("a", 64) }):get("/api/tasks"), 401, "unauthenticated")
    local res = srv:anon():get("/api/tasks", { headers = { Authorization = "Basic YWxpY2U6cHc=" } })
    C.assert_error(res, 401, "unauthenticated")
    assert.matches("Bearer", res.headers["www-authenticate"])
  end)

  it("takes bearer tokens without CSRF, and shows no CSRF token for them", function()
    local s = ok(alice_api:get("/api/session"))
    assert.equal("alice", s.user.username)
    assert.equal(C.null, s.csrf_token)
    local started = ok(alice_api:post("/api/flows/helloworld/start/start", { data = { text = "by token" } }), 201)
    assert.equal("alice", started.process.created_by)
  end)

  it("requires the CSRF token on cookie-authenticated writes", function()
    C.assert_error(alice:post("/api/flows/helloworld/start/start", { data = { text = "x" } }, { csrf = false }),
      403, "forbidden")
    C.assert_error(alice:post("/api/flows/helloworld/start/start", { data = { text = "x" } },
      { csrf = string.rep("0", 64) }), 403, "forbidden")
    local other = srv:login("alice")   -- a second session has its own token
    C.assert_error(alice:post("/api/flows/helloworld/start/start", { data = { text = "x" } },
      { csrf = other.auth.csrf }), 403, "forbidden")
    -- reads need no CSRF token
    ok(alice:get("/api/tasks?view=inbox", { csrf = false }))
    ok(alice:post("/api/flows/helloworld/start/start", { data = { text = "x" } }), 201)
  end)
end)

describe("helloworld end to end", function()
  it("alice starts, bob takes it from the queue and approves, the process is DONE", function()
    local started = start_hello(alice, "Hello from alice")
    local pid = started.process.id
    assert.equal("STARTED", started.process.status)
    assert.equal("alice", started.process.created_by)
    assert.equal("Send 'Hello from alice'", started.process.summary)
    local approve = find(started.tasks, function(t) return t.node == "approve" end)
    assert.equal("NEW", approve.status)
    assert.equal(C.null, approve.owner)

    -- bob sees it in his queue (with counts), alice does not
    local queue = ok(bob_api:get("/api/tasks?view=queue&flow=helloworld&limit=500"))
    assert.truthy(find(queue.items, function(t) return t.id == approve.id end))
    local counts = ok(bob_api:get("/api/tasks/counts"))
    assert.is_true(counts.queue >= 1)
    assert.equal("number", type(counts.inbox))
    local aq = ok(alice:get("/api/tasks?view=queue"))
    assert.is_nil(find(aq.items, function(t) return t.id == approve.id end))

    -- the task as bob sees it: a form and what he may do now
    local view = ok(bob:get("/api/tasks/" .. approve.id))
    assert.equal(approve.id, view.task.id)
    assert.same({ "assign" }, view.actions)
    assert.equal("approved", view.form.fields[1].name)

    local assigned = ok(bob:post("/api/tasks/" .. approve.id .. "/assign"))
    assert.equal("ASSIGNED", assigned.task.status)
    assert.equal("bob", assigned.task.owner)
    local inbox = ok(bob:get("/api/tasks?view=inbox"))
    assert.truthy(find(inbox.items, function(t) return t.id == approve.id end))
    assert.is_true(ok(bob:get("/api/tasks/counts")).inbox >= 1)

    local done = ok(bob:post("/api/tasks/" .. approve.id .. "/execute", { data = { approved = true } }))
    assert.equal("DONE", done.task.status)
    assert.equal("DONE", done.process.status)
    local archive = ok(bob:get("/api/tasks?view=archive"))
    assert.truthy(find(archive.items, function(t) return t.id == approve.id end))

    local p = ok(alice:get("/api/processes/" .. pid))
    assert.equal("DONE", p.process.status)
    assert.is_true(p.process.data.approved)
    assert.equal("number", type(p.process.data.sent_at))
    assert.equal("string", type(p.process.finished_at))
    for _, node in ipairs { "start", "approve", "check_approve", "send", "finish" } do
      local ts = tasks_of(p, node)
      assert.equal(1, #ts, node)
      assert.equal("DONE", ts[1].status, node)
    end
    -- bob took part, so he sees the process too; carol sees nothing of it
    ok(bob:get("/api/processes/" .. pid))
    C.assert_error(carol:get("/api/processes/" .. pid), 404, "not_found")
    C.assert_error(carol:get("/api/tasks/" .. approve.id), 404, "not_found")
    local listed = ok(carol:get("/api/processes"))
    assert.is_nil(find(listed.items, function(x) return x.id == pid end))
    local mine = ok(alice:get("/api/processes?flow=helloworld&status=DONE"))
    assert.truthy(find(mine.items, function(x) return x.id == pid end))
  end)

  it("runs the manager transitions: unassign, reassign, cancel, revive, undo, process cancel", function()
    local approve, proc = approve_task("managed")
    local id = "/api/tasks/" .. approve.id
    ok(bob:post(id .. "/assign"))
    C.assert_error(carol:post(id .. "/unassign"), 404, "not_found")   -- carol cannot even see it
    local un = ok(bob:post(id .. "/unassign"))
    assert.equal("NEW", un.task.status)
    ok(bob:post(id .. "/assign"))
    C.assert_error(bob:post(id .. "/reassign", { user = "admin" }), 403, "forbidden")
    local bad = C.assert_error(dave:post(id .. "/reassign", { user = "carol" }), 400, "invalid")
    assert.equal("string", type(bad.fields.user))
    local re = ok(dave:post(id .. "/reassign", { user = "admin" }))
    assert.equal("admin", re.task.owner)
    -- alice started the process and bob owned the task before the reassign: both took part,
    -- so both still see it, but only the new owner may execute
    C.assert_error(alice:post(id .. "/execute", { data = { approved = false } }), 403, "forbidden")
    C.assert_error(bob:post(id .. "/execute", { data = { approved = false } }), 403, "forbidden")
    assert.equal("admin", ok(bob:get(id)).task.owner)
    local canceled = ok(dave:post(id .. "/cancel"))
    assert.equal("CANCELED", canceled.task.status)
    local revived = ok(dave:post(id .. "/revive"))
    assert.equal("REVIVED", revived.task.status)
    assert.equal(1, #revived.tasks)
    assert.equal("approve", revived.tasks[1].node)
    assert.equal("NEW", revived.tasks[1].status)
    -- undo of the start task is refused; the process cancel ends everything
    local p = ok(dave:get("/api/processes/" .. proc.id))
    local start_task = tasks_of(p, "start")[1]
    C.assert_error(dave:post("/api/tasks/" .. start_task.id .. "/undo"), 409, "conflict")
    C.assert_error(alice:post("/api/processes/" .. proc.id .. "/cancel"), 403, "forbidden")
    local pc = ok(dave:post("/api/processes/" .. proc.id .. "/cancel"))
    assert.equal("CANCELED", pc.status)
    assert.equal(proc.id, pc.id)
    C.assert_error(dave:post("/api/processes/" .. proc.id .. "/cancel"), 409, "conflict")
    C.assert_error(dave:post("/api/tasks/" .. revived.tasks[1].id .. "/assign"), 409, "conflict")
  end)

  it("refuses undo once the process has finished", function()
    -- approve executed with approved=false leads straight to finish: nothing to cancel after it
    local approve = approve_task("undo me")
    ok(bob:post("/api/tasks/" .. approve.id .. "/assign"))
    local done = ok(bob:post("/api/tasks/" .. approve.id .. "/execute", { data = { approved = false } }))
    assert.equal("DONE", done.process.status)
    -- the process is finished, so undo is a conflict now
    C.assert_error(dave:post("/api/tasks/" .. approve.id .. "/undo"), 409, "conflict")
  end)
end)

describe("shipment through its parallel branches", function()
  it("runs clerk and warehouse branches, nested split and joins, to DONE", function()
    local started = ok(clerk:post("/api/flows/shipment/start/start", { data = {
      customer_name = "ACME", address = "1 Road", weight = 3.5, goods_value = 2000,
    } }), 201)
    local pid = started.process.id
    local set_type = find(started.tasks, function(t) return t.node == "set_shipment_type" end)
    local package = find(started.tasks, function(t) return t.node == "package_goods" end)
    assert.truthy(set_type and package)
    local split = tasks_of(ok(clerk:get("/api/processes/" .. pid)), "split_clerk_warehouse")[1]
    assert.same({ "start/" .. split.id .. "_1", "start/" .. split.id .. "_2" }, { set_type.token, package.token })

    -- the packer may take the packing task, so he reads the process and the clerk's task
    -- (a queue candidate, issue 14) — read-only: it is not his to take, before or after
    assert.same({}, ok(packer:get("/api/tasks/" .. set_type.id)).actions)
    C.assert_error(packer:post("/api/tasks/" .. set_type.id .. "/assign"), 403, "forbidden")
    ok(packer:post("/api/tasks/" .. package.id .. "/assign"))
    assert.same({}, ok(packer:get("/api/tasks/" .. set_type.id)).actions)
    C.assert_error(packer:post("/api/tasks/" .. set_type.id .. "/assign"), 403, "forbidden")
    ok(clerk:post("/api/tasks/" .. set_type.id .. "/assign"))
    local r = ok(clerk:post("/api/tasks/" .. set_type.id .. "/execute",
      { data = { carrier = "default", need_insurance = true } }))
    local insurance = find(r.tasks, function(t) return t.node == "request_insurance" end)
    local label = find(r.tasks, function(t) return t.node == "fill_post_label" end)
    assert.truthy(insurance and label)

    r = ok(packer:post("/api/tasks/" .. package.id .. "/execute", { data = { package_count = 2 } }))
    assert.equal("STARTED", r.process.status)

    -- a wrong value is a field error
    ok(clerk:post("/api/tasks/" .. label.id .. "/assign"))
    local e = C.assert_error(clerk:post("/api/tasks/" .. label.id .. "/execute", { data = { post_label = 12 } }),
      400, "invalid")
    assert.equal("string", type(e.fields.post_label))
    ok(clerk:post("/api/tasks/" .. label.id .. "/execute", { data = { post_label = "ACME, 1 Road" } }))
    ok(clerk:post("/api/tasks/" .. insurance.id .. "/assign"))
    r = ok(clerk:post("/api/tasks/" .. insurance.id .. "/execute", { data = { insurance_number = "INS-7" } }))
    local move = find(r.tasks, function(t) return t.node == "move_package" end)
    assert.truthy(move, "both joins done: move_package created")
    assert.equal("ASSIGNED", move.status)
    assert.equal("packer", move.owner)   -- :Assign(this.package_goods.owner)

    r = ok(packer:post("/api/tasks/" .. move.id .. "/execute", { data = { tracking_number = "T-1" } }))
    assert.equal("DONE", r.process.status)
    local p = ok(clerk:get("/api/processes/" .. pid))
    assert.equal(1, #tasks_of(p, "join_clerk_warehouse"))
    assert.equal("DONE", tasks_of(p, "join_normal_post")[1].status)
    assert.equal("T-1", p.process.data.tracking_number)
    assert.equal(2, p.process.data.package_count)
  end)
end)

describe("flows and the flow chart", function()
  it("lists flows with their start nodes and what the user may start", function()
    local flows = ok(alice:get("/api/flows"))
    local hello = find(flows.items, function(f) return f.name == "helloworld" end)
    assert.equal("Hello, world", hello.title)
    assert.equal("ok", hello.status)
    assert.is_true(hello.start_nodes[1].can_start)
    local ship = find(flows.items, function(f) return f.name == "shipment" end)
    assert.is_false(ship.start_nodes[1].can_start)
  end)

  it("shows a definition with nodes and edges", function()
    local def = ok(alice:get("/api/flows/helloworld"))
    assert.equal("helloworld", def.name)
    assert.truthy(find(def.nodes, function(n) return n.name == "check_approve" and n.type == "if" end))
    assert.truthy(find(def.edges, function(e) return e.from == "check_approve" and e.kind == "true" end))
    assert.truthy(find(def.fields, function(f) return f.name == "text" and f.type == "string" end))
  end)

  it("draws every node with id=\"node-<name>\", as SVG", function()
    for _, flow in ipairs { "helloworld", "shipment" } do
      local def = ok(alice:get("/api/flows/" .. flow))
      for _ = 1, 2 do   -- the second answer comes from the cache and must be the same
        local res = alice:get("/api/flows/" .. flow .. "/graph.svg")
        assert.equal(200, res.status)
        assert.equal("image/svg+xml", res.headers["content-type"])
        assert.matches("^<%?xml", res.body)
        assert.matches("</svg>%s*$", res.body)
        for _, n in ipairs(def.nodes) do
          assert.truthy(res.body:find('id="node-' .. n.name .. '"', 1, true), flow .. ": no element for " .. n.name)
        end
      end
    end
    C.assert_error(alice:get("/api/flows/nosuchflow/graph.svg"), 404, "not_found")
    C.assert_error(srv:anon():get("/api/flows/helloworld/graph.svg"), 401, "unauthenticated")
  end)
end)

describe("task listings", function()
  local ids = {}
  setup(function()
    for i = 1, 3 do ids[i] = approve_task("page " .. i).id end
  end)

  it("pages with limit and after, newest first or oldest first", function()
    local p1 = ok(bob:get("/api/tasks?view=queue&flow=helloworld&limit=2"))
    assert.equal(2, #p1.items)
    assert.is_true(p1.items[1].id > p1.items[2].id)
    assert.equal(p1.items[2].id, p1.next_after)
    local p2 = ok(bob:get("/api/tasks?view=queue&flow=helloworld&limit=2&after=" .. p1.next_after))
    assert.is_true(p2.items[1].id < p1.items[2].id)
    local asc = ok(bob:get("/api/tasks?view=queue&flow=helloworld&sort=created_at&limit=500"))
    assert.is_true(asc.items[1].id < asc.items[#asc.items].id)
    assert.equal(C.null, asc.next_after)
    local desc = ok(bob:get("/api/tasks?view=queue&flow=helloworld&sort=-created_at&limit=500"))
    assert.equal(asc.items[1].id, desc.items[#desc.items].id)
  end)

  it("filters by process, status and creation dates", function()
    local t = ok(bob:get("/api/tasks/" .. ids[2])).task
    local by_proc = ok(bob:get("/api/tasks?view=queue&process=" .. t.process_id))
    assert.equal(1, #by_proc.items)
    assert.equal(ids[2], by_proc.items[1].id)
    local today = t.created_at:sub(1, 10)
    local since = ok(bob:get("/api/tasks?view=queue&flow=helloworld&since=" .. today))
    assert.truthy(find(since.items, function(x) return x.id == ids[2] end))
    local until_today = ok(bob:get("/api/tasks?view=queue&flow=helloworld&until=" .. today))   -- inclusive day
    assert.truthy(find(until_today.items, function(x) return x.id == ids[2] end))
    local old = ok(bob:get("/api/tasks?view=queue&until=2000-01-01"))
    assert.same({}, old.items)
    local future = ok(bob:get("/api/tasks?view=queue&since=2999-01-01T00:00:00Z"))
    assert.same({}, future.items)
    local all = ok(dave:get("/api/tasks?view=all&status=NEW&flow=helloworld&limit=500"))
    assert.truthy(find(all.items, function(x) return x.id == ids[1] end))
    for _, x in ipairs(all.items) do assert.equal("NEW", x.status) end
  end)

  it("refuses bad parameters with 400", function()
    for _, q in ipairs {
      "view=bogus", "limit=0", "limit=501", "limit=abc", "after=-3", "after=x", "process=1.5",
      "status=SLEEPING", "sort=title", "since=yesterday", "until=2024-13-40", "unknown=1",
      "view=inbox&view=queue", "flow=%zz",
    } do
      C.assert_error(bob:get("/api/tasks?" .. q), 400, "bad_request")
    end
    C.assert_error(bob:get("/api/processes?view=inbox"), 400, "bad_request")
    C.assert_error(bob:get("/api/processes?status=ASSIGNED"), 400, "bad_request")
    C.assert_error(bob:get("/api/tasks/counts?x=1"), 400, "bad_request")
    C.assert_error(bob:get("/api/flows?x=1"), 400, "bad_request")
    -- view=all is for managers
    C.assert_error(bob:get("/api/tasks?view=all"), 403, "forbidden")
  end)
end)

describe("the error table of http-api.md", function()
  it("400 bad_request: not JSON, wrong types, unknown fields", function()
    local path = "/api/flows/helloworld/start/start"
    C.assert_error(alice:post(path, "{not json"), 400, "bad_request")
    C.assert_error(alice:post(path, '{"data": {"text": "x"}'), 400, "bad_request")   -- truncated
    C.assert_error(alice:post(path, "[1, 2]"), 400, "bad_request")
    C.assert_error(alice:post(path, { data = 5 }), 400, "bad_request")
    C.assert_error(alice:post(path, { data = "text" }), 400, "bad_request")
    C.assert_error(alice:post(path, { data = { text = "x" }, extra = 1 }), 400, "bad_request")
    C.assert_error(alice:post(path, '{"data": {}, "data": {}}'), 400, "bad_request")
    C.assert_error(alice:post(path, "text=x", { headers = { ["Content-Type"] = "application/x-www-form-urlencoded" } }),
      400, "bad_request")
    C.assert_error(alice:post(path, '{"data": {"text": "x"}}', { headers = { ["Content-Type"] = "text/plain" } }),
      400, "bad_request")
    -- a body with no Content-Type at all (what an untyped cross-site blob sends)
    local raw = C.request(srv.port, "POST", path, { body = '{"data": {"text": "x"}}', no_content_type = true,
      headers = { Authorization = "Bearer " .. srv.tokens.alice } })
    C.assert_error(raw, 400, "bad_request")
    ok(C.request(srv.port, "POST", path, { body = '{"data": {"text": "x"}}',
      headers = { Authorization = "Bearer " .. srv.tokens.alice, ["Content-Type"] = "application/json; charset=utf-8" } }), 201)
    local approve = approve_task("types")
    C.assert_error(bob:post("/api/tasks/" .. approve.id .. "/assign", { user = "bob" }), 400, "bad_request")
    ok(bob:post("/api/tasks/" .. approve.id .. "/assign"))
    C.assert_error(dave:post("/api/tasks/" .. approve.id .. "/reassign", {}), 400, "bad_request")
    C.assert_error(dave:post("/api/tasks/" .. approve.id .. "/reassign", { user = 7 }), 400, "bad_request")
    C.assert_error(bob:post("/api/tasks/" .. approve.id .. "/execute", { data = { 1, 2 } }), 400, "bad_request")
    C.assert_error(bob:post("/api/tasks/" .. approve.id .. "/execute", { data = {}, approved = true }), 400,
      "bad_request")
    -- none of this changed the task
    assert.equal("ASSIGNED", ok(bob:get("/api/tasks/" .. approve.id)).task.status)
  end)

  it("400 invalid: form data fails the field validation, with fields", function()
    local e = C.assert_error(alice:post("/api/flows/helloworld/start/start", { data = {} }), 400, "invalid")
    assert.equal("string", type(e.fields.text))
    e = C.assert_error(alice:post("/api/flows/helloworld/start/start", { data = { text = "x", bogus = 1 } }), 400,
      "invalid")
    assert.equal("string", type(e.fields.bogus))
    e = C.assert_error(alice:post("/api/flows/helloworld/start/start", { data = { text = string.rep("x", 151) } }),
      400, "invalid")
    assert.equal("string", type(e.fields.text))
  end)

  it("403 forbidden: permission, not the owner", function()
    C.assert_error(carol:post("/api/flows/helloworld/start/start", { data = { text = "x" } }), 403, "forbidden")
    C.assert_error(carol:post("/api/flows/sample/start/start", { data = {} }), 403, "forbidden")
    local approve = approve_task("owner")
    C.assert_error(alice:post("/api/tasks/" .. approve.id .. "/assign"), 403, "forbidden")
    ok(bob:post("/api/tasks/" .. approve.id .. "/assign"))
    C.assert_error(dave:post("/api/tasks/" .. approve.id .. "/execute", { data = { approved = true } }), 403,
      "forbidden")
  end)

  it("404 not_found: flow, node, process, task, route, ids", function()
    C.assert_error(alice:get("/api/flows/nosuchflow"), 404, "not_found")
    C.assert_error(alice:post("/api/flows/nosuchflow/start/start", { data = {} }), 404, "not_found")
    C.assert_error(alice:post("/api/flows/helloworld/start/approve", { data = {} }), 404, "not_found")
    C.assert_error(alice:post("/api/flows/helloworld/start/nosuchnode", { data = {} }), 404, "not_found")
    C.assert_error(alice:get("/api/processes/999999"), 404, "not_found")
    C.assert_error(alice:post("/api/processes/999999/cancel"), 404, "not_found")
    C.assert_error(alice:get("/api/tasks/999999"), 404, "not_found")
    C.assert_error(bob:post("/api/tasks/999999/assign"), 404, "not_found")
    -- ids that are not positive integers match no route: 404 too
    for _, id in ipairs { "abc", "0", "-1", "1.0", "1e3", "01", "99999999999999999999" } do
      C.assert_error(alice:get("/api/tasks/" .. id), 404, "not_found")
      C.assert_error(alice:get("/api/processes/" .. id), 404, "not_found")
    end
    for _, path in ipairs { "/api", "/api/", "/api/nothing", "/api/tasks/", "/api/tasks/1/fly",
                            "/api/flows/helloworld/graph.png", "/api/flows/hello%20world" } do
      C.assert_error(alice:get(path), 404, "not_found")
    end
    C.assert_error(bob:post("/api/tasks/1/nosuchaction"), 404, "not_found")
  end)

  it("405 method_not_allowed on a known path, with Allow", function()
    local res = alice:delete("/api/tasks")
    C.assert_error(res, 405, "method_not_allowed")
    assert.matches("GET", res.headers["allow"])
    res = alice:get("/api/tasks/1/assign")
    C.assert_error(res, 405, "method_not_allowed")
    assert.equal("POST", res.headers["allow"])
    C.assert_error(alice:request("PUT", "/api/session", {}), 405, "method_not_allowed")
    C.assert_error(alice:post("/api/flows/helloworld"), 405, "method_not_allowed")
  end)

  it("409 conflict: the transition is not possible now", function()
    local approve = approve_task("conflict")
    local e = C.assert_error(bob:post("/api/tasks/" .. approve.id .. "/execute", { data = { approved = true } }),
      409, "conflict")
    assert.matches("assign it first", e.message)
    C.assert_error(bob:post("/api/tasks/" .. approve.id .. "/unassign"), 409, "conflict")
    ok(bob:post("/api/tasks/" .. approve.id .. "/assign"))
    C.assert_error(dave:post("/api/tasks/" .. approve.id .. "/assign"), 409, "conflict")
    C.assert_error(dave:post("/api/tasks/" .. approve.id .. "/revive"), 409, "conflict")
  end)
end)

describe("concurrent actions", function()
  it("lets exactly one of several executes of the same task win; the others get 409", function()
    for round = 1, 3 do
      local approve = approve_task("race " .. round)
      ok(bob_api:post("/api/tasks/" .. approve.id .. "/assign"))
      local texts = {}
      for i = 1, 8 do
        texts[i] = bob_api:text("POST", "/api/tasks/" .. approve.id .. "/execute", { data = { approved = true } })
      end
      local wins, conflicts = 0, 0
      for _, res in ipairs(C.concurrent(srv.port, texts)) do
        if res.status == 200 then wins = wins + 1
        elseif res.status == 409 then conflicts = conflicts + 1
        else error("unexpected " .. res.status .. ": " .. res.body) end
      end
      assert.equal(1, wins)
      assert.equal(7, conflicts)
      local p = ok(alice:get("/api/processes/" .. approve.process_id))
      assert.equal("DONE", p.process.status)
      assert.equal(1, #tasks_of(p, "send"))
      assert.equal(1, #tasks_of(p, "finish"))
    end
  end)

  it("lets exactly one of two users assign the same task", function()
    -- (both managers: a loser who is not would no longer see the task, and get 404)
    local approve = approve_task("assign race")
    local res = C.concurrent(srv.port, {
      admin:text("POST", "/api/tasks/" .. approve.id .. "/assign", {}),
      dave:text("POST", "/api/tasks/" .. approve.id .. "/assign", {}),
      admin:text("POST", "/api/tasks/" .. approve.id .. "/assign", {}),
      dave:text("POST", "/api/tasks/" .. approve.id .. "/assign", {}),
    })
    local wins, owner = 0, nil
    for _, r in ipairs(res) do
      if r.status == 200 then
        wins = wins + 1
        owner = r.json.task.owner
      else
        C.assert_error(r, 409, "conflict")
      end
    end
    assert.equal(1, wins)
    assert.equal(owner, ok(dave:get("/api/tasks/" .. approve.id)).task.owner)
  end)
end)
