-- WCP-24 Persistent trigger: the picking waits for a "stock arrived" trigger; a trigger sent
-- before anyone waits is kept and taken by the first receiver created later.
-- Construct: flow.Receive { message =, key = } (persistent by default; host:send keeps a
-- message nobody waits for, for its ttl).
-- A test checks: a trigger sent while alice still prepares is kept; when alice prepares,
-- `wait_stock` takes it at once (DONE, data.batch from the message) and `pick` (bob) follows;
-- a trigger for another article is not taken; a kept trigger whose ttl ran out is not taken
-- either (manual clock).
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-24 Persistent trigger",
  fields = {
    sku = field.String { label = "Article", required = true },
    batch = field.String { label = "Batch" },
  },

  start = flow.StartFunction(this.read_start):Next(this.prepare),
  prepare = flow.View { title = "Prepare the picking" }:Assign("alice"):Next(this.wait_stock),
  wait_stock = flow.Receive { message = "wcp24.stock", key = this.sku_key, fields = { "batch" } }:Next(this.pick),
  pick = flow.View { title = "Pick the article" }:Assign("bob"):Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    activation.process.data.sku = assert(data and data.sku, "sku is required")
  end,
  sku_key = function(self, activation) return activation.process.data.sku end,
}
