-- WCP-31 Blocking partial join: three reviews per round; two reviews trigger `decide` and the
-- next round; the partial join of a round then blocks: the next round's two reviews do not
-- trigger `decide` until the third review of the earlier round is in.
-- Construct: `two_reviews` is flow.Join { wait = 2, block = true } in a loop (see WCP-28).
-- A test checks: started with {"rounds": 2}: after alice and bob review, `decide` ran once and
-- round two started; alice and bob review again: `decide` waits while carol's review of round
-- one is open; after it, `decide` runs again (data.decided == 2); carol's second review ends at
-- its join; `decide` ran twice, `two_reviews` twice DONE, the process is DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-31 Blocking partial join",
  fields = {
    rounds = field.Integer { label = "Rounds", min = 1, max = 10, default = 1 },
  },

  start = flow.StartFunction(this.read_start):Next(this.fork),
  fork = flow.Split():Always(this.review_a):Always(this.review_b):Always(this.review_c),
  review_a = flow.View { title = "Review A" }:Assign("alice"):Next(this.two_reviews),
  review_b = flow.View { title = "Review B" }:Assign("bob"):Next(this.two_reviews),
  review_c = flow.View { title = "Review C" }:Assign("carol"):Next(this.two_reviews),

  two_reviews = flow.Join { wait = 2, block = true }:Next(this.decide),
  decide = flow.Handler(this.count_decision):Next(this.again),
  again = flow.If(this.rounds_left):Then(this.fork):Else(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    activation.process.data.rounds = data and math.tointeger(data.rounds) or 1
    activation.process.data.decided = 0
  end,
  count_decision = function(self, activation)
    activation.process.data.decided = activation.process.data.decided + 1
  end,
  rounds_left = function(self, activation)
    local data = activation.process.data
    return data.decided < data.rounds
  end,
}
