-- WCP-40 Interleaved routing: three audits (books, stock, payroll) are each done once, in any
-- order, never two at the same time.
-- Encoded as a loop around a deferred choice: `offer` (Split { first = true }) offers every audit
-- not done yet; the first one completed withdraws the others (CANCELED); `step` (a Join) closes
-- the round and `more` offers the rest again. Limit: the exclusion holds for completing, not for
-- working: all remaining audits are on offer at once, and one taken up (assigned) but not
-- completed first is canceled and offered again as a new task.
-- A test checks: the start offers audit_books (alice), audit_stock (bob), audit_payroll (carol);
-- bob completes stock -> the other two CANCELED, then offered again (stock not); carol completes
-- payroll, alice books; each audit is DONE exactly once, in the order completed
-- (data.order == {"stock", "payroll", "books"}), `offer` ran three times and the process is DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "WCP-40 Interleaved routing",

  start = flow.StartFunction(this.read_start):Next(this.offer),

  offer = flow.Split { first = true }
    :Next(this.audit_books, this.books_open)
    :Next(this.audit_stock, this.stock_open)
    :Next(this.audit_payroll, this.payroll_open),

  audit_books = flow.View { title = "Audit the books" }:Assign("alice"):Next(this.done_books),
  audit_stock = flow.View { title = "Audit the stock" }:Assign("bob"):Next(this.done_stock),
  audit_payroll = flow.View { title = "Audit the payroll" }:Assign("carol"):Next(this.done_payroll),

  done_books = flow.Handler(this.note_done):Next(this.step),
  done_stock = flow.Handler(this.note_done):Next(this.step),
  done_payroll = flow.Handler(this.note_done):Next(this.step),

  step = flow.Join():Next(this.more),
  more = flow.If(this.all_done):Then(this.finish):Else(this.offer),
  finish = flow.End(),

  read_start = function(self, activation)
    activation.process.data.order = {}
  end,
  done = function(self, activation, audit)
    for _, a in ipairs(activation.process.data.order) do
      if a == audit then return true end
    end
    return false
  end,
  books_open = function(self, activation) return not self:done(activation, "books") end,
  stock_open = function(self, activation) return not self:done(activation, "stock") end,
  payroll_open = function(self, activation) return not self:done(activation, "payroll") end,
  note_done = function(self, activation)
    local order = activation.process.data.order
    order[#order + 1] = activation.task.node:match("^done_(.*)$")
  end,
  all_done = function(self, activation) return #activation.process.data.order == 3 end,
}
