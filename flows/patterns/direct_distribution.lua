-- Resource pattern: Direct distribution. The flow names the person who does the task.
-- A test checks: right after the start, `review` is ASSIGNED to alice (it is in alice's
-- inbox, in nobody's queue), bob cannot execute it, alice can, and the process is DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "Direct distribution",

  start = flow.StartFunction():Next(this.review),
  review = flow.View { title = "Review" }:Assign("alice"):Next(this.finish),
  finish = flow.End(),
}
