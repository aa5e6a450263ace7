-- WCP-17 Interleaved parallel routing: an order's tasks run one at a time, each once, in an
-- order the partial order allows: `pick` before `pack`; `invoice` at any point.
-- Encoded with the critical-section construct: the partial order as sequences inside the
-- branches of a Split (pick then pack in one branch, invoice in the other), every task in its
-- own Lock("order") ... Unlock("order"), and a Join. Only the task holding the lock is on
-- offer; a branch at a Lock the other holds waits there (a STARTED `lock` task).
-- Limit: the engine, not the people, picks the order: waiting branches are let in oldest
-- first, so with both branches starting together the tasks run pick, invoice, pack every time
-- (invoice was waiting before the pick branch reached the pack lock); the other permitted
-- orders (invoice first, or pack right after pick) only come from branches reaching their
-- Locks at different times.
-- A test checks: after the start only pick (alice) is offered and lock_invoice waits; pick
-- done -> invoice (bob) offered, lock_pack waits; invoice done -> pack (carol); pack never
-- before pick, at no time two of the three active; every node ran once, each branch on its
-- own token; the process is DONE. A second case (pending: the engine does not store a lock
-- handed over at an Unlock, docs/patterns.md): a manager cancels the running invoice: the lock
-- is let go, pack comes next, the join continues without invoice.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-17 Interleaved parallel routing",

  start = flow.StartFunction():Next(this.dispatch),
  dispatch = flow.Split():Always(this.lock_pick):Always(this.lock_invoice),

  -- the partial order: pack after pick, in the same branch
  lock_pick = flow.Lock("order"):Next(this.pick),
  pick = flow.View { title = "Pick the goods" }:Assign("alice"):Next(this.unlock_pick),
  unlock_pick = flow.Unlock("order"):Next(this.lock_pack),
  lock_pack = flow.Lock("order"):Next(this.pack),
  pack = flow.View { title = "Pack the goods" }:Assign("carol"):Next(this.unlock_pack),
  unlock_pack = flow.Unlock("order"):Next(this.step),

  -- invoice at any point
  lock_invoice = flow.Lock("order"):Next(this.invoice),
  invoice = flow.View { title = "Send the invoice" }:Assign("bob"):Next(this.unlock_invoice),
  unlock_invoice = flow.Unlock("order"):Next(this.step),

  step = flow.Join():Next(this.finish),
  finish = flow.End(),
}
