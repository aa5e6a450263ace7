-- WCP-32 Cancelling partial join: three reviewers; two reviews decide, and the third review is
-- withdrawn at that moment.
-- Construct: Join { wait = 2, cancel_rest = true }.
-- A test checks: after alice and carol review, `review_b` (bob) is CANCELED, `decide` ran once
-- and the process is DONE at once.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-32 Cancelling partial join",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.review_a):Always(this.review_b):Always(this.review_c),
  review_a = flow.View { title = "Review A" }:Assign("alice"):Next(this.two_reviews),
  review_b = flow.View { title = "Review B" }:Assign("bob"):Next(this.two_reviews),
  review_c = flow.View { title = "Review C" }:Assign("carol"):Next(this.two_reviews),

  two_reviews = flow.Join { wait = 2, cancel_rest = true }:Next(this.decide),
  decide = flow.Handler(this.count_decision):Next(this.finish),
  finish = flow.End(),

  count_decision = function(self, activation)
    local data = activation.process.data
    data.decided = (data.decided or 0) + 1
  end,
}
