-- WCP-42 Thread split: at one point the branch splits into a nominated number of threads that
-- all run the same tasks (`label`, then `load`) independently; each ends on its own.
-- No thread construct (and a Split may not have two branches to one node): a Split in a loop
-- starts one thread per round (its number read from the data at run time); rounds nest one token
-- level each (about 35 threads fit).
-- A test checks: started with {"pallets": 3}: three `label` tasks (alice) on three distinct
-- tokens; each labelled pallet goes on to its own `load` (bob) on the same token; after alice
-- labels two, two `load` exist; when all are loaded, `loaded` ran three times and the process
-- is DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-42 Thread split",
  fields = {
    pallets = field.Integer { label = "Pallets", min = 1, max = 30, required = true },
  },

  start = flow.StartFunction(this.read_start):Next(this.thread),
  thread = flow.Split():Always(this.label):Next(this.next_thread, this.threads_left),
  next_thread = flow.Handler(this.count_thread):Next(this.thread),

  label = flow.View { title = "Label a pallet" }:Assign("alice"):Next(this.load),
  load = flow.View { title = "Load the pallet" }:Assign("bob"):Next(this.loaded),
  loaded = flow.End(),

  read_start = function(self, activation, data)
    local n = data and math.tointeger(data.pallets)
    if not n or n < 1 or n > 30 then error("pallets must be an integer between 1 and 30") end
    activation.process.data.pallets = n
    activation.process.data.threads = 1
  end,
  threads_left = function(self, activation)
    local data = activation.process.data
    return data.threads < data.pallets
  end,
  count_thread = function(self, activation)
    activation.process.data.threads = activation.process.data.threads + 1
  end,
}
