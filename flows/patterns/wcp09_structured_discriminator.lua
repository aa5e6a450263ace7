-- WCP-9 Structured discriminator: the Join continues on the first branch to arrive
-- (wait_all = false); branches arriving later end there.
-- A test checks: after alice executes `quote_a`, `pick` runs once (data.picked == 1,
-- data.first == "quote_a"); bob's `quote_b` is still open; after bob executes it,
-- `pick` does not run again (still one `pick` task) and the process is DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-9 Structured discriminator",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.quote_a):Always(this.quote_b),

  quote_a = flow.View { title = "Quote from supplier A" }:Assign("alice"):Next(this.first_quote),
  quote_b = flow.View { title = "Quote from supplier B" }:Assign("bob"):Next(this.first_quote),

  first_quote = flow.Join { wait_all = false }:Next(this.pick),
  pick = flow.Handler(this.count_pick):Next(this.finish),
  finish = flow.End(),

  count_pick = function(self, activation)
    local data = activation.process.data
    data.picked = (data.picked or 0) + 1
  end,
}
