-- WCP-39 Critical section: two parallel branches each update the customer record in two steps;
-- the two regions (update + confirm) must never be active at the same time.
-- No construct: a lock in the process data (taken by `enter_a`/`enter_b` when free, checked by
-- `got_a`/`got_b`, released by `leave_a`/`leave_b`) and a wake-up message to the process itself
-- (`wake_a`/`wake_b`, flow.Send with the process id as key) that the waiting branch receives
-- (`wait_a`/`wait_b`, a transient Receive) before it tries again. Both regions must follow this
-- protocol by hand. A message goes to the oldest waiting receiver, so more branches queue fairly.
-- A test checks: after the start, branch A is in its region (update_a, alice), branch B waits
-- (wait_b STARTED, no update_b); after alice's two steps, B enters (update_b, bob); at no time
-- two region tasks are active; data.log == {"a+", "a-", "b+", "b-"}, `enter_b` ran twice
-- (refused, then admitted), the process is DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-39 Critical section",

  start = flow.StartFunction(this.read_start):Next(this.fork),
  fork = flow.Split():Always(this.enter_a):Always(this.enter_b),

  enter_a = flow.Handler(this.try_lock):Next(this.got_a),
  got_a = flow.If(this.holds_lock):Then(this.update_a):Else(this.wait_a),
  wait_a = flow.Receive { message = "wcp39.unlock", key = this.process_key, transient = true }:Next(this.enter_a),
  update_a = flow.View { title = "Update the record (A)" }:Assign("alice"):Next(this.confirm_a),
  confirm_a = flow.View { title = "Confirm the record (A)" }:Assign("alice"):Next(this.leave_a),
  leave_a = flow.Handler(this.unlock):Next(this.wake_a),
  wake_a = flow.Send { message = "wcp39.unlock", key = this.process_key }:Next(this.done),

  enter_b = flow.Handler(this.try_lock):Next(this.got_b),
  got_b = flow.If(this.holds_lock):Then(this.update_b):Else(this.wait_b),
  wait_b = flow.Receive { message = "wcp39.unlock", key = this.process_key, transient = true }:Next(this.enter_b),
  update_b = flow.View { title = "Update the record (B)" }:Assign("bob"):Next(this.confirm_b),
  confirm_b = flow.View { title = "Confirm the record (B)" }:Assign("bob"):Next(this.leave_b),
  leave_b = flow.Handler(this.unlock):Next(this.wake_b),
  wake_b = flow.Send { message = "wcp39.unlock", key = this.process_key }:Next(this.done),

  done = flow.Join():Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation)
    activation.process.data.lock = ""
    activation.process.data.log = {}
  end,
  -- the branch a node belongs to: its name's last letter
  branch = function(self, activation) return activation.task.node:sub(-1) end,
  try_lock = function(self, activation)
    local data = activation.process.data
    if data.lock == "" then
      data.lock = self:branch(activation)
      data.log[#data.log + 1] = data.lock .. "+"
    end
  end,
  holds_lock = function(self, activation) return activation.process.data.lock == self:branch(activation) end,
  unlock = function(self, activation)
    local data = activation.process.data
    data.log[#data.log + 1] = data.lock .. "-"
    data.lock = ""
  end,
  process_key = function(self, activation) return activation.process.id end,
}
