-- WCP-18 Milestone: the delivery address may be changed only while the order is confirmed and
-- not yet shipped, as often as the customer likes; before that window or after it, no change
-- is taken.
-- Direct: `:While(this.ship)` on the `change` View. The milestone is a state of the other
-- branch: its `ship` task being active (after `confirm`, before `ship` is done). `change` is
-- created at the start, beside `confirm`, but may be taken up (assigned) and completed only
-- while a `ship` task is active: outside that window both are refused (409 "only while 'ship'
-- is active") and its `actions` offer neither. The test does not influence the other branch:
-- `ship` goes on whatever `change` does. Each change loops back to a new `change` task.
-- A task whose window has passed is not withdrawn by the engine (it stays, refused), so once
-- the order is delivered `close` (flow.Cancel of the split's round) withdraws it and the
-- process ends.
-- A test checks: before `confirm` carol cannot take `change` (conflict), is offered nothing, a
-- manager only "cancel"; after alice confirms, carol changes the address twice (`apply`
-- ran twice, a third `change` waits); she takes the third, but bob ships first: executing it
-- is refused (conflict) and the address keeps its in-window value; dave confirms delivery:
-- the third `change` is CANCELED, every other node ran once, the process is DONE. Another
-- case: nobody takes `change` in the window; after `ship` it is refused, and withdrawn at the end.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-18 Milestone",
  fields = {
    order = field.String { label = "Order", required = true },
    address = field.String { label = "Delivery address", required = true },
  },

  start = flow.StartFunction(this.read_start):Next(this.fork),
  fork = flow.Split():Always(this.confirm):Always(this.change),

  confirm = flow.View { title = "Confirm the order" }:Assign("alice"):Next(this.ship),
  ship = flow.View { title = "Ship the order" }:Assign("bob"):Next(this.deliver),
  deliver = flow.View { title = "Confirm the delivery" }:Assign("dave"):Next(this.close),
  close = flow.Cancel(this.fork):Next(this.finish),

  -- the milestone: only while `ship` is active
  change = flow.View { title = "Change the delivery address", fields = { "address" } }
    :While(this.ship):Next(this.apply),
  apply = flow.Handler(this.count_change):Next(this.change),

  finish = flow.End(),

  read_start = function(self, activation, data)
    activation.process.data.order = assert(data and data.order, "order is required")
    activation.process.data.address = data.address
  end,
  count_change = function(self, activation)
    local data = activation.process.data
    data.changes = (data.changes or 0) + 1
  end,
}
