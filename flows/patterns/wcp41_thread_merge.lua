-- WCP-41 Thread merge: the boxes of a shipment are packed by as many threads of one branch (their
-- number read from the data), and the threads are merged into a single one that closes the
-- shipment once.
-- Construct: `pack` is a View with :ForEach over the thread numbers 1..data.boxes: each
-- instance is a thread of this branch (same process, same data, the token of the group's
-- controller task), and the group's :Next is the merge: `close` runs once, as one thread, after
-- the last of them. The threads merged are those the group started, each one task long.
-- A test checks: started with {"boxes": 3}: three `pack` instances (alice) on token "start",
-- indexes 1..3; after two nothing is closed; after the third the controller (type "foreach")
-- is DONE, `close` ran once on token "start" (data.closed == 1), `finish` once, process DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-41 Thread merge",
  fields = {
    boxes = field.Integer { label = "Boxes", min = 1, max = 1000, required = true },
  },

  start = flow.StartFunction():Next(this.pack),
  pack = flow.View { title = "Pack a box" }:ForEach(this.threads):Assign("alice"):Next(this.close),
  close = flow.Handler(this.close_shipment):Next(this.finish),
  finish = flow.End(),

  threads = function(self, activation)
    local list = {}
    for k = 1, activation.process.data.boxes do list[k] = k end
    return list
  end,
  close_shipment = function(self, activation)
    local data = activation.process.data
    data.closed = (data.closed or 0) + 1
  end,
}
