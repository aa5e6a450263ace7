-- WCP-29 Cancelling discriminator: three suppliers are asked for a quote; the first quote is taken
-- and the other requests are withdrawn.
-- Construct: Join { wait = 1, cancel_rest = true } (the first arrival fires it and cancels the
-- rest of the round). Split { first = true } does the same from the split's side.
-- A test checks: bob quotes first -> quote_a (alice) and quote_c (carol) CANCELED, `pick` runs
-- once with data.first == "quote_b", `first_quote` DONE, process DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-29 Cancelling discriminator",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.quote_a):Always(this.quote_b):Always(this.quote_c),

  quote_a = flow.View { title = "Quote from supplier A" }:Assign("alice"):Next(this.note_a),
  quote_b = flow.View { title = "Quote from supplier B" }:Assign("bob"):Next(this.note_b),
  quote_c = flow.View { title = "Quote from supplier C" }:Assign("carol"):Next(this.note_c),
  note_a = flow.Handler(this.note_quote):Next(this.first_quote),
  note_b = flow.Handler(this.note_quote):Next(this.first_quote),
  note_c = flow.Handler(this.note_quote):Next(this.first_quote),

  first_quote = flow.Join { wait = 1, cancel_rest = true }:Next(this.pick),
  pick = flow.Handler(this.count_pick):Next(this.finish),
  finish = flow.End(),

  note_quote = function(self, activation)
    local data = activation.process.data
    data.first = data.first or ("quote_" .. activation.task.node:sub(-1))
  end,
  count_pick = function(self, activation)
    local data = activation.process.data
    data.picked = (data.picked or 0) + 1
  end,
}
