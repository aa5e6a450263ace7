-- WCP-21 Structured loop: a pre-test loop (while pages are left, print one) and a post-test loop
-- (draft, review, until the review approves), each with one entry and one exit.
-- There is no loop node: each loop is an If with an edge back (the arbitrary-cycles construct of
-- WCP-10 used in a structured way).
-- A test checks: started with {"pages": 0}, `print_page` never runs (the test comes first);
-- with {"pages": 2} it runs twice and `pages_left` three times; then bob rejects the first draft
-- and approves the second: `draft` and `review` ran twice each, `approved_yet` twice (false,
-- true) and the process is DONE.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-21 Structured loop",
  fields = {
    pages = field.Integer { label = "Pages", min = 0, max = 50, default = 0 },
    approved = field.Boolean { label = "Approve?" },
  },

  start = flow.StartFunction(this.read_start):Next(this.pages_left),

  -- while pages are left: print one (pre-test)
  pages_left = flow.If(this.has_pages):Then(this.print_page):Else(this.draft),
  print_page = flow.Handler(this.count_page):Next(this.pages_left),

  -- repeat draft and review until approved (post-test)
  draft = flow.View { title = "Draft the text" }:Assign("alice"):Next(this.review),
  review = flow.View { title = "Review the draft", fields = { "approved" } }:Assign("bob"):Next(this.approved_yet),
  approved_yet = flow.If(this.is_approved):Then(this.finish):Else(this.draft),

  finish = flow.End(),

  read_start = function(self, activation, data)
    activation.process.data.pages = data and math.tointeger(data.pages) or 0
    activation.process.data.printed = 0
  end,
  has_pages = function(self, activation)
    local data = activation.process.data
    return data.printed < data.pages
  end,
  count_page = function(self, activation)
    activation.process.data.printed = activation.process.data.printed + 1
  end,
  is_approved = function(self, activation) return activation.process.data.approved == true end,
}
