-- The event model: joins that never hang (every order, nested splits), terminate, first-wins
-- splits, partial joins, boundary timers (:OnTimeout), due dates (:Due), messages with
-- correlation (kept, transient, expiring), signals, Send nodes and cancel regions.
-- All on the manual clock: a week-long deadline runs in microseconds.
-- Fixture: tests/fixtures/flows/events.lua.

local H = require "helpers"

local START = 1893456000   -- 2030-01-01T00:00:00Z

-- Assigns the latest task of `node` to admin and executes it.
local function finish(host, pid, node, data)
  local t = H.last(host, pid, node)
  host:assign(t.id, { as = "admin" })
  return host:execute(t.id, data or {}, { as = "admin" })
end

local function start(host, node, data)
  return host:start("events", node, data or {}).process.id
end

-- node -> how many of its tasks have status
local function count(host, pid, node, status)
  local n = 0
  for _, t in ipairs(H.of_node(host, pid, node)) do
    if t.status == status then n = n + 1 end
  end
  return n
end

-- Every ordering of a list.
local function permutations(list)
  if #list <= 1 then return { list } end
  local out = {}
  for i = 1, #list do
    local rest = {}
    for j = 1, #list do if j ~= i then rest[#rest + 1] = list[j] end end
    for _, p in ipairs(permutations(rest)) do
      table.insert(p, 1, list[i])
      out[#out + 1] = p
    end
  end
  return out
end

describe("the event model", function()
  local host
  before_each(function() host = H.open { clock = "manual" } end)
  after_each(function() host:close() end)

  describe("a join never hangs", function()
    it("when a branch ends at its own End after the other reached the join", function()
      local pid = start(host, "hang")
      finish(host, pid, "hang_a")
      assert.equal("STARTED", H.one(host, pid, "hang_join").status)
      finish(host, pid, "hang_b")   -- no note: hang_b ends at hang_side_end
      assert.equal("DONE", H.one(host, pid, "hang_join").status)
      assert.equal("NEW", H.one(host, pid, "hang_after").status)
    end)

    it("when a branch ended at its own End before the other reached the join", function()
      local pid = start(host, "hang")
      finish(host, pid, "hang_b")
      assert.equal(0, #H.of_node(host, pid, "hang_join"))
      finish(host, pid, "hang_a")
      assert.equal("DONE", H.one(host, pid, "hang_join").status)
      assert.equal("NEW", H.one(host, pid, "hang_after").status)
    end)

    it("when a branch is canceled by a manager", function()
      local pid = start(host, "hang")
      finish(host, pid, "hang_a")
      host:cancel(H.one(host, pid, "hang_b").id, { as = "admin" })
      assert.equal("DONE", H.one(host, pid, "hang_join").status)
      assert.equal("NEW", H.one(host, pid, "hang_after").status)
    end)

    -- nest: outer split (a | inner split (b | c)); c either reaches the inner join (note set)
    -- or ends at its own End.  Every order of a, b, c, both ways, continues exactly once.
    for _, ends in ipairs({ true, false }) do
      for _, order in ipairs(permutations({ "nest_a", "nest_b", "nest_c" })) do
        local name = table.concat(order, ", ") .. (ends and " (c ends at its End)" or " (c joins)")
        it("in nested splits: " .. name, function()
          local pid = start(host, "nest", ends and {} or { note = "x" })
          for _, node in ipairs(order) do finish(host, pid, node) end
          assert.equal("DONE", H.status(host, pid))
          assert.equal(1, H.data(host, pid).after)
          assert.equal(1, count(host, pid, "nest_join", "DONE"))
          assert.equal(1, count(host, pid, "nest_inner_join", "DONE"))
          assert.equal(ends and 1 or 0, count(host, pid, "nest_c_end", "DONE"))
          assert.equal(1, count(host, pid, "finish", "DONE"))
        end)
      end
    end
  end)

  describe("End { terminate = true }", function()
    it("cancels every other active task and finishes the process", function()
      local pid = start(host, "term")
      finish(host, pid, "term_a")
      assert.equal("DONE", H.status(host, pid))
      assert.equal("CANCELED", H.one(host, pid, "term_b").status)
      assert.equal("DONE", H.one(host, pid, "term_end").status)
      assert.equal(0, #H.of_node(host, pid, "finish"))
    end)

    it("leaves nothing that can still be acted on", function()
      local pid = start(host, "term")
      local b = H.one(host, pid, "term_b")
      finish(host, pid, "term_a")
      H.refused("conflict", function() host:assign(b.id, { as = "admin" }) end)
    end)
  end)

  describe("Split { first = true }", function()
    it("cancels the other branches when the first waiting task completes", function()
      local pid = start(host, "race")
      finish(host, pid, "race_b")
      assert.equal("CANCELED", H.one(host, pid, "race_a").status)
      assert.equal("DONE", H.one(host, pid, "race_join").status)
      assert.equal("DONE", H.status(host, pid))
      assert.equal(1, count(host, pid, "finish", "DONE"))
    end)

    it("lets a late loser do nothing", function()
      local pid = start(host, "race")
      local a = H.one(host, pid, "race_a")
      finish(host, pid, "race_b")
      H.refused("conflict", function() host:assign(a.id, { as = "admin" }) end)
    end)
  end)

  describe("Join { wait = N }", function()
    it("continues after N arrivals and cancels the rest with cancel_rest", function()
      local pid = start(host, "two")
      finish(host, pid, "two_c")
      assert.equal("STARTED", H.one(host, pid, "two_join").status)
      finish(host, pid, "two_a")
      assert.equal("CANCELED", H.one(host, pid, "two_b").status)
      assert.equal("DONE", H.status(host, pid))
      assert.equal(1, H.data(host, pid).after)
    end)

    it("with block = true, a round waits until the earlier round is complete", function()
      local pid = start(host, "bd")
      finish(host, pid, "bd_a")                 -- round 1 fires at its first arrival
      assert.equal(1, H.data(host, pid).after)
      assert.equal(2, #H.of_node(host, pid, "bd_a"))   -- round 2 has started
      finish(host, pid, "bd_a")                 -- round 2's first arrival: blocked by round 1's B
      assert.equal(1, H.data(host, pid).after)
      assert.equal("STARTED", H.last(host, pid, "bd_join").status)
      local b1 = H.of_node(host, pid, "bd_b")[1]
      host:assign(b1.id, { as = "admin" })
      host:execute(b1.id, {}, { as = "admin" })   -- round 1 complete: round 2 fires now
      assert.equal(2, H.data(host, pid).after)
      assert.equal("DONE", H.last(host, pid, "bd_join").status)
      finish(host, pid, "bd_b")                 -- round 2's late B ends at its join
      assert.equal(2, H.data(host, pid).after)
      assert.equal("DONE", H.status(host, pid))
    end)

    it("ends later arrivals at the join without cancel_rest", function()
      local pid = start(host, "three")
      finish(host, pid, "three_a")
      finish(host, pid, "three_b")
      assert.equal(1, H.data(host, pid).after)
      assert.equal("NEW", H.one(host, pid, "three_c").status)
      assert.equal("STARTED", H.status(host, pid))
      finish(host, pid, "three_c")
      assert.equal(1, H.data(host, pid).after)   -- not a second continuation
      assert.equal("DONE", H.status(host, pid))
      assert.equal(1, count(host, pid, "three_after", "DONE"))
    end)
  end)

  describe(":OnTimeout", function()
    it("arms one timer row per :OnTimeout, due at its time", function()
      local pid = start(host, "deadline")
      assert.same({ "approve->remind:SCHEDULED", "approve->escalate:SCHEDULED" }, H.timeouts(host, pid))
      local rows = {}
      for _, t in ipairs(H.tasks(host, pid)) do if t.type == "timeout" then rows[#rows + 1] = t end end
      assert.equal("2030-01-01T01:00:00.000Z", rows[1].due_at)
      assert.equal("2030-01-04T00:00:00.000Z", rows[2].due_at)
      assert.is_false(rows[1].timeout.interrupting)
      assert.is_true(rows[2].timeout.interrupting)
      assert.equal(H.one(host, pid, "approve").id, rows[1].timeout.guards)
    end)

    it("non-interrupting runs its node beside the task; interrupting cancels the task", function()
      local pid = start(host, "deadline")
      assert.equal(1, host:advance(3600))
      assert.equal("NEW", H.one(host, pid, "approve").status)
      assert.equal("reminded", H.data(host, pid).note)
      assert.equal("STARTED", H.status(host, pid))
      assert.equal(1, host:advance(3 * 86400))
      assert.equal("CANCELED", H.one(host, pid, "approve").status)
      local esc = H.one(host, pid, "escalate")
      assert.equal("NEW", esc.status)
      assert.equal(H.one(host, pid, "approve").token, esc.token)
      assert.same({ "approve->remind:DONE", "approve->escalate:DONE" }, H.timeouts(host, pid))
      finish(host, pid, "escalate")
      assert.equal("DONE", H.status(host, pid))
    end)

    it("is disarmed when the task completes in time", function()
      local pid = start(host, "deadline")
      finish(host, pid, "approve")
      assert.equal("DONE", H.status(host, pid))
      assert.same({ "approve->remind:CANCELED", "approve->escalate:CANCELED" }, H.timeouts(host, pid))
      assert.equal(0, host:advance(10 * 86400))
      assert.equal(0, #H.of_node(host, pid, "escalate"))
      assert.is_nil(H.data(host, pid).note)
    end)

    it("on a Job: a job still retrying when the time comes is canceled", function()
      local pid = start(host, "slow")
      assert.equal("SCHEDULED", H.one(host, pid, "slow_job").status)
      host:advance(120)
      assert.equal("CANCELED", H.one(host, pid, "slow_job").status)
      assert.equal("slow", H.data(host, pid).note)
      assert.equal("DONE", H.status(host, pid))
      assert.equal(0, host:advance(10 * 3600))   -- the retry never runs
    end)

    it("on a Receive: nobody paid within a week", function()
      local pid = start(host, "pay", { order = "D-1" })
      host:advance(7 * 86400 - 1)
      assert.equal("STARTED", H.one(host, pid, "wait_payment").status)
      host:advance(1)
      assert.equal("CANCELED", H.one(host, pid, "wait_payment").status)
      assert.equal("unpaid", H.data(host, pid).note)
      assert.equal("DONE", H.status(host, pid))
      local r = host:send("payment", "D-1", { amount = 1 })
      assert.equal(0, #r.completed)   -- the receiver is gone: the message is kept
      assert.is_table(r.kept)
    end)

    it("is canceled with the process", function()
      local pid = start(host, "deadline")
      host:cancel_process(pid, { as = "admin" })
      assert.same({ "approve->remind:CANCELED", "approve->escalate:CANCELED" }, H.timeouts(host, pid))
      assert.equal(0, host:advance(10 * 86400))
    end)
  end)

  describe(":Due", function()
    it("sets due_at from seconds or a function, and nothing happens at that time", function()
      local pid = start(host, "deadline")
      assert.equal("2030-01-02T00:00:00.000Z", H.one(host, pid, "approve").due_at)
      local rid = start(host, "review", { delay = 90 })
      assert.equal("2030-01-01T00:01:30.000Z", H.one(host, rid, "review_task").due_at)
      host:advance(3600)
      assert.equal("NEW", H.one(host, rid, "review_task").status)
    end)

    it("sorts lists by due date, earliest first and tasks without one last, page by page", function()
      local late = start(host, "review", { delay = 300 })
      local plain = start(host, "hang")
      local early = start(host, "review", { delay = 100 })
      local mid = start(host, "review", { delay = 200 })
      local want = { H.one(host, early, "review_task").id, H.one(host, mid, "review_task").id,
        H.one(host, late, "review_task").id }
      local items = host:tasks { view = "all", status = "NEW", sort = "due_at" }
      assert.same(want, { items[1].id, items[2].id, items[3].id })
      assert.equal(plain, items[4].process_id)
      assert.is_nil(items[4].due_at)
      -- one per page: the page key carries on from (due, id)
      local seen, after = {}, nil
      repeat
        local page, next_after = host:tasks { view = "all", status = "NEW", sort = "due_at", limit = 1, after = after }
        for _, t in ipairs(page) do seen[#seen + 1] = t.id end
        after = next_after
      until not after
      assert.same({ want[1], want[2], want[3], items[4].id, items[5].id }, seen)
      H.refused("invalid", function() host:tasks { sort = "due" } end)
    end)

    it("a :Due function that returns no number is a flow error and nothing is written", function()
      local err = H.refused("flow_error", function() host:start("events", "review", {}) end)
      assert.truthy(err.message:find("due", 1, true))
      assert.same({}, host:processes {})
    end)
  end)

  describe("messages", function()
    it("go to the receiver waiting for their name and key; data is cleaned and merged", function()
      local pid = start(host, "pay", { order = "A-17" })
      local other = start(host, "pay", { order = "A-18" })
      local r = host:send("payment", "A-17", { amount = 12.5 })
      assert.equal(1, #r.completed)
      assert.equal(H.one(host, pid, "wait_payment").id, r.completed[1].id)
      assert.is_nil(r.kept)
      assert.equal("DONE", H.status(host, pid))
      assert.same({ order = "A-17", amount = 12.5 }, H.data(host, pid))
      assert.equal("STARTED", H.status(host, other))
    end)

    it("take an integer key as its decimal text", function()
      local pid = start(host, "pay", { order = "42" })
      assert.equal(1, #host:send("payment", 42, { amount = 1 }).completed)
      assert.equal("DONE", H.status(host, pid))
    end)

    it("reach only the oldest of two receivers with the same key", function()
      local first = start(host, "pay", { order = "X" })
      local second = start(host, "pay", { order = "X" })
      host:send("payment", "X", { amount = 1 })
      assert.equal("DONE", H.status(host, first))
      assert.equal("STARTED", H.status(host, second))
    end)

    it("are refused when the data fails the receiver's fields, and nothing changes", function()
      local pid = start(host, "pay", { order = "A" })
      local err = H.refused("invalid", function() host:send("payment", "A", { amount = "lots" }) end)
      assert.truthy(err.fields.amount)
      assert.equal("STARTED", H.one(host, pid, "wait_payment").status)
      H.refused("invalid", function() host:send("payment", "A", { nope = 1 }) end)
      assert.equal("STARTED", H.status(host, pid))
    end)

    it("are kept when nobody waits, and taken exactly once by the first receiver created later", function()
      local r = host:send("payment", "B-1", { amount = 3 })
      assert.equal(0, #r.completed)
      assert.is_number(r.kept.id)
      assert.equal("2030-01-02T00:00:00.000Z", r.kept.expires_at)
      local first = start(host, "pay", { order = "B-1" })
      assert.equal("DONE", H.status(host, first))
      assert.equal(3, H.data(host, first).amount)
      local second = start(host, "pay", { order = "B-1" })
      assert.equal("STARTED", H.status(host, second))
    end)

    it("are ignored when kept by a transient receiver", function()
      host:send("payment", "T", { amount = 3 })
      local eager = start(host, "eager", { order = "T" })
      assert.equal("STARTED", H.one(host, eager, "wait_eager").status)
      local pid = start(host, "pay", { order = "T" })
      assert.equal("DONE", H.status(host, pid))
      -- a transient receiver still takes a message sent while it waits
      assert.equal(1, #host:send("payment", "T", {}).completed)
      assert.equal("DONE", H.status(host, eager))
    end)

    it("expire: the default after a day, or the ttl given", function()
      host:send("payment", "E1", { amount = 1 }, { ttl = 60 })
      host:send("payment", "E2", { amount = 2 })
      host:advance(61)
      local p1 = start(host, "pay", { order = "E1" })
      assert.equal("STARTED", H.status(host, p1))
      host:advance(86400)
      local p2 = start(host, "pay", { order = "E2" })
      assert.equal("STARTED", H.status(host, p2))
    end)

    it("from a Send node reach a waiting receiver after the sender's write", function()
      local pid = start(host, "pay", { order = "C" })
      local sender = start(host, "notify", { order = "C", amount = 9 })
      assert.equal("DONE", H.status(host, sender))
      assert.equal("DONE", H.status(host, pid))
      assert.equal(9, H.data(host, pid).amount)
    end)

    it("from a Send node are kept when nobody waits", function()
      start(host, "notify", { order = "K", amount = 4 })
      local pid = start(host, "pay", { order = "K" })
      assert.equal("DONE", H.status(host, pid))
      assert.equal(4, H.data(host, pid).amount)
    end)

    it("from a Send node are not sent when a later node of the same action fails", function()
      H.refused("flow_error", function() host:start("events", "oops", { order = "Z", amount = 1 }) end)
      local pid = start(host, "pay", { order = "Z" })
      assert.equal("STARTED", H.status(host, pid))
    end)

    it("kept with data a receiver's fields refuse stay kept, and do not block later ones", function()
      host:send("payment", "R", { amount = "lots" })
      local pid = start(host, "pay", { order = "R" })
      assert.equal("STARTED", H.one(host, pid, "wait_payment").status)
      local r = host:send("payment", "R", { amount = 5 })
      assert.equal(1, #r.completed)
      assert.equal(5, H.data(host, pid).amount)
      -- a kept good message behind a refused one is found
      host:send("payment", "S", { amount = "lots" })
      host:send("payment", "S", { amount = 6 })
      local second = start(host, "pay", { order = "S" })
      assert.equal("DONE", H.status(host, second))
      assert.equal(6, H.data(host, second).amount)
    end)

    it("refuse bad names, keys and data, and senders without message.<name>", function()
      H.refused("bad_request", function() host:send("payment", "k", {}, { ttl = 1e12 }) end)
      H.refused("bad_request", function() host:send("Bad Name", "k", {}) end)
      H.refused("bad_request", function() host:send("payment", "", {}) end)
      H.refused("bad_request", function() host:send("payment", string.rep("k", 201), {}) end)
      host:user("mallory", {})
      host:user("payer", { perms = { "message.payment" } })
      H.refused("forbidden", function() host:send("payment", "k", {}, { as = "mallory" }) end)
      local r = host:send("payment", "k", {}, { as = "payer" })
      assert.is_table(r.kept)
    end)

    it("a Receive whose key function returns nothing is a flow error at start", function()
      local err = H.refused("flow_error", function() host:start("events", "pay", {}) end)
      assert.truthy(err.message:find("key", 1, true))
    end)
  end)

  describe("signals", function()
    it("reach every receiver waiting at that moment and are never kept", function()
      local a, b = start(host, "bell"), start(host, "bell")
      local r = host:signal("bell", {})
      assert.equal(2, #r.completed)
      assert.equal("DONE", H.status(host, a))
      assert.equal("DONE", H.status(host, b))
      local late = start(host, "bell")
      assert.equal("STARTED", H.status(host, late))
      assert.equal(0, #host:signal("other", {}).completed)
    end)
  end)

  describe("Cancel(split)", function()
    it("cancels the round's active tasks and its waiting join, and goes on outside the round", function()
      local pid = start(host, "region")
      local split = H.one(host, pid, "region_split")
      finish(host, pid, "region_b")
      assert.equal("CANCELED", H.one(host, pid, "region_a").status)
      assert.equal("aborted", H.data(host, pid).note)
      assert.equal(split.token, H.one(host, pid, "aborted").token)
      assert.equal("DONE", H.status(host, pid))
    end)

    it("also cancels a join already waiting in the round", function()
      local pid = start(host, "region")
      finish(host, pid, "region_a")
      assert.equal("STARTED", H.one(host, pid, "region_join").status)
      finish(host, pid, "region_b")
      assert.equal("CANCELED", H.one(host, pid, "region_join").status)
      assert.equal(0, count(host, pid, "finish", "DONE") - 1)   -- finish once, from aborted
      assert.equal("DONE", H.status(host, pid))
    end)
  end)

  describe("Lock and Unlock", function()
    it("let one branch at a time into the critical section; the other waits at its Lock", function()
      local pid = start(host, "crit")
      assert.equal("DONE", H.one(host, pid, "crit_a_lock").status)
      assert.equal("STARTED", H.one(host, pid, "crit_b_lock").status)
      assert.equal(0, #H.of_node(host, pid, "crit_b1"))
      finish(host, pid, "crit_a1")
      assert.equal(0, #H.of_node(host, pid, "crit_b1"))   -- A's section is not over yet
      finish(host, pid, "crit_a2")
      assert.equal("DONE", H.one(host, pid, "crit_b_lock").status)
      assert.equal("NEW", H.one(host, pid, "crit_b1").status)
      finish(host, pid, "crit_b1")
      assert.equal("DONE", H.status(host, pid))
    end)

    it("let go of a lock whose branch ended without Unlock", function()
      local pid = start(host, "crit")
      host:cancel(H.one(host, pid, "crit_a1").id, { as = "admin" })
      assert.equal("NEW", H.one(host, pid, "crit_b1").status)
    end)

    it("keep the lock with its holder across actions (it is stored), and only its branch lets it go", function()
      local pid = start(host, "crit")
      finish(host, pid, "crit_a1")
      -- another action on the process in between: the lock state comes back from the store
      host:assign(H.one(host, pid, "crit_a2").id, { as = "admin" })
      host:unassign(H.one(host, pid, "crit_a2").id, { as = "admin" })
      assert.equal("STARTED", H.one(host, pid, "crit_b_lock").status)
      assert.equal(0, #H.of_node(host, pid, "crit_b1"))
      -- A's section is canceled, B takes the lock; a revived A2 does not get it back, and its
      -- Unlock does not release B's lock
      host:cancel(H.one(host, pid, "crit_a2").id, { as = "admin" })
      assert.equal("NEW", H.one(host, pid, "crit_b1").status)
      host:revive(H.one(host, pid, "crit_a2").id, { as = "admin" })
      finish(host, pid, "crit_a2")
      assert.equal("DONE", H.one(host, pid, "crit_b_lock").status)
      assert.equal("NEW", H.one(host, pid, "crit_b1").status)
      finish(host, pid, "crit_b1")
      assert.equal("DONE", H.status(host, pid))
    end)

    it("a manager may cancel a branch waiting at a Lock", function()
      local pid = start(host, "crit")
      host:cancel(H.one(host, pid, "crit_b_lock").id, { as = "admin" })
      finish(host, pid, "crit_a1")
      finish(host, pid, "crit_a2")
      assert.equal("DONE", H.one(host, pid, "crit_join").status)
    end)
  end)

  describe(":While (milestone)", function()
    it("allows the task only while the other node is active", function()
      local pid = start(host, "mile")
      local change = H.one(host, pid, "mile_change")
      assert.same({ "assign", "cancel", "reassign" }, H.actions(host, change.id, "admin"))   -- NEW: hand it over too
      host:assign(change.id, { as = "admin" })
      finish(host, pid, "mile_window")
      local err = H.refused("conflict", function() host:execute(change.id, {}, { as = "admin" }) end)
      assert.truthy(err.message:find("only while 'mile_window' is active", 1, true))
      assert.equal("STARTED", H.status(host, pid))
    end)

    it("refuses to take the task once the window closed", function()
      local pid = start(host, "mile")
      finish(host, pid, "mile_window")
      H.refused("conflict", function() host:assign(H.one(host, pid, "mile_change").id, { as = "admin" }) end)
    end)
  end)

  it("shows the event settings in the flow's JSON", function()
    local f = host:flow("events")
    local by = {}
    for _, n in ipairs(f.nodes) do by[n.name] = n end
    assert.is_true(by.term_end.terminate)
    assert.is_true(by.race_split.first)
    assert.equal(2, by.two_join.wait)
    assert.is_true(by.bd_join.block)
    assert.is_false(by.two_join.block)
    assert.is_true(by.two_join.cancel_rest)
    assert.equal("payment", by.wait_payment.message)
    assert.equal("bell", by.wait_bell.signal)
    assert.is_true(by.wait_eager.transient)
    assert.equal("region_split", by.region_cancel.region)
    assert.equal(86400, by.approve.due)
    assert.equal(2, #by.approve.timeouts)
    assert.equal("remind", by.approve.timeouts[1].to)
    assert.is_false(by.approve.timeouts[1].interrupting)
    local timeout_edges = 0
    for _, e in ipairs(f.edges) do if e.kind == "timeout" then timeout_edges = timeout_edges + 1 end end
    assert.equal(4, timeout_edges)   -- approve x2, slow_job, wait_payment
    assert.equal(START, host:now())
  end)
end)
