-- WCP-26 Cancel multiple-instance activity: three signatories sign a contract in parallel; if
-- they have not all signed within three days, the signing is canceled: the signatures not yet
-- given are withdrawn, those given stay DONE, and the contract is not filed.
-- Construct: `sign` is a View with :ForEach (one instance per signatory); the group is one
-- activity: its interrupting :OnTimeout guards the whole group and, when it fires, cancels the
-- controller task (type "foreach") and every open instance, and goes on to `expired` (not to the
-- group's :Next). A manager may also cancel the group by canceling its controller (the cancel
-- transition): the open instances are CANCELED with it and the flow does not go on.
-- A test checks (manual clock): alice signs, three days pass -> the controller and the
-- instances of bob and dave are CANCELED, alice's stays DONE, `expired` ran once, `file` never,
-- the process is DONE. All three signing in time -> `file` once and the timer row CANCELED. A
-- manager canceling the controller after alice signed -> the same instances CANCELED, the timer
-- disarmed, neither `file` nor `expired`, nothing active.
local flow = require "flow"
local this = flow.this

local SIGNATORIES = { "alice", "bob", "dave" }

return flow.Flow {
  title = "WCP-26 Cancel multiple-instance activity",

  start = flow.StartFunction():Next(this.sign),
  sign = flow.View { title = "Sign the contract" }
    :ForEach(this.signatories)
    :Assign(this.signatory)
    :OnTimeout(3 * 86400, this.expired)
    :Next(this.file),
  file = flow.Handler(this.count):Next(this.finish),
  expired = flow.Handler(this.count):Next(this.finish),
  finish = flow.End(),

  signatories = function(self, activation) return SIGNATORIES end,
  signatory = function(self, activation) return activation.task.data.item end,
  count = function(self, activation)
    local data = activation.process.data
    data[activation.task.node] = (data[activation.task.node] or 0) + 1
  end,
}
