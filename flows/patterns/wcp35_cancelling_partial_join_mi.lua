-- WCP-35 Cancelling partial join for multiple instances: a batch is inspected by the
-- inspectors named when the process starts (data.inspectors, a list); as soon as two
-- inspections are done the batch is released, and the inspections still open are withdrawn.
-- Construct: `inspect` is a View with :ForEach("inspectors", { complete = 2 }): the group goes on
-- to `release` once two instances are DONE and cancels the rest in the same action.
-- A test checks: with three inspectors, after bob and carol the instance of alice and nothing
-- else is CANCELED, the controller (type "foreach") is DONE with done == 2, `release` ran once
-- and the process is DONE; with four, after two the other two are CANCELED.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-35 Cancelling partial join for multiple instances",

  start = flow.StartFunction(this.read_start):Next(this.inspect),
  inspect = flow.View { title = "Inspect the batch" }
    :ForEach("inspectors", { complete = 2 })
    :Assign(this.inspector)
    :Next(this.release),
  release = flow.Handler(this.count_release):Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    local list = data and data.inspectors
    if type(list) ~= "table" or #list < 2 then error("inspectors must be a list of at least two user names") end
    activation.process.data.inspectors = list
  end,
  inspector = function(self, activation) return activation.task.data.item end,
  count_release = function(self, activation)
    local data = activation.process.data
    data.released = (data.released or 0) + 1
  end,
}
