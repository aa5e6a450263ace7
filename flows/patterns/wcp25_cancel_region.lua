-- WCP-25 Cancel region: a plan is drafted, reviewed and budgeted in a region that the sponsor
-- may abort at any time; aborting withdraws whatever of the region is still open.
-- Construct: flow.Cancel(this.region) cancels every active task of the Split's current round
-- (and its waiting join); its :Next goes on outside the round. The abort option sits inside the
-- region, so the normal end is a Join { wait = 2, cancel_rest = true } that withdraws it.
-- A test checks: after alice drafts, carol aborts -> `review` (alice) and `budget` (bob)
-- CANCELED, `draft` stays DONE, `aborted` ran once, no `publish`, process DONE. Without the
-- abort: draft, review and budget done -> `done` joins once, `abort` CANCELED, `publish` once.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-25 Cancel region",

  start = flow.StartFunction():Next(this.region),
  region = flow.Split():Always(this.draft):Always(this.budget):Always(this.abort),

  draft = flow.View { title = "Draft the plan" }:Assign("alice"):Next(this.review),
  review = flow.View { title = "Review the plan" }:Assign("alice"):Next(this.done),
  budget = flow.View { title = "Prepare the budget" }:Assign("bob"):Next(this.done),
  abort = flow.View { title = "Abort the plan" }:Assign("carol"):Next(this.cancel_plan),

  done = flow.Join { wait = 2, cancel_rest = true }:Next(this.publish),
  publish = flow.Handler(this.count):Next(this.finish),

  cancel_plan = flow.Cancel(this.region):Next(this.aborted),
  aborted = flow.Handler(this.count):Next(this.finish),

  finish = flow.End(),

  count = function(self, activation)
    local data = activation.process.data
    data[activation.task.node] = (data[activation.task.node] or 0) + 1
  end,
}
