-- The benchmark flow's definition, shared by auto.lua and auto_lean.lua: every node
-- automatic, so one start runs a whole process to DONE in one transaction.
-- all_automatic(options) -> the flow, with options (title, history, ...) added.
local flow = require "flow"
local this = flow.this

return function(options)
  local def = {
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
  for k, v in pairs(options) do def[k] = v end
  return flow.Flow(def)
end
