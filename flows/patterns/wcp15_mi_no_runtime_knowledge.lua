-- WCP-15 Multiple instances without a priori run-time knowledge: inspections run in parallel
-- while a coordinator keeps deciding whether to add one more; once no more are added and every
-- inspection is done, the process goes on once.
-- :ForEach does not do it: its list is read once, when the group starts, and nothing adds an
-- instance to a running group. So each round of the Split `spawn` starts one inspection
-- (branch 1) and asks bob whether to add another (branch 2); "yes" enters `spawn` again inside
-- that branch, so the rounds nest. Every round ends at the Join `collect`; a round's join goes
-- on with its parent's token, and `collected` sends that token back to `collect` (the enclosing
-- round) until the outermost round is complete (token "start"). Rounds nest one token level
-- each (about 35 fit).
-- A test checks: one `inspect` (alice) and one `ask` (bob) after the start; alice may finish
-- the first inspection before bob adds two more; after bob says no, `report` waits for the two
-- open inspections, then runs once (data.reported == 1, data.inspections == 3); `collect` ran
-- once per round (3) and the process is DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-15 Multiple instances without run-time knowledge",
  fields = {
    another = field.Boolean { label = "Add another inspection?" },
  },

  start = flow.StartFunction():Next(this.spawn),

  spawn = flow.Split():Always(this.inspect):Always(this.ask),
  inspect = flow.View { title = "Inspect a unit" }:Assign("alice"):Next(this.inspected),
  inspected = flow.Handler(this.count_inspection):Next(this.collect),
  ask = flow.View { title = "Add another inspection?", fields = { "another" } }:Assign("bob"):Next(this.decide),
  decide = flow.If(this.wants_another):Then(this.spawn):Else(this.collect),

  collect = flow.Join():Next(this.collected),
  collected = flow.If(this.in_a_round):Then(this.collect):Else(this.report),
  report = flow.Handler(this.write_report):Next(this.finish),
  finish = flow.End(),

  count_inspection = function(self, activation)
    local data = activation.process.data
    data.inspections = (data.inspections or 0) + 1
  end,
  wants_another = function(self, activation) return activation.process.data.another == true end,
  -- the token of a round's join is its parent's: nested while it still has a "/"
  in_a_round = function(self, activation) return activation.task.token:find("/", 1, true) ~= nil end,
  write_report = function(self, activation)
    local data = activation.process.data
    data.reported = (data.reported or 0) + 1
  end,
}
