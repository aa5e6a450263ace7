-- WCP-12 Multiple instances without synchronization: a parcel label is printed for each parcel
-- of the order (their number read from the process data at run time), and the process goes on
-- to book the carrier without waiting for any of the labels.
-- Construct: `label` is a View with :ForEach over the list of parcels: one task per parcel
-- (task.data = {item, index}), all at once, all in this process (same data, same token as the
-- group's controller task, type "foreach"). Not waiting is a Split: the group is one branch,
-- whose :Next is an End; the other branch goes on. The group itself always waits for its
-- instances before its :Next, but nothing follows it there.
-- A test checks: started with {"parcels": 3}, three `label` instances (ASSIGNED to alice,
-- items/indexes 1..3, token of the controller) and `dispatch` (bob) exist at once; `dispatch`
-- is executed while every label is still open and `booked` ran; the process stays STARTED until
-- the last label is done; then the controller is DONE, `labelled` ran once, and the process is
-- DONE. No Join in the flow.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-12 Multiple instances without synchronization",
  fields = {
    parcels = field.Integer { label = "Parcels", min = 1, max = 1000, required = true },
  },

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.label):Always(this.dispatch),

  label = flow.View { title = "Label a parcel" }:ForEach(this.parcel_list):Assign("alice"):Next(this.labelled),
  labelled = flow.End(),

  dispatch = flow.View { title = "Book the carrier" }:Assign("bob"):Next(this.booked),
  booked = flow.End(),

  -- parcel numbers 1..data.parcels, decided when the group starts
  parcel_list = function(self, activation)
    local list = {}
    for k = 1, activation.process.data.parcels do list[k] = k end
    return list
  end,
}
