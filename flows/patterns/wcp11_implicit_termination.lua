-- WCP-11 Implicit termination: reaching an End while another task is still active does
-- not finish the process; it is DONE only when nothing is active any more.
-- A test checks: after the start, `quick` and `quick_done` are DONE but the process is not
-- DONE because `slow` (ASSIGNED to alice) is open; after alice executes it the process is DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-11 Implicit termination",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.quick):Always(this.slow),

  quick = flow.Handler(this.note_quick):Next(this.quick_done),
  slow = flow.View { title = "Slow work" }:Assign("alice"):Next(this.slow_done),

  quick_done = flow.End(),
  slow_done = flow.End(),

  note_quick = function(self, activation)
    activation.process.data.quick = true
  end,
}
