-- Tokens: a process starts with "start"; the branches of a Split task P get "start/P_1",
-- "start/P_2"...; a Join continues with the parent token, exactly once. Joins nest.
-- Fixture: tests/fixtures/flows/splits.lua.

local H = require "helpers"

local function by_node(host, pid)
  local out = {}
  for _, t in ipairs(H.tasks(host, pid)) do
    out[t.node] = out[t.node] or {}
    table.insert(out[t.node], t)
  end
  return out
end

describe("tokens of nested splits and joins", function()
  local host, pid
  before_each(function()
    host = H.open { users = { alice = {}, bob = {} } }
    pid = host:start("splits", "start", {}).process.id
  end)

  local function do_task(node, user)
    local t = H.one(host, pid, node)
    return host:execute(t.id, {}, { as = user })
  end

  it("gives each branch of a split its own token, and nested splits extend it", function()
    local t = by_node(host, pid)
    local outer = t.outer[1]
    assert.equal("start", t.start[1].token)
    assert.equal("start", outer.token)
    assert.equal("start/" .. outer.id .. "_1", t.left[1].token)
    assert.equal("start/" .. outer.id .. "_2", t.right[1].token)
    assert.same({ outer.id }, t.left[1].previous)
    assert.same({ outer.id }, t.right[1].previous)

    do_task("left", "alice")
    t = by_node(host, pid)
    local inner = t.inner[1]
    assert.equal("start/" .. outer.id .. "_1", inner.token)
    assert.equal(inner.token .. "/" .. inner.id .. "_1", t.left_a[1].token)
    assert.equal(inner.token .. "/" .. inner.id .. "_2", t.left_b[1].token)
  end)

  it("joins continue with the parent token, exactly once, only when their branches are done", function()
    do_task("left", "alice")
    do_task("left_a", "alice")
    local t = by_node(host, pid)
    -- the inner join waits for left_b
    assert.equal(1, #t.inner_join)
    assert.equal("STARTED", t.inner_join[1].status)
    assert.is_nil(t.after_inner)
    do_task("left_b", "bob")
    t = by_node(host, pid)
    local outer = t.outer[1]
    assert.equal("DONE", t.inner_join[1].status)
    assert.equal("start/" .. outer.id .. "_1", t.inner_join[1].token)   -- the parent of inner's branches
    assert.same(H.sorted { t.left_a[1].id, t.left_b[1].id }, H.sorted(t.inner_join[1].previous))
    assert.equal(1, #t.after_inner)
    assert.equal("start/" .. outer.id .. "_1", t.after_inner[1].token)
    -- the outer join now waits for `right` only
    assert.equal("STARTED", t.outer_join[1].status)
    assert.equal("start", t.outer_join[1].token)
    assert.is_nil(t.after_outer)
    do_task("right", "bob")
    t = by_node(host, pid)
    assert.equal(1, #t.outer_join)
    assert.equal("DONE", t.outer_join[1].status)
    assert.same(H.sorted { t.after_inner[1].id, t.right[1].id }, H.sorted(t.outer_join[1].previous))
    assert.equal(1, #t.after_outer)
    assert.equal("start", t.after_outer[1].token)
    assert.equal("start", t.finish[1].token)
    assert.same({ ran_after_inner = 1, ran_after_outer = 1 }, H.data(host, pid))
    assert.equal("DONE", H.status(host, pid))
  end)

  it("the outer join does not fire early when the other branch finishes first", function()
    do_task("right", "bob")
    local t = by_node(host, pid)
    assert.equal("STARTED", t.outer_join[1].status)
    assert.is_nil(t.after_outer)
    do_task("left", "alice")
    do_task("left_b", "bob")
    assert.is_nil(by_node(host, pid).after_outer)
    do_task("left_a", "alice")
    t = by_node(host, pid)
    assert.equal(1, #t.outer_join)
    assert.equal(1, #t.after_outer)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("a canceled branch no longer holds its join back", function()
    do_task("left", "alice")
    do_task("left_a", "alice")
    host:cancel(H.one(host, pid, "left_b").id, { as = "admin" })
    local t = by_node(host, pid)
    assert.equal("DONE", t.inner_join[1].status)
    assert.equal(1, #t.after_inner)
    assert.equal("STARTED", t.outer_join[1].status)
    do_task("right", "bob")
    assert.equal("DONE", H.status(host, pid))
  end)
end)

describe("a split in a cycle", function()
  it("gives every round its own split task, tokens and join", function()
    local host = H.open()
    local r = host:start("splits", "loop", { rounds = 3 })
    local pid = r.process.id
    assert.equal("DONE", r.process.status)
    local t = by_node(host, pid)
    assert.equal(3, #t.fork)
    assert.equal(3, #t.join)
    assert.equal(3, #t.a)
    assert.equal(3, #t.b)
    assert.equal(1, #t.loop_end)
    for round = 1, 3 do
      local fork = t.fork[round]
      assert.equal("start", fork.token)
      assert.equal("start/" .. fork.id .. "_1", t.a[round].token)
      assert.equal("start/" .. fork.id .. "_2", t.b[round].token)
      assert.equal("start", t.join[round].token)
      assert.equal("DONE", t.join[round].status)
      assert.same(H.sorted { t.a[round].id, t.b[round].id }, H.sorted(t.join[round].previous))
    end
    assert.same({ rounds = 3, ran_a = 3, ran_b = 3 }, H.data(host, pid))
  end)
end)
