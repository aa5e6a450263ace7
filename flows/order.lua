-- Order: a customer order that needs a majority of its approvers (two of three), then ships
-- from every warehouse that holds part of it, each through its own warehouse_shipment
-- subprocess.
--
--   start      a clerk enters the order, its approvers and the warehouses it ships from;
--   approve    one approval task per approver (:ForEach), assigned to each; as soon as a
--              majority said yes (or no), the rest are canceled;
--   check      an order that was rejected ends there;
--   ship       one warehouse_shipment process per warehouse (:ForEach on a Subprocess); the
--              order waits for all of them and counts the parcels they report back;
--   confirm    the clerk confirms the delivery to the customer.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "Order",
  description = "An order approved by two of three managers and shipped from several warehouses.",

  fields = {
    customer = field.String { label = "Customer", required = true, max_length = 100 },
    items = field.Text { label = "Items", required = true },
    approvers = field.String { label = "Approvers", required = true, max_length = 200, default = "admin",
      help = "User names, comma-separated; a majority must approve (two of three)" },
    warehouses = field.String { label = "Warehouses", required = true, max_length = 200,
      help = "Comma-separated, e.g. north, south", default = "north, south" },
    approved = field.Boolean { label = "Approve this order?", required = true },
    rejected = field.Boolean { label = "Rejected", default = false },
    approvals = field.Integer { label = "Approvals", default = 0 },
    refusals = field.Integer { label = "Refusals", default = 0 },
    parcels = field.Integer { label = "Parcels shipped", default = 0 },
  },

  summary = function(self, process)
    local d = process.data
    return string.format("Order for %s from %s", d.customer or "?", d.warehouses or "?")
  end,

  start = flow.Start { title = "Enter an order", fields = { "customer", "items", "approvers", "warehouses" } }
    :Permission("order.start"):Next(this.approve),

  approve = flow.View { title = "Approve the order", fields = { "approved" } }
    :ForEach(this.approvers, { complete = this.enough_answers })
    :Assign(this.approver)
    :Due(86400)
    :Next(this.check),

  check = flow.If(this.is_rejected):Then(this.rejected_end):Else(this.ship),
  rejected_end = flow.End():Annotation { title = "Rejected" },

  ship = flow.Subprocess("warehouse_shipment", { input = this.shipment_input, output = this.count_parcels })
    :ForEach(this.warehouse_list)
    :Next(this.confirm),

  confirm = flow.View { title = "Confirm the delivery to the customer" }
    :Permission("order.start"):Assign(this.start.owner):Next(this.finish),
  finish = flow.End(),

  approvers = function(self, activation) return self.split(activation.process.data.approvers) end,
  approver = function(self, activation) return activation.task.data.item end,
  -- called after each answer: counts it; a majority of yes approves, a majority of no rejects
  enough_answers = function(self, activation, done)
    local d = activation.process.data
    if d.approved ~= nil then
      if d.approved then d.approvals = (d.approvals or 0) + 1 else d.refusals = (d.refusals or 0) + 1 end
      d.approved = nil
    end
    local n = #self.split(d.approvers)
    local need = n // 2 + 1
    return (d.approvals or 0) >= need or (d.refusals or 0) > n - need
  end,
  is_rejected = function(self, activation)
    local d = activation.process.data
    d.rejected = (d.approvals or 0) < #self.split(d.approvers) // 2 + 1
    return d.rejected
  end,
  warehouse_list = function(self, activation) return self.split(activation.process.data.warehouses) end,
  -- "a, b,c" -> {"a", "b", "c"}
  split = function(text)
    local list = {}
    for name in (text or ""):gmatch("[^,%s]+") do list[#list + 1] = name end
    return list
  end,
  shipment_input = function(self, activation)
    return { warehouse = activation.task.data.item, items = activation.process.data.items,
      customer = activation.process.data.customer }
  end,
  count_parcels = function(self, activation, child)
    local d = activation.process.data
    d.parcels = (d.parcels or 0) + (child.data.parcels or 0)
  end,
}
