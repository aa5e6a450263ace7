-- WCP-4 Exclusive choice: a Switch sends the process down exactly one branch.
-- A test checks: started with {"route": "a"} only `task_a` exists (ASSIGNED to alice), with
-- {"route": "b"} only `task_b` (ASSIGNED to bob); with {"route": "c"} no case matches and
-- there is no Default, so the start fails (flow_error) and no process is left behind.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-4 Exclusive choice",
  fields = {
    route = field.String { label = "Route", required = true },
  },

  start = flow.StartFunction(this.take_route):Next(this.choose),

  choose = flow.Switch()
    :Case(this.task_a, this.wants_a)
    :Case(this.task_b, this.wants_b),

  task_a = flow.View { title = "Task A" }:Assign("alice"):Next(this.finish_a),
  task_b = flow.View { title = "Task B" }:Assign("bob"):Next(this.finish_b),
  finish_a = flow.End(),
  finish_b = flow.End(),

  take_route = function(self, activation, data)
    activation.process.data.route = data and data.route
  end,
  wants_a = function(self, activation) return activation.process.data.route == "a" end,
  wants_b = function(self, activation) return activation.process.data.route == "b" end,
}
