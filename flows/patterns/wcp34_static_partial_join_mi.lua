-- WCP-34 Static partial join for multiple instances: three inspectors inspect a batch in
-- parallel; the next step starts once two of them are done, and the third may still finish
-- (it changes nothing).
-- Construct: `inspect` is a View with :ForEach(this.inspectors, { complete = 2, cancel_rest = false }):
-- the group goes on to `release` once two instances are DONE; the instance still open runs on
-- to its end and ends at the finished group.
-- A test checks: after alice and carol, `release` ran once while bob's instance is still
-- ASSIGNED and the controller is DONE (done == 2); bob's inspection then ends at the group (one
-- `release`), and the process is DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-34 Static partial join for multiple instances",

  start = flow.StartFunction():Next(this.inspect),
  inspect = flow.View { title = "Inspect the batch" }
    :ForEach(this.inspectors, { complete = 2, cancel_rest = false })
    :Assign(this.inspector)
    :Next(this.release),
  release = flow.Handler(this.count_release):Next(this.finish),
  finish = flow.End(),

  inspectors = function(self, activation) return { "alice", "bob", "carol" } end,
  inspector = function(self, activation) return activation.task.data.item end,
  count_release = function(self, activation)
    local data = activation.process.data
    data.released = (data.released or 0) + 1
  end,
}
