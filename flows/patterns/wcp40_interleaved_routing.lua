-- WCP-40 Interleaved routing: three audits (books, stock, payroll) are each done once, never two
-- at the same time; once all three are done the report is written.
-- Encoded with the critical-section construct: a Split whose three branches each hold the same
-- lock ("auditor") around their audit, then a Join. Only the branch holding the lock has its
-- audit on offer; the others wait at their Lock (STARTED, no audit task yet) and are let in one
-- at a time when the holder reaches its Unlock.
-- Limit: the engine, not the people, picks the order: waiting branches are let in oldest first,
-- and branches that reach their Locks in the same action (as here, after the Split) reach them
-- in the Split's branch order, so the audits run books, stock, payroll every time; another
-- order comes only from branches reaching their Locks at different times.
-- A test checks: after the start only audit_books (alice) is offered, lock_stock and
-- lock_payroll STARTED; each completion lets the next one in; at no time two audits active;
-- each audit, Lock and Unlock ran once, on its branch's token; the join and `report` once; the
-- process is DONE. Another case: a manager cancels the waiting lock_payroll (that audit is left
-- out) and the running audit_books: the lock goes to stock, and the join still continues. A
-- pending one (the engine does not store a lock handed over at an Unlock, docs/patterns.md):
-- bob gives back audit_stock and takes it again while payroll keeps waiting.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-40 Interleaved routing",

  start = flow.StartFunction():Next(this.audits),
  audits = flow.Split():Always(this.lock_books):Always(this.lock_stock):Always(this.lock_payroll),

  lock_books = flow.Lock("auditor"):Next(this.audit_books),
  audit_books = flow.View { title = "Audit the books" }:Assign("alice"):Next(this.unlock_books),
  unlock_books = flow.Unlock("auditor"):Next(this.step),

  lock_stock = flow.Lock("auditor"):Next(this.audit_stock),
  audit_stock = flow.View { title = "Audit the stock" }:Assign("bob"):Next(this.unlock_stock),
  unlock_stock = flow.Unlock("auditor"):Next(this.step),

  lock_payroll = flow.Lock("auditor"):Next(this.audit_payroll),
  audit_payroll = flow.View { title = "Audit the payroll" }:Assign("carol"):Next(this.unlock_payroll),
  unlock_payroll = flow.Unlock("auditor"):Next(this.step),

  step = flow.Join():Next(this.report),
  report = flow.View { title = "Write the audit report" }:Assign("dave"):Next(this.finish),
  finish = flow.End(),
}
