-- WCP-28 Blocking discriminator: in each round two checks run in parallel; the first to finish
-- triggers `act` and the next round; the discriminator of a round then blocks: the next round's
-- first arrival does not trigger `act` until the slower check of the earlier round is in.
-- Construct: `first` is flow.Join { wait = 1, block = true } in a loop: each round of `fork`
-- has its own join (tokens keep rounds apart); a later arrival of a round ends at its join, and a
-- round's join does not fire while an earlier round of it still has an active branch.
-- A test checks: started with {"rounds": 2}: alice's check_a -> `act` runs once and round two
-- starts at once; alice's second check_a arrives first in round two, but `act` waits (the join
-- STARTED) until bob's check_b of round one is in, then runs (data.acted == 2); bob's second
-- check ends at its join; `act` ran twice, `first` twice DONE, the process is DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-28 Blocking discriminator",
  fields = {
    rounds = field.Integer { label = "Rounds", min = 1, max = 10, default = 1 },
  },

  start = flow.StartFunction(this.read_start):Next(this.fork),
  fork = flow.Split():Always(this.check_a):Always(this.check_b),
  check_a = flow.View { title = "Check A" }:Assign("alice"):Next(this.first),
  check_b = flow.View { title = "Check B" }:Assign("bob"):Next(this.first),

  first = flow.Join { wait = 1, block = true }:Next(this.act),
  act = flow.Handler(this.count_act):Next(this.again),
  again = flow.If(this.rounds_left):Then(this.fork):Else(this.finish),
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
