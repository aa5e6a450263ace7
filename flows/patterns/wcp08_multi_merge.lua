-- WCP-8 Multi-merge: two parallel branches continue to the same node without a Join, so
-- that node runs once per branch.
-- A test checks: after alice executes `pack` and bob executes `invoice`, there are two
-- `record` tasks (one per branch token), data.recorded == 2, two `finish` tasks, and the
-- process is DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-8 Multi-merge",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.pack):Always(this.invoice),

  pack = flow.View { title = "Pack the goods" }:Assign("alice"):Next(this.record),
  invoice = flow.View { title = "Send the invoice" }:Assign("bob"):Next(this.record),

  record = flow.Handler(this.count_record):Next(this.finish),
  finish = flow.End(),

  count_record = function(self, activation)
    local data = activation.process.data
    data.recorded = (data.recorded or 0) + 1
  end,
}
