-- Versions through a real `flowhost serve` on a temporary flows folder: each saved edit is a
-- new version (content hash) recorded in the database; GET /api/flows shows the version loaded,
-- the running counts per version and the edit-impact report of the last reload (also in the
-- log); GET /api/flows/{flow}/versions lists versions with running counts; a process shows the
-- version it runs on.  A "pin" flow's running processes finish on the definition they started
-- with, also after the host restarts (the old version is compiled from its stored source).

package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local socket = require "socket"

local function id(n) return string.format("%d", n) end

-- The doc flow: start -> <step> -> finish, `step` named by the caller.
local function doc_flow(step, mode)
  return table.concat({
    'local flow = require "flow"',
    'local this, field = flow.this, flow.field',
    'return flow.Flow {',
    '  title = "Doc",',
    mode and ('  version = "' .. mode .. '",') or '',
    '  fields = { text = field.String { label = "Text" } },',
    '  start = flow.Start { title = "New", fields = { "text" } }:Next(this.' .. step .. '),',
    '  ' .. step .. ' = flow.View { title = "Step", fields = { "text" } }:Next(this.finish),',
    '  finish = flow.End(),',
    '}',
  }, "\n") .. "\n"
end

local function save_atomic(path, text)
  C.write_file(path .. ".tmp~", text)
  assert(os.rename(path .. ".tmp~", path))
end

local function wait_until(what, fn)
  local deadline = socket.gettime() + 5
  while socket.gettime() < deadline do
    local v = fn()
    if v then return v end
    socket.sleep(0.02)
  end
  error("timed out waiting for " .. what)
end

describe("flow versions over HTTP", function()
  local srv, api, dir, doc

  local function item()
    for _, f in ipairs(C.ok(api:get("/api/flows")).items) do
      if f.name == "doc" then return f end
    end
  end

  local function start(text)
    return C.ok(api:post("/api/flows/doc/start/start", { data = { text = text } }), 201).process.id
  end

  local function process(pid) return C.ok(api:get("/api/processes/" .. id(pid))) end

  local function open_task(pid)
    for _, t in ipairs(process(pid).tasks) do
      if t.status == "NEW" then return t end
    end
  end

  local function running_on(versions, hash)
    for _, v in ipairs(versions) do
      if v.hash == hash then return v.running end
    end
    return 0
  end

  before_each(function()
    dir = C.tmpdir()
    assert(os.execute("mkdir -p " .. C.quote(dir .. "/flows")))
    doc = dir .. "/flows/doc.lua"
  end)

  after_each(function()
    if srv then
      srv:cleanup()
      srv = nil
    end
    os.execute("rm -rf " .. C.quote(dir))
  end)

  local function serve(text)
    C.write_file(doc, text)
    srv = C.server { flows = dir .. "/flows", users = { admin = { admin = true }, bob = {} },
                     tokens = { "admin", "bob" } }
    api = srv:bearer("admin")
  end

  it("follow: lists versions with counts, reports an edit's impact, and moves running processes along", function()
    serve(doc_flow("write"))
    local v1 = item()
    assert.equal("follow", v1.version_mode)
    assert.equal(16, #v1.version)
    assert.equal(C.null, v1.reload_report)
    local p1 = start("a")
    assert.equal(v1.version, process(p1).process.flow_version)
    local list = C.ok(api:get("/api/flows/doc/versions"))
    assert.equal(v1.version, list.current)
    assert.equal("follow", list.version)
    assert.equal(1, #list.versions)
    assert.equal(1, list.versions[1].running)
    assert.is_true(list.versions[1].current)
    -- the edit renames the node p1 waits at: the report says so, with the command
    save_atomic(doc, doc_flow("draft"))
    local f = wait_until("the new version", function()
      local it = item()
      return it.version ~= v1.version and it.reload_report ~= C.null and it
    end)
    local r = f.reload_report
    assert.equal(v1.version, r.from)
    assert.equal(f.version, r.to)
    assert.is_true(r.stranded)
    assert.equal("node_removed", r.findings[1].kind)
    assert.equal("write", r.findings[1].node)
    assert.equal("flowhost rename-node doc write draft", r.findings[1].command)
    assert.same({ p1 }, r.findings[1].processes)
    -- follow: p1 now runs on the new version
    assert.equal(f.version, process(p1).process.flow_version)
    list = C.ok(api:get("/api/flows/doc/versions"))
    assert.equal(2, #list.versions)
    assert.equal(1, running_on(list.versions, f.version))
    assert.equal(0, running_on(list.versions, v1.version))
    -- bob (no permissions) may read them too; errors keep the documented shape
    C.ok(srv:bearer("bob"):get("/api/flows/doc/versions"))
    C.assert_error(api:get("/api/flows/nope/versions"), 404, "not_found")
    C.assert_error(api:get("/api/flows/doc/versions?x=1"), 400, "bad_request")
    C.assert_error(srv:anon():get("/api/flows/doc/versions"), 401, "unauthenticated")
    local log = srv:stop_clean()
    assert.truthy(log:find("STRANDED  node 'write' is removed", 1, true), log)
    assert.truthy(log:find("flowhost rename-node doc write draft", 1, true), log)
  end)

  it("pin: a running process finishes on the definition it started with, also after a restart", function()
    serve(doc_flow("write", "pin"))
    local v1 = item().version
    local p1 = start("old")
    save_atomic(doc, doc_flow("draft", "pin"))
    local v2 = wait_until("the new version", function()
      local it = item()
      return it.version ~= v1 and it.version
    end)
    assert.is_true(item().reload_report.pinned)
    local p2 = start("new")
    assert.equal(v1, process(p1).process.flow_version)
    assert.equal(v2, process(p2).process.flow_version)
    assert.equal("draft", open_task(p2).node)
    local list = C.ok(api:get("/api/flows/doc/versions"))
    assert.equal("pin", list.version)
    assert.equal(1, running_on(list.versions, v1))
    assert.equal(1, running_on(list.versions, v2))
    -- restart: only the new file is on disk; the old version comes from the database
    srv:stop_clean()
    srv:start()
    api = srv:bearer("admin")
    local t1 = open_task(p1)
    assert.equal("write", t1.node)
    -- the queue lists it (its node is only in the pinned version), with the new process's task
    local queued = {}
    for _, t in ipairs(C.ok(api:get("/api/tasks?view=queue")).items) do queued[t.node] = t.process_id end
    assert.equal(p1, queued.write)
    assert.equal(p2, queued.draft)
    -- its task page shows the step of its own version, with its form
    local view = C.ok(api:get("/api/tasks/" .. id(t1.id)))
    assert.equal("view", view.task.type)
    assert.equal("Step", view.task.title)
    assert.truthy(view.form ~= C.null and #view.form.fields == 1, "the form of its version")
    C.ok(api:post("/api/tasks/" .. id(t1.id) .. "/assign"))
    local res = C.ok(api:post("/api/tasks/" .. id(t1.id) .. "/execute", { data = { text = "done" } }))
    assert.equal("DONE", res.process.status)
    assert.equal(v1, process(p1).process.flow_version)
    local t2 = open_task(p2)
    C.ok(api:post("/api/tasks/" .. id(t2.id) .. "/assign"))
    assert.equal("DONE", C.ok(api:post("/api/tasks/" .. id(t2.id) .. "/execute", { data = { text = "x" } })).process.status)
    list = C.ok(api:get("/api/flows/doc/versions"))
    assert.equal(0, running_on(list.versions, v1))
    assert.equal(0, running_on(list.versions, v2))
    srv:stop_clean()
  end)
end)
