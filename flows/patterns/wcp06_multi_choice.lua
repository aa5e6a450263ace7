-- WCP-6 Multi-choice: a Split whose branches run only when their condition holds.
-- A test checks: started with {"by_road": true, "by_air": false} only `road` exists (ASSIGNED
-- to alice); with both true, `road` and `air` (bob) both exist; with both false no branch
-- runs, which is an error: the start fails and no process is left behind.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-6 Multi-choice",
  fields = {
    by_road = field.Boolean { label = "By road?", default = false },
    by_air = field.Boolean { label = "By air?", default = false },
  },

  start = flow.StartFunction(this.read_start):Next(this.fork),

  fork = flow.Split()
    :Next(this.road, this.wants_road)
    :Next(this.air, this.wants_air),

  road = flow.View { title = "Send by road" }:Assign("alice"):Next(this.road_done),
  air = flow.View { title = "Send by air" }:Assign("bob"):Next(this.air_done),
  road_done = flow.End(),
  air_done = flow.End(),

  read_start = function(self, activation, data)
    data = data or {}
    activation.process.data.by_road = data.by_road == true
    activation.process.data.by_air = data.by_air == true
  end,
  wants_road = function(self, activation) return activation.process.data.by_road end,
  wants_air = function(self, activation) return activation.process.data.by_air end,
}
