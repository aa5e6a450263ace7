-- WCP-10 Arbitrary cycles: an If loops back to an earlier node until its condition holds
-- (the Viewflow documentation's sample flow, made deterministic).
-- A test checks: started with {"rounds": 3}, `work` runs three times and `check` three
-- times (false, false, true), data.done == 3, and the process is DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-10 Arbitrary cycles",
  fields = {
    rounds = field.Integer { label = "Rounds", min = 1, max = 20, default = 3 },
  },

  start = flow.StartFunction(this.read_start):Next(this.work),
  work = flow.Handler(this.do_round):Next(this.check),
  check = flow.If(this.is_finished):Then(this.finish):Else(this.work),
  finish = flow.End(),

  read_start = function(self, activation, data)
    local rounds = data and math.tointeger(data.rounds) or 3
    if rounds < 1 or rounds > 20 then error("rounds must be between 1 and 20") end
    activation.process.data.rounds = rounds
    activation.process.data.done = 0
  end,
  do_round = function(self, activation)
    local data = activation.process.data
    data.done = data.done + 1
  end,
  is_finished = function(self, activation)
    local data = activation.process.data
    return data.done >= data.rounds
  end,
}
