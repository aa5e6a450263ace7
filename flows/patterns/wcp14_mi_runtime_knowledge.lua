-- WCP-14 Multiple instances with a priori run-time knowledge: the reviewers of a paper are
-- named when the process starts (data.reviewers, a list of user names, any number); one review
-- per reviewer runs in parallel and the process goes on once all of them are done.
-- Construct: `review` is a View with :ForEach("reviewers"), the process field holding the list,
-- read when the group starts; each instance is assigned to its item. The group's controller
-- (type "foreach") goes on to `decide` once every instance ended.
-- A test checks: started with {"reviewers": ["bob", "dave"]}, exactly two `review` instances
-- (ASSIGNED to bob and dave, items and indexes 1..2); `decide` waits for both, then runs once
-- (data.decided == 1) and the controller is DONE. With four reviewers `decide` waits for all
-- four; with an empty list it runs at once; a name that is not a string fails the start.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-14 Multiple instances with run-time knowledge",

  start = flow.StartFunction(this.read_start):Next(this.review),
  review = flow.View { title = "Review the paper" }:ForEach("reviewers"):Assign(this.reviewer):Next(this.decide),
  decide = flow.Handler(this.count_decision):Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    local list = data and data.reviewers
    if type(list) ~= "table" then error("reviewers must be a list of user names") end
    for _, name in ipairs(list) do
      if type(name) ~= "string" then error("reviewers must be a list of user names") end
    end
    activation.process.data.reviewers = list
  end,
  reviewer = function(self, activation) return activation.task.data.item end,
  count_decision = function(self, activation)
    local data = activation.process.data
    data.decided = (data.decided or 0) + 1
  end,
}
