-- WCP-5 Simple merge: both branches of an If continue to the same node, without a Join.
-- A test checks: started with {"express": true} the tasks are start, check, fast, merge,
-- finish (no `slow`); with {"express": false} `slow` instead of `fast`; in both cases
-- `merge` runs exactly once (data.merged == 1) and the process is DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-5 Simple merge",
  fields = {
    express = field.Boolean { label = "Express?", default = false },
  },

  start = flow.StartFunction(this.read_start):Next(this.check),
  check = flow.If(this.is_express):Then(this.fast):Else(this.slow),

  fast = flow.Handler(this.note_route):Next(this.merge),
  slow = flow.Handler(this.note_route):Next(this.merge),

  merge = flow.Handler(this.count_merge):Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    activation.process.data.express = data ~= nil and data.express == true
  end,
  is_express = function(self, activation) return activation.process.data.express end,
  note_route = function(self, activation)
    activation.process.data.route = activation.task.node
  end,
  count_merge = function(self, activation)
    local data = activation.process.data
    data.merged = (data.merged or 0) + 1
  end,
}
