-- WCP-22 Recursion: estimating a budget estimates each half of it again, by the same process
-- definition, while the amount is above the limit (30); the halves' totals are added up on the
-- way back.
-- Construct: `halves` is a Subprocess of this very flow (at its StartFunction `start`), with
-- :ForEach over the two halves: each invocation is a child process with its own data (the input
-- gives it its amount), the calling task waits (STARTED) until its child ends, and the output
-- adds the child's total to the caller's. Nesting is bounded by the host (32 levels).
-- A test checks: started with {"amount": 100}: the process has two children (50 each), each of
-- them two (25 each), seven processes in all, each child's parent set to its calling task; the
-- four leaves have one `estimate_part` task (alice) each and the three callers wait in `halves`
-- (two STARTED calls each); once all four leaves are estimated, every process is DONE, each
-- caller's `halves` group is DONE with two DONE instances and its total is its amount (the
-- root's 100). With {"amount": 20} there is no child at all.
local flow = require "flow"
local this, field = flow.this, flow.field

local LIMIT = 30

return flow.Flow {
  title = "WCP-22 Recursion",
  fields = {
    amount = field.Number { label = "Amount", min = 0, required = true },
    total = field.Number { label = "Total" },
  },

  start = flow.StartFunction(this.read_start):Next(this.estimate),

  -- estimate(amount): small enough -> a person estimates it; else estimate each half
  estimate = flow.If(this.is_small):Then(this.estimate_part):Else(this.halves),
  halves = flow.Subprocess("wcp22_recursion", { input = this.half, output = this.add_total })
    :ForEach(this.two_halves)
    :Next(this.finish),

  estimate_part = flow.View { title = "Estimate this part" }:Assign("alice"):Next(this.record),
  record = flow.Handler(this.take_amount):Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    local amount = data and tonumber(data.amount)
    if not amount or amount < 0 then error("amount must be a number >= 0") end
    activation.process.data.amount = amount
    activation.process.data.total = 0
  end,
  is_small = function(self, activation) return activation.process.data.amount <= LIMIT end,
  two_halves = function(self, activation)
    local half = activation.process.data.amount / 2
    return { half, half }
  end,
  half = function(self, activation) return { amount = activation.task.data.item } end,
  add_total = function(self, activation, child)
    activation.process.data.total = activation.process.data.total + child.data.total
  end,
  take_amount = function(self, activation)
    activation.process.data.total = activation.process.data.amount
  end,
}
