-- The workflow patterns (design/patterns.md): one describe per flow of flows/patterns/,
-- each checking what the flow's header comment says, ending on the final task set.

local H = require "helpers"

local USERS = {
  alice = {},
  bob = {},
  carol = {},
}

local covered = {}

-- describe() for the pattern flow `name`, with a fresh host in `ctx.host` for each test.
local function pattern(name, users, body)
  covered[name] = true
  describe(name, function()
    local ctx = {}
    before_each(function() ctx.host = H.open { flows = "flows", users = users or USERS } end)
    body(ctx)
  end)
end

-- Executes the single `node` task of pid as `user`.
local function run_task(host, pid, node, user)
  return host:execute(H.one(host, pid, node).id, {}, { as = user })
end

pattern("wcp01_sequence", {
  alice = {},
  writer = { perms = { "wcp01_sequence.start" } },
}, function(ctx)
  it("runs its tasks in order, each DONE, each linked to the one before", function()
    local host = ctx.host
    local r = host:start("wcp01_sequence", "start", { text = "news" }, { as = "writer" })
    local pid = r.process.id
    local review = H.one(host, pid, "review")
    assert.equal("ASSIGNED", review.status)
    assert.equal("alice", review.owner)
    run_task(host, pid, "review", "alice")
    local tasks = H.tasks(host, pid)
    assert.same({ "start", "review", "publish", "finish" }, H.nodes(tasks))
    for i, t in ipairs(tasks) do
      assert.equal("DONE", t.status)
      assert.same(i == 1 and {} or { tasks[i - 1].id }, t.previous)
    end
    assert.is_true(H.data(host, pid).published)
    assert.equal("DONE", H.status(host, pid))
  end)
end)

pattern("wcp02_parallel_split", nil, function(ctx)
  it("runs both branches, with tokens start/P_1 and start/P_2", function()
    local host = ctx.host
    local pid = host:start("wcp02_parallel_split", "start", {}).process.id
    local fork, pack, invoice = H.one(host, pid, "fork"), H.one(host, pid, "pack"), H.one(host, pid, "invoice")
    assert.equal("ASSIGNED", pack.status)
    assert.equal("alice", pack.owner)
    assert.equal("ASSIGNED", invoice.status)
    assert.equal("bob", invoice.owner)
    assert.equal("start/" .. fork.id .. "_1", pack.token)
    assert.equal("start/" .. fork.id .. "_2", invoice.token)
    run_task(host, pid, "pack", "alice")
    assert.equal("STARTED", H.status(host, pid))
    run_task(host, pid, "invoice", "bob")
    assert.same({ "start:DONE", "fork:DONE", "pack:DONE", "invoice:DONE", "packed:DONE", "invoiced:DONE" },
      H.trail(host, pid))
    assert.equal("DONE", H.status(host, pid))
  end)
end)

