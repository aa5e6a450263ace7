-- WCP-1 Sequence: Start -> View -> Handler -> End, one after the other.
-- A test checks: start as a holder of "wcp01_sequence.start" (or admin) with {"text": "..."};
-- `review` is created ASSIGNED to alice; after alice executes it, `publish` and `finish` run;
-- every task is DONE, each one's `previous` is the task before it, and data.published is true.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "WCP-1 Sequence",
  fields = {
    text = field.String { label = "Text", required = true, max_length = 200 },
    reviewed = field.Boolean { label = "Reviewed?", default = true },
  },

  start = flow.Start { title = "Write", fields = { "text" } }
    :Permission("wcp01_sequence.start")
    :Next(this.review),

  review = flow.View { title = "Review", fields = { "reviewed" } }
    :Assign("alice")
    :Next(this.publish),

  publish = flow.Handler(this.mark_published):Next(this.finish),
  finish = flow.End(),

  mark_published = function(self, activation)
    activation.process.data.published = true
  end,
}
