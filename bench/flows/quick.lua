-- Latency benchmark: the quick flow whose start latency is measured
-- (StartFunction -> Handler -> End, one start runs it to DONE).
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "Quick",
  start = flow.StartFunction(this.prepare):Next(this.work),
  work = flow.Handler(this.double):Next(this.finish),
  finish = flow.End(),

  prepare = function(self, activation, data)
    activation.process.data.n = (data and data.n) or 1
  end,
  double = function(self, activation)
    activation.process.data.n = activation.process.data.n * 2
  end,
}
