-- Resource pattern: Retain familiar (case handling). The follow-up goes to whoever started
-- the case, through :Assign(this.start.owner).
-- A test checks: with "retain_familiar.start" granted to bob and carol, a process started by
-- bob gets `follow_up` ASSIGNED to bob, one started by carol gets it ASSIGNED to carol.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "Retain familiar",
  fields = {
    request = field.Text { label = "Request", required = true },
    answer = field.Text { label = "Answer" },
  },

  start = flow.Start { title = "Open a case", fields = { "request" } }
    :Permission("retain_familiar.start")
    :Next(this.follow_up),

  follow_up = flow.View { title = "Follow up", fields = { "answer" } }
    :Assign(this.start.owner)
    :Next(this.finish),

  finish = flow.End(),
}
