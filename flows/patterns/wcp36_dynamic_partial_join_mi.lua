-- WCP-36 Dynamic partial join for multiple instances: bids are invited one by one while the
-- tender runs (the number is not known in advance); the contract is awarded as soon as
-- data.needed bids are in; bids arriving later are still recorded but award nothing.
-- :ForEach comes close but does not do it: its `complete` function is checked each time an
-- instance ends, but the group's list is fixed when it starts (no bidder can be added) and the
-- instances still open when it holds are CANCELED (here they must go on). So the instances are
-- spawned by a Split in a loop as in WCP-15 (each round: one `bid`, and `invite` asking whether
-- to invite another bidder); the partial join is emulated: each completed bid is counted, and
-- `enough` (an If) goes to `award` exactly when the count reaches data.needed, otherwise the
-- bid's branch ends.
-- A test checks: started with {"needed": 2}: after the first bid nothing is awarded; bob invites
-- a second and a third bidder; the second bid awards once (data.awarded == 1) while the third
-- bid and bob's next question are open; the third bid ends without a second award; after bob
-- stops inviting, the process is DONE; `bid` ran three times.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-36 Dynamic partial join for multiple instances",
  fields = {
    needed = field.Integer { label = "Bids needed", min = 1, max = 20, default = 2 },
    another = field.Boolean { label = "Invite another bidder?" },
  },

  start = flow.StartFunction(this.read_start):Next(this.spawn),

  spawn = flow.Split():Always(this.bid):Always(this.invite),
  bid = flow.View { title = "Submit a bid" }:Assign("alice"):Next(this.count),
  invite = flow.View { title = "Invite another bidder?", fields = { "another" } }:Assign("bob"):Next(this.decide),
  decide = flow.If(this.wants_another):Then(this.spawn):Else(this.no_more),
  no_more = flow.End(),

  -- the emulated partial join: fires once, on the needed-th completion
  count = flow.Handler(this.count_bid):Next(this.enough),
  enough = flow.If(this.just_enough):Then(this.award):Else(this.bid_done),
  award = flow.Handler(this.award_contract):Next(this.awarded),
  awarded = flow.End(),
  bid_done = flow.End(),

  read_start = function(self, activation, data)
    activation.process.data.needed = data and math.tointeger(data.needed) or 2
    activation.process.data.bids = 0
  end,
  wants_another = function(self, activation) return activation.process.data.another == true end,
  count_bid = function(self, activation)
    activation.process.data.bids = activation.process.data.bids + 1
  end,
  just_enough = function(self, activation)
    local data = activation.process.data
    return data.bids == data.needed
  end,
  award_contract = function(self, activation)
    local data = activation.process.data
    data.awarded = (data.awarded or 0) + 1
  end,
}
