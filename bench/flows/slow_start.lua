-- Read latency benchmark (bench/http_latency.sh): a start form whose handler computes for
-- `seconds` of os.clock time (default 0.5), so the write that starts it holds the thread
-- answering it that long.  os.clock counts the CPU of the whole host, so under load the
-- handler ends sooner in wall time, never later.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "A start that computes",
  fields = { seconds = field.Number { label = "Seconds of CPU" } },

  start = flow.Start { title = "Compute", fields = { "seconds" } }:Next(this.compute),
  compute = flow.Handler(this.burn):Next(this.finish),
  finish = flow.End(),

  burn = function(self, activation)
    local d = activation.process.data
    local t0, n = os.clock(), 0
    while os.clock() - t0 < (d.seconds or 0.5) do n = n + 1 end
    d.loops = n
  end,
}
