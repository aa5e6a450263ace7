-- Invoice PDF: a clerk enters an invoice, a worker outside the host renders its PDF, the
-- host files it.  The rendering is an External task of topic "pdf": any program that holds
-- the permission external.pdf fetches it over HTTP (POST /api/external/fetch), renders, and
-- completes it with the PDF's address and page count.  examples/pdf_worker.py is such a
-- worker, in Python with its standard library only.
--
--   start   the clerk enters the customer and the amount;
--   render  the worker's part: three attempts, ten seconds apart and growing; after the
--           last failure the task is an ERROR a manager revives or cancels.  A rendering not
--           done within an hour is noted (the task stays open for the worker);
--   file    the host notes when the PDF was filed; the process ends.
local flow = require "flow"
local this, field = flow.this, flow.field

return flow.Flow {
  title = "Invoice PDF",
  description = "An invoice whose PDF a worker outside the host renders.",

  fields = {
    customer = field.String { label = "Customer", required = true, max_length = 100 },
    amount = field.Number { label = "Amount", required = true, min = 0 },
    pdf_url = field.String { label = "PDF", max_length = 500 },
    pages = field.Integer { label = "Pages", min = 1 },
    late = field.Boolean { label = "Rendering was late", default = false },
    filed_at = field.Integer { label = "Filed at (epoch seconds)" },
  },

  summary = function(self, process)
    return string.format("Invoice for %s", process.data.customer or "?")
  end,

  start = flow.Start { title = "Enter an invoice", fields = { "customer", "amount" } }
    :Permission("invoice_pdf.start"):Next(this.render),

  render = flow.External { topic = "pdf", title = "Render the PDF", fields = { "pdf_url", "pages" } }
    :Retry { attempts = 3, backoff = 10 }
    :OnTimeout(3600, this.note_late, { interrupting = false })
    :Next(this.file),

  note_late = flow.Handler(this.mark_late):Next(this.late_noted),
  late_noted = flow.End(),

  file = flow.Handler(this.file_pdf):Next(this.finish),
  finish = flow.End(),

  mark_late = function(self, activation) activation.process.data.late = true end,
  file_pdf = function(self, activation) activation.process.data.filed_at = os.time() end,
}
