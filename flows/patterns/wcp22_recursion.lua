-- WCP-22 Recursion: estimating a budget invokes the estimate again for each half of it while
-- the amount is above the limit (30); the halves' results are combined on the way back.
-- No sub-process construct: a "call" is a Split round (`divide` with `left` and `right`, each
-- entering `estimate` again), so the token is the call stack: an invocation's amount is the root
-- amount halved once per level of its token. A "return" is `back`: inside a round it goes to
-- `combine` (the Join of that round), whose token is the caller's, and so up to the outermost
-- invocation (token "start"), which finishes. Depth is bounded by the token (about 35 levels).
-- A test checks: started with {"amount": 100}: `estimate` ran 7 times (100, 50, 50, 25 x 4),
-- `divide` 3 times, four `estimate_part` tasks (alice) with tokens two levels deep; once all
-- four are executed, `combine` ran 3 times, `back` 7 times, `finish` once, data.total == 100,
-- data.calls == 6 and the process is DONE. With {"amount": 20} there is no call at all.
local flow = require "flow"
local this, field = flow.this, flow.field

local LIMIT = 30

return flow.Flow {
  title = "WCP-22 Recursion",
  fields = {
    amount = field.Number { label = "Amount", min = 0, required = true },
  },

  start = flow.StartFunction(this.read_start):Next(this.estimate),

  -- estimate(amount): small enough -> a person estimates it; else estimate each half
  estimate = flow.If(this.is_small):Then(this.estimate_part):Else(this.divide),
  divide = flow.Split():Always(this.left):Always(this.right),
  left = flow.Handler(this.count_call):Next(this.estimate),
  right = flow.Handler(this.count_call):Next(this.estimate),

  estimate_part = flow.View { title = "Estimate this part" }:Assign("alice"):Next(this.record),
  record = flow.Handler(this.add_estimate):Next(this.back),

  -- return to the caller: the round's join, or the end at the outermost invocation
  back = flow.If(this.is_called):Then(this.combine):Else(this.finish),
  combine = flow.Join():Next(this.back),
  finish = flow.End(),

  read_start = function(self, activation, data)
    local amount = data and tonumber(data.amount)
    if not amount or amount < 0 then error("amount must be a number >= 0") end
    activation.process.data.amount = amount
    activation.process.data.total = 0
    activation.process.data.calls = 0
  end,
  -- the amount of the invocation running on `token`: the root's, halved once per level
  amount_of = function(self, activation, token)
    local levels = select(2, token:gsub("/", ""))
    return activation.process.data.amount / 2 ^ levels
  end,
  is_small = function(self, activation)
    return self:amount_of(activation, activation.task.token) <= LIMIT
  end,
  count_call = function(self, activation)
    activation.process.data.calls = activation.process.data.calls + 1
  end,
  add_estimate = function(self, activation)
    local data = activation.process.data
    data.total = data.total + self:amount_of(activation, activation.task.token)
  end,
  is_called = function(self, activation) return activation.task.token:find("/", 1, true) ~= nil end,
}
