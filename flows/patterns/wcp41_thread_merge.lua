-- WCP-41 Thread merge: a number of threads of one branch (each packing one box) are merged into a
-- single thread that closes the shipment once.
-- The threads come from a Split in a loop, one per round, as in WCP-42 (their number read from
-- the data at run time); each round ends at the Join `merge`, whose token is the parent round's,
-- and `merged` sends it back to `merge` until the outermost round is complete, so one thread
-- leaves. Rounds nest one token level each (about 35 threads fit).
-- A test checks: started with {"boxes": 3}: three `pack` tasks (alice) with distinct tokens;
-- after two, nothing is closed; after the third, `merge` fired three times (once per round),
-- `close` runs once on token "start" and the process is DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-41 Thread merge",
  fields = {
    boxes = field.Integer { label = "Boxes", min = 1, max = 30, required = true },
  },

  start = flow.StartFunction(this.read_start):Next(this.thread),
  thread = flow.Split():Always(this.pack):Next(this.next_thread, this.threads_left),
  next_thread = flow.Handler(this.count_thread):Next(this.thread),
  pack = flow.View { title = "Pack a box" }:Assign("alice"):Next(this.merge),

  merge = flow.Join():Next(this.merged),
  merged = flow.If(this.in_a_round):Then(this.merge):Else(this.close),
  close = flow.Handler(this.close_shipment):Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    local n = data and math.tointeger(data.boxes)
    if not n or n < 1 or n > 30 then error("boxes must be an integer between 1 and 30") end
    activation.process.data.boxes = n
    activation.process.data.threads = 1
  end,
  threads_left = function(self, activation)
    local data = activation.process.data
    return data.threads < data.boxes
  end,
  count_thread = function(self, activation)
    activation.process.data.threads = activation.process.data.threads + 1
  end,
  in_a_round = function(self, activation) return activation.task.token:find("/", 1, true) ~= nil end,
  close_shipment = function(self, activation)
    local data = activation.process.data
    data.closed = (data.closed or 0) + 1
  end,
}
