-- host:tasks sorts by finished_at (issue 14, the archive's "Finished" column) like
-- GET /api/tasks: oldest or newest finished first, unfinished tasks last, page by page.
local H = require "helpers"

describe("sorting tasks by finished_at", function()
  local host
  before_each(function()
    host = H.open { flows = "flows", clock = "manual", users = { bob = { perms = { "helloworld.approve" } } } }
  end)
  after_each(function() host:close() end)

  it("orders finished tasks both ways, unfinished last, and pages by the same key", function()
    local ids = {}
    for i = 1, 4 do
      local pid = host:start("helloworld", "start", { text = "t" .. i }).process.id
      ids[i] = H.one(host, pid, "approve").id
    end
    -- finished in the order 3, 1, 2; task 4 stays open
    for _, i in ipairs { 3, 1, 2 } do
      host:advance(60)
      host:assign(ids[i], { as = "bob" })
      host:execute(ids[i], { approved = false }, { as = "bob" })
    end
    local function approvals(sort)
      local out = {}
      for _, t in ipairs(host:tasks { view = "all", flow = "helloworld", sort = sort, limit = 100 }) do
        if t.node == "approve" then out[#out + 1] = t.id end
      end
      return out
    end
    assert.same({ ids[3], ids[1], ids[2], ids[4] }, approvals("finished_at"))
    assert.same({ ids[2], ids[1], ids[3], ids[4] }, approvals("-finished_at"))
    local seen, after = {}, nil
    repeat
      local page, next_after = host:tasks { view = "all", flow = "helloworld", sort = "-finished_at", limit = 1, after = after }
      for _, t in ipairs(page) do if t.node == "approve" then seen[#seen + 1] = t.id end end
      after = next_after
    until not after
    assert.same(approvals("-finished_at"), seen)
    H.refused("invalid", function() host:tasks { sort = "finished" } end)
  end)
end)
