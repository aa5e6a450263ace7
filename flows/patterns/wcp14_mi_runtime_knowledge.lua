-- WCP-14 Multiple instances with a priori run-time knowledge: the number of reviews is known when
-- the process starts (data.reviewers, 1..5); that many reviews run in parallel and the process
-- goes on once all of them are done.
-- Encoded with a Split of five replicated review nodes, each branch taken only when its number
-- is within data.reviewers, and a Join, which waits only for the branches that started (as in
-- WCP-7): the run-time number is bounded by the five copies in the model.
-- A test checks: started with {"reviewers": 2}, only review_1 and review_2 exist (ASSIGNED to
-- alice and bob); after both, `decide` runs once (data.decided == 1). With {"reviewers": 4},
-- four reviews exist and `decide` waits for all four. With {"reviewers": 6} the start fails.
local flow = require "flow"
local this, field = flow.this, flow.field

local MAX = 5
local REVIEWERS = { "alice", "bob", "carol", "dave", "erin" }

local def = {
  title = "WCP-14 Multiple instances with run-time knowledge",
  fields = {
    reviewers = field.Integer { label = "Reviewers", min = 1, max = MAX, required = true },
  },

  start = flow.StartFunction(this.read_start):Next(this.fork),

  reviewed = flow.Join():Next(this.decide),
  decide = flow.Handler(this.count_decision):Next(this.finish),
  finish = flow.End(),

  read_start = function(self, activation, data)
    local n = data and math.tointeger(data.reviewers)
    if not n or n < 1 or n > MAX then error("reviewers must be an integer between 1 and " .. MAX) end
    activation.process.data.reviewers = n
  end,
  reviewer = function(self, activation)
    return REVIEWERS[tonumber(activation.task.node:match("_(%d+)$"))]
  end,
  count_decision = function(self, activation)
    local data = activation.process.data
    data.decided = (data.decided or 0) + 1
  end,
}

-- review_1..review_5, one branch each, taken when k <= data.reviewers
local fork = flow.Split()
for k = 1, MAX do
  def["review_" .. k] = flow.View { title = "Review the paper" }:Assign(this.reviewer):Next(this.reviewed)
  def["wants_" .. k] = function(self, activation) return k <= activation.process.data.reviewers end
  fork = fork:Next(this["review_" .. k], this["wants_" .. k])
end
def.fork = fork

return flow.Flow(def)
