-- Latency benchmark: a Handler that burns CPU for `seconds` (default 0.8)
-- of os.clock time, the load that runs beside the quick starts.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "A handler that computes",
  start = flow.StartFunction(this.prepare):Next(this.compute),
  compute = flow.Handler(this.burn):Next(this.finish),
  finish = flow.End(),

  prepare = function(self, activation, data)
    activation.process.data.seconds = (data and data.seconds) or 0.8
  end,
  burn = function(self, activation)
    local d = activation.process.data
    local t0, n = os.clock(), 0
    while os.clock() - t0 < d.seconds do n = n + 1 end
    d.loops = n
  end,
}
