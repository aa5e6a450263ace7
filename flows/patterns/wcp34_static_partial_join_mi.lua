-- WCP-34 Static partial join for multiple instances: three instances of "inspect" run in
-- parallel; the next step starts once two of them are done, and the third may still finish
-- (it changes nothing).
-- :ForEach { complete = 2 } does not do it: once two instances are DONE it CANCELS the third
-- (that is WCP-35), while here the third must be allowed to finish. So the instances are
-- replicated nodes of one Split round, built by one Lua function (a Split may not have two
-- branches to one node), each finding its inspector from its token (".../<split id>_<k>"), and
-- Join { wait = 2 } is the partial join: later arrivals end there. The number of instances is
-- the number of copies in the model.
-- A test checks: after inspect_1 (alice) and inspect_3 (carol), `release` runs once while
-- inspect_2 (bob) is still open; bob's inspection ends at the join (one `enough`, one `release`)
-- and the process is DONE.
local flow = require "flow"
local this = flow.this

local INSPECTORS = { "alice", "bob", "carol" }

local function inspect()
  return flow.View { title = "Inspect the batch" }:Assign(this.inspector):Next(this.enough)
end

return flow.Flow {
  title = "WCP-34 Static partial join for multiple instances",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.inspect_1):Always(this.inspect_2):Always(this.inspect_3),
  inspect_1 = inspect(),
  inspect_2 = inspect(),
  inspect_3 = inspect(),

  enough = flow.Join { wait = 2 }:Next(this.release),
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
