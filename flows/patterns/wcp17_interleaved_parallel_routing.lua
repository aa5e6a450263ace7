-- WCP-17 Interleaved parallel routing: an order's tasks run one at a time, each once, in any
-- order the partial order allows: `pick` before `pack`; `invoice` at any point.
-- Encoded like WCP-40 (a loop around Split { first = true } offering the tasks not done yet),
-- with the partial order as branch conditions: `pack` is offered only once `pick` is done.
-- Limit: the exclusion holds for completing, not for working (every task on offer can be taken
-- up at once; the ones not completed first are canceled and offered again).
-- A test checks: the start offers `pick` (alice) and `invoice` (bob) but not `pack`; alice
-- completes pick -> invoice CANCELED, then `pack` (carol) and `invoice` offered; bob completes
-- invoice -> pack CANCELED and offered again alone; carol packs. Every task is DONE exactly once
-- (data.order == {"pick", "invoice", "pack"}) and the process is DONE. Completing invoice first
-- still keeps pack back until pick is done.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-17 Interleaved parallel routing",

  start = flow.StartFunction(this.read_start):Next(this.offer),

  offer = flow.Split { first = true }
    :Next(this.pick, this.pick_open)
    :Next(this.pack, this.pack_open)
    :Next(this.invoice, this.invoice_open),

  pick = flow.View { title = "Pick the goods" }:Assign("alice"):Next(this.done_pick),
  pack = flow.View { title = "Pack the goods" }:Assign("carol"):Next(this.done_pack),
  invoice = flow.View { title = "Send the invoice" }:Assign("bob"):Next(this.done_invoice),

  done_pick = flow.Handler(this.note_done):Next(this.step),
  done_pack = flow.Handler(this.note_done):Next(this.step),
  done_invoice = flow.Handler(this.note_done):Next(this.step),

  step = flow.Join():Next(this.more),
  more = flow.If(this.all_done):Then(this.finish):Else(this.offer),
  finish = flow.End(),

  read_start = function(self, activation)
    activation.process.data.order = {}
  end,
  done = function(self, activation, task)
    for _, t in ipairs(activation.process.data.order) do
      if t == task then return true end
    end
    return false
  end,
  pick_open = function(self, activation) return not self:done(activation, "pick") end,
  -- the partial order: pack only after pick
  pack_open = function(self, activation)
    return self:done(activation, "pick") and not self:done(activation, "pack")
  end,
  invoice_open = function(self, activation) return not self:done(activation, "invoice") end,
  note_done = function(self, activation)
    local order = activation.process.data.order
    order[#order + 1] = activation.task.node:match("^done_(.*)$")
  end,
  all_done = function(self, activation) return #activation.process.data.order == 3 end,
}
