-- The administration API (issue 14; docs/http-api.md, Administration): users, groups,
-- grants, tokens of a user, known permissions, scheduled work and incidents, each route's
-- 400/403/404/405/409; the last active admin is kept; disabling ends sessions and tokens.
-- Also two defects of the issue seen through the API: a queue candidate reads the process
-- of a task it may take (1), and a flow error reads by role (3).
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local ok, err = C.ok, C.assert_error

local srv, admin, alice, alice_api, mgr, flows

setup(function()
  -- a copy of the fixtures (links resolved): defect 11 adds a flow file to it
  flows = C.tmpdir()
  assert(os.execute("cp -L " .. C.quote(C.SOURCE .. "/tests/fixtures/admin") .. "/*.lua " .. C.quote(flows)))
  srv = C.server {
    users = {
      admin = { admin = true },
      alice = { perms = { "helloworld.start" } },
      bob = {},
      mgr = { perms = { "helloworld.manage", "raising.manage" } },
    },
    tokens = { "alice", "admin" },
    flows = flows,
  }
  admin, alice, alice_api, mgr = srv:login("admin"), srv:login("alice"), srv:bearer("alice"), srv:login("mgr")
end)

teardown(function()
  if srv then
    srv:stop_clean()
    srv:cleanup()
  end
  if flows then os.execute("rm -rf " .. C.quote(flows)) end
end)

local function patch(client, path, body) return client:request("PATCH", path, body) end

local function user_of(items, name)
  for _, u in ipairs(items) do if u.username == name then return u end end
end

