-- WCP-39 Critical section: two parallel branches each update the customer record in two steps;
-- the two sections (update + confirm) must never be active at the same time.
-- Direct: flow.Lock("record") ... flow.Unlock("record") around each section. The first branch
-- to reach its Lock goes on (the Lock task DONE, holding the lock); the other waits at its own
-- Lock (a STARTED task of type "lock") and is let in when the holder reaches its Unlock, or when
-- the holding branch has nothing active left (a section canceled midway does not keep the lock).
-- More branches wait in line, oldest first; a manager may cancel a waiting Lock task.
-- A test checks: after the start, A is in its section (update_a, alice), B waits at lock_b
-- (STARTED, no update_b); after alice's two steps, B enters (update_b, bob); at no time two
-- section tasks are active; every node ran once, each branch on its own token, and the
-- process is DONE. A second case cancels A's section midway: B enters at once, the join
-- continues after B alone. A third cancels the waiting lock_b: B never enters. A fourth: the
-- lock of one process does not hold back another's.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-39 Critical section",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.lock_a):Always(this.lock_b),

  lock_a = flow.Lock("record"):Next(this.update_a),
  update_a = flow.View { title = "Update the record (A)" }:Assign("alice"):Next(this.confirm_a),
  confirm_a = flow.View { title = "Confirm the record (A)" }:Assign("alice"):Next(this.unlock_a),
  unlock_a = flow.Unlock("record"):Next(this.done),

  lock_b = flow.Lock("record"):Next(this.update_b),
  update_b = flow.View { title = "Update the record (B)" }:Assign("bob"):Next(this.confirm_b),
  confirm_b = flow.View { title = "Confirm the record (B)" }:Assign("bob"):Next(this.unlock_b),
  unlock_b = flow.Unlock("record"):Next(this.done),

  done = flow.Join():Next(this.finish),
  finish = flow.End(),
}
