-- WCP-43 Explicit termination: reaching one particular End finishes the whole process at once,
-- withdrawing everything still active.
-- Construct: flow.End { terminate = true }.
-- A test checks: with `write` (alice) and `translate` (bob) open, carol's `stop` reaches `stopped`:
-- both are CANCELED and the process is DONE at once. Without `stop`, write and translate reach
-- their ordinary Ends and the process stays STARTED while `stop` is open (implicit termination
-- needs nothing active); `stop` then terminates with nothing left to cancel.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-43 Explicit termination",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.write):Always(this.translate):Always(this.stop),

  write = flow.View { title = "Write the text" }:Assign("alice"):Next(this.written),
  translate = flow.View { title = "Translate the text" }:Assign("bob"):Next(this.translated),
  stop = flow.View { title = "Stop the project" }:Assign("carol"):Next(this.stopped),

  written = flow.End(),
  translated = flow.End(),
  stopped = flow.End { terminate = true },
}
