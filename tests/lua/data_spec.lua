-- Search by process data, required comments and the audit (issue 15), in-process through the
-- `flowhost` Lua module on the casefile fixture: host:processes{data = ...} and
-- host:tasks{data = ...}, host:execute(..., {comment = ...}), host:comments and host:audit.
local H = require "helpers"

describe("process data", function()
  local host, pids

  before_each(function()
    host = H.open { users = { alice = { perms = { "casefile.open", "casefile.review" } }, bob = {},
      carol = { perms = { "casefile.open" } }, dave = { perms = { "casefile.manage" } } } }
    pids = {}
    for _, d in ipairs {
      { customer = "ACME", amount = 10, due = "2026-01-01", urgent = true },
      { customer = "Initech", amount = 20.5, due = "2026-06-01" },
      { customer = "ACME", amount = 30, due = "2026-12-01", urgent = false },
    } do
      pids[#pids + 1] = host:start("casefile", "open", d, { as = "alice" }).process.id
    end
  end)

  after_each(function() host:close() end)

  local function ids(items)
    local out = {}
    for _, p in ipairs(items) do out[#out + 1] = p.id end
    return out
  end

  it("finds processes by exact values and ranges, as the user may see them", function()
    assert.same({ pids[3], pids[1] }, ids(host:processes { data = { customer = "ACME" }, as = "alice" }))
    assert.same({ pids[3], pids[2] }, ids(host:processes { data = { amount_gt = 10 }, as = "alice" }))
    assert.same({ pids[2] }, ids(host:processes { data = { amount_gte = 20.5, due_lt = "2026-12-01" } }))
    assert.same({ pids[1] }, ids(host:processes { data = { urgent = true } }))
    assert.same({}, ids(host:processes { data = { customer = "ACME" }, as = "bob" }))
    -- carol's ACME case: hers alone for her, not alice's (nor alice's hers); all three for the admin
    local carols = host:start("casefile", "open", { customer = "ACME", amount = 5, due = "2026-02-01" },
      { as = "carol" }).process.id
    assert.same({ carols }, ids(host:processes { data = { customer = "ACME" }, as = "carol" }))
    assert.same({ pids[3], pids[1] }, ids(host:processes { data = { customer = "ACME" }, as = "alice" }))
    assert.same({ carols, pids[3], pids[1] }, ids(host:processes { data = { customer = "ACME" }, as = "admin" }))
    -- a manager of the flow sees every match, with or without naming the flow
    assert.same({ carols, pids[3], pids[1] }, ids(host:processes { data = { customer = "ACME" }, as = "dave" }))
    assert.same({ carols, pids[3], pids[1] },
      ids(host:processes { flow = "casefile", data = { customer = "ACME" }, as = "dave" }))
    local tasks = host:tasks { view = "queue", data = { customer = "Initech" }, as = "alice" }
    assert.equal(1, #tasks)
    assert.equal(pids[2], tasks[1].process_id)
    local err = H.fails(function() host:processes { data = { note = "x" } } end)
    assert.equal("bad_request", err.code)
    err = H.fails(function() host:processes { data = { customer_lt = "B" } } end)
    assert.equal("bad_request", err.code)
  end)

  it("needs a comment for the review, records it and the change of the amount", function()
    local review
    for _, t in ipairs(host:process(pids[2], { as = "alice" }).tasks) do
      if t.node == "review" then review = t.id end
    end
    host:assign(review, { as = "alice" })
    local err = H.fails(function() host:execute(review, { amount = 25 }, { as = "alice" }) end)
    assert.equal("bad_request", err.code)
    assert.same({ pids[2] }, ids(host:processes { data = { amount = 20.5 } }))
    host:execute(review, { amount = 25 }, { as = "alice", comment = "Rounded up." })
    assert.same({ pids[2] }, ids(host:processes { data = { amount = 25 } }))
    assert.same({}, ids(host:processes { data = { amount = 20.5 } }))
    local comments = host:comments(pids[2], { task = review, as = "alice" })
    assert.equal(1, #comments)
    assert.same({ "alice", "Rounded up." }, { comments[1].author, comments[1].text })
    local audit = host:audit(pids[2], { as = "alice" })
    assert.equal(2, #audit)
    assert.equal("open", audit[1].node)
    assert.same({ { field = "amount", old = 20.5, new = 25 } }, audit[2].changes)
    assert.same({ "alice", "review" }, { audit[2].user, audit[2].node })
    err = H.fails(function() host:audit(pids[2], { as = "bob" }) end)
    assert.equal("not_found", err.code)
  end)
end)
