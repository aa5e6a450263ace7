-- WCP-16 Deferred choice: of three branches offered at once, the first to happen wins and the
-- others are withdrawn: alice approves the order, the customer withdraws it (a message), or a
-- week passes (a timer).
-- Construct: flow.Split { first = true }: when the first waiting task of a branch completes,
-- the active tasks of the other branches are CANCELED.
-- A test checks (manual clock), one case per branch: alice executes `approve` -> `withdrawal`
-- and `expiry` CANCELED, `approved` DONE; host:send("wcp16.withdraw", order) -> `approve` and
-- `expiry` CANCELED, data.reason set by the message; advancing 7 days -> `expiry` DONE,
-- `approve` and `withdrawal` CANCELED. Each time exactly one End ran and the process is DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-16 Deferred choice",
  fields = {
    order = field.String { label = "Order", required = true },
    reason = field.String { label = "Reason" },
  },

  start = flow.StartFunction(this.read_start):Next(this.choice),

  choice = flow.Split { first = true }
    :Always(this.approve)
    :Always(this.withdrawal)
    :Always(this.expiry),

  approve = flow.View { title = "Approve the order" }:Assign("alice"):Next(this.approved),
  withdrawal = flow.Receive { message = "wcp16.withdraw", key = this.order_key, fields = { "reason" } }
    :Next(this.withdrawn),
  expiry = flow.Timer(7 * 86400):Next(this.expired),

  approved = flow.End(),
  withdrawn = flow.End(),
  expired = flow.End(),

  read_start = function(self, activation, data)
    activation.process.data.order = assert(data and data.order, "order is required")
  end,
  order_key = function(self, activation) return activation.process.data.order end,
}
