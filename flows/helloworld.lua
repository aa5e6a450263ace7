local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "Hello, world",
  description = "Someone writes a message, a manager approves it, the host sends it.",
  lock = "process",                      -- "process" (default) or "none"

  fields = {                             -- process data, stored as JSON, validated on every form
    text     = field.String  { label = "Message", required = true, max_length = 150 },
    approved = field.Boolean { label = "Approve this message?" },
  },
  summary = function(self, process) return "Send '" .. (process.data.text or "") .. "'" end,

  start = flow.Start { title = "New message", fields = { "text" } }
    :Permission("helloworld.start")
    :Next(this.approve),

  approve = flow.View { title = "Approve", fields = { "approved" } }
    :Permission("helloworld.approve")
    :Next(this.check_approve),

  check_approve = flow.If(this.is_approved)
    :Then(this.send)
    :Else(this.finish),

  send = flow.Handler(this.send_message):Next(this.finish),
  finish = flow.End(),                   -- `end` is a Lua keyword; any other name works

  is_approved = function(self, activation)
    return activation.process.data.approved == true
  end,
  send_message = function(self, activation)
    activation.process.data.sent_at = os.time()
  end,
}
