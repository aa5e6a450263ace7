-- Shipment, after Viewflow's shipment demo.
--
-- A clerk registers a shipment; then two branches run in parallel:
--   clerk:     choose the carrier; normal post gets a post label (and an insurance when the
--              goods are valuable), other carriers get a price quote that is then confirmed;
--   warehouse: the goods are packed.
-- When both are done, the person who packed the goods moves the package out.
--
-- Splits and joins nest: `check_insurance`/`join_normal_post` inside the clerk branch of
-- `split_clerk_warehouse`/`join_clerk_warehouse`. The quote branch re-merges without a
-- Join (an If is not a Split: only one of its branches runs).
local flow = require "flow"
local this, field = flow.this, flow.field

-- The carriers: stored value and the label people read (the summary shows the label).
local CARRIERS = { { "default", "Normal post" }, { "express", "Express post" }, { "fedex", "FedEx" }, { "dhl", "DHL" } }
local function carrier_label(value)
  for _, c in ipairs(CARRIERS) do
    if c[1] == value then return c[2] end
  end
  return value
end

return flow.Flow {
  title = "Shipment",
  description = "Register a shipment, choose its carrier, pack it and send it off.",

  fields = {
    customer_name = field.String { label = "Customer name", required = true, max_length = 100 },
    customer_email = field.Email { label = "Customer e-mail" },
    address = field.Text { label = "Delivery address", required = true },
    ship_date = field.Date { label = "Shipping date", help = "The day the goods leave the warehouse" },
    weight = field.Number { label = "Weight (kg)", required = true, min = 0 },
    goods_value = field.Number { label = "Value of the goods", min = 0, default = 0 },

    carrier = field.Choice {
      label = "Carrier", required = true,
      choices = CARRIERS,
    },
    need_insurance = field.Boolean { label = "Take extra insurance?", default = false },
    insurance_number = field.String { label = "Insurance policy number", max_length = 40 },
    post_label = field.Text { label = "Post label" },
    quote_price = field.Number { label = "Quoted price", min = 0 },
    package_count = field.Integer { label = "Number of packages", min = 1, max = 100, default = 1 },
    tracking_number = field.String { label = "Tracking number", max_length = 64 },
  },

  summary = function(self, process)
    local data = process.data
    return string.format("Shipment for %s (%s)", data.customer_name or "?", data.carrier and carrier_label(data.carrier) or "carrier not chosen")
  end,

  start = flow.Start {
    title = "Register a shipment",
    fields = { "customer_name", "customer_email", "address", "ship_date", "weight", "goods_value" },
  }
    :Permission("shipment.start")
    :Next(this.split_clerk_warehouse),

  split_clerk_warehouse = flow.Split()
    :Always(this.set_shipment_type)
    :Always(this.package_goods),

  -- Clerk branch.
  set_shipment_type = flow.View { title = "Choose the carrier", fields = { "carrier", "need_insurance" } }
    :Permission("shipment.clerk")
    :Next(this.delivery_mode),

  delivery_mode = flow.If(this.is_normal_post)
    :Then(this.check_insurance)
    :Else(this.request_quotes),

  check_insurance = flow.Split()
    :Next(this.request_insurance, this.need_extra_insurance)
    :Always(this.fill_post_label),

  request_insurance = flow.View { title = "Take the extra insurance", fields = { "insurance_number" } }
    :Permission("shipment.clerk")
    :Next(this.join_normal_post),

  fill_post_label = flow.View { title = "Fill in the post label", fields = { "post_label" } }
    :Permission("shipment.clerk")
    :Next(this.join_normal_post),

  join_normal_post = flow.Join():Next(this.join_clerk_warehouse),

  request_quotes = flow.View {
    title = "Request a quote",
    description = "Ask the carrier for a price.",
    fields = { "quote_price" },
    validate = this.check_quote,
  }
    :Permission("shipment.clerk")
    :Assign(this.set_shipment_type.owner)
    :Next(this.confirm_carrier),

  confirm_carrier = flow.Handler(this.record_carrier)
    :Annotation { title = "Confirm the carrier" }
    :Next(this.join_clerk_warehouse),

  -- Warehouse branch.
  package_goods = flow.View { title = "Package the goods", fields = { "package_count" } }
    :Permission("shipment.package")
    :Next(this.join_clerk_warehouse),

  -- Both branches meet.
  join_clerk_warehouse = flow.Join():Next(this.move_package),

  move_package = flow.View { title = "Move the package out", fields = { "tracking_number" } }
    :Permission("shipment.warehouse")
    :Assign(this.package_goods.owner)
    :Next(this.finish),

  finish = flow.End(),

  is_normal_post = function(self, activation)
    return activation.process.data.carrier == "default"
  end,
  need_extra_insurance = function(self, activation)
    local data = activation.process.data
    return data.need_insurance == true or (data.goods_value or 0) > 1000
  end,
  check_quote = function(self, activation, data)
    if data.quote_price ~= nil and data.quote_price > 10000 then
      return { quote_price = "A quote above 10000 needs a manager; ask again." }
    end
  end,
  record_carrier = function(self, activation)
    local data = activation.process.data
    data.carrier_confirmed = data.carrier
  end,
}
