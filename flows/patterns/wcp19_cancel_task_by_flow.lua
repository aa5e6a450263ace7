-- WCP-19 Cancel task, decided by the flow itself (wcp19_cancel_task shows a manager's cancel):
-- an optional check is withdrawn when nobody did it within two days, and the work goes on.
-- Construct: an interrupting :OnTimeout on the View (a boundary timer; its row has type
-- "timeout"): when it fires, the check is CANCELED and `skipped` runs on the check's token.
-- A test checks (manual clock): alice does nothing, bob executes `work`; after two days minus a
-- second nothing changed; at two days `check` is CANCELED, `skipped` ran once (data.skipped),
-- the join continued once and the process is DONE. If alice checks in time, the timer row is
-- CANCELED, `skipped` never runs and advancing the clock changes nothing.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-19 Cancel task (by the flow)",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.check):Always(this.work),

  check = flow.View { title = "Optional check" }
    :Assign("alice")
    :OnTimeout(2 * 86400, this.skipped, { interrupting = true })
    :Next(this.join),
  skipped = flow.Handler(this.note_skipped):Next(this.join),
  work = flow.View { title = "Do the work" }:Assign("bob"):Next(this.join),

  join = flow.Join():Next(this.finish),
  finish = flow.End(),

  note_skipped = function(self, activation)
    activation.process.data.skipped = (activation.process.data.skipped or 0) + 1
  end,
}
