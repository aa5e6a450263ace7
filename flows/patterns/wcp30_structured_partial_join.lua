-- WCP-30 Structured partial join: three reviewers; the decision is taken once two reviews are in,
-- and the third review, when it comes, changes nothing (the process waits for it to end).
-- Construct: Join { wait = 2 } (fires on the second arrival; later arrivals end there).
-- A test checks: after alice's review nothing is decided; after carol's, `decide` runs once
-- (data.decided == 1) while bob's review is still open and the process is STARTED; bob's review
-- ends at the join (still one `decide`, one `two_reviews`) and the process is DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-30 Structured partial join",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.review_a):Always(this.review_b):Always(this.review_c),
  review_a = flow.View { title = "Review A" }:Assign("alice"):Next(this.two_reviews),
  review_b = flow.View { title = "Review B" }:Assign("bob"):Next(this.two_reviews),
  review_c = flow.View { title = "Review C" }:Assign("carol"):Next(this.two_reviews),

  two_reviews = flow.Join { wait = 2 }:Next(this.decide),
  decide = flow.Handler(this.count_decision):Next(this.finish),
  finish = flow.End(),

  count_decision = function(self, activation)
    local data = activation.process.data
    data.decided = (data.decided or 0) + 1
  end,
}
