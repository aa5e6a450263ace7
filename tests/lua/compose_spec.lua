-- Composition: Subprocess (input/output, a child that ends at once, a canceled child, revive,
-- cancel propagation three levels deep, recursion and its depth limit) and :ForEach (all at
-- once, complete = N, a complete function, one after another, empty lists, :Assign per item,
-- on Handler, Job and Subprocess, with :OnTimeout and inside a split).
-- Fixtures: tests/fixtures/flows/compose.lua and compose_child.lua.

local H = require "helpers"

local function start(host, node, data)
  return host:start("compose", node, data or {}).process.id
end

local function finish_task(host, t, data)
  if t.status == "NEW" then host:assign(t.id, { as = "admin" }) end
  return host:execute(t.id, data or {}, { as = (t.owner or "admin") })
end

local tasks_of, controller = H.instances, H.controller

local function child_of(host, pid)
  local children = host:process(pid).children
  return children[#children]
end

describe("Subprocess", function()
  local host
  before_each(function() host = H.open { clock = "manual", users = { ann = {}, bob = {}, cy = {} } } end)
  after_each(function() host:close() end)

  it("starts the child with input, waits, and maps the output back when it is DONE", function()
    local pid = start(host, "ship", { order = "A-1" })
    local sub = H.one(host, pid, "ship_one")
    assert.equal("STARTED", sub.status)
    assert.equal("subprocess", sub.type)
    local child = child_of(host, pid)
    assert.equal(sub.child_id, child.id)
    assert.equal("compose_child", child.flow)
    assert.equal(sub.id, child.parent_task_id)
    local cp = host:process(child.id)
    assert.same({ order = "A-1" }, cp.process.data)
    assert.same({ process_id = pid, task_id = sub.id }, cp.process.parent)
    finish_task(host, H.one(host, child.id, "pack"), { packed = true })
    assert.equal("DONE", H.status(host, child.id))
    assert.equal("DONE", H.one(host, pid, "ship_one").status)
    assert.equal("compose_child:DONE:true", H.data(host, pid).result)
    assert.equal(1, H.data(host, pid).shipped)
    assert.equal("NEW", H.one(host, pid, "after_ship").status)
    local listed = host:processes { parent = pid }
    assert.equal(1, #listed)
    assert.equal(child.id, listed[1].id)
  end)

  it("takes over a child that ran to its end in the same action", function()
    local pid = start(host, "quick", { order = "Q" })
    assert.equal("DONE", H.status(host, pid))
    assert.equal("compose_child:DONE:true", H.data(host, pid).result)
    assert.equal("DONE", H.status(host, child_of(host, pid).id))
  end)

  it("puts the task in ERROR when the child is canceled; revive starts a new child", function()
    local pid = start(host, "ship", { order = "B" })
    local first = child_of(host, pid)
    host:cancel_process(first.id, { as = "admin" })
    local sub = H.one(host, pid, "ship_one")
    assert.equal("ERROR", sub.status)
    assert.truthy(sub.error.message:find("was canceled", 1, true))
    host:revive(sub.id, { as = "admin" })
    local again = H.last(host, pid, "ship_one")
    assert.equal("STARTED", again.status)
    assert.are_not.equal(first.id, again.child_id)
    assert.equal(2, #host:process(pid).children)
    finish_task(host, H.one(host, again.child_id, "pack"))
    assert.equal("DONE", H.last(host, pid, "ship_one").status)
  end)

  it("a canceled ERROR task goes on as a cancel", function()
    local pid = start(host, "ship", { order = "C" })
    host:cancel_process(child_of(host, pid).id, { as = "admin" })
    local sub = H.one(host, pid, "ship_one")
    host:cancel(sub.id, { as = "admin" })
    assert.equal("CANCELED", H.one(host, pid, "ship_one").status)
    assert.equal(0, #H.of_node(host, pid, "after_ship"))
  end)

  it("canceling the task cancels the child", function()
    local pid = start(host, "ship", { order = "D" })
    local child = child_of(host, pid)
    host:cancel(H.one(host, pid, "ship_one").id, { as = "admin" })
    assert.equal("CANCELED", H.status(host, child.id))
    assert.equal("CANCELED", H.one(host, child.id, "pack").status)
  end)

  it("canceling the process cancels children and grandchildren (three levels)", function()
    local pid = start(host, "deep")
    local child = child_of(host, pid)
    local grandchild = child_of(host, child.id)
    assert.equal("STARTED", H.status(host, grandchild.id))
    assert.equal(child.id, host:process(grandchild.id).process.parent.process_id)
    host:cancel_process(pid, { as = "admin" })
    assert.equal("CANCELED", H.status(host, pid))
    assert.equal("CANCELED", H.status(host, child.id))
    assert.equal("CANCELED", H.status(host, grandchild.id))
  end)

  it("finishes three levels up when the grandchild ends", function()
    local pid = start(host, "deep")
    local grandchild = child_of(host, child_of(host, pid).id)
    finish_task(host, H.one(host, grandchild.id, "pack"))
    assert.equal("DONE", H.status(host, pid))
  end)

  it("recursion works, and going deeper than the limit is a clear error", function()
    local pid = start(host, "recurse", { depth = 5 })
    assert.equal("DONE", H.status(host, pid))
    assert.equal("level level level level level 5", H.data(host, pid).result)
    local deep = start(host, "recurse", { depth = 100 })
    -- 32 levels of children; the 33rd call is refused with the task in ERROR
    local p, levels = deep, 0
    while true do
      local c = host:process(p).children
      if #c == 0 then break end
      p, levels = c[1].id, levels + 1
    end
    assert.equal(32, levels)
    local stuck = H.one(host, p, "call_self")
    assert.equal("ERROR", stuck.status)
    assert.truthy(stuck.error.message:find("nested deeper than 32", 1, true))
  end)

  it("a child flow that does not exist is an ERROR task naming it", function()
    local pid = start(host, "broken")
    local sub = H.one(host, pid, "broken_child")
    assert.equal("ERROR", sub.status)
    assert.truthy(sub.error.message:find("no_such_flow", 1, true))
  end)
end)

describe(":ForEach", function()
  local host
  before_each(function() host = H.open { clock = "manual", users = { ann = {}, bob = {}, cy = {} } } end)
  after_each(function() host:close() end)

  it("creates one task per item with item and index, assigned per item; goes on once after all", function()
    local pid = start(host, "review")
    local list = tasks_of(host, pid, "reviews")
    assert.equal(3, #list)
    for i, who in ipairs({ "ann", "bob", "cy" }) do
      assert.same({ item = who, index = i }, list[i].data)
      assert.equal(who, list[i].owner)
      assert.equal("ASSIGNED", list[i].status)
    end
    local ctrl = controller(host, pid, "reviews")
    assert.equal("STARTED", ctrl.status)
    assert.equal(ctrl.id, list[1].group_id)
    finish_task(host, list[1])
    finish_task(host, list[3])
    assert.equal(0, #H.of_node(host, pid, "after_reviews"))
    assert.equal(2, controller(host, pid, "reviews").data.done)
    finish_task(host, list[2])
    assert.equal("DONE", controller(host, pid, "reviews").status)
    assert.equal(1, #H.of_node(host, pid, "after_reviews"))
    assert.equal(100, H.data(host, pid).shipped)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("shows the instances in the assignee's inbox only", function()
    start(host, "review")
    local inbox = host:tasks { view = "inbox", as = "bob" }
    assert.equal(1, #inbox)
    assert.equal("bob", inbox[1].data.item)
  end)

  it("complete = 2 goes on after two and cancels the third", function()
    local pid = start(host, "two_of_three")
    local list = tasks_of(host, pid, "votes")
    finish_task(host, list[2])
    finish_task(host, list[3])
    assert.equal("CANCELED", tasks_of(host, pid, "votes")[1].status)
    assert.equal(100, H.data(host, pid).shipped)
    assert.equal("DONE", H.status(host, pid))
    H.refused("conflict", function() host:assign(list[1].id, { as = "admin" }) end)
  end)

  it("complete = 2 with cancel_rest = false goes on after two and lets the third run to its end", function()
    local pid = start(host, "two_then_all")
    local list = tasks_of(host, pid, "answers")
    finish_task(host, list[1])
    finish_task(host, list[3])
    assert.equal("DONE", controller(host, pid, "answers").status)
    assert.equal(100, H.data(host, pid).shipped)
    assert.equal("NEW", tasks_of(host, pid, "answers")[2].status)
    assert.equal("STARTED", H.status(host, pid))
    finish_task(host, tasks_of(host, pid, "answers")[2])
    assert.equal(100, H.data(host, pid).shipped)   -- it ended at the group
    assert.equal(3, #tasks_of(host, pid, "answers", "DONE"))
    assert.equal("DONE", H.status(host, pid))
  end)

  it("a complete function decides after each instance", function()
    local pid = start(host, "until_no")
    local list = tasks_of(host, pid, "checks")
    finish_task(host, list[1])
    assert.equal("STARTED", controller(host, pid, "checks").status)
    -- a later step sets the note: the next instance to finish sees it
    local ctrl = controller(host, pid, "checks")
    assert.equal(1, ctrl.data.done)
    host:cancel(list[3].id, { as = "admin" })
    assert.equal("STARTED", controller(host, pid, "checks").status)
    finish_task(host, list[2])
    assert.equal("DONE", controller(host, pid, "checks").status)   -- all ended
    assert.equal(100, H.data(host, pid).shipped)
  end)

  it("parallel = false runs the instances one after another, over a process field", function()
    local pid = host:start("compose", "in_turn", { list = { "x", "y", "z" } }).process.id
    for i, item in ipairs({ "x", "y", "z" }) do
      local open = tasks_of(host, pid, "steps", "NEW")
      assert.equal(1, #open)
      assert.same({ item = item, index = i }, open[1].data)
      finish_task(host, open[1])
    end
    assert.equal(3, #tasks_of(host, pid, "steps", "DONE"))
    assert.equal("DONE", H.status(host, pid))
  end)

  it("in turn, a canceled instance lets the next one start", function()
    local pid = host:start("compose", "in_turn", { list = { "x", "y" } }).process.id
    host:cancel(tasks_of(host, pid, "steps", "NEW")[1].id, { as = "admin" })
    local open = tasks_of(host, pid, "steps", "NEW")
    assert.equal(1, #open)
    assert.equal("y", open[1].data.item)
  end)

  it("an empty list goes on at once", function()
    local pid = start(host, "review", { reviewers = "none" })
    assert.equal(0, #tasks_of(host, pid, "reviews"))
    assert.equal("DONE", controller(host, pid, "reviews").status)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("runs Handler instances in the same action", function()
    local pid = start(host, "handlers")
    assert.equal("1ann;2bob;3cy;", H.data(host, pid).result)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("runs Job instances as jobs", function()
    local pid = start(host, "jobs")
    assert.equal(3, #tasks_of(host, pid, "each_job", "SCHEDULED"))
    assert.equal(3, host:run_jobs())
    assert.equal("DONE", H.status(host, pid))
    assert.equal(100, H.data(host, pid).shipped)
    assert.equal(3, #H.data(host, pid).result:gsub("[^;]", ""))
  end)

  it("starts one subprocess per item", function()
    local pid = start(host, "ships")
    local children = host:process(pid).children
    assert.equal(3, #children)
    for i, c in ipairs(children) do
      assert.equal(({ "ann", "bob", "cy" })[i], H.data(host, c.id).order)
      finish_task(host, H.one(host, c.id, "pack"))
    end
    assert.equal(103, H.data(host, pid).shipped)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("a group's :OnTimeout interrupts the whole group", function()
    local pid = start(host, "timed")
    finish_task(host, tasks_of(host, pid, "timed_reviews")[1])
    host:advance(3600)
    assert.equal("CANCELED", controller(host, pid, "timed_reviews").status)
    assert.equal(2, #tasks_of(host, pid, "timed_reviews", "CANCELED"))
    assert.equal("late", H.data(host, pid).note)
    assert.equal(0, #H.of_node(host, pid, "after_reviews"))
    assert.equal("DONE", H.status(host, pid))
  end)

  it("works inside a split: the join waits for the whole group", function()
    local pid = start(host, "in_split")
    finish_task(host, H.one(host, pid, "other"))
    local list = tasks_of(host, pid, "split_reviews")
    finish_task(host, list[1])
    finish_task(host, list[2])
    assert.equal(0, #H.of_node(host, pid, "after_reviews"))
    finish_task(host, list[3])
    assert.equal(1, #H.of_node(host, pid, "after_reviews"))
    assert.equal("DONE", H.status(host, pid))
  end)

  it("reviving an instance revives that item in the same group, not a new group", function()
    local pid = start(host, "review")
    local bob = tasks_of(host, pid, "reviews")[2]
    host:cancel(bob.id, { as = "admin" })
    host:revive(bob.id, { as = "admin" })
    local list = tasks_of(host, pid, "reviews")
    assert.equal(4, #list)
    assert.same({ item = "bob", index = 2 }, list[4].data)
    assert.equal(bob.group_id, list[4].group_id)
    assert.equal("bob", list[4].owner)
    for _, t in ipairs(tasks_of(host, pid, "reviews", "ASSIGNED")) do finish_task(host, t) end
    assert.equal(100, H.data(host, pid).shipped)   -- what follows ran once
    assert.equal("DONE", H.status(host, pid))
  end)

  it("refuses to undo a finished instance or a finished subprocess", function()
    local pid = start(host, "review")
    local ann = tasks_of(host, pid, "reviews")[1]
    finish_task(host, ann)
    local err = H.refused("conflict", function() host:undo(ann.id, { as = "admin" }) end)
    assert.truthy(err.message:find("instance", 1, true))
    local q = start(host, "quick", { order = "U" })
    H.refused("conflict", function() host:undo(H.one(host, q, "quick_child").id, { as = "admin" }) end)
  end)

  it("a manager canceling the group cancels its instances", function()
    local pid = start(host, "review")
    host:cancel(controller(host, pid, "reviews").id, { as = "admin" })
    assert.equal(3, #tasks_of(host, pid, "reviews", "CANCELED"))
  end)
end)
