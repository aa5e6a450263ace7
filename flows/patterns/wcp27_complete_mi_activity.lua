-- WCP-27 Complete multiple-instance activity: three quotes are requested in parallel; the buyer
-- may decide that the quotes received are enough, which withdraws the ones still open and goes
-- on along the normal path (unlike WCP-26, the activity counts as completed).
-- The instances are replicated nodes of one Split round (as in WCP-13); `enough` sits in that
-- round and is flow.Cancel(this.fork) continuing to `compare`, the same node the Join of the
-- round continues to. Join { wait = 3, cancel_rest = true } withdraws `enough` when all came in.
-- A test checks: alice and bob quote, carol decides it is enough -> quote_3 (dave) CANCELED,
-- `compare` ran once (data.quotes == 2), no join fired, process DONE. Without `enough`: three
-- quotes -> `enough` CANCELED, `compare` once with data.quotes == 3.
local flow = require "flow"
local this = flow.this

local SUPPLIERS = { "alice", "bob", "dave" }

local function quote()
  return flow.View { title = "Send a quote" }:Assign(this.supplier):Next(this.quoted)
end

return flow.Flow {
  title = "WCP-27 Complete multiple-instance activity",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.quote_1):Always(this.quote_2):Always(this.quote_3):Always(this.enough),
  quote_1 = quote(),
  quote_2 = quote(),
  quote_3 = quote(),
  quoted = flow.Handler(this.count_quote):Next(this.all_in),
  enough = flow.View { title = "Enough quotes" }:Assign("carol"):Next(this.stop_quotes),

  all_in = flow.Join { wait = 3, cancel_rest = true }:Next(this.compare),
  stop_quotes = flow.Cancel(this.fork):Next(this.compare),
  compare = flow.Handler(this.count_compare):Next(this.finish),
  finish = flow.End(),

  supplier = function(self, activation)
    return SUPPLIERS[tonumber(activation.task.token:match("_(%d+)$"))]
  end,
  count_quote = function(self, activation)
    local data = activation.process.data
    data.quotes = (data.quotes or 0) + 1
  end,
  count_compare = function(self, activation)
    local data = activation.process.data
    data.compared = (data.compared or 0) + 1
  end,
}
