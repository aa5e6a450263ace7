-- Hot reload, black-box: a real `flowhost serve` on a temporary copy of the flows folder.
-- The specs edit, break, fix, add and delete flow files there, the way people and editors
-- do, and watch the result through GET /api/flows, the task API and the server's log.

package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local socket = require "socket"

-- cjson gives numbers as floats: 1.0 must go into a path as "1"
local function id(n) return string.format("%d", n) end

local WAIT = 5   -- seconds a change may take to show (it takes ~0.1 s)

local function doc_flow(opts)
  opts = opts or {}
  local lines = {
    'local flow = require "flow"',
    'local this, field = flow.this, flow.field',
    'return flow.Flow {',
    '  title = "' .. (opts.title or "Doc") .. '",',
    '  fields = { text = field.String { label = "Text" } },',
    '  start = flow.Start { title = "New", fields = { "text" } }:Next(this.' .. (opts.first or "write") .. '),',
  }
  if not opts.no_write then
    lines[#lines + 1] = '  write = flow.View { title = "Write", fields = { "text" } }:Next(this.'
      .. (opts.review and "review" or "finish") .. '),'
  end
  if opts.review then lines[#lines + 1] = '  review = flow.View { title = "Review" }:Next(this.finish),' end
  lines[#lines + 1] = '  finish = flow.End(),'
  lines[#lines + 1] = '}'
  return table.concat(lines, "\n") .. "\n"
end

-- Writes a file the way most editors save: a temp file, then rename over the target.
local function save_atomic(path, text)
  C.write_file(path .. ".tmp~", text)
  assert(os.rename(path .. ".tmp~", path))
end

local function wait_until(what, fn)
  local deadline = socket.gettime() + WAIT
  local last
  while socket.gettime() < deadline do
    last = { fn() }
    if last[1] then return table.unpack(last) end
    socket.sleep(0.02)
  end
  error("timed out waiting for " .. what .. (last and last[2] and (": " .. tostring(last[2])) or ""))
end

local function flow_item(api, name)
  local res = api:get("/api/flows")
  assert.equal(200, res.status)
  for _, f in ipairs(res.json.items) do
    if f.name == name then return f end
  end
end

local function tmp_flows()
  local dir = C.tmpdir()
  assert(C.sh("cp -r " .. C.quote(C.SOURCE .. "/flows") .. " " .. C.quote(dir .. "/flows")) == 0)
  return dir, dir .. "/flows"
end

describe("hot reload through the HTTP API", function()
  local srv, api, dir, flows, doc

  before_each(function()
    dir, flows = tmp_flows()
    doc = flows .. "/doc.lua"
    C.write_file(doc, doc_flow())
    srv = C.server { flows = flows, users = { admin = { admin = true }, mgr = { perms = { "doc.manage" } },
                                             bob = {} }, tokens = { "admin", "mgr", "bob" } }
    api = srv:bearer("admin")
  end)

  after_each(function()
    if srv then
      srv:stop_clean()
      srv:cleanup()
    end
    os.execute("rm -rf " .. C.quote(dir))
  end)

  local function start_doc(client)
    local res = (client or api):post("/api/flows/doc/start/start", { data = { text = "a" } })
    assert.equal(201, res.status, res.body)
    return res.json.process.id
  end

  local function task_of(pid, node)
    local res = api:get("/api/processes/" .. id(pid))
    assert.equal(200, res.status, res.body)
    for _, t in ipairs(res.json.tasks) do
      if t.node == node then return t end
    end
  end

  it("serves an edited file, keeps the old definition of a broken one with its error, and clears it on a fix", function()
    local pid = start_doc()
    -- edit in place: the new title answers
    C.write_file(doc, doc_flow { title = "Doc v2" })
    wait_until("the new title", function() return flow_item(api, "doc").title == "Doc v2" end)
    -- break it (line 5): old definition keeps serving, the error is listed and logged
    save_atomic(doc, doc_flow { title = "Doc v3" }:gsub("fields = { text", "fields = { text = = ", 1))
    local f = wait_until("the error", function()
      local item = flow_item(api, "doc")
      return item.status == "error" and item
    end)
    assert.equal(doc, f.error.file)
    assert.equal(5, f.error.line)
    assert.is_string(f.error.message)
    assert.equal("Doc v2", f.title)
    -- `flowhost check` runs the very same validation: same file, line and message
    local code, out = C.sh(C.quote(C.BIN) .. " check " .. C.quote(doc))
    assert.equal(1, code)
    assert.truthy(out:find(f.error.file .. ":" .. f.error.line .. ": " .. f.error.message, 1, true), out)
    local def = api:get("/api/flows/doc")
    assert.equal(200, def.status)
    assert.equal("error", def.json.status)
    start_doc()   -- new processes still start on the old definition
    local write = task_of(pid, "write")
    assert.equal(200, api:post("/api/tasks/" .. id(write.id) .. "/assign").status)
    -- fixed, with a review step added while the process waits on write
    save_atomic(doc, doc_flow { title = "Doc v4", review = true })
    f = wait_until("the fix", function()
      local item = flow_item(api, "doc")
      return item.status == "ok" and item.title == "Doc v4" and item
    end)
    assert.is_nil(f.error)
    local res = api:post("/api/tasks/" .. id(write.id) .. "/execute", { data = { text = "b" } })
    assert.equal(200, res.status, res.body)
    assert.equal("review", res.json.tasks[1].node)
    local _, log = srv:stop()
    assert.truthy(log:find("flowhost: reload " .. doc .. ":5: ", 1, true), log)
    assert.truthy(log:find("flowhost: reloaded doc", 1, true), log)
    srv:stop_clean()
  end)

  it("makes a task of a deleted node obsolete: visible, cancellable by a manager, never executed", function()
    local pid = start_doc(srv:bearer("bob"))
    local write = task_of(pid, "write")
    local bob = srv:bearer("bob")
    assert.equal(200, bob:post("/api/tasks/" .. id(write.id) .. "/assign").status)
    save_atomic(doc, doc_flow { no_write = true, first = "finish" })
    local t = wait_until("the obsolete task", function()
      local res = api:get("/api/tasks/" .. id(write.id))
      return res.status == 200 and res.json.task.type == "obsolete" and res.json
    end)
    assert.same({ "cancel" }, t.actions)
    assert.same({}, bob:get("/api/tasks/" .. id(write.id)).json.actions)
    C.assert_error(bob:post("/api/tasks/" .. id(write.id) .. "/execute", { data = {} }), 409, "conflict")
    C.assert_error(bob:post("/api/tasks/" .. id(write.id) .. "/cancel"), 403, "forbidden")
    local res = srv:bearer("mgr"):post("/api/tasks/" .. id(write.id) .. "/cancel")
    assert.equal(200, res.status, res.body)
    assert.equal("CANCELED", res.json.task.status)
    assert.equal("obsolete", res.json.task.type)
  end)

  it("continues a task under a node renamed with `flowhost rename-node`", function()
    local pid = start_doc()
    local write = task_of(pid, "write")
    save_atomic(doc, doc_flow():gsub("write", "draft"))
    wait_until("the rename", function() return api:get("/api/tasks/" .. id(write.id)).json.task.type == "obsolete" end)
    local code, out = C.sh(C.quote(C.BIN) .. " rename-node doc write nope --db " .. C.quote(srv.db) .. " --flows "
      .. C.quote(flows))
    assert.are_not.equal(0, code)
    assert.truthy(out:find("nope", 1, true))
    assert.truthy(C.cli(srv.db, flows, "rename-node doc write draft"):find('"renamed": 1', 1, true))
    local t = api:get("/api/tasks/" .. id(write.id)).json
    assert.equal("draft", t.task.node)
    assert.equal("view", t.task.type)
    assert.equal(200, api:post("/api/tasks/" .. id(write.id) .. "/assign").status)
    local res = api:post("/api/tasks/" .. id(write.id) .. "/execute", { data = { text = "b" } })
    assert.equal(200, res.status, res.body)
    assert.equal("DONE", res.json.process.status)
  end)

  it("adds new files, in new subfolders too, and drops deleted ones while their processes stay readable", function()
    local pid = start_doc()
    -- a new file
    C.write_file(flows .. "/extra.lua", doc_flow { title = "Extra" })
    wait_until("extra", function() return flow_item(api, "extra") end)
    -- a new subfolder, then a file in it
    assert(os.execute("mkdir " .. C.quote(flows .. "/team")))
    socket.sleep(0.1)
    save_atomic(flows .. "/team/leave.lua", doc_flow { title = "Leave" })
    wait_until("leave", function() return flow_item(api, "leave") end)
    assert.equal(201, api:post("/api/flows/leave/start/start", { data = {} }).status)
    -- editor leftovers are not flows
    C.write_file(flows .. "/.doc.lua.swp", "x")
    C.write_file(flows .. "/doc.lua~", "x")
    -- delete the doc flow
    assert(os.remove(doc))
    wait_until("doc to go", function() return flow_item(api, "doc") == nil end)
    C.assert_error(api:get("/api/flows/doc"), 404, "not_found")
    C.assert_error(api:post("/api/flows/doc/start/start", { data = {} }), 404, "not_found")
    local res = api:get("/api/processes/" .. id(pid))
    assert.equal(200, res.status, res.body)
    assert.equal("doc", res.json.process.flow)
    for _, t in ipairs(res.json.tasks) do assert.equal("obsolete", t.type) end
    local write = task_of(pid, "write")
    local t = api:get("/api/tasks/" .. id(write.id))
    assert.equal(200, t.status, t.body)
    assert.same({ "cancel" }, t.json.actions)
    assert.equal(200, api:get("/api/tasks?view=all").status)
    assert.equal(200, api:get("/api/processes?flow=doc").status)
    assert.equal(200, api:post("/api/tasks/" .. id(write.id) .. "/cancel").status)
    assert.equal(200, api:post("/api/processes/" .. id(pid) .. "/cancel").status)
    assert.equal(200, api:get("/api/health").status)
  end)

  it("reloads 50 times while clients hammer the API, losing no request", function()
    start_doc()
    local stop = dir .. "/stop"
    local outs = {}
    for i = 1, 3 do
      outs[i] = dir .. "/hammer" .. i
      os.execute(string.format("FLOWHOST_SOURCE=%s lua5.4 %s %d %s %s %s %s >/dev/null 2>&1 &",
        C.quote(C.SOURCE), C.quote(C.SOURCE .. "/tests/reload/hammer.lua"), srv.port, srv.tokens.admin,
        C.quote(stop), C.quote(outs[i]), i == 1 and "writes" or ""))
    end
    socket.sleep(0.2)
    for i = 1, 50 do
      save_atomic(doc, doc_flow { title = "Doc " .. i, review = i % 2 == 0 })
      wait_until("reload " .. i, function() return flow_item(api, "doc").title == "Doc " .. i end)
    end
    C.write_file(stop, "")
    local total, ok = 0, 0
    for i = 1, 3 do
      -- the file exists (empty) a moment before the hammer has written its line
      local text = wait_until("hammer " .. i, function()
        local t = C.read_file(outs[i])
        return t and t:match("^%d+ %d+ %d+") and t or nil
      end)
      local n, good, bad = text:match("^(%d+) (%d+) (%d+)")
      assert.equal("0", bad, text)
      total, ok = total + tonumber(n), ok + tonumber(good)
    end
    io.stderr:write(string.format("\n  %d requests during 50 reloads, %d ok\n", total, ok))
    assert.is_true(total > 50)
    assert.equal(total, ok)
    local _, log = srv:stop()
    local reloads = select(2, log:gsub("flowhost: reloaded doc", ""))
    assert.equal(50, reloads)
    srv:stop_clean()
  end)
end)
