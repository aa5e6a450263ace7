-- WCP-7 Structured synchronizing merge: a multi-choice Split followed by a Join that waits
-- only for the branches that actually started.
-- A test checks: started with {"by_road": true, "by_air": false}, executing `road` (alice)
-- lets `join` continue at once (one `deliver` task, data.delivered == 1, process DONE);
-- with both true, `deliver` runs only after both `road` and `air` (bob) are executed.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-7 Structured synchronizing merge",
  fields = {
    by_road = field.Boolean { label = "By road?", default = false },
    by_air = field.Boolean { label = "By air?", default = false },
  },

  start = flow.StartFunction(this.read_start):Next(this.fork),

  fork = flow.Split()
    :Next(this.road, this.wants_road)
    :Next(this.air, this.wants_air),

  road = flow.View { title = "Send by road" }:Assign("alice"):Next(this.join),
  air = flow.View { title = "Send by air" }:Assign("bob"):Next(this.join),

  join = flow.Join():Next(this.deliver),
  deliver = flow.Handler(this.count_delivery):Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    data = data or {}
    activation.process.data.by_road = data.by_road == true
    activation.process.data.by_air = data.by_air == true
  end,
  wants_road = function(self, activation) return activation.process.data.by_road end,
  wants_air = function(self, activation) return activation.process.data.by_air end,
  count_delivery = function(self, activation)
    local data = activation.process.data
    data.delivered = (data.delivered or 0) + 1
  end,
}
