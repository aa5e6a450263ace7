-- Task lists show each process's summary (engine_summary.c caches it per engine, keyed by the
-- process version and the generation of the definitions): a list after a write of the process,
-- or after an edit of the summary function, shows the new summary, never the cached one.  A
-- summary that never ends costs a list 0.1 s per row and 0.5 s in all, not a callback budget
-- per row: the rows past that show the default summary until a later list computes theirs.
local H = require "helpers"

local FLOW = [[
local flow = require "flow"
local this, field = flow.this, flow.field
return flow.Flow {
  title = "Ticket",
  fields = { subject = field.String { label = "Subject" } },
  summary = function(self, process) return "%s: " .. (process.data.subject or "?") end,
  start = flow.Start { fields = { "subject" } }:Next(this.edit),
  edit = flow.View { fields = { "subject" } }:Next(this.check),
  check = flow.View { fields = { "subject" } }:Next(this.finish),
  finish = flow.End(),
}
]]

local function summaries(host, as)
  local out = {}
  for _, t in ipairs(host:tasks { view = "inbox", as = as }) do out[t.process_id] = t.process_summary end
  return out
end

describe("the process summary in task lists", function()
  local dir, host
  before_each(function()
    dir = H.tmpdir()
    H.write(dir .. "/ticket.lua", (FLOW:gsub("%%s", "Ticket")))
    host = H.open { flows = dir, users = { ann = { perms = { "ticket.start", "ticket.edit", "ticket.check" } } } }
  end)
  after_each(function()
    host:close()
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("follows every write of the process and every edit of the flow", function()
    local pid = host:start("ticket", "start", { subject = "printer" }, { as = "ann" }).process.id
    local edit = H.one(host, pid, "edit")
    host:assign(edit.id, { as = "ann" })
    assert.equal("Ticket: printer", summaries(host, "ann")[pid])
    assert.equal("Ticket: printer", summaries(host, "ann")[pid])   -- from the cache: the same
    host:execute(edit.id, { subject = "scanner" }, { as = "ann" })
    local check = H.one(host, pid, "check")
    host:assign(check.id, { as = "ann" })
    assert.equal("Ticket: scanner", summaries(host, "ann")[pid])   -- the write raised the version
    H.write(dir .. "/ticket.lua", (FLOW:gsub("%%s", "Issue")))
    host:reload()
    assert.equal("Issue: scanner", summaries(host, "ann")[pid])    -- a new generation
  end)
end)

-- A summary that loops (until its budget stops it) unless the process says "quick".
local SLOW = [[
local flow = require "flow"
local this, field = flow.this, flow.field
return flow.Flow {
  title = "Slow",
  fields = { quick = field.Boolean { label = "Quick" } },
  summary = function(self, process)
    if process.data.quick then return "quick #" .. process.id end
    local t = os.clock()
    while os.clock() - t < 60 do end
    return "never"
  end,
  start = flow.Start { fields = { "quick" } }:Next(this.look),
  look = flow.View { title = "Look" }:Assign("ann"):Next(this.finish),
  finish = flow.End(),
}
]]

describe("a summary function that does not end", function()
  local dir, host
  before_each(function()
    dir = H.tmpdir()
    H.write(dir .. "/slow.lua", SLOW)
    -- a callback budget of 5 s: a list of 12 rows was 60 s of the loop
    host = H.open { flows = dir, budget = 5, users = { ann = { perms = { "slow.start", "slow.look" } } } }
  end)
  after_each(function()
    host:close()
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("costs a list at most half a second, the rows past it showing the default summary", function()
    local quick = host:start("slow", "start", { quick = true }, { as = "ann" }).process.id
    local t0 = os.clock()   -- the CPU of this process: the loops run in it
    for _ = 1, 12 do host:start("slow", "start", {}, { as = "ann" }) end
    local per_start = (os.clock() - t0) / 12   -- each answer computes its process's summary
    assert.is_true(per_start < 0.5, string.format("a start took %.2f s of CPU", per_start))
    -- ann's inbox of 13 View tasks first (nothing kept yet): the task lists' path
    local t = os.clock()
    local tasks = host:tasks { view = "inbox", as = "ann" }
    local inbox_took = os.clock() - t
    assert.equal(13, #tasks)
    assert.is_true(inbox_took < 2, string.format("the inbox took %.2f s of CPU", inbox_took))
    for _, task in ipairs(tasks) do   -- the quick one's if it came before the time ran out
      if task.process_id ~= quick or task.process_summary ~= "quick #" .. quick then
        assert.equal("Slow #" .. task.process_id, task.process_summary)
      end
    end
    local function list_processes()
      local t = os.clock()
      local items = host:processes { flow = "slow", limit = 50, as = "ann" }
      return items, os.clock() - t
    end
    local items, took = list_processes()
    assert.equal(13, #items)
    assert.is_true(took < 2, string.format("the first list took %.2f s of CPU", took))
    -- the slow ones ran out of time or were not run: the default
    for _, p in ipairs(items) do
      if p.id ~= quick then assert.equal("Slow #" .. p.id, p.summary) end
    end
    -- each list computes a few more (0.1 s each) and keeps them; the quick one's is its own
    local lists = 1
    repeat
      items, took = list_processes()
      lists = lists + 1
      assert.is_true(took < 2, string.format("list %d took %.2f s of CPU", lists, took))
    until items[13].summary ~= "Slow #" .. quick or lists == 10
    assert.equal("quick #" .. quick, items[13].summary)
    assert.is_true(lists <= 5, lists .. " lists before all were computed")
    local _, last = list_processes()
    assert.is_true(last < 0.05, string.format("a list of kept summaries took %.2f s of CPU", last))
    -- and the inbox again, from what the lists kept
    t = os.clock()
    tasks = host:tasks { view = "inbox", as = "ann" }
    assert.is_true(os.clock() - t < 0.05, string.format("the inbox of kept summaries took %.2f s", os.clock() - t))
    for _, task in ipairs(tasks) do
      assert.equal(task.process_id == quick and "quick #" .. quick or "Slow #" .. task.process_id, task.process_summary)
    end
  end)
end)
