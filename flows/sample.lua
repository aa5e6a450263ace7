local flow = require "flow"
local this = flow.this

return flow.Flow {
  start = flow.StartFunction():Next(this.task),
  task = flow.Handler(this.perform_task):Next(this.check_status),
  check_status = flow.If(this.is_completed):Then(this.finish):Else(this.task),
  finish = flow.End(),

  perform_task = function(self, activation)
    activation.process.data.completed = math.random(0, 1) == 1
  end,
  is_completed = function(self, activation)
    return activation.process.data.completed
  end,
}
