-- The benchmark flow: every node automatic, so one start runs a whole
-- process to DONE in one transaction.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "All automatic",
  start = flow.StartFunction(this.prepare):Next(this.compute),
  compute = flow.Handler(this.double):Next(this.big),
  big = flow.If(this.is_big):Then(this.mark_big):Else(this.finish),
  mark_big = flow.Handler(this.set_big):Next(this.finish),
  finish = flow.End(),

  prepare = function(self, activation, data)
    activation.process.data.n = (data and data.n) or 1
  end,
  double = function(self, activation)
    activation.process.data.n = activation.process.data.n * 2
  end,
  is_big = function(self, activation) return activation.process.data.n > 10 end,
  set_big = function(self, activation) activation.process.data.big = true end,
}
