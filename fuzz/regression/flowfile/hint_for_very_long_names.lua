-- Fixed in lua/flow.lua suggestion(): "did you mean" hints cost #name * #candidate
-- steps, so two 2000-character names took seconds and the load hit its time budget
-- instead of reporting the bad reference.
local flow = require "flow"
local long = string.rep("a", 2000)
local t = { start = flow.StartFunction():Next(flow.this[long .. "x"]), finish = flow.End() }
t[long] = flow.Handler(flow.this.fn):Next(flow.this.finish)
t.fn = function() end
return flow.Flow(t)
