-- WCP-3 Synchronization: two parallel branches meet in a Join that waits for both.
-- A test checks: after alice executes `pack`, `join` has not continued (no `ship` task);
-- after bob executes `invoice`, exactly one `ship` task runs (data.shipped == 1) and the
-- process is DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-3 Synchronization",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.pack):Always(this.invoice),

  pack = flow.View { title = "Pack the goods" }:Assign("alice"):Next(this.join),
  invoice = flow.View { title = "Send the invoice" }:Assign("bob"):Next(this.join),

  join = flow.Join():Next(this.ship),
  ship = flow.Handler(this.count_shipment):Next(this.finish),
  finish = flow.End(),

  count_shipment = function(self, activation)
    local data = activation.process.data
    data.shipped = (data.shipped or 0) + 1
  end,
}
