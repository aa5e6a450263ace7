-- Hot reload and flow migration, in-process (no server): flowreg_reload_path() through
-- host:reload_path(path), exactly what the server's watcher calls for each changed file.
--
-- Each spec writes its flows into a fresh temporary folder, starts processes, edits the
-- files and reloads them, then drives the engine on: the next action runs on the new
-- definition; a broken file keeps the old one serving, with its error; removed nodes
-- become obsolete; rename_node moves tasks to the new name.

local H = require "helpers"

-- A small flow: start -> write (a view) -> [review] -> finish.  Pieces vary per version.
local function doc_flow(opts)
  opts = opts or {}
  local lines = {
    'local flow = require "flow"',
    'local this, field = flow.this, flow.field',
    'return flow.Flow {',
    '  title = "' .. (opts.title or "Doc") .. '",',
    '  fields = { text = field.String { label = "Text" }, ok = field.Boolean { label = "OK?" } },',
    '  start = flow.Start { title = "New", fields = { "text" } }:Next(this.' .. (opts.first or "write") .. '),',
  }
  if not opts.no_write then
    lines[#lines + 1] = '  ' .. (opts.write_name or "write") .. ' = flow.View { title = "Write", fields = { "text" } }'
      .. (opts.write_perm and (':Permission("' .. opts.write_perm .. '")') or "")
      .. ':Next(this.' .. (opts.review and "review" or "finish") .. '),'
  end
  if opts.review then
    lines[#lines + 1] = '  review = flow.View { title = "Review", fields = { "ok" } }:Next(this.finish),'
  end
  if opts.obsolete_write then
    lines[#lines + 1] = '  write = flow.Obsolete(),'
  end
  lines[#lines + 1] = '  finish = flow.End(),'
  lines[#lines + 1] = '}'
  return table.concat(lines, "\n") .. "\n"
end

local function find_flow(host, name)
  for _, f in ipairs(host:flows()) do
    if f.name == name then return f end
  end
end

local function node_names(host, flow)
  local out = {}
  for _, n in ipairs(host:flow(flow).nodes) do out[#out + 1] = n.name end
  table.sort(out)
  return out
end

describe("hot reload of one file (flowreg_reload_path)", function()
  local dir, path, host

  before_each(function()
    dir = H.tmpdir()
    path = dir .. "/doc.lua"
    H.write(path, doc_flow())
    host = H.open { flows = dir, users = { mgr = { perms = { "doc.manage" } }, bob = {} } }
  end)

  after_each(function()
    if host then host:close() end
    H.rmdir(dir)
  end)

  it("serves a node added while a process waits on another: the next step uses it", function()
    local pid = host:start("doc", "start", { text = "a" }, { as = "admin" }).process.id
    local write = H.one(host, pid, "write")
    H.write(path, doc_flow { review = true, title = "Doc v2" })
    assert.is_true(host:reload_path(path))
    assert.equal("Doc v2", find_flow(host, "doc").title)
    host:assign(write.id, { as = "admin" })
    local r = host:execute(write.id, { text = "b" }, { as = "admin" })
    assert.same({ "review" }, H.nodes(r.tasks))
    assert.same({ "start:DONE", "write:DONE", "review:NEW" }, H.trail(host, pid))
    local review = H.one(host, pid, "review")
    host:assign(review.id, { as = "admin" })
    host:execute(review.id, { ok = true }, { as = "admin" })
    assert.equal("DONE", H.status(host, pid))
  end)

  -- the queue's names are kept per generation of the flows (engine_assignable.c)
  it("takes a task out of the queue of those without a permission its node asks for since", function()
    local pid = host:start("doc", "start", { text = "a" }, { as = "admin" }).process.id
    local write = H.one(host, pid, "write")
    assert.same({ write.id }, H.task_ids(host, { view = "queue", as = "bob" }))
    H.write(path, doc_flow { write_perm = "doc.write" })
    assert.is_true(host:reload_path(path))
    assert.same({}, H.task_ids(host, { view = "queue", as = "bob" }))
    assert.same({ queue = 0, inbox = 0 }, host:counts { as = "bob" })
    assert.same({ write.id }, H.task_ids(host, { view = "queue", as = "admin" }))
    H.write(path, doc_flow())
    assert.is_true(host:reload_path(path))
    assert.same({ write.id }, H.task_ids(host, { view = "queue", as = "bob" }))
  end)

  it("does not publish a new generation when the text did not change", function()
    assert.is_false(host:reload_path(path))
    H.write(path, doc_flow())
    assert.is_false(host:reload_path(path))
    H.write(path, doc_flow { title = "Other" })
    assert.is_true(host:reload_path(path))
  end)

  it("keeps the old definition serving when the file breaks, reports file and line, and clears on a fix", function()
    local pid = host:start("doc", "start", { text = "a" }, { as = "admin" }).process.id
    -- a syntax error on line 5
    local broken = doc_flow { review = true }:gsub("fields = { text", "fields = { text = = ", 1)
    H.write(path, broken)
    assert.is_true(host:reload_path(path))
    local f = find_flow(host, "doc")
    assert.equal("error", f.status)
    assert.equal(path, f.error.file)
    assert.equal(5, f.error.line)
    assert.is_string(f.error.message)
    assert.is_nil(f.error.message:find(path, 1, true))   -- file and line are fields of their own
    -- the old definition (no review node) still runs, for running and new processes
    assert.same({ "finish", "start", "write" }, node_names(host, "doc"))
    local write = H.one(host, pid, "write")
    host:assign(write.id, { as = "admin" })
    host:execute(write.id, { text = "b" }, { as = "admin" })
    assert.equal("DONE", H.status(host, pid))
    local pid2 = host:start("doc", "start", { text = "c" }, { as = "admin" }).process.id
    assert.same({ "start:DONE", "write:NEW" }, H.trail(host, pid2))
    -- saving the same broken text again changes nothing
    assert.is_false(host:reload_path(path))
    -- fixing the file clears the error and serves the new definition
    H.write(path, doc_flow { review = true })
    assert.is_true(host:reload_path(path))
    f = find_flow(host, "doc")
    assert.equal("ok", f.status)
    assert.is_nil(f.error)
    assert.same({ "finish", "review", "start", "write" }, node_names(host, "doc"))
  end)

  it("reports a validation error (a typo in a reference) with its line", function()
    H.write(path, doc_flow { first = "wrte" })
    host:reload_path(path)
    local f = find_flow(host, "doc")
    assert.equal("error", f.status)
    assert.equal(6, f.error.line)
    assert.truthy(f.error.message:find("write", 1, true))   -- did you mean 'write'?
    assert.same({ "finish", "start", "write" }, node_names(host, "doc"))
  end)

  it("lists a new file that fails with its error and no definition, then serves it once fixed", function()
    local other = dir .. "/other.lua"
    H.write(other, "return 42\n")
    assert.is_true(host:reload_path(other))
    local f = find_flow(host, "other")
    assert.equal("error", f.status)
    assert.equal(other, f.error.file)
    H.refused("conflict", function() host:start("other", "start", {}, { as = "admin" }) end)
    H.write(other, doc_flow { title = "Other" })
    assert.is_true(host:reload_path(other))
    assert.equal("ok", find_flow(host, "other").status)
    host:start("other", "start", { text = "x" }, { as = "admin" })
  end)

  it("shows a task whose node was deleted as obsolete: a manager may cancel it, nobody may execute it", function()
    local pid = host:start("doc", "start", { text = "a" }, { as = "bob" }).process.id
    local write = H.one(host, pid, "write")
    host:assign(write.id, { as = "bob" })
    H.write(path, doc_flow { no_write = true, first = "finish" })
    assert.is_true(host:reload_path(path))
    local t = host:task(write.id, { as = "admin" })
    assert.equal("obsolete", t.task.type)
    assert.equal("write", t.task.node)
    assert.equal("ASSIGNED", t.task.status)
    assert.same({ "cancel" }, t.actions)
    assert.equal("obsolete", H.one(host, pid, "write").type)
    assert.same({}, host:task(write.id, { as = "bob" }).actions)   -- the owner, not a manager
    local err = H.refused("conflict", function() host:execute(write.id, { text = "b" }, { as = "bob" }) end)
    assert.truthy(err.message:find("obsolete", 1, true))
    H.refused("conflict", function() host:execute(write.id, { text = "b" }, { as = "admin" }) end)
    H.refused("conflict", function() host:unassign(write.id, { as = "bob" }) end)
    H.refused("forbidden", function() host:cancel(write.id, { as = "bob" }) end)
    assert.same({ "cancel" }, H.actions(host, write.id, "mgr"))
    local r = host:cancel(write.id, { as = "mgr" })
    assert.equal("CANCELED", r.task.status)
    assert.equal("obsolete", r.task.type)
  end)

  it("keeps the title of a node turned into flow.Obsolete(), still only cancellable", function()
    local pid = host:start("doc", "start", { text = "a" }, { as = "admin" }).process.id
    local write = H.one(host, pid, "write")
    H.write(path, doc_flow { write_name = "draft", first = "draft", obsolete_write = true })
    assert.is_true(host:reload_path(path))
    local t = host:task(write.id, { as = "admin" })
    assert.equal("obsolete", t.task.type)
    assert.same({ "cancel" }, t.actions)
  end)

  it("moves tasks of a renamed node with rename_node; the active task continues under the new name", function()
    local pid = host:start("doc", "start", { text = "a" }, { as = "admin" }).process.id
    local write = H.one(host, pid, "write")
    H.write(path, doc_flow { write_name = "draft", first = "draft", review = true })
    assert.is_true(host:reload_path(path))
    assert.equal("obsolete", host:task(write.id, { as = "admin" }).task.type)
    -- refused: the new name must exist in the current definition
    local err = H.refused("conflict", function() host:rename_node("doc", "write", "nope") end)
    assert.truthy(err.message:find("nope", 1, true))
    -- refused: the old name still exists as a live node
    H.refused("conflict", function() host:rename_node("doc", "draft", "review") end)
    H.refused("not_found", function() host:rename_node("nodoc", "write", "draft") end)
    assert.equal(1, host:rename_node("doc", "write", "draft"))
    local t = host:task(write.id, { as = "admin" })
    assert.equal("draft", t.task.node)
    assert.equal("view", t.task.type)
    assert.equal("Write", t.task.title)
    assert.same({ "assign", "cancel", "reassign" }, H.sorted(t.actions))   -- reassign: a NEW task too
    host:assign(write.id, { as = "admin" })
    local r = host:execute(write.id, { text = "b" }, { as = "admin" })
    assert.same({ "review" }, H.nodes(r.tasks))
    assert.same({ "start:DONE", "draft:DONE", "review:NEW" }, H.trail(host, pid))
    -- nothing left under the old name
    assert.equal(0, host:rename_node("doc", "write", "draft"))
  end)

  it("drops a deleted flow from the list and keeps its processes and tasks readable", function()
    local pid = host:start("doc", "start", { text = "a" }, { as = "admin" }).process.id
    local write = H.one(host, pid, "write")
    host:assign(write.id, { as = "admin" })
    os.remove(path)
    assert.is_true(host:reload_path(path))
    assert.is_nil(find_flow(host, "doc"))
    H.refused("not_found", function() host:flow("doc") end)
    H.refused("not_found", function() host:start("doc", "start", {}, { as = "admin" }) end)
    local p = host:process(pid)
    assert.equal("STARTED", p.process.status)
    assert.is_string(p.process.summary)
    assert.same({ "obsolete", "obsolete" }, { p.tasks[1].type, p.tasks[2].type })
    assert.equal(1, #host:processes { flow = "doc" })
    local items = host:tasks { view = "all" }
    assert.equal(2, #items)
    local inbox = host:tasks { view = "inbox", as = "admin" }
    assert.same({ write.id }, { inbox[1].id })
    assert.same({ "cancel" }, host:task(write.id, { as = "admin" }).actions)
    H.refused("conflict", function() host:execute(write.id, {}, { as = "admin" }) end)
    assert.equal(0, host:run_jobs())
    host:cancel(write.id, { as = "admin" })
    host:cancel_process(pid, { as = "admin" })
    assert.equal("CANCELED", H.status(host, pid))
    -- a deleted file that was never a flow changes nothing
    assert.is_false(host:reload_path(dir .. "/never.lua"))
    -- the file comes back: the flow is served again, the old process stays as it was
    H.write(path, doc_flow())
    assert.is_true(host:reload_path(path))
    assert.equal("ok", find_flow(host, "doc").status)
    assert.equal("CANCELED", H.status(host, pid))
  end)

  it("ignores paths that are not flow files", function()
    H.write(dir .. "/notes.txt", "x")
    H.write(dir .. "/Bad-Name.lua", doc_flow())
    assert.is_false(host:reload_path(dir .. "/notes.txt"))
    assert.is_false(host:reload_path(dir .. "/Bad-Name.lua"))
    assert.is_false(host:reload_path(dir .. "/.doc.lua.swp"))
    assert.is_nil(find_flow(host, "Bad-Name"))
  end)

  it("finds flows in subfolders and lets a twin take over a name when its file goes", function()
    assert(os.execute("mkdir -p '" .. dir .. "/a' '" .. dir .. "/b'"))
    H.write(dir .. "/a/twin.lua", doc_flow { title = "Twin A" })
    assert.is_true(host:reload_path(dir .. "/a/twin.lua"))
    H.write(dir .. "/b/twin.lua", doc_flow { title = "Twin B" })
    assert.is_false(host:reload_path(dir .. "/b/twin.lua"))   -- the name is taken
    assert.equal("Twin A", find_flow(host, "twin").title)
    os.remove(dir .. "/a/twin.lua")
    assert.is_true(host:reload_path(dir .. "/a/twin.lua"))
    assert.equal("Twin B", find_flow(host, "twin").title)
    -- a move across folders (delete then create, in either order) keeps the flow
    assert(os.rename(dir .. "/b/twin.lua", dir .. "/a/twin.lua"))
    host:reload_path(dir .. "/a/twin.lua")
    host:reload_path(dir .. "/b/twin.lua")
    assert.equal("Twin B", find_flow(host, "twin").title)
    assert.is_false(host:reload_path(dir .. "/a/twin.lua"))
  end)

  it("reloads every flow when a lib/ module changes, keeping the old definition of a flow it breaks", function()
    assert(os.execute("mkdir -p '" .. dir .. "/lib'"))
    H.write(dir .. "/lib/texts.lua", 'return { title = "From lib v1" }\n')
    local uses = dir .. "/uses.lua"
    H.write(uses, doc_flow():gsub('title = "Doc"', 'title = require("texts").title', 1))
    assert.is_true(host:reload_path(uses))
    assert.equal("From lib v1", find_flow(host, "uses").title)
    assert.is_nil(find_flow(host, "texts"))   -- lib modules are not flows
    H.write(dir .. "/lib/texts.lua", 'return { title = "From lib v2" }\n')
    assert.is_true(host:reload_path(dir .. "/lib/texts.lua"))
    assert.equal("From lib v2", find_flow(host, "uses").title)
    assert.is_nil(find_flow(host, "texts"))
    H.write(dir .. "/lib/texts.lua", 'error("lib is broken")\n')
    host:reload_path(dir .. "/lib/texts.lua")
    local f = find_flow(host, "uses")
    assert.equal("error", f.status)
    assert.equal("From lib v2", f.title)
    assert.equal(dir .. "/lib/texts.lua", f.error.file)
    assert.equal(1, f.error.line)
    assert.truthy(f.error.message:find("lib is broken", 1, true))
    assert.equal("ok", find_flow(host, "doc").status)
    -- the old definition really serves: with the lib text it was checked with
    local r = host:start("uses", "start", { text = "x" }, { as = "admin" })
    assert.equal("STARTED", r.process.status)
    assert.truthy(r.process.summary:find("From lib v2", 1, true))
    -- and a fixed lib clears the error
    H.write(dir .. "/lib/texts.lua", 'return { title = "From lib v3" }\n')
    host:reload_path(dir .. "/lib/texts.lua")
    assert.equal("ok", find_flow(host, "uses").status)
    assert.equal("From lib v3", find_flow(host, "uses").title)
  end)

  it("host:reload() reloads the folder and also keeps old definitions of flows that fail", function()
    H.write(path, "syntax error here\n")
    host:reload()
    local f = find_flow(host, "doc")
    assert.equal("error", f.status)
    assert.same({ "finish", "start", "write" }, node_names(host, "doc"))
  end)

  it("survives 50 reloads in a row with processes moving between them", function()
    local pid = host:start("doc", "start", { text = "a" }, { as = "admin" }).process.id
    for i = 1, 50 do
      local text = i % 5 == 0 and "broken(" or doc_flow { title = "Doc " .. i, review = i % 2 == 0 }
      H.write(path, text)
      assert.is_true(host:reload_path(path))
      assert.equal(i % 5 == 0 and "error" or "ok", find_flow(host, "doc").status)
      host:process(pid)
    end
    assert.equal("STARTED", H.status(host, pid))
  end)
end)