describe("users", function()
  it("lists users with groups, grants, permissions, active and admin; for admins only", function()
    local items = ok(admin:get("/api/users")).items
    local a = user_of(items, "alice")
    assert.same({ "helloworld.start" }, a.grants)
    assert.same({ "helloworld.start" }, a.permissions)
    assert.same({}, a.groups)
    assert.is_true(a.active)
    assert.is_false(a.is_admin)
    assert.is_true(user_of(items, "admin").is_admin)
    assert.is_string(a.created_at)
    err(alice:get("/api/users"), 403, "forbidden")
    err(mgr:get("/api/users"), 403, "forbidden")
    err(srv:anon():get("/api/users"), 401, "unauthenticated")
    err(admin:get("/api/users?x=1"), 400, "bad_request")
    err(admin:request("PUT", "/api/users", {}), 405, "method_not_allowed")
  end)

  it("creates a user with a password, or with a one-time password shown once", function()
    local made = ok(admin:post("/api/users", { username = "carol", password = "carol's secret" }), 201)
    assert.equal("carol", made.user.username)
    assert.is_nil(made.password)
    assert.truthy(C.login(srv.port, "carol", "carol's secret"))
    local gen = ok(admin:post("/api/users", { username = "dave", is_admin = false }), 201)
    assert.equal(16, #gen.password)
    assert.truthy(C.login(srv.port, "dave", gen.password))
    assert.is_nil(ok(admin:get("/api/users/dave")).password)   -- shown once
    err(admin:post("/api/users", { username = "carol" }), 409, "conflict")
    err(admin:post("/api/users", { username = "" }), 400, "bad_request")
    err(admin:post("/api/users", { username = "@grp" }), 400, "bad_request")
    err(admin:post("/api/users", { username = string.rep("x", 64) }), 400, "bad_request")
    err(admin:post("/api/users", { username = "eve", is_admin = "yes" }), 400, "bad_request")
    err(admin:post("/api/users", { username = "eve", color = "red" }), 400, "bad_request")
    err(admin:post("/api/users", { username = "eve", password = 7 }), 400, "bad_request")
    err(alice:post("/api/users", { username = "eve" }), 403, "forbidden")
    err(admin:get("/api/users/nobody"), 404, "not_found")
  end)

  it("disables (ending sessions and tokens) and enables a user", function()
    ok(admin:post("/api/users", { username = "frank", password = "frank's secret" }), 201)
    local frank = assert(C.login(srv.port, "frank", "frank's secret"))
    local r = ok(patch(admin, "/api/users/frank", { active = false }))
    assert.is_false(r.user.active)
    assert.equal(1, r.ended.sessions)
    err(frank:get("/api/session"), 401, "unauthenticated")
    assert.is_nil(C.login(srv.port, "frank", "frank's secret"))
    assert.is_true(ok(patch(admin, "/api/users/frank", { active = true })).user.active)
    assert.truthy(C.login(srv.port, "frank", "frank's secret"))
  end)

  it("resets a password (generated or given) and ends the user's tokens", function()
    ok(admin:post("/api/users", { username = "gina", password = "gina's secret" }), 201)
    local r = ok(patch(admin, "/api/users/gina", { reset_password = true }))
    assert.equal(16, #r.password)
    assert.is_nil(C.login(srv.port, "gina", "gina's secret"))
    assert.truthy(C.login(srv.port, "gina", r.password))
    r = ok(patch(admin, "/api/users/gina", { password = "another secret" }))
    assert.is_nil(r.password)
    assert.truthy(C.login(srv.port, "gina", "another secret"))
    err(patch(admin, "/api/users/gina", {}), 400, "bad_request")
    err(patch(admin, "/api/users/gina", { password = "x", reset_password = true }), 400, "bad_request")
    err(patch(admin, "/api/users/gina", { reset_password = false }), 400, "bad_request")
    err(patch(admin, "/api/users/gina", { active = 0 }), 400, "bad_request")
    err(patch(admin, "/api/users/gina", { name = "x" }), 400, "bad_request")
    err(patch(admin, "/api/users/nobody", { active = false }), 404, "not_found")
    err(patch(alice, "/api/users/gina", { active = false }), 403, "forbidden")
  end)

  it("refuses to disable or demote the last active admin, not another one", function()
    err(patch(admin, "/api/users/admin", { active = false }), 409, "conflict")
    err(patch(admin, "/api/users/admin", { is_admin = false }), 409, "conflict")
    ok(patch(admin, "/api/users/bob", { is_admin = true }))
    assert.is_true(ok(admin:get("/api/users/bob")).user.is_admin)
    ok(patch(admin, "/api/users/bob", { is_admin = false }))   -- admin is still there
    assert.is_true(ok(admin:get("/api/session")).user.is_admin)
  end)
end)

describe("tokens of a user", function()
  it("lists them without the secret and revokes one", function()
    local items = ok(admin:get("/api/users/alice/tokens")).items
    assert.equal(1, #items)
    assert.is_number(items[1].id)
    assert.is_nil(items[1].token)
    ok(alice_api:get("/api/session"))
    err(admin:delete("/api/users/bob/tokens/" .. items[1].id), 404, "not_found")   -- not bob's
    err(admin:delete("/api/users/alice/tokens/999999"), 404, "not_found")
    err(admin:delete("/api/users/alice/tokens/abc"), 404, "not_found")
    err(alice:delete("/api/users/alice/tokens/" .. items[1].id), 403, "forbidden")
    local r = ok(admin:delete("/api/users/alice/tokens/" .. items[1].id))
    assert.equal(items[1].id, r.revoked)
    err(alice_api:get("/api/session"), 401, "unauthenticated")
    assert.same({}, ok(admin:get("/api/users/alice/tokens")).items)
    err(admin:get("/api/users/nobody/tokens"), 404, "not_found")
  end)

  -- A sign-in by token writes nothing; serve writes the uses with its heartbeat (every 10 s)
  -- and at a clean stop (host/token_use.h), which this test uses rather than waiting.
  it("shows when a token was last used, recorded by the host beside the requests", function()
    local s = C.server { users = { bob = {}, root = { admin = true } }, tokens = { "bob", "root" } }
    finally(function() s:cleanup() end)
    local function bobs()
      return C.json_decode(C.cli(s.db, s.flows, "token list bob"))[1]
    end
    assert.equal(C.null, bobs().last_used_at)
    local t0 = os.date("!%Y-%m-%dT%H:%M:%S")
    for _ = 1, 3 do ok(s:bearer("bob"):get("/api/session")) end
    s:stop_clean()
    local used = bobs().last_used_at
    assert.is_string(used)
    assert.is_true(used:sub(1, 19) >= t0 and used:sub(1, 19) <= os.date("!%Y-%m-%dT%H:%M:%S"), used)
    -- and through the API, to an admin
    s:start()
    local items = ok(s:bearer("root"):get("/api/users/bob/tokens")).items
    assert.equal(used, items[1].last_used_at)
  end)
end)

describe("groups and grants", function()
  it("creates a group, adds and removes members, grants and revokes", function()
    local g = ok(admin:post("/api/groups", { name = "approvers" }), 201).group
    assert.same({ name = "approvers", members = {}, grants = {} }, g)
    err(admin:post("/api/groups", { name = "approvers" }), 409, "conflict")
    err(admin:post("/api/groups", { name = "" }), 400, "bad_request")
    err(admin:post("/api/groups", { name = "@x" }), 400, "bad_request")
    err(alice:post("/api/groups", { name = "x" }), 403, "forbidden")

    g = ok(admin:post("/api/groups/approvers/members", { user = "bob" })).group
    assert.same({ "bob" }, g.members)
    err(admin:post("/api/groups/approvers/members", { user = "nobody" }), 404, "not_found")
    err(admin:post("/api/groups/nogroup/members", { user = "bob" }), 404, "not_found")
    err(admin:post("/api/groups/approvers/members", {}), 400, "bad_request")

    g = ok(admin:post("/api/groups/approvers/grants", { permission = "helloworld.approve" })).group
    assert.same({ "helloworld.approve" }, g.grants)
    local bob = ok(admin:get("/api/users/bob")).user
    assert.same({ "approvers" }, bob.groups)
    assert.same({}, bob.grants)
    assert.same({ "helloworld.approve" }, bob.permissions)
    -- the list reads every user's details in three statements: the same as each user's own answer
    ok(admin:post("/api/groups", { name = "auditors" }), 201)
    ok(admin:post("/api/groups/auditors/members", { user = "bob" }))
    ok(admin:post("/api/groups/auditors/grants", { permission = "helloworld.manage" }))
    ok(admin:post("/api/users/bob/grants", { permission = "helloworld.start" }))
    ok(admin:post("/api/users/bob/grants", { permission = "helloworld.approve" }))
    local listed = ok(admin:get("/api/users")).items
    assert.is_true(#listed >= 3)
    for _, u in ipairs(listed) do assert.same(ok(admin:get("/api/users/" .. u.username)).user, u) end
    bob = ok(admin:get("/api/users/bob")).user
    assert.same({ "approvers", "auditors" }, bob.groups)
    assert.same({ "helloworld.approve", "helloworld.start" }, bob.grants)
    assert.same({ "helloworld.approve", "helloworld.manage", "helloworld.start" }, bob.permissions)
    ok(admin:delete("/api/users/bob/grants/helloworld.start"))
    ok(admin:delete("/api/users/bob/grants/helloworld.approve"))
    ok(admin:delete("/api/groups/auditors/members/bob"))
    err(admin:post("/api/groups/approvers/grants", { permission = "helloworld.nosuchnode" }), 400, "bad_request")
    err(admin:post("/api/groups/approvers/grants", { permission = "whatever" }), 400, "bad_request")
    err(admin:post("/api/groups/nogroup/grants", { permission = "helloworld.manage" }), 404, "not_found")

    ok(admin:delete("/api/groups/approvers/grants/helloworld.approve"))
    err(admin:delete("/api/groups/approvers/grants/helloworld.approve"), 404, "not_found")
    ok(admin:delete("/api/groups/approvers/members/bob"))
    err(admin:delete("/api/groups/approvers/members/bob"), 404, "not_found")
    assert.same({}, ok(admin:get("/api/users/bob")).user.groups)
    assert.equal("approvers", ok(admin:get("/api/groups")).items[1].name)
    err(admin:get("/api/groups/nogroup"), 404, "not_found")
  end)

  it("grants a user the known forms of permission only", function()
    for _, p in ipairs { "helloworld.manage", "helloworld.start", "helloworld.approve", "message.parcel_sent",
                         "external.pdf" } do
      ok(admin:post("/api/users/bob/grants", { permission = p }))
    end
    local bob = ok(admin:get("/api/users/bob")).user
    assert.equal(5, #bob.grants)
    err(admin:post("/api/users/bob/grants", { permission = "nosuchflow.manage" }), 400, "bad_request")
    err(admin:post("/api/users/bob/grants", { permission = "message.Bad Name" }), 400, "bad_request")
    err(admin:post("/api/users/bob/grants", { permission = "external.Bad Topic" }), 400, "bad_request")
    err(admin:post("/api/users/bob/grants", { permission = 3 }), 400, "bad_request")
    err(admin:post("/api/users/nobody/grants", { permission = "helloworld.manage" }), 404, "not_found")
    err(alice:post("/api/users/bob/grants", { permission = "helloworld.manage" }), 403, "forbidden")
    for _, p in ipairs { "helloworld.manage", "helloworld.start", "helloworld.approve", "message.parcel_sent",
                         "external.pdf" } do
      ok(admin:delete("/api/users/bob/grants/" .. p))
    end
    err(admin:delete("/api/users/bob/grants/helloworld.manage"), 404, "not_found")
    assert.same({}, ok(admin:get("/api/users/bob")).user.grants)
  end)

  it("lists the permissions each flow knows", function()
    local res = ok(admin:get("/api/permissions"))
    local hello
    for _, f in ipairs(res.items) do if f.flow == "helloworld" then hello = f end end
    local names = {}
    for _, p in ipairs(hello.permissions) do names[p.name] = p.kind end
    assert.equal("manage", names["helloworld.manage"])
    assert.equal("start", names["helloworld.start"])
    assert.equal("task", names["helloworld.approve"])
    err(alice:get("/api/permissions"), 403, "forbidden")
  end)
end)

describe("operations", function()
  it("lists scheduled work with attempts, and incidents with traceback", function()
    -- a job that fails once is scheduled again with its attempt counted
    ok(admin:post("/api/flows/ops/start/start", { data = {} }), 201)
    local sched
    for _ = 1, 100 do
      sched = ok(admin:get("/api/admin/scheduled")).items
      if #sched > 0 and (sched[1].attempts or 0) >= 1 then break end
      C.sleep(0.05)
    end
    assert.equal("ops", sched[1].flow)
    assert.equal("flaky", sched[1].node)
    assert.is_string(sched[1].due_at)
    assert.is_true(sched[1].attempts >= 1)
    assert.matches("flaky failed", sched[1].last_error)
    err(admin:get("/api/admin/scheduled?limit=0"), 400, "bad_request")
    err(alice:get("/api/admin/scheduled"), 403, "forbidden")

    -- a handler after a job that raises leaves an incident
    ok(admin:post("/api/flows/ops/start/broken", { data = {} }), 201)
    local inc
    for _ = 1, 100 do
      inc = ok(admin:get("/api/admin/incidents?flow=ops")).items
      if #inc > 0 then break end
      C.sleep(0.05)
    end
    assert.equal("ERROR", inc[1].status)
    assert.matches("always broken", inc[1].error.message)
    assert.is_string(inc[1].error.traceback)
    err(admin:get("/api/admin/incidents?status=NEW"), 400, "bad_request")
    err(mgr:get("/api/admin/incidents"), 403, "forbidden")
    -- revive and cancel are the task actions
    ok(admin:post("/api/tasks/" .. inc[1].id .. "/cancel"))
    assert.same({}, ok(admin:get("/api/admin/incidents?flow=ops")).items)

    -- the same incident in a process an end user started: she reads a plain message only
    local pid = ok(alice:post("/api/flows/ops/start/open", { data = {} }), 201).process.id
    local broken
    for _ = 1, 100 do
      for _, t in ipairs(ok(alice:get("/api/processes/" .. pid)).tasks) do
        if t.status == "ERROR" then broken = t end
      end
      if broken then break end
      C.sleep(0.05)
    end
    assert.is_true(broken.error.hidden)
    assert.matches("An administrator can see the details", broken.error.message, 1, true)
    assert.is_nil(broken.error.traceback)
    assert.is_nil(ok(alice:get("/api/tasks/" .. broken.id)).task.error.traceback)
    local seen = ok(admin:get("/api/tasks/" .. broken.id)).task.error
    assert.matches("always broken", seen.message)
    assert.is_string(seen.traceback)
  end)
end)

describe("defect 1: a queue candidate reads the process", function()
  it("opens the process and its earlier tasks read-only, as the task API does", function()
    ok(admin:post("/api/groups", { name = "hello_approvers" }), 201)
    ok(admin:post("/api/groups/hello_approvers/grants", { permission = "helloworld.approve" }))
    ok(admin:post("/api/users", { username = "quinn", password = "quinn's secret" }), 201)
    ok(admin:post("/api/groups/hello_approvers/members", { user = "quinn" }))
    local quinn = assert(C.login(srv.port, "quinn", "quinn's secret"))
    local started = ok(alice:post("/api/flows/helloworld/start/start", { data = { text = "hi" } }), 201)
    local pid = started.process.id
    local queue = ok(quinn:get("/api/tasks?view=queue&flow=helloworld")).items
    assert.equal(pid, queue[1].process_id)
    local page = ok(quinn:get("/api/processes/" .. pid))
    assert.equal("hi", page.process.data.text)
    local start_task
    for _, t in ipairs(page.tasks) do if t.node == "start" then start_task = t end end
    ok(quinn:get("/api/tasks/" .. start_task.id))   -- the "after #N" link
    err(quinn:post("/api/processes/" .. pid .. "/cancel"), 404, "not_found")   -- read-only: no cancel
    -- bob may take nothing of it: still 404
    local bob = srv:login("bob")
    err(bob:get("/api/processes/" .. pid), 404, "not_found")
    err(bob:get("/api/tasks/" .. start_task.id), 404, "not_found")
    -- once the task is taken by someone else, the candidate no longer reads it
    local approve = queue[1]
    ok(mgr:post("/api/tasks/" .. approve.id .. "/reassign", { user = "quinn" }))   -- NEW -> quinn
    assert.equal("quinn", ok(quinn:get("/api/tasks/" .. approve.id)).task.owner)
  end)
end)

describe("a manager assigns a NEW task to a named person", function()
  it("hands it over when the person may do it, refuses otherwise", function()
    local started = ok(alice:post("/api/flows/helloworld/start/start", { data = { text = "x" } }), 201)
    local approve
    for _, t in ipairs(started.tasks) do if t.node == "approve" then approve = t end end
    err(mgr:post("/api/tasks/" .. approve.id .. "/reassign", { user = "bob" }), 400, "invalid")
    err(mgr:post("/api/tasks/" .. approve.id .. "/reassign", { user = "mgr" }), 400, "invalid")   -- no approve
    err(alice:post("/api/tasks/" .. approve.id .. "/reassign", { user = "mgr" }), 403, "forbidden")   -- not a manager
    local r = ok(mgr:post("/api/tasks/" .. approve.id .. "/reassign", { user = "quinn" }))   -- an approver
    assert.equal("ASSIGNED", r.task.status)
    assert.equal("quinn", r.task.owner)
  end)
end)

describe("defect 3: a flow error reads by role", function()
  it("gives end users a plain message, managers and admins the Lua error and traceback", function()
    local plain = err(alice:post("/api/flows/raising/start/quick", { data = { text = "q", explode = true } }), 422,
      "flow_error")
    assert.matches("The step 'Act' of the process failed", plain.message, 1, true)
    assert.matches("administrator can see the details", plain.message, 1, true)
    assert.is_nil(plain.message:find("boom", 1, true))
    assert.is_nil(plain.traceback)
    for _, who in ipairs { mgr, admin } do
      local full = err(who:post("/api/flows/raising/start/quick", { data = { text = "q", explode = true } }), 422,
        "flow_error")
      assert.matches("boom: the handler refused 'q'", full.message, 1, true)
      assert.is_string(full.traceback)
      assert.equal("act", full.node)
    end
    -- the same through a task: alice completes a review whose next handler raises
    local started = ok(alice:post("/api/flows/raising/start/start", { data = { text = "t" } }), 201)
    local review
    for _, t in ipairs(started.tasks) do if t.node == "review" then review = t end end
    ok(alice:post("/api/tasks/" .. review.id .. "/assign"))
    plain = err(alice:post("/api/tasks/" .. review.id .. "/execute", { data = { explode = true } }), 422, "flow_error")
    assert.matches("The step 'Act' of the process failed", plain.message, 1, true)
    assert.is_nil(plain.traceback)
    local full = err(mgr:post("/api/tasks/" .. review.id .. "/execute", { data = { explode = true } }), 403, "forbidden")
    assert.is_nil(full.traceback)   -- not the owner: refused before any Lua runs
    local log = C.read_file(srv.err) or ""
    assert.truthy(log:find("boom: the handler refused", 1, true))   -- the details are in the log
  end)
end)

describe("defect 11: the server log", function()
  local function log_has(pattern)
    for _ = 1, 100 do
      if (C.read_file(srv.err) or ""):find(pattern) then return true end
      C.sleep(0.05)
    end
    return false
  end

  it("has a line for a failed job and for a failure after a job, like failed human actions", function()
    assert.is_true(log_has("job ops%.flaky %(task %d+, process %d+%) failed on attempt 1, runs again later: [^\n]*flaky failed again"))
    assert.is_true(log_has("process %d+: explode %(task %d+%) failed after a job and is in ERROR: [^\n]*always broken"))
  end)

  it("logs a new flow file as loaded and an edited one as reloaded", function()
    local text = 'local flow = require "flow"\nreturn flow.Flow { title = "%s", start = flow.StartFunction():Next(flow.this.finish), finish = flow.End() }\n'
    C.write_file(flows .. "/extra.lua", text:format("Extra"))
    assert.is_true(log_has("loaded extra\n"), C.read_file(srv.err))
    assert.is_nil((C.read_file(srv.err) or ""):find("reloaded extra", 1, true))
    C.sleep(0.1)
    C.write_file(flows .. "/extra.lua", text:format("Extra, edited"))
    assert.is_true(log_has("reloaded extra\n"), C.read_file(srv.err))
  end)
end)
