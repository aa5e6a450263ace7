-- Warehouse shipment: the part of an order (flows/order.lua) that one warehouse ships.
-- Started by the order's Subprocess node with {warehouse, items, customer}; reports the
-- number of parcels back when it is DONE.  Can also be started on its own by a manager.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "Warehouse shipment",
  description = "Pack and send the part of an order that one warehouse holds.",

  fields = {
    warehouse = field.String { label = "Warehouse", required = true, max_length = 40 },
    customer = field.String { label = "Customer", max_length = 100 },
    items = field.Text { label = "Items" },
    parcels = field.Integer { label = "Parcels", required = true, min = 1, max = 100, default = 1 },
    tracking = field.String { label = "Tracking number", max_length = 64 },
  },

  summary = function(self, process)
    return string.format("%s warehouse: %s", process.data.warehouse or "?", process.data.customer or "?")
  end,

  start = flow.StartFunction():Next(this.pack),
  pack = flow.View { title = "Pack the goods", fields = { "parcels" } }
    :Permission("order.warehouse"):Next(this.send),
  send = flow.View { title = "Hand over to the carrier", fields = { "tracking" } }
    :Permission("order.warehouse"):Assign(this.pack.owner):Next(this.finish),
  finish = flow.End(),
}
