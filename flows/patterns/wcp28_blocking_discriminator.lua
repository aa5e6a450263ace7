-- WCP-28 Blocking discriminator: two checks run in parallel; the first to finish triggers
-- `act`; the discriminator then blocks: the next round cannot begin (so no branch of it can reach
-- the discriminator) until the slower check of this round has finished too.
-- Encoded with two joins: `first` (Join { wait = 1 }) is the discriminator; a one-branch Split
-- `cycle` wraps each round, and its Join `reset` waits for everything of the round, the slower
-- check included, before `again` may start the next round. Each round has its own token, so
-- rounds never mix.
-- A test checks: started with {"rounds": 2}: alice's check_a -> `act` runs (data.acted == 1)
-- but no second round; bob's check_b ends at `first` and only then round two starts (second
-- check_a/check_b); bob first this time -> `act` again; after alice, `finish`. `act` ran twice,
-- `first` and `reset` twice each, process DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-28 Blocking discriminator",
  fields = {
    rounds = field.Integer { label = "Rounds", min = 1, max = 10, default = 1 },
  },

  start = flow.StartFunction(this.read_start):Next(this.cycle),
  cycle = flow.Split():Always(this.fork),
  fork = flow.Split():Always(this.check_a):Always(this.check_b),
  check_a = flow.View { title = "Check A" }:Assign("alice"):Next(this.first),
  check_b = flow.View { title = "Check B" }:Assign("bob"):Next(this.first),

  first = flow.Join { wait = 1 }:Next(this.act),
  act = flow.Handler(this.count_act):Next(this.reset),
  reset = flow.Join():Next(this.again),
  again = flow.If(this.rounds_left):Then(this.cycle):Else(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    activation.process.data.rounds = data and math.tointeger(data.rounds) or 1
    activation.process.data.acted = 0
  end,
  count_act = function(self, activation)
    activation.process.data.acted = activation.process.data.acted + 1
  end,
  rounds_left = function(self, activation)
    local data = activation.process.data
    return data.acted < data.rounds
  end,
}
