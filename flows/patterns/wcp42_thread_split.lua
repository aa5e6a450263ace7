-- WCP-42 Thread split: when the receipt of a paper is confirmed, three threads of the same
-- branch start, each running the independent peer-review task; each ends on its own and nothing
-- waits for them beyond the branch's end.
-- Construct: `review` is a View with :ForEach over three thread numbers (a count fixed in the
-- model): three threads of one task in this process, on the branch's token; the group's :Next
-- is an End. A thread is one node: threads that run several nodes each (here: label, then load
-- a pallet) are the same construct on a Subprocess of this flow started at `pallet`, one child
-- process per thread, which shares the parent's data only through input and output.
-- A test checks: after `confirm`, three `review` instances (bob, carol, dave) on token "start",
-- executable in any order; after all three the controller (type "foreach") is DONE, `reviewed`
-- ran once and the process is DONE. Started at `pallets` with {"pallets": 2}: two children,
-- each labelling (alice) then loading (bob) its pallet independently; the parent is DONE, with
-- data.loaded == 2, once both children are.
local flow = require "flow"
local this, field = flow.this, flow.field

local REFEREES = { "bob", "carol", "dave" }

return flow.Flow {
  title = "WCP-42 Thread split",
  fields = {
    pallets = field.Integer { label = "Pallets", min = 1, max = 1000 },
    pallet_no = field.Integer { label = "Pallet" },
    loaded = field.Integer { label = "Pallets loaded" },
  },

  -- threads of one task
  start = flow.StartFunction():Next(this.confirm),
  confirm = flow.View { title = "Confirm the receipt of the paper" }:Assign("alice"):Next(this.review),
  review = flow.View { title = "Review the paper" }:ForEach(this.three):Assign(this.referee):Next(this.reviewed),
  reviewed = flow.End(),

  -- threads of several tasks: one child process per thread
  pallets = flow.StartFunction():Next(this.each_pallet),
  each_pallet = flow.Subprocess("wcp42_thread_split", { start = "pallet", input = this.pallet_input,
    output = this.count_loaded }):ForEach(this.pallet_list):Next(this.shipped),
  shipped = flow.End(),

  -- the thread itself (a child process)
  pallet = flow.StartFunction():Next(this.label),
  label = flow.View { title = "Label the pallet" }:Assign("alice"):Next(this.load),
  load = flow.View { title = "Load the pallet" }:Assign("bob"):Next(this.loaded_end),
  loaded_end = flow.End(),

  three = function(self, activation) return { 1, 2, 3 } end,
  referee = function(self, activation) return REFEREES[activation.task.data.index] end,
  pallet_list = function(self, activation)
    local list = {}
    for k = 1, activation.process.data.pallets do list[k] = k end
    return list
  end,
  pallet_input = function(self, activation) return { pallet_no = activation.task.data.item } end,
  count_loaded = function(self, activation, child)
    activation.process.data.loaded = (activation.process.data.loaded or 0) + 1
  end,
}
