-- The example flows of flows/ run to DONE with the right task history:
-- helloworld (both branches of its If), sample (the documentation's loop) and shipment
-- (nested split/join, validate, :Assign(this.node.owner)).

local H = require "helpers"

describe("helloworld", function()
  local host
  before_each(function()
    host = H.open { flows = "flows", users = {
      alice = { perms = { "helloworld.start" } },
      bob = { perms = { "helloworld.approve" } },
    } }
  end)

  local function approve(value)
    local r = host:start("helloworld", "start", { text = "Hello, world" }, { as = "alice" })
    local pid, task = r.process.id, r.tasks[2].id
    assert.equal("Send 'Hello, world'", r.process.summary)
    host:assign(task, { as = "bob" })
    host:execute(task, { approved = value }, { as = "bob" })
    return pid
  end

  it("sends an approved message", function()
    local pid = approve(true)
    assert.same({ "start:DONE", "approve:DONE", "check_approve:DONE", "send:DONE", "finish:DONE" },
      H.trail(host, pid))
    local tasks = H.tasks(host, pid)
    assert.equal("alice", tasks[1].owner)
    assert.equal("bob", tasks[2].owner)
    for i = 2, #tasks do assert.same({ tasks[i - 1].id }, tasks[i].previous) end
    local data = H.data(host, pid)
    assert.equal("Hello, world", data.text)
    assert.is_true(data.approved)
    assert.is_number(data.sent_at)
    local p = host:process(pid).process
    assert.equal("DONE", p.status)
    assert.is_string(p.finished_at)
  end)

  it("does not send a rejected one", function()
    local pid = approve(false)
    assert.same({ "start:DONE", "approve:DONE", "check_approve:DONE", "finish:DONE" }, H.trail(host, pid))
    assert.is_nil(H.data(host, pid).sent_at)
    assert.equal("DONE", H.status(host, pid))
  end)
end)

describe("sample (the documentation's loop)", function()
  it("loops through the handler until it completes", function()
    local host = H.open { flows = "flows" }
    local pid = host:start("sample", "start", {}).process.id
    local trail = H.trail(host, pid)
    assert.equal("start:DONE", trail[1])
    assert.equal("finish:DONE", trail[#trail])
    assert.equal(#H.of_node(host, pid, "task"), #H.of_node(host, pid, "check_status"))
    assert.is_true(H.data(host, pid).completed)
    assert.equal("DONE", H.status(host, pid))
  end)
end)

describe("shipment", function()
  local host
  before_each(function()
    host = H.open { flows = "flows", users = {
      clerk = { perms = { "shipment.start", "shipment.clerk" } },
      clerk2 = { perms = { "shipment.clerk" } },
      packer = { perms = { "shipment.package", "shipment.warehouse" } },
      mover = { perms = { "shipment.warehouse" } },
    } }
  end)

  local START = { customer_name = "Ada", address = "1 Main St", weight = 2.5, goods_value = 5000 }

  local function run(pid, node, user, data)
    local t = H.last(host, pid, node)
    if t.status == "NEW" then host:assign(t.id, { as = user }) end
    return host:execute(t.id, data or {}, { as = user })
  end

  it("by normal post with insurance: nested split and join, then the packer moves the package", function()
    local r = host:start("shipment", "start", START, { as = "clerk" })
    local pid = r.process.id
    assert.equal("Shipment for Ada (carrier not chosen)", r.process.summary)
    local split = H.one(host, pid, "split_clerk_warehouse")
    assert.equal("start/" .. split.id .. "_1", H.one(host, pid, "set_shipment_type").token)
    assert.equal("start/" .. split.id .. "_2", H.one(host, pid, "package_goods").token)

    run(pid, "set_shipment_type", "clerk", { carrier = "default" })
    local inner = H.one(host, pid, "check_insurance")
    assert.equal("start/" .. split.id .. "_1", inner.token)
    -- goods_value > 1000: both branches of the inner split
    assert.equal(inner.token .. "/" .. inner.id .. "_1", H.one(host, pid, "request_insurance").token)
    assert.equal(inner.token .. "/" .. inner.id .. "_2", H.one(host, pid, "fill_post_label").token)

    run(pid, "package_goods", "packer", { package_count = 2 })
    run(pid, "request_insurance", "clerk2", { insurance_number = "INS-1" })
    assert.same({}, H.of_node(host, pid, "move_package"))
    run(pid, "fill_post_label", "clerk", { post_label = "Ada, 1 Main St" })

    local move = H.one(host, pid, "move_package")
    assert.equal("ASSIGNED", move.status)
    assert.equal("packer", move.owner)   -- :Assign(this.package_goods.owner)
    assert.equal("start", move.token)
    assert.same({}, H.task_ids(host, { view = "queue", as = "mover" }))
    run(pid, "move_package", "packer", { tracking_number = "TR-9" })

    assert.same({
      "start:DONE", "split_clerk_warehouse:DONE", "set_shipment_type:DONE", "package_goods:DONE",
      "delivery_mode:DONE", "check_insurance:DONE", "request_insurance:DONE", "fill_post_label:DONE",
      "join_clerk_warehouse:DONE", "join_normal_post:DONE", "move_package:DONE", "finish:DONE",
    }, H.trail(host, pid))
    assert.equal(1, #H.of_node(host, pid, "join_clerk_warehouse"))
    local data = H.data(host, pid)
    assert.equal("default", data.carrier)
    assert.equal("INS-1", data.insurance_number)
    assert.equal(2, data.package_count)
    assert.equal("TR-9", data.tracking_number)
    assert.equal("Shipment for Ada (Normal post)", host:process(pid).process.summary)
    assert.equal("DONE", H.status(host, pid))
  end)

  it("by normal post without insurance: the inner split runs one branch", function()
    local pid = host:start("shipment", "start", { customer_name = "Bo", address = "x", weight = 1 },
      { as = "clerk" }).process.id
    run(pid, "set_shipment_type", "clerk", { carrier = "default", need_insurance = false })
    assert.same({}, H.of_node(host, pid, "request_insurance"))
    run(pid, "fill_post_label", "clerk", { post_label = "Bo" })
    assert.equal("DONE", H.one(host, pid, "join_normal_post").status)
    assert.equal("STARTED", H.one(host, pid, "join_clerk_warehouse").status)
    run(pid, "package_goods", "packer")
    run(pid, "move_package", "packer")
    assert.equal("DONE", H.status(host, pid))
  end)

  it("by another carrier: the quote goes to the clerk who chose it, and is validated", function()
    local pid = host:start("shipment", "start", START, { as = "clerk" }).process.id
    run(pid, "package_goods", "packer")
    run(pid, "set_shipment_type", "clerk2", { carrier = "dhl" })
    local quote = H.one(host, pid, "request_quotes")
    assert.equal("ASSIGNED", quote.status)
    assert.equal("clerk2", quote.owner)   -- :Assign(this.set_shipment_type.owner)
    local err = H.refused("invalid", function() host:execute(quote.id, { quote_price = 20000 }, { as = "clerk2" }) end)
    assert.is_string(err.fields.quote_price)
    assert.equal("ASSIGNED", H.one(host, pid, "request_quotes").status)
    host:execute(quote.id, { quote_price = 120 }, { as = "clerk2" })
    assert.equal("dhl", H.data(host, pid).carrier_confirmed)
    run(pid, "move_package", "packer")
    assert.same({
      "start:DONE", "split_clerk_warehouse:DONE", "set_shipment_type:DONE", "package_goods:DONE",
      "join_clerk_warehouse:DONE", "delivery_mode:DONE", "request_quotes:DONE", "confirm_carrier:DONE",
      "move_package:DONE", "finish:DONE",
    }, H.trail(host, pid))
    assert.same({}, H.of_node(host, pid, "check_insurance"))
    assert.equal("DONE", H.status(host, pid))
  end)
end)
