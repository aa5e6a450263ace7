-- The API side of the task UI (issue 14): GET /api/session signed out is 200 {"user": null};
-- load errors (file:line) of GET /api/flows are for managers, and a flow whose old definition
-- still serves is "ok" to everyone else; the archive sorts by finished_at and filters on it.
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local ok = C.ok

local srv, admin, mgr, user, flows_dir

local GOOD = [[
local flow = require "flow"
return flow.Flow {
  title = "Expense",
  start = flow.Start { title = "Claim" }:Next(flow.this.approve),
  approve = flow.View { title = "Approve" }:Priority("high"):Next(flow.this.finish),
  finish = flow.End(),
}
]]

local function find(items, name)
  for _, f in ipairs(items) do if f.name == name then return f end end
end

-- Polls GET /api/flows as `client` until `pred(flow)` holds (hot reload is asynchronous).
local function wait_flow(client, name, pred)
  local deadline = os.time() + 15
  repeat
    local f = find(ok(client:get("/api/flows")).items, name)
    if f and pred(f) then return f end
    C.sleep(0.1)
  until os.time() > deadline
  error("flow " .. name .. " never reached the expected state")
end

setup(function()
  flows_dir = C.tmpdir()
  C.write_file(flows_dir .. "/expense.lua", GOOD)
  C.write_file(flows_dir .. "/broken.lua", C.read_file(C.SOURCE .. "/tests/fixtures/http/broken.lua"))
  srv = C.server {
    flows = flows_dir,
    users = { admin = { admin = true }, mgr = { perms = { "expense.manage" } }, user = { perms = { "expense.start" } } },
  }
  admin, mgr, user = srv:login("admin"), srv:login("mgr"), srv:login("user")
end)

teardown(function()
  if srv then
    srv:stop_clean()
    srv:cleanup()
  end
  if flows_dir then os.execute("rm -rf " .. C.quote(flows_dir)) end
end)

describe("GET /api/session", function()
  it("answers 200 with a null user when no credentials are sent, 401 for a bad token", function()
    local s = ok(srv:anon():get("/api/session"))
    assert.equal(C.null, s.user)
    assert.equal(C.null, s.csrf_token)
    C.assert_error(srv:client({ token = "feedfacefeedface" }):get("/api/session"), 401, "unauthenticated")
    C.assert_error(srv:anon():get("/api/tasks"), 401, "unauthenticated")
    assert.equal("user", ok(user:get("/api/session")).user.username)
  end)
end)

describe("load errors", function()
  it("shows file:line only to managers; a flow that never loaded is an error without details to others", function()
    local as_admin = find(ok(admin:get("/api/flows")).items, "broken")
    assert.equal("error", as_admin.status)
    assert.matches("broken%.lua$", as_admin.error.file)
    local as_user = find(ok(user:get("/api/flows")).items, "broken")
    assert.equal("error", as_user.status)
    assert.is_nil(as_user.error.file)
    assert.is_nil(as_user.error.line)
    assert.is_nil(as_user.error.message:find("%.lua"))
    local e = C.assert_error(user:get("/api/flows/broken"), 409, "conflict")
    assert.is_nil(e.message:find("%.lua"))
  end)

  it("keeps a flow whose old definition serves 'ok' for end users, 'error' with details for managers", function()
    C.write_file(flows_dir .. "/expense.lua", GOOD:gsub("flow%.End%(%)", "flow.End(),\n  oops = flow.Nowhere()"))
    local seen = wait_flow(mgr, "expense", function(f) return f.status == "error" end)
    assert.matches("expense%.lua$", seen.error.file)
    assert.is_number(seen.error.line)
    local plain = find(ok(user:get("/api/flows")).items, "expense")
    assert.equal("ok", plain.status)
    assert.is_nil(plain.error)
    assert.is_true(plain.start_nodes[1].can_start)
    assert.equal("ok", ok(user:get("/api/flows/expense")).status)
    assert.equal("error", ok(mgr:get("/api/flows/expense")).status)
    ok(user:post("/api/flows/expense/start/start", { data = {} }), 201)
    C.write_file(flows_dir .. "/expense.lua", GOOD)
    wait_flow(mgr, "expense", function(f) return f.status == "ok" end)
  end)
end)

describe(":Priority", function()
  it("shows a View's priority on its tasks and in the definition", function()
    local p = ok(user:post("/api/flows/expense/start/start", { data = {} }), 201)
    local t
    for _, x in ipairs(p.tasks) do if x.node == "approve" then t = x end end
    assert.equal("high", t.priority)
    assert.equal("high", ok(admin:get("/api/tasks/" .. t.id)).task.priority)
    local def = ok(admin:get("/api/flows/expense"))
    for _, n in ipairs(def.nodes) do
      if n.name == "approve" then assert.equal("high", n.priority) else assert.is_nil(n.priority) end
    end
    ok(admin:post("/api/tasks/" .. t.id .. "/cancel"))
  end)

  it("refuses a priority other than high, normal or low, at the line", function()
    local dir = C.tmpdir()
    local path = dir .. "/prio_bad.lua"
    C.write_file(path, 'local flow = require "flow"\nreturn flow.Flow {\n  start = flow.Start {}:Next(flow.this.a),\n'
      .. '  a = flow.View {}:Priority("urgent"):Next(flow.this.e),\n  e = flow.End(),\n}\n')
    local code, out = C.sh(C.quote(C.BIN) .. " check " .. C.quote(path) .. " 2>&1")
    os.execute("rm -rf " .. C.quote(dir))
    assert.is_not.equal(0, code)
    assert.matches('prio_bad%.lua:4: :Priority expects "high", "normal" or "low"', out)
  end)
end)

describe("the archive", function()
  it("sorts by finished_at both ways and filters on the finished date", function()
    local ids = {}
    for i = 1, 3 do
      local p = ok(admin:post("/api/flows/expense/start/start", { data = {} }), 201)
      local t
      for _, x in ipairs(p.tasks) do if x.node == "approve" then t = x end end
      ids[i] = t.id
    end
    -- finish them in the order 3, 1, 2
    for _, i in ipairs { 3, 1, 2 } do
      ok(admin:post("/api/tasks/" .. ids[i] .. "/assign"))
      ok(admin:post("/api/tasks/" .. ids[i] .. "/execute", { data = {} }))
      C.sleep(0.01)
    end
    local function order(query)
      local out = {}
      for _, t in ipairs(ok(admin:get("/api/tasks?view=archive&flow=expense&" .. query)).items) do
        if t.node == "approve" then out[#out + 1] = t.id end
      end
      return out
    end
    assert.same({ ids[3], ids[1], ids[2] }, order("sort=finished_at"))
    assert.same({ ids[2], ids[1], ids[3] }, order("sort=-finished_at"))
    -- paged one at a time, the keyset follows the same order
    local first = ok(admin:get("/api/tasks?view=archive&flow=expense&sort=finished_at&limit=1")).items[1]
    local second = ok(admin:get("/api/tasks?view=archive&flow=expense&sort=finished_at&limit=1&after=" .. first.id)).items[1]
    assert.is_true(second.finished_at >= first.finished_at)
    local today = os.date("!%Y-%m-%d")
    assert.equal(3, #order("finished_since=" .. today .. "&finished_until=" .. today))
    assert.equal(0, #order("finished_until=2000-01-01"))
    C.assert_error(admin:get("/api/tasks?view=archive&finished_since=2024-02-30"), 400, "bad_request")
    C.assert_error(admin:get("/api/tasks?view=archive&sort=finished"), 400, "bad_request")
  end)
end)
