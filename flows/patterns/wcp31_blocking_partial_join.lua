-- WCP-31 Blocking partial join: three reviews per round; two reviews trigger `decide`; the join
-- then blocks until the third review of the round is in, and only then may the next round begin.
-- Encoded like WCP-28: `two_reviews` (Join { wait = 2 }) is the partial join; a one-branch
-- Split `cycle` wraps each round and its Join `reset` waits for the whole round before `again`
-- starts the next one.
-- A test checks: started with {"rounds": 2}: after alice and bob review, `decide` ran once and
-- no second round exists while carol's review is open; after carol, round two starts (three
-- new reviews); two of them decide again; after the last, `finish`. `decide` ran twice,
-- `reset` twice, the process is DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-31 Blocking partial join",
  fields = {
    rounds = field.Integer { label = "Rounds", min = 1, max = 10, default = 1 },
  },

  start = flow.StartFunction(this.read_start):Next(this.cycle),
  cycle = flow.Split():Always(this.fork),
  fork = flow.Split():Always(this.review_a):Always(this.review_b):Always(this.review_c),
  review_a = flow.View { title = "Review A" }:Assign("alice"):Next(this.two_reviews),
  review_b = flow.View { title = "Review B" }:Assign("bob"):Next(this.two_reviews),
  review_c = flow.View { title = "Review C" }:Assign("carol"):Next(this.two_reviews),

  two_reviews = flow.Join { wait = 2 }:Next(this.decide),
  decide = flow.Handler(this.count_decision):Next(this.reset),
  reset = flow.Join():Next(this.again),
  again = flow.If(this.rounds_left):Then(this.cycle):Else(this.finish),
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