pattern("wcp03_synchronization", nil, function(ctx)
  it("continues once, after both branches", function()
    local host = ctx.host
    local pid = host:start("wcp03_synchronization", "start", {}).process.id
    run_task(host, pid, "pack", "alice")
    assert.same({}, H.of_node(host, pid, "ship"))
    assert.equal("STARTED", H.one(host, pid, "join").status)
    run_task(host, pid, "invoice", "bob")
    assert.equal(1, #H.of_node(host, pid, "ship"))
    assert.equal(1, H.data(host, pid).shipped)
    assert.same({ "start:DONE", "fork:DONE", "pack:DONE", "invoice:DONE", "join:DONE", "ship:DONE", "finish:DONE" },
      H.trail(host, pid))
    assert.equal("DONE", H.status(host, pid))
  end)
end)

pattern("wcp04_exclusive_choice", nil, function(ctx)
  it("takes only the chosen branch", function()
    local host = ctx.host
    local a = host:start("wcp04_exclusive_choice", "start", { route = "a" }).process.id
    assert.same({ "start:DONE", "choose:DONE", "task_a:ASSIGNED" }, H.trail(host, a))
    assert.equal("alice", H.one(host, a, "task_a").owner)
    local b = host:start("wcp04_exclusive_choice", "start", { route = "b" }).process.id
    assert.same({ "start:DONE", "choose:DONE", "task_b:ASSIGNED" }, H.trail(host, b))
    assert.equal("bob", H.one(host, b, "task_b").owner)
  end)

  it("fails without a match and leaves no process behind", function()
    local host = ctx.host
    local err = H.refused("flow_error", function() host:start("wcp04_exclusive_choice", "start", { route = "c" }) end)
    assert.matches("no case matched", err.message, 1, true)
    assert.same({}, host:processes {})
  end)
end)

pattern("wcp05_simple_merge", nil, function(ctx)
  it("runs the merge node once, whichever branch was taken", function()
    local host = ctx.host
    local fast = host:start("wcp05_simple_merge", "start", { express = true }).process.id
    assert.same({ "start:DONE", "check:DONE", "fast:DONE", "merge:DONE", "finish:DONE" }, H.trail(host, fast))
    assert.equal(1, H.data(host, fast).merged)
    assert.equal("DONE", H.status(host, fast))
    local slow = host:start("wcp05_simple_merge", "start", { express = false }).process.id
    assert.same({ "start:DONE", "check:DONE", "slow:DONE", "merge:DONE", "finish:DONE" }, H.trail(host, slow))
    assert.equal(1, H.data(host, slow).merged)
    assert.equal("DONE", H.status(host, slow))
  end)
end)

pattern("wcp06_multi_choice", nil, function(ctx)
  it("runs only the branches whose condition holds", function()
    local host = ctx.host
    local road = host:start("wcp06_multi_choice", "start", { by_road = true, by_air = false }).process.id
    assert.same({ "start:DONE", "fork:DONE", "road:ASSIGNED" }, H.trail(host, road))
    assert.equal("alice", H.one(host, road, "road").owner)
    local both = host:start("wcp06_multi_choice", "start", { by_road = true, by_air = true }).process.id
    assert.same({ "start:DONE", "fork:DONE", "road:ASSIGNED", "air:ASSIGNED" }, H.trail(host, both))
    assert.equal("bob", H.one(host, both, "air").owner)
  end)

  it("fails when no branch runs, leaving no process", function()
    local host = ctx.host
    H.refused("flow_error", function() host:start("wcp06_multi_choice", "start", { by_road = false, by_air = false }) end)
    assert.same({}, host:processes {})
  end)
end)

pattern("wcp07_structured_synchronizing_merge", nil, function(ctx)
  local flow = "wcp07_structured_synchronizing_merge"
  it("waits only for the branch that started", function()
    local host = ctx.host
    local pid = host:start(flow, "start", { by_road = true, by_air = false }).process.id
    run_task(host, pid, "road", "alice")
    assert.same({ "start:DONE", "fork:DONE", "road:DONE", "join:DONE", "deliver:DONE", "finish:DONE" },
      H.trail(host, pid))
    assert.equal(1, H.data(host, pid).delivered)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("waits for both when both started", function()
    local host = ctx.host
    local pid = host:start(flow, "start", { by_road = true, by_air = true }).process.id
    run_task(host, pid, "road", "alice")
    assert.same({}, H.of_node(host, pid, "deliver"))
    run_task(host, pid, "air", "bob")
    assert.equal(1, #H.of_node(host, pid, "deliver"))
    assert.equal(1, H.data(host, pid).delivered)
    assert.equal("DONE", H.status(host, pid))
  end)
end)

pattern("wcp08_multi_merge", nil, function(ctx)
  it("runs the merge node once per branch", function()
    local host = ctx.host
    local pid = host:start("wcp08_multi_merge", "start", {}).process.id
    run_task(host, pid, "pack", "alice")
    assert.equal("STARTED", H.status(host, pid))
    run_task(host, pid, "invoice", "bob")
    local fork = H.one(host, pid, "fork")
    local records = H.of_node(host, pid, "record")
    assert.equal(2, #records)
    assert.equal("start/" .. fork.id .. "_1", records[1].token)
    assert.equal("start/" .. fork.id .. "_2", records[2].token)
    assert.equal(2, #H.of_node(host, pid, "finish"))
    assert.equal(2, H.data(host, pid).recorded)
    assert.equal("DONE", H.status(host, pid))
  end)
end)

pattern("wcp09_structured_discriminator", nil, function(ctx)
  it("continues on the first branch to arrive; later arrivals do not continue again", function()
    local host = ctx.host
    local pid = host:start("wcp09_structured_discriminator", "start", {}).process.id
    local quote_a = H.one(host, pid, "quote_a")
    run_task(host, pid, "quote_a", "alice")
    assert.equal(1, #H.of_node(host, pid, "pick"))
    assert.equal(1, H.data(host, pid).picked)
    local join = H.one(host, pid, "first_quote")
    assert.equal("DONE", join.status)
    assert.same({ quote_a.id }, join.previous)      -- quote_a came first
    assert.equal("ASSIGNED", H.one(host, pid, "quote_b").status)
    assert.equal("STARTED", H.status(host, pid))
    run_task(host, pid, "quote_b", "bob")
    assert.equal(1, #H.of_node(host, pid, "pick"))
    assert.equal(1, #H.of_node(host, pid, "first_quote"))
    assert.equal(1, H.data(host, pid).picked)
    assert.same({ "start:DONE", "fork:DONE", "quote_a:DONE", "quote_b:DONE", "first_quote:DONE", "pick:DONE",
      "finish:DONE" }, H.trail(host, pid))
    assert.equal("DONE", H.status(host, pid))
  end)
end)

pattern("wcp10_arbitrary_cycles", nil, function(ctx)
  it("loops until the condition holds", function()
    local host = ctx.host
    local pid = host:start("wcp10_arbitrary_cycles", "start", { rounds = 3 }).process.id
    assert.equal(3, #H.of_node(host, pid, "work"))
    assert.equal(3, #H.of_node(host, pid, "check"))
    assert.equal(3, H.data(host, pid).done)
    assert.same({ "start:DONE", "work:DONE", "check:DONE", "work:DONE", "check:DONE", "work:DONE", "check:DONE",
      "finish:DONE" }, H.trail(host, pid))
    -- each round follows the check before it
    local checks, works = H.of_node(host, pid, "check"), H.of_node(host, pid, "work")
    assert.same({ checks[1].id }, works[2].previous)
    assert.same({ checks[2].id }, works[3].previous)
    assert.equal("DONE", H.status(host, pid))
  end)
end)

pattern("wcp11_implicit_termination", nil, function(ctx)
  it("is DONE only when nothing is active any more", function()
    local host = ctx.host
    local pid = host:start("wcp11_implicit_termination", "start", {}).process.id
    assert.equal("DONE", H.one(host, pid, "quick").status)
    assert.equal("DONE", H.one(host, pid, "quick_done").status)
    assert.equal("ASSIGNED", H.one(host, pid, "slow").status)
    assert.equal("STARTED", H.status(host, pid))
    run_task(host, pid, "slow", "alice")
    assert.same({ "start:DONE", "fork:DONE", "quick:DONE", "slow:DONE", "quick_done:DONE", "slow_done:DONE" },
      H.trail(host, pid))
    assert.equal("DONE", H.status(host, pid))
    assert.is_string(host:process(pid).process.finished_at)
  end)

  it("is DONE too when the last active task is canceled after an End was reached", function()
    local host = ctx.host
    local pid = host:start("wcp11_implicit_termination", "start", {}).process.id
    local r = host:cancel(H.one(host, pid, "slow").id, { as = "admin" })
    assert.equal("DONE", r.process.status)
    assert.same({ "start:DONE", "fork:DONE", "quick:DONE", "slow:CANCELED", "quick_done:DONE" }, H.trail(host, pid))
  end)
end)

pattern("wcp19_cancel_task", nil, function(ctx)
  it("cancels one task and the process goes on as modelled", function()
    local host = ctx.host
    local pid = host:start("wcp19_cancel_task", "start", {}).process.id
    local check = H.one(host, pid, "check")
    assert.equal("ASSIGNED", check.status)
    host:cancel(check.id, { as = "admin" })
    assert.equal("CANCELED", H.one(host, pid, "check").status)
    assert.equal("STARTED", H.status(host, pid))
    run_task(host, pid, "work", "bob")
    assert.same({ "start:DONE", "fork:DONE", "check:CANCELED", "work:DONE", "join:DONE", "finish:DONE" },
      H.trail(host, pid))
    assert.equal("DONE", H.status(host, pid))
  end)

  it("a branch canceled while the join waits releases the join", function()
    local host = ctx.host
    local pid = host:start("wcp19_cancel_task", "start", {}).process.id
    run_task(host, pid, "work", "bob")
    assert.equal("STARTED", H.one(host, pid, "join").status)
    local r = host:cancel(H.one(host, pid, "check").id, { as = "admin" })
    assert.same({ "finish" }, H.nodes(r.tasks))
    assert.equal("DONE", r.process.status)
    assert.equal(1, #H.of_node(host, pid, "join"))
  end)
end)

pattern("wcp20_cancel_case", nil, function(ctx)
  it("cancels every active task and the process", function()
    local host = ctx.host
    local pid = host:start("wcp20_cancel_case", "start", {}).process.id
    assert.equal("ASSIGNED", H.one(host, pid, "draft").status)
    assert.equal("ASSIGNED", H.one(host, pid, "budget").status)
    assert.equal("CANCELED", host:cancel_process(pid, { as = "admin" }).status)
    assert.same({ "start:DONE", "fork:DONE", "draft:CANCELED", "budget:CANCELED" }, H.trail(host, pid))
    assert.same({}, H.of_node(host, pid, "finish"))
    assert.equal("CANCELED", H.status(host, pid))
  end)
end)

pattern("direct_distribution", nil, function(ctx)
  it("creates the task ASSIGNED to the named user", function()
    local host = ctx.host
    local pid = host:start("direct_distribution", "start", {}).process.id
    local review = H.one(host, pid, "review")
    assert.equal("ASSIGNED", review.status)
    assert.equal("alice", review.owner)
    assert.same({ review.id }, H.task_ids(host, { view = "inbox", as = "alice" }))
    for _, user in ipairs { "alice", "bob", "carol", "admin" } do
      assert.same({}, H.task_ids(host, { view = "queue", as = user }), user)
    end
    H.refused("not_found", function() host:execute(review.id, {}, { as = "bob" }) end)
    H.refused("forbidden", function() host:execute(review.id, {}, { as = "admin" }) end)
    host:execute(review.id, {}, { as = "alice" })
    assert.equal("DONE", H.status(host, pid))
  end)
end)

pattern("role_based", {
  alice = {},
  bob = { perms = { "role_based.approve" } },
  carol = {},
}, function(ctx)
  it("puts the task in the queue of the permission's holders only", function()
    local host = ctx.host
    local pid = host:start("role_based", "start", {}).process.id
    local approve = H.one(host, pid, "approve")
    assert.equal("NEW", approve.status)
    assert.same({ approve.id }, H.task_ids(host, { view = "queue", as = "bob" }))
    assert.same({ approve.id }, H.task_ids(host, { view = "queue", as = "admin" }))
    assert.same({}, H.task_ids(host, { view = "queue", as = "alice" }))
    assert.same({}, H.task_ids(host, { view = "queue", as = "carol" }))
    -- carol may not even see the process (404, not 403: see http-api.md)
    H.refused("not_found", function() host:assign(approve.id, { as = "carol" }) end)
    host:assign(approve.id, { as = "bob" })
    host:execute(approve.id, {}, { as = "bob" })
    assert.equal("DONE", H.status(host, pid))
  end)

  -- the names of the nodes one may take are kept per permissions, not per user
  it("puts the task in the queue of a holder granted the permission since", function()
    local host = ctx.host
    local approve = H.one(host, host:start("role_based", "start", {}).process.id, "approve")
    assert.same({}, H.task_ids(host, { view = "queue", as = "carol" }))
    assert.same({ queue = 0, inbox = 0 }, host:counts { as = "carol" })
    host:grant("carol", "role_based.approve")
    assert.same({ approve.id }, H.task_ids(host, { view = "queue", as = "carol" }))
    assert.same({ queue = 1, inbox = 0 }, host:counts { as = "carol" })
    assert.same({}, H.task_ids(host, { view = "queue", as = "alice" }))
  end)
end)

pattern("deferred_distribution", nil, function(ctx)
  it("computes the owner from process data when the task is created", function()
    local host = ctx.host
    local function owner(data)
      local pid = host:start("deferred_distribution", "start", data).process.id
      local review = H.one(host, pid, "review")
      assert.equal("ASSIGNED", review.status)
      return review.owner
    end
    assert.equal("carol", owner { reviewer = "carol" })
    assert.equal("bob", owner { reviewer = "bob" })
    assert.equal("alice", owner {})
  end)

  it("fails when the function names no existing user", function()
    local host = ctx.host
    local err = H.refused("flow_error", function() host:start("deferred_distribution", "start", { reviewer = "zed" }) end)
    assert.matches("zed", err.message, 1, true)
    assert.same({}, host:processes {})
  end)
end)

pattern("retain_familiar", {
  bob = { perms = { "retain_familiar.start" } },
  carol = { perms = { "retain_familiar.start" } },
}, function(ctx)
  it("gives the follow-up to whoever started the case", function()
    local host = ctx.host
    local by_bob = host:start("retain_familiar", "start", { request = "help" }, { as = "bob" }).process.id
    local by_carol = host:start("retain_familiar", "start", { request = "help" }, { as = "carol" }).process.id
    assert.equal("bob", H.one(host, by_bob, "follow_up").owner)
    assert.equal("ASSIGNED", H.one(host, by_bob, "follow_up").status)
    assert.equal("carol", H.one(host, by_carol, "follow_up").owner)
    host:execute(H.one(host, by_bob, "follow_up").id, { answer = "done" }, { as = "bob" })
    assert.equal("DONE", H.status(host, by_bob))
  end)
end)

pattern("round_robin", nil, function(ctx)
  it("rotates the owners over the team", function()
    local host = ctx.host
    local owners = {}
    for i = 1, 4 do
      local pid = host:start("round_robin", "start", {}).process.id
      assert.equal(i, pid)
      owners[i] = H.one(host, pid, "handle").owner
    end
    assert.same({ "alice", "bob", "carol", "alice" }, owners)
  end)
end)

pattern("separation_of_duties", {
  alice = { perms = { "separation_of_duties.start", "separation_of_duties.approve" } },
  bob = { perms = { "separation_of_duties.start", "separation_of_duties.approve" } },
}, function(ctx)
  it("keeps the requester from approving their own request", function()
    local host = ctx.host
    local pid = host:start("separation_of_duties", "start", { amount = 100 }, { as = "alice" }).process.id
    local approve = H.one(host, pid, "approve")
    assert.same({ approve.id }, H.task_ids(host, { view = "queue", as = "bob" }))
    assert.same({}, H.task_ids(host, { view = "queue", as = "alice" }))
    assert.same({}, H.actions(host, approve.id, "alice"))
    H.refused("forbidden", function() host:assign(approve.id, { as = "alice" }) end)
    host:assign(approve.id, { as = "bob" })
    host:execute(approve.id, { approved = true }, { as = "bob" })
    assert.equal("DONE", H.status(host, pid))
  end)

  it("lets the other user's request be approved by alice", function()
    local host = ctx.host
    local pid = host:start("separation_of_duties", "start", { amount = 5 }, { as = "bob" }).process.id
    local approve = H.one(host, pid, "approve")
    assert.same({ approve.id }, H.task_ids(host, { view = "queue", as = "alice" }))
    assert.same({}, H.task_ids(host, { view = "queue", as = "bob" }))
    host:assign(approve.id, { as = "alice" })
    H.refused("invalid", function() host:reassign(approve.id, "bob", { as = "admin" }) end)
  end)
end)

describe("the pattern flows", function()
  it("each have a describe in this spec or in patterns_more_spec.lua", function()
    local more = assert(io.open("tests/lua/patterns_more_spec.lua"))
    for name in more:read("a"):gmatch('pattern%("([%w_]+)"') do covered[name] = true end
    more:close()
    local pipe = assert(io.popen("ls flows/patterns/*.lua"))
    local missing = {}
    for path in pipe:lines() do
      local name = path:match("([%w_]+)%.lua$")
      if not covered[name] then missing[#missing + 1] = name end
    end
    pipe:close()
    assert.same({}, missing)
  end)
end)
