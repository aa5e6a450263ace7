-- WCP-2 Parallel split: one thread of control splits into two that run at the same time.
-- A test checks: after the start, both `pack` (ASSIGNED to alice) and `invoice` (ASSIGNED to
-- bob) exist, with tokens start/P_1 and start/P_2 where P is the id of the `fork` task; each
-- branch ends on its own End and the process is DONE once both are executed.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-2 Parallel split",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.pack):Always(this.invoice),

  pack = flow.View { title = "Pack the goods" }:Assign("alice"):Next(this.packed),
  invoice = flow.View { title = "Send the invoice" }:Assign("bob"):Next(this.invoiced),

  packed = flow.End(),
  invoiced = flow.End(),
}
