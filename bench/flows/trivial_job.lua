-- Jobs benchmark: one trivial background job per process.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "One trivial job",
  start = flow.StartFunction():Next(this.work),
  work = flow.Job(this.noop):Next(this.finish),
  finish = flow.End(),
  noop = function(self, activation) activation.task.data.ok = true end,
}
