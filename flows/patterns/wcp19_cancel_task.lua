-- WCP-19 Cancel task: a manager cancels one task; the process goes on as modelled.
-- A test checks: admin cancels `check` (ASSIGNED to alice): it becomes CANCELED and the
-- process is still running; after bob executes `work`, `join` no longer waits for the
-- canceled branch, `finish` runs and the process is DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-19 Cancel task",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.check):Always(this.work),

  check = flow.View { title = "Optional check" }:Assign("alice"):Next(this.join),
  work = flow.View { title = "Do the work" }:Assign("bob"):Next(this.join),

  join = flow.Join():Next(this.finish),
  finish = flow.End(),
}
