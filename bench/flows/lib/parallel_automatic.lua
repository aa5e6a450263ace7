-- A benchmark flow of automatic branches: a Split into three Handlers, their Join, then
-- the End, all within the start (shared by parallel.lua and parallel_lean.lua).
-- parallel_automatic(options) -> the flow, with options (title, history, ...) added.
local flow = require "flow"
local this = flow.this

return function(options)
  local def = {
    start = flow.StartFunction(this.prepare):Next(this.fork),
    fork = flow.Split():Always(this.price):Always(this.stock):Always(this.credit),
    price = flow.Handler(this.count):Next(this.merge),
    stock = flow.Handler(this.count):Next(this.merge),
    credit = flow.Handler(this.count):Next(this.merge),
    merge = flow.Join():Next(this.finish),
    finish = flow.End(),

    prepare = function(self, activation, data)
      activation.process.data.n = (data and data.n) or 1
    end,
    count = function(self, activation)
      activation.process.data[activation.task.node] = activation.process.data.n
    end,
  }
  for k, v in pairs(options) do def[k] = v end
  return flow.Flow(def)
end
