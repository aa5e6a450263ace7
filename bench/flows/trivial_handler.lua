-- Jobs benchmark baseline: the same work as a synchronous Handler.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "One trivial handler",
  start = flow.StartFunction():Next(this.work),
  work = flow.Handler(this.noop):Next(this.finish),
  finish = flow.End(),
  noop = function(self, activation) activation.task.data.ok = true end,
}
