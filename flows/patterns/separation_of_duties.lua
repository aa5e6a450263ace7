-- Resource pattern: Separation of duties (four eyes). The person who started the request
-- may not approve it: :Permission(fn) refuses the owner of the earlier `start` task.
-- A test checks: with "separation_of_duties.start" and "separation_of_duties.approve"
-- granted to alice and bob, a request started by alice puts `approve` in bob's queue but
-- not alice's; alice's assign is refused (403); bob's succeeds.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "Separation of duties",
  fields = {
    amount = field.Number { label = "Amount", required = true, min = 0 },
    approved = field.Boolean { label = "Approve?" },
  },

  start = flow.Start { title = "Request a payment", fields = { "amount" } }
    :Permission("separation_of_duties.start")
    :Next(this.approve),

  approve = flow.View { title = "Approve the payment", fields = { "approved" } }
    :Permission(this.may_approve)
    :Next(this.finish),

  finish = flow.End(),

  -- Called as permission_fn(self, user, activation);
  -- user = { username, is_admin, groups = {...}, permissions = {...} }.
  may_approve = function(self, user, activation)
    if user.username == activation.process.created_by then return false end
    if user.is_admin then return true end
    for _, perm in ipairs(user.permissions or {}) do
      if perm == "separation_of_duties.approve" then return true end
    end
    return false
  end,
}
