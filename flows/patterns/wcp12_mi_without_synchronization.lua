-- WCP-12 Multiple instances without synchronization: one task runs as several instances, their
-- number read from the process data at run time, and the process goes on without waiting for them.
-- There is no multiple-instance construct: `spawn` is a Split in a loop that starts one instance
-- per round (branch 1) and, while instances are left to start, goes round again (branch 2); the
-- last round goes on to `dispatch` instead. Each round nests the token one level deeper (about
-- 35 instances fit the 255-byte token).
-- A test checks: started with {"parcels": 3}, three `label` tasks (ASSIGNED to alice, all tokens
-- different) and `dispatch` (bob) exist at once; `dispatch` can be executed while every label is
-- still open and the process stays STARTED until the last label is done; `label` ran three times
-- and nothing ever waited for the instances (no Join in the flow).
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-12 Multiple instances without synchronization",
  fields = {
    parcels = field.Integer { label = "Parcels", min = 1, max = 30, required = true },
  },

  start = flow.StartFunction(this.read_start):Next(this.spawn),

  spawn = flow.Split()
    :Always(this.label)
    :Next(this.next_parcel, this.parcels_left)
    :Next(this.dispatch, this.all_started),
  next_parcel = flow.Handler(this.count_started):Next(this.spawn),

  label = flow.View { title = "Label a parcel" }:Assign("alice"):Next(this.labelled),
  labelled = flow.End(),

  dispatch = flow.View { title = "Book the carrier" }:Assign("bob"):Next(this.booked),
  booked = flow.End(),

  read_start = function(self, activation, data)
    local n = data and math.tointeger(data.parcels)
    if not n or n < 1 or n > 30 then error("parcels must be an integer between 1 and 30") end
    activation.process.data.parcels = n
    activation.process.data.started = 1   -- the instance the first round starts
  end,
  parcels_left = function(self, activation)
    local data = activation.process.data
    return data.started < data.parcels
  end,
  all_started = function(self, activation)
    local data = activation.process.data
    return data.started >= data.parcels
  end,
  count_started = function(self, activation)
    local data = activation.process.data
    data.started = data.started + 1
  end,
}
