-- WCP-18 Milestone: the customer may change the delivery address only while the order is
-- confirmed and not yet shipped; a change asked for before or after that window is not taken.
-- Encoded as a region: after `confirm`, the Split `window` runs `ship` beside a loop of `change`
-- receivers (a transient Receive: it ignores messages sent before it waited); when `ship` is
-- done, `close` (flow.Cancel of the window) withdraws the waiting receiver. There is no test of
-- another branch's state: the milestone must be modelled as a region enclosing the task that
-- depends on it.
-- A test checks: a change sent before `confirm` is kept but not taken (the address stays);
-- after alice confirms, a change is delivered (data.address changed, `apply` ran once) and a new
-- receiver waits; after bob ships, that receiver is CANCELED, the process is DONE, and a change
-- sent now is taken by nobody (the address keeps the in-window value).
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-18 Milestone",
  fields = {
    order = field.String { label = "Order", required = true },
    address = field.String { label = "Delivery address" },
  },

  start = flow.StartFunction(this.read_start):Next(this.confirm),
  confirm = flow.View { title = "Confirm the order" }:Assign("alice"):Next(this.window),

  window = flow.Split():Always(this.ship):Always(this.change),
  ship = flow.View { title = "Ship the order" }:Assign("bob"):Next(this.close),
  close = flow.Cancel(this.window):Next(this.finish),

  change = flow.Receive { message = "wcp18.change", key = this.order_key, fields = { "address" }, transient = true }
    :Next(this.apply),
  apply = flow.Handler(this.count_change):Next(this.change),

  finish = flow.End(),

  read_start = function(self, activation, data)
    activation.process.data.order = assert(data and data.order, "order is required")
    activation.process.data.address = data.address
  end,
  order_key = function(self, activation) return activation.process.data.order end,
  count_change = function(self, activation)
    local data = activation.process.data
    data.changes = (data.changes or 0) + 1
  end,
}
