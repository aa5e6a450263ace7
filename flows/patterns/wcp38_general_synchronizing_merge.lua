-- WCP-38 General synchronizing merge: a merge in a graph with a loop and a branch that may leave
-- without reaching it: `test` can be repeated any number of times before it reaches `merge`,
-- and the `ship` branch may end on its own (no insurance needed); `merge` fires once, when no
-- further arrival is possible.
-- Construct: a Join that waits while any task of its split's round is active and fires when
-- nothing else of the round is active (a branch that ended elsewhere does not hang it).
-- Limits: the join must close a Split round (tokens), and it waits for every active task of
-- the round, even one whose path can no longer reach it (see the last case).
-- A test checks: alice fails `test` twice (the loop) while `merge` waits, then passes: `test`
-- ran three times and `merge` fires only now that bob's `ship` (insured) arrived too; `report`
-- runs once. When `ship` is not insured, its branch ends at `shipped`, and `merge` fires on the
-- test alone. Limit: while `file` (the uninsured branch's last task, which cannot reach the
-- merge) is open, the merge still waits.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-38 General synchronizing merge",
  fields = {
    passed = field.Boolean { label = "Passed?" },
    insured = field.Boolean { label = "Insured?" },
  },

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.test):Always(this.ship),

  test = flow.View { title = "Test the device", fields = { "passed" } }:Assign("alice"):Next(this.retest),
  retest = flow.If(this.has_passed):Then(this.merge):Else(this.test),

  ship = flow.View { title = "Ship the device", fields = { "insured" } }:Assign("bob"):Next(this.insurance),
  insurance = flow.If(this.is_insured):Then(this.merge):Else(this.file),
  file = flow.View { title = "File the shipping papers" }:Assign("carol"):Next(this.shipped),
  shipped = flow.End(),

  merge = flow.Join():Next(this.report),
  report = flow.Handler(this.count_report):Next(this.finish),
  finish = flow.End(),

  has_passed = function(self, activation) return activation.process.data.passed == true end,
  is_insured = function(self, activation) return activation.process.data.insured == true end,
  count_report = function(self, activation)
    local data = activation.process.data
    data.reported = (data.reported or 0) + 1
  end,
}
