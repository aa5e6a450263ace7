-- WCP-23 Transient trigger: the picking waits for a "stock arrived" trigger; a trigger sent while
-- nobody waits for it is lost for this process.
-- Construct: flow.Receive { message =, key =, transient = true } (ignores kept messages).
-- A test checks: a trigger sent while alice still prepares is not taken (the sender learns it
-- was kept, not delivered); after alice prepares, `wait_stock` is STARTED and stays so; a second
-- trigger completes it at once, `pick` (bob) follows and the process is DONE after bob.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-23 Transient trigger",
  fields = {
    sku = field.String { label = "Article", required = true },
  },

  start = flow.StartFunction(this.read_start):Next(this.prepare),
  prepare = flow.View { title = "Prepare the picking" }:Assign("alice"):Next(this.wait_stock),
  wait_stock = flow.Receive { message = "wcp23.stock", key = this.sku_key, transient = true }:Next(this.pick),
  pick = flow.View { title = "Pick the article" }:Assign("bob"):Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    activation.process.data.sku = assert(data and data.sku, "sku is required")
  end,
  sku_key = function(self, activation) return activation.process.data.sku end,
}
