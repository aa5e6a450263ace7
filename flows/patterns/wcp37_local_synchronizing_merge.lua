-- WCP-37 Local synchronizing merge: a multi-choice starts any of road and air transport; the road
-- branch may take a detour through customs; `deliver` waits for exactly the branches that
-- started, whichever path they took, and runs once.
-- Construct: a Join after a conditional Split: it waits while any task of the split's round is
-- active (information local to the process and the round), so no dead-path signals are needed.
-- A test checks: {"by_road": true, "by_air": true, "customs": true}: after air and road,
-- `deliver` still waits for customs (carol), then runs once; {"by_road": true, "customs": false}:
-- `deliver` runs right after road; {"by_air": true}: right after air. Each time the process
-- is DONE with one `merge` and data.delivered == 1.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-37 Local synchronizing merge",
  fields = {
    by_road = field.Boolean { label = "By road?", default = false },
    by_air = field.Boolean { label = "By air?", default = false },
    customs = field.Boolean { label = "Through customs?", default = false },
  },

  start = flow.StartFunction(this.read_start):Next(this.fork),
  fork = flow.Split():Next(this.road, this.wants_road):Next(this.air, this.wants_air),

  road = flow.View { title = "Send by road" }:Assign("alice"):Next(this.border),
  border = flow.If(this.needs_customs):Then(this.customs):Else(this.merge),
  customs = flow.View { title = "Clear customs" }:Assign("carol"):Next(this.merge),
  air = flow.View { title = "Send by air" }:Assign("bob"):Next(this.merge),

  merge = flow.Join():Next(this.deliver),
  deliver = flow.Handler(this.count_delivery):Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    data = data or {}
    activation.process.data.by_road = data.by_road == true
    activation.process.data.by_air = data.by_air == true
    activation.process.data.customs = data.customs == true
  end,
  wants_road = function(self, activation) return activation.process.data.by_road end,
  wants_air = function(self, activation) return activation.process.data.by_air end,
  needs_customs = function(self, activation) return activation.process.data.customs end,
  count_delivery = function(self, activation)
    local data = activation.process.data
    data.delivered = (data.delivered or 0) + 1
  end,
}
