-- WCP-33 Generalised AND-join: two production lines each produce parts several times; every
-- bike needs one frame and one wheel set, so `pair` fires each time both inputs hold at least
-- one part, takes one from each, and keeps the surplus for a later firing.
-- No Join does this (a Join belongs to one split round; these arrivals come from different
-- rounds of two loops): the AND-join is emulated with a count per input in the process data,
-- an If that fires when both counts are positive, and a Handler that takes one of each; an
-- arrival that cannot fire yet ends at `parked` (its part stays counted).
-- A test checks: started with {"frames": 3, "wheels": 2}: alice makes two frames -> two
-- `parked`, no `assemble`; bob makes a wheel set -> one `assemble` (carol); alice's third frame
-- parks; bob's second wheel set -> a second `assemble`; one frame is left over
-- (data.waiting.frame == 1, data.waiting.wheel == 0), `assemble` ran twice, process DONE after
-- carol's two assemblies.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-33 Generalised AND-join",
  fields = {
    frames = field.Integer { label = "Frames", min = 1, max = 10, default = 1 },
    wheels = field.Integer { label = "Wheel sets", min = 1, max = 10, default = 1 },
  },

  start = flow.StartFunction(this.read_start):Next(this.lines),
  lines = flow.Split():Always(this.make_frame):Always(this.make_wheel),

  make_frame = flow.View { title = "Make a frame" }:Assign("alice"):Next(this.made_frame),
  made_frame = flow.Handler(this.count_made):Next(this.frame_out),
  frame_out = flow.Split():Always(this.frame_in):Next(this.make_frame, this.frames_left),
  frame_in = flow.Handler(this.arrive):Next(this.pair),

  make_wheel = flow.View { title = "Make a wheel set" }:Assign("bob"):Next(this.made_wheel),
  made_wheel = flow.Handler(this.count_made):Next(this.wheel_out),
  wheel_out = flow.Split():Always(this.wheel_in):Next(this.make_wheel, this.wheels_left),
  wheel_in = flow.Handler(this.arrive):Next(this.pair),

  -- the emulated AND-join
  pair = flow.If(this.both_inputs):Then(this.take_pair):Else(this.parked),
  take_pair = flow.Handler(this.consume):Next(this.assemble),
  parked = flow.End(),

  assemble = flow.View { title = "Assemble a bike" }:Assign("carol"):Next(this.assembled),
  assembled = flow.End(),

  read_start = function(self, activation, data)
    local d = activation.process.data
    d.frames = data and math.tointeger(data.frames) or 1
    d.wheels = data and math.tointeger(data.wheels) or 1
    d.made = { frame = 0, wheel = 0 }
    d.waiting = { frame = 0, wheel = 0 }
  end,
  count_made = function(self, activation)
    local part = activation.task.node:match("^made_(.*)$")
    local made = activation.process.data.made
    made[part] = made[part] + 1
  end,
  frames_left = function(self, activation)
    local d = activation.process.data
    return d.made.frame < d.frames
  end,
  wheels_left = function(self, activation)
    local d = activation.process.data
    return d.made.wheel < d.wheels
  end,
  arrive = function(self, activation)
    local part = activation.task.node:match("^(.*)_in$")
    local waiting = activation.process.data.waiting
    waiting[part] = waiting[part] + 1
  end,
  both_inputs = function(self, activation)
    local waiting = activation.process.data.waiting
    return waiting.frame > 0 and waiting.wheel > 0
  end,
  consume = function(self, activation)
    local waiting = activation.process.data.waiting
    waiting.frame = waiting.frame - 1
    waiting.wheel = waiting.wheel - 1
  end,
}
