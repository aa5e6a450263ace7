-- Resource pattern: Deferred distribution. Who does the task is decided at run time, from
-- process data, when the task is created.
-- A test checks: started with {"reviewer": "carol"}, `review` is ASSIGNED to carol; started
-- with {"reviewer": "bob"}, to bob; started without a reviewer, to alice (the fallback).
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "Deferred distribution",
  fields = {
    reviewer = field.String { label = "Reviewer", max_length = 64 },
  },

  start = flow.StartFunction(this.read_start):Next(this.review),
  review = flow.View { title = "Review" }:Assign(this.pick_reviewer):Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    local reviewer = data and data.reviewer
    if reviewer ~= nil and type(reviewer) ~= "string" then error("reviewer must be a user name") end
    activation.process.data.reviewer = reviewer
  end,
  pick_reviewer = function(self, activation)
    return activation.process.data.reviewer or "alice"
  end,
}
