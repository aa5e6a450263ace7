-- WCP-20 Cancel case: a manager cancels the whole process.
-- A test checks: with `draft` (alice) and `budget` (bob) both ASSIGNED, admin's process
-- cancel turns both tasks CANCELED and the process CANCELED; no `finish` task exists.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-20 Cancel case",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.draft):Always(this.budget),

  draft = flow.View { title = "Draft the plan" }:Assign("alice"):Next(this.join),
  budget = flow.View { title = "Prepare the budget" }:Assign("bob"):Next(this.join),

  join = flow.Join():Next(this.finish),
  finish = flow.End(),
}
