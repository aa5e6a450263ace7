-- WCP-35 Cancelling partial join for multiple instances: three instances of "inspect" run in
-- parallel; two done are enough, and the third is withdrawn.
-- The instances are replicated nodes of one Split round (as in WCP-13);
-- Join { wait = 2, cancel_rest = true } is the partial join.
-- A test checks: after inspect_2 (bob) and inspect_3 (carol), inspect_1 (alice) is CANCELED,
-- `release` ran once and the process is DONE.
local flow = require "flow"
local this = flow.this

local INSPECTORS = { "alice", "bob", "carol" }

local function inspect()
  return flow.View { title = "Inspect the batch" }:Assign(this.inspector):Next(this.enough)
end

return flow.Flow {
  title = "WCP-35 Cancelling partial join for multiple instances",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.inspect_1):Always(this.inspect_2):Always(this.inspect_3),
  inspect_1 = inspect(),
  inspect_2 = inspect(),
  inspect_3 = inspect(),

  enough = flow.Join { wait = 2, cancel_rest = true }:Next(this.release),
  release = flow.Handler(this.count_release):Next(this.finish),
  finish = flow.End(),

  inspector = function(self, activation)
    return INSPECTORS[tonumber(activation.task.token:match("_(%d+)$"))]
  end,
  count_release = function(self, activation)
    local data = activation.process.data
    data.released = (data.released or 0) + 1
  end,
}
