-- Task lists show each process's summary (engine_summary.c caches it per engine, keyed by the
-- process version and the generation of the definitions): a list after a write of the process,
-- or after an edit of the summary function, shows the new summary, never the cached one.
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
