-- WCP-27 Complete multiple-instance activity: three suppliers are asked for a quote in parallel;
-- after two days the quotes still missing are withdrawn and the quotes received are compared
-- (the activity counts as completed: the normal path goes on, unlike WCP-26).
-- Construct: `quotes` is a View with :ForEach (one instance per supplier) whose interrupting
-- :OnTimeout goes to `compare`, the node its :Next goes to: when it fires, the open instances
-- and the controller (type "foreach") are CANCELED, the DONE ones stay, and `compare` runs once.
-- The same flow started at `with_buyer` shows completion by a person instead of a deadline: the
-- group (`bids`) is one branch of a Split round and the buyer's `enough` the other; `enough`
-- goes to flow.Cancel(this.fork), which withdraws the round (the group with its open instances)
-- and continues to `compare`; Join { wait = 1, cancel_rest = true } after the group withdraws
-- `enough` when every bid came in.
-- A test checks (manual clock): alice and bob quote, two days pass -> the quote of dave and the
-- controller CANCELED, two instances DONE, `compare` ran once (data.compared == 1) on token
-- "start", process DONE; all three in time -> `compare` once, the timer row CANCELED. With the buyer: alice bids, carol says
-- enough -> the two other bids and the controller CANCELED, `compare` once on token "start";
-- all three bids -> `enough` CANCELED, `all_in` and `compare` once.
local flow = require "flow"
local this = flow.this

local SUPPLIERS = { "alice", "bob", "dave" }

return flow.Flow {
  title = "WCP-27 Complete multiple-instance activity",

  -- completed by a deadline
  start = flow.StartFunction():Next(this.quotes),
  quotes = flow.View { title = "Send a quote" }
    :ForEach(this.suppliers)
    :Assign(this.supplier)
    :OnTimeout(2 * 86400, this.compare)
    :Next(this.compare),

  -- completed by the buyer
  with_buyer = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.bids):Always(this.enough),
  bids = flow.View { title = "Send a bid" }:ForEach(this.suppliers):Assign(this.supplier):Next(this.all_in),
  all_in = flow.Join { wait = 1, cancel_rest = true }:Next(this.compare),
  enough = flow.View { title = "Enough quotes" }:Assign("carol"):Next(this.stop_quotes),
  stop_quotes = flow.Cancel(this.fork):Next(this.compare),

  compare = flow.Handler(this.count_compare):Next(this.finish),
  finish = flow.End(),

  suppliers = function(self, activation) return SUPPLIERS end,
  supplier = function(self, activation) return activation.task.data.item end,
  count_compare = function(self, activation)
    local data = activation.process.data
    data.compared = (data.compared or 0) + 1
  end,
}
