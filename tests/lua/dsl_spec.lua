-- Specs for the flow DSL alone (lua/flow.lua), without the C host.
-- Run from the project root:
--   lua5.4 /usr/bin/busted --lpath='./lua/?.lua' tests/lua/dsl_spec.lua

local flow = require "flow"

-- Runs a flow file as the host does (chunkname "@" .. path); returns def or nil, err.
local function load_flow(path)
  local chunk, err = loadfile(path)
  if not chunk then return nil, err end
  local ok, result = pcall(chunk)
  if ok then return result end
  return nil, result
end

-- Compiles inline flow source; line 1 is the header, so the caller's code starts on line 2.
local HEADER = 'local flow = require "flow"; local this, field = flow.this, flow.field\n'
local function compile(body, name)
  local chunk = assert(load(HEADER .. body, "@" .. (name or "inline.lua")))
  local ok, result = pcall(chunk)
  if ok then return result end
  return nil, result
end

-- Expects inline source to fail; returns the error value.
local function compile_error(body)
  local def, err = compile(body)
  assert.is_nil(def)
  assert.is_table(err, "expected a structured error, got " .. tostring(err))
  return err
end

local function edges_of(node)
  local out = {}
  for _, e in ipairs(node.edges) do out[#out + 1] = e.kind .. ">" .. e.to end
  return out
end

local function list_flow_files()
  local files = {}
  local pipe = assert(io.popen("ls flows/*.lua flows/patterns/*.lua 2>/dev/null"))
  for path in pipe:lines() do files[#files + 1] = path end
  pipe:close()
  return files
end

---------------------------------------------------------------------------------------------

describe("broken flow files", function()
  local cases = {
    { "typo_reference", 7, "this.aprove: no node or method named 'aprove' (did you mean 'approve'?)" },
    { "unreachable_node", 8, "node 'orphan' is not reachable from any start node" },
    { "missing_next", 7, "View 'review' has no :Next" },
    { "if_without_else", 8, "If 'check' has no :Else" },
    { "bad_field_name", 11,
      "View 'approve' lists field 'aproved', which is not in the flow's fields (did you mean 'approved'?)" },
    { "wrong_lock", 8, 'lock must be "process" or "none", got the string "table"' },
    { "wrong_history", 8, 'history must be "full" or "lean", got the string "none"' },
    { "bad_reserved_type", 7, 'summary must be a function, got the string "Process summary"' },
    { "handler_without_fn", 8, "Handler expects a function or a this.method reference, got nothing" },
    { "method_as_node", 7, "this.work is a method, but :Next needs a node" },
    { "node_as_method", 7, "this.finish is a node, but If needs a method (a function of the flow)" },
    { "next_twice", 8, ":Next is given twice on this StartFunction" },
    { "bad_node_name", 7, "node name 'Finish' must match ^[a-z_][a-z0-9_]*$" },
    { "no_start", 5, "the flow has no start node (flow.Start or flow.StartFunction)" },
    { "switch_without_case", 7, "Switch 'route' has no :Case" },
    { "split_without_branch", 7, "Split 'fork' has no branch (:Next or :Always)" },
    { "timer_negative", 7, "Timer expects a number of seconds >= 0, got the number -5" },
    { "retry_bad_attempts", 8, ":Retry: attempts must be a positive integer" },
    { "owner_of_handler", 9,
      "this.prepare.owner: 'prepare' is a Handler, which has no owner (only Start, StartFunction and View have one)" },
    { "unknown_field_option", 7, "field.String: unknown option 'maxlength' (did you mean 'max_length'?)" },
    { "unknown_key", 8, "'max_retries' is the number 3; a flow key must be a node, a method (function) "
      .. "or one of title, description, fields, lock, summary, version, history" },
    { "no_such_method", 7,
      "this.send_mesage: no node or method named 'send_mesage' (did you mean 'send_message'?)" },
    { "end_with_next", 7, "End has no :Next (it has no chain methods)" },
    -- Lua reports a whole call chain at its first line; these check that the error points
    -- at the chain call itself (and the second of two :Assign calls, comments ignored).
    { "permission_bad_arg", 11, ":Permission expects a permission name or a function, got the number 42" },
    { "assign_twice", 11, ":Assign is given twice on this View" },
  }

  for _, case in ipairs(cases) do
    local name, line, message = case[1], case[2], case[3]
    it(name .. " fails at line " .. line, function()
      local path = "tests/fixtures/broken/" .. name .. ".lua"
      local def, err = load_flow(path)
      assert.is_nil(def)
      assert.is_table(err)
      assert.are.equal(message, err.message)
      assert.are.equal(path, err.file)
      assert.are.equal(line, err.line)
      assert.are.equal(path .. ":" .. line .. ": " .. message, tostring(err))
      assert.is_table(err.errors)
      assert.are.equal(message, err.errors[1].message)
    end)
  end

  it("every fixture file is covered by a case above", function()
    local covered = {}
    for _, case in ipairs(cases) do covered[case[1]] = true end
    covered.syntax_error = true
    local pipe = assert(io.popen("ls tests/fixtures/broken/*.lua"))
    local n = 0
    for path in pipe:lines() do
      n = n + 1
      assert.is_true(covered[path:match("([^/]+)%.lua$")] == true, path .. " has no case")
    end
    pipe:close()
    assert.are.equal(#cases + 1, n)
  end)

  it("a syntax error is reported by the Lua loader with file and line", function()
    local def, err = load_flow("tests/fixtures/broken/syntax_error.lua")
    assert.is_nil(def)
    assert.is_string(err)
    assert.truthy(err:find("tests/fixtures/broken/syntax_error.lua:7:", 1, true))
  end)
end)

---------------------------------------------------------------------------------------------

describe("compiled definitions", function()
  it("helloworld", function()
    local def = assert(load_flow("flows/helloworld.lua"))
    assert.is_true(def.__flowdef)
    assert.are.equal("Hello, world", def.title)
    assert.are.equal("Someone writes a message, a manager approves it, the host sends it.", def.description)
    assert.are.equal("process", def.lock)
    assert.are.equal("flows/helloworld.lua", def.file)
    assert.is_function(def.summary)
    assert.are.equal("Send 'hi'", def.summary(def.self, { data = { text = "hi" } }))

    assert.are.same({ "text", "approved" }, { def.fields[1].name, def.fields[2].name })
    assert.are.same({ name = "text", type = "string", label = "Message", required = true, max_length = 150 },
      def.fields[1])
    assert.are.same({ name = "approved", type = "boolean", label = "Approve this message?", required = false },
      def.fields[2])

    local names, kinds = {}, {}
    for i, node in ipairs(def.nodes) do names[i], kinds[i] = node.name, node.kind end
    assert.are.same({ "start", "approve", "check_approve", "send", "finish" }, names)
    assert.are.same({ "start", "view", "if", "handler", "end" }, kinds)

    local n = def.by_name
    assert.are.equal(def.nodes[3], n.check_approve)
    assert.are.same({ "next>approve" }, edges_of(n.start))
    assert.are.same({ "next>check_approve" }, edges_of(n.approve))
    assert.are.same({ "true>send", "false>finish" }, edges_of(n.check_approve))
    assert.are.same({ "next>finish" }, edges_of(n.send))
    assert.are.same({}, n.finish.edges)

    assert.are.equal("New message", n.start.title)
    assert.are.equal("Check approve", n.check_approve.title)
    assert.are.same({ "text" }, n.start.fields)
    assert.are.same({ "approved" }, n.approve.fields)
    assert.are.same({}, n.send.fields)
    assert.are.equal("helloworld.start", n.start.permission)
    assert.are.equal("helloworld.approve", n.approve.permission)
    assert.are.equal(def.self.is_approved, n.check_approve.fn)
    assert.are.equal(def.self.send_message, n.send.fn)
    assert.are.equal(15, n.start.line)
    assert.are.equal(27, n.send.line)

    local data = { approved = true }
    assert.is_true(n.check_approve.fn(def.self, { process = { data = data } }))
  end)

  it("sample (the documentation's loop)", function()
    local def = assert(load_flow("flows/sample.lua"))
    assert.is_nil(def.title)
    assert.are.equal("process", def.lock)
    assert.are.same({}, def.fields)
    local n = def.by_name
    assert.are.equal("start_function", n.start.kind)
    assert.is_nil(n.start.fn)
    assert.are.same({ "true>finish", "false>task" }, edges_of(n.check_status))
    assert.are.equal(def.self.perform_task, n.task.fn)
  end)

  it("shipment", function()
    local def = assert(load_flow("flows/shipment.lua"))
    local field_names = {}
    for i, f in ipairs(def.fields) do field_names[i] = f.name end
    assert.are.same({ "customer_name", "customer_email", "address", "ship_date", "weight", "goods_value",
      "carrier", "need_insurance", "insurance_number", "post_label", "quote_price", "package_count",
      "tracking_number" }, field_names)

    local carrier = def.fields[7]
    assert.are.equal("choice", carrier.type)
    assert.are.same({ value = "default", label = "Normal post" }, carrier.choices[1])
    assert.are.same({ value = "fedex", label = "FedEx" }, carrier.choices[3])
    assert.are.equal(1, def.fields[12].default)
    assert.are.equal("integer", def.fields[12].type)

    local kinds = {}
    for _, node in ipairs(def.nodes) do kinds[#kinds + 1] = node.name .. ":" .. node.kind end
    assert.are.same({
      "start:start", "split_clerk_warehouse:split", "set_shipment_type:view", "delivery_mode:if",
      "check_insurance:split", "request_insurance:view", "fill_post_label:view", "join_normal_post:join",
      "request_quotes:view", "confirm_carrier:handler", "package_goods:view", "join_clerk_warehouse:join",
      "move_package:view", "finish:end",
    }, kinds)

    local n = def.by_name
    assert.are.same({ "next>set_shipment_type", "next>package_goods" }, edges_of(n.split_clerk_warehouse))
    assert.are.same({ "true>check_insurance", "false>request_quotes" }, edges_of(n.delivery_mode))
    assert.are.same({ "next>request_insurance", "next>fill_post_label" }, edges_of(n.check_insurance))
    assert.are.equal(def.self.need_extra_insurance, n.check_insurance.edges[1].cond)
    assert.is_nil(n.check_insurance.edges[2].cond)
    assert.are.same({ "next>join_clerk_warehouse" }, edges_of(n.join_normal_post))
    assert.are.same({ "next>join_clerk_warehouse" }, edges_of(n.confirm_carrier))
    assert.are.same({ "next>join_clerk_warehouse" }, edges_of(n.package_goods))
    assert.are.same({ "next>finish" }, edges_of(n.move_package))

    assert.are.equal("package_goods", n.move_package.assign_owner_of)
    assert.are.equal("set_shipment_type", n.request_quotes.assign_owner_of)
    assert.are.equal("shipment.warehouse", n.move_package.permission)
    assert.are.equal("shipment.package", n.package_goods.permission)
    assert.are.equal("shipment.start", n.start.permission)
    assert.are.equal("shipment.clerk", n.set_shipment_type.permission)
    assert.are.equal(def.self.check_quote, n.request_quotes.validate)
    assert.are.equal("Ask the carrier for a price.", n.request_quotes.description)
    assert.are.equal("Confirm the carrier", n.confirm_carrier.title)
    assert.is_true(n.join_clerk_warehouse.wait_all)
    assert.is_true(n.join_normal_post.wait_all)
    assert.are.same({ "carrier", "need_insurance" }, n.set_shipment_type.fields)

    local summary = def.summary(def.self, { data = { customer_name = "ACME", carrier = "dhl" } })
    assert.are.equal("Shipment for ACME (DHL)", summary)
    local process = { data = { carrier = "default", goods_value = 5000 } }
    assert.is_true(n.delivery_mode.fn(def.self, { process = process }))
    assert.is_true(n.check_insurance.edges[1].cond(def.self, { process = process }))
  end)

  it("every flow file in flows/ and flows/patterns/ compiles, with unique names", function()
    local files = list_flow_files()
    assert.is_true(#files >= 22, "found only " .. #files .. " flow files")
    local seen = {}
    for _, path in ipairs(files) do
      local def, err = load_flow(path)
      assert.is_table(def, path .. ": " .. tostring(err))
      assert.is_true(def.__flowdef)
      assert.are.equal(path, def.file)
      local name = path:match("([^/]+)%.lua$")
      assert.truthy(name:match("^[a-z][a-z0-9_]*$"), path)
      assert.is_nil(seen[name], "duplicate flow name " .. name)
      seen[name] = true
    end
  end)

  it("has a flow for every pattern row that is not 'later'", function()
    local expected = { "wcp01_sequence", "wcp02_parallel_split", "wcp03_synchronization",
      "wcp04_exclusive_choice", "wcp05_simple_merge", "wcp06_multi_choice",
      "wcp07_structured_synchronizing_merge", "wcp08_multi_merge", "wcp09_structured_discriminator",
      "wcp10_arbitrary_cycles", "wcp11_implicit_termination", "wcp19_cancel_task", "wcp20_cancel_case",
      "direct_distribution", "role_based", "deferred_distribution", "retain_familiar",
      "separation_of_duties", "round_robin" }
    for _, name in ipairs(expected) do
      assert.is_table(load_flow("flows/patterns/" .. name .. ".lua"), name)
    end
  end)

  it("pattern flows model what their tests rely on", function()
    local p = function(name) return assert(load_flow("flows/patterns/" .. name .. ".lua")).by_name end
    assert.are.equal("alice", p("direct_distribution").review.assign_user)
    assert.are.equal("role_based.approve", p("role_based").approve.permission)
    assert.are.equal("start", p("retain_familiar").follow_up.assign_owner_of)
    assert.is_false(p("wcp09_structured_discriminator").first_quote.wait_all)
    assert.are.same({ "case>task_a", "case>task_b" }, edges_of(p("wcp04_exclusive_choice").choose))

    local deferred = assert(load_flow("flows/patterns/deferred_distribution.lua"))
    local pick = deferred.by_name.review.assign_fn
    assert.are.equal("carol", pick(deferred.self, { process = { data = { reviewer = "carol" } } }))
    assert.are.equal("alice", pick(deferred.self, { process = { data = {} } }))

    local rr = assert(load_flow("flows/patterns/round_robin.lua"))
    local owners = {}
    for id = 1, 4 do owners[id] = rr.by_name.handle.assign_fn(rr.self, { process = { id = id } }) end
    assert.are.same({ "alice", "bob", "carol", "alice" }, owners)

    local sod = assert(load_flow("flows/patterns/separation_of_duties.lua"))
    local may = sod.by_name.approve.permission_fn
    local act = { process = { created_by = "alice" } }
    local perms = { "separation_of_duties.approve" }
    assert.is_false(may(sod.self, { username = "alice", permissions = perms }, act))
    assert.is_true(may(sod.self, { username = "bob", permissions = perms }, act))
    assert.is_false(may(sod.self, { username = "carol", permissions = {} }, act))

    local loop = assert(load_flow("flows/patterns/wcp10_arbitrary_cycles.lua"))
    local data = {}
    local a = { process = { data = data } }
    loop.by_name.start.fn(loop.self, a, { rounds = 2 })
    loop.by_name.work.fn(loop.self, a)
    assert.is_false(loop.by_name.check.fn(loop.self, a))
    loop.by_name.work.fn(loop.self, a)
    assert.is_true(loop.by_name.check.fn(loop.self, a))
  end)
end)

---------------------------------------------------------------------------------------------

describe("DSL", function()
  it("derives titles from names", function()
    assert.are.equal("Due date", flow.title_from_name("due_date"))
    assert.are.equal("Approve", flow.title_from_name("approve"))
    assert.are.equal("Check me", flow.title_from_name("check__me"))
    assert.are.equal("Already Titled", flow.title_from_name("Already_Titled"))
    assert.are.equal("Private", flow.title_from_name("_private"))
  end)

  it("records where this.name was written and gives owner references", function()
    local ref, line = flow.this.approve, debug.getinfo(1, "l").currentline
    assert.are.equal("this.approve", tostring(ref))
    assert.are.equal("approve", ref.name)
    assert.truthy(ref.file:find("dsl_spec.lua", 1, true))
    assert.are.equal(line, ref.line)
    assert.are.equal("this.approve.owner", tostring(ref.owner))
    local ok, err = pcall(function() return flow.this.approve.user end)
    assert.is_false(ok)
    assert.are.equal("this.approve.user: a reference only has .owner", err.message)
    assert.is_false(pcall(function() flow.this.x = 1 end))
  end)

  it("keeps node and field order and defaults", function()
    local def = assert(compile [[
return flow.Flow {
  fields = { zeta = field.Integer {}, alpha = field.Text { help = "h" }, mid = field.Date {} },
  z_start = flow.StartFunction():Next(this.a_step),
  a_step = flow.Function():Next(this.m_end),
  m_end = flow.End(),
}]])
    assert.are.same({ "zeta", "alpha", "mid" }, { def.fields[1].name, def.fields[2].name, def.fields[3].name })
    assert.are.same({ name = "alpha", type = "text", label = "Alpha", required = false, help = "h" }, def.fields[2])
    assert.are.same({ "z_start", "a_step", "m_end" }, { def.nodes[1].name, def.nodes[2].name, def.nodes[3].name })
    assert.are.equal("function", def.by_name.a_step.kind)
    assert.is_nil(def.by_name.a_step.fn)
    assert.are.equal("A step", def.by_name.a_step.title)
    assert.are.equal(4, def.by_name.z_start.line)
    assert.are.equal("inline.lua", def.file)
  end)

  it("compiles every node kind and chain method", function()
    local def = assert(compile [[
local starter = function(self, activation, data) end
return flow.Flow {
  lock = "none",
  fields = { who = field.String {} },
  begin = flow.StartFunction(starter):Next(this.route),
  route = flow.Switch()
    :Default(this.fork)
    :Case(this.wait_fixed, this.is_fixed)
    :Case(this.wait_fn, function() return true end),
  wait_fixed = flow.Timer(30):Next(this.fork),
  wait_fn = flow.Timer(this.delay):Next(this.fork),
  fork = flow.Split():Next(this.fetch, this.wants_fetch):Always(this.review),
  fetch = flow.Job(this.do_fetch):Retry { attempts = 3, backoff = 2.5 }:Timeout(60):Next(this.join),
  review = flow.View { fields = { "who" }, validate = this.check }
    :Permission(this.may_review)
    :Assign(this.begin.owner)
    :Next(this.join),
  join = flow.Join { wait_all = false }:Next(this.finish),
  finish = flow.End():Annotation { title = "All done", description = "The end." },
  old = flow.Obsolete(),

  is_fixed = function() return false end,
  delay = function() return 5 end,
  wants_fetch = function() return true end,
  do_fetch = function() end,
  check = function() end,
  may_review = function() return true end,
}]])
    local n = def.by_name
    assert.are.equal("none", def.lock)
    assert.is_function(n.begin.fn)
    assert.are.same({ "case>wait_fixed", "case>wait_fn", "default>fork" }, edges_of(n.route))
    assert.are.equal(def.self.is_fixed, n.route.edges[1].cond)
    assert.is_function(n.route.edges[2].cond)
    assert.is_nil(n.route.edges[3].cond)
    assert.are.equal(30, n.wait_fixed.seconds)
    assert.is_nil(n.wait_fixed.fn)
    assert.are.equal(def.self.delay, n.wait_fn.fn)
    assert.is_nil(n.wait_fn.seconds)
    assert.are.same({ "next>fetch", "next>review" }, edges_of(n.fork))
    assert.are.equal(def.self.wants_fetch, n.fork.edges[1].cond)
    assert.is_nil(n.fork.edges[2].cond)
    assert.are.same({ attempts = 3, backoff = 2.5 }, n.fetch.retry)
    assert.are.equal(60, n.fetch.timeout)
    assert.are.equal(def.self.check, n.review.validate)
    assert.are.equal(def.self.may_review, n.review.permission_fn)
    assert.is_nil(n.review.permission)
    assert.are.equal("begin", n.review.assign_owner_of)
    assert.is_false(n.join.wait_all)
    assert.is_nil(n.fetch.wait_all)
    assert.are.equal("All done", n.finish.title)
    assert.are.equal("The end.", n.finish.description)
    assert.are.equal("obsolete", n.old.kind)
    assert.are.equal("Old", n.old.title)
  end)

  it("accepts Assign with a user name or a function, and Retry without backoff", function()
    local def = assert(compile [[
return flow.Flow {
  start = flow.StartFunction():Next(this.a),
  a = flow.View {}:Assign("alice"):Next(this.b),
  b = flow.View {}:Assign(function() return "bob" end):Permission("x.y"):Next(this.c),
  c = flow.Job(function() end):Retry { attempts = 1 }:Next(this.done),
  done = flow.End(),
}]])
    assert.are.equal("alice", def.by_name.a.assign_user)
    assert.are.equal("bob", def.by_name.b.assign_fn())
    assert.are.equal("x.y", def.by_name.b.permission)
    assert.are.same({ attempts = 1, backoff = 1 }, def.by_name.c.retry)
    assert.is_true(def.by_name.c.wait_all == nil)
  end)

  it("returns an error value with file, line and __tostring", function()
    local err = compile_error [[
return flow.Flow {
  start = flow.StartFunction():Next(this.finnish),
  finish = flow.End(),
}]]
    assert.are.equal("inline.lua", err.file)
    assert.are.equal(3, err.line)
    assert.are.equal("this.finnish: no node or method named 'finnish' (did you mean 'finish'?)", err.message)
    assert.are.equal("inline.lua:3: " .. err.message, tostring(err))
  end)

  it("only suggests names that are close", function()
    local err = compile_error [[
return flow.Flow {
  start = flow.StartFunction():Next(this.xyz),
  finish = flow.End(),
}]]
    assert.are.equal("this.xyz: no node or method named 'xyz'", err.message)
  end)

  it("collects all problems and raises the topmost one", function()
    local err = compile_error [[
return flow.Flow {
  start = flow.StartFunction():Next(this.a),
  a = flow.Handler(),
  b = flow.If(this.c),
}]]
    assert.are.equal(4, err.line)
    local messages = {}
    for _, e in ipairs(err.errors) do messages[#messages + 1] = e.line .. " " .. e.message end
    assert.are.same({
      "4 Handler expects a function or a this.method reference, got nothing",
      "4 Handler 'a' has no :Next",
      "5 this.c: no node or method named 'c'",
      "5 If 'b' has no :Then",
      "5 If 'b' has no :Else",
    }, messages)
  end)

  local refusals = {
    { "a Start as the target of an edge", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.again),
  again = flow.Start {}:Next(this.again),
}]], "this.again: a start node cannot be the target of :Next" },
    { "an Obsolete node as a target", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.old),
  old = flow.Obsolete(),
}]], "this.old: an Obsolete node cannot be the target of :Next" },
    { "a chain method the node does not have", [[
return flow.Flow {
  start = flow.StartFunction():Permission("x"):Next(this.finish),
  finish = flow.End(),
}]], "StartFunction has no :Permission (it has :Next)" },
    { "a chain method called with a dot", [[
return flow.Flow {
  start = flow.StartFunction().Next(this.finish),
  finish = flow.End(),
}]], "call :Next with a colon, not a dot" },
    { "the same node under two names", [[
local e = flow.End()
return flow.Flow {
  start = flow.StartFunction():Next(this.a),
  a = e,
  b = e,
}]], "the same node is used as both 'a' and 'b'" },
    { "a field outside fields", [[
return flow.Flow {
  text = field.String {},
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]], "field 'text' must be listed inside fields = { ... }" },
    { "a reference as a flow value", [[
return flow.Flow {
  alias = this.finish,
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]], "'alias' = this.finish: a reference is only meaningful as an argument" },
    { "a non-field inside fields", [[
return flow.Flow {
  fields = { text = "String" },
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]], 'fields.text is the string "String", not a field (use flow.field.String{...} and the like)' },
    { "a title that is not a string", [[
return flow.Flow {
  title = 12,
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]], "title must be a string, got the number 12" },
    { "fields listed by a node that cannot have a form", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.a),
  a = flow.View { fields = "text" }:Next(this.finish),
  finish = flow.End(),
}]], "View: fields must be a list of field names" },
    { "an unknown View option", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.a),
  a = flow.View { titel = "A" }:Next(this.finish),
  finish = flow.End(),
}]], "View: unknown option 'titel' (did you mean 'title'?)" },
    { "an owner reference to a method", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.a),
  a = flow.View {}:Assign(this.pick.owner):Next(this.finish),
  finish = flow.End(),
  pick = function() end,
}]], "this.pick.owner: no node named 'pick'" },
    { "Permission with a number", [[
return flow.Flow {
  start = flow.Start {}:Permission(42):Next(this.finish),
  finish = flow.End(),
}]], ":Permission expects a permission name or a function, got the number 42" },
    { "Assign with an empty name", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.a),
  a = flow.View {}:Assign(""):Next(this.finish),
  finish = flow.End(),
}]], ':Assign expects a user name, a function or this.node.owner, got the string ""' },
    { "Next with a node instead of a reference", [[
return flow.Flow {
  start = flow.StartFunction():Next(flow.End()),
}]], ":Next expects a this.node reference, got a node" },
    { "Next with a condition outside a Split", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.finish, this.ok),
  finish = flow.End(),
  ok = function() return true end,
}]], ":Next takes one node; only Split branches have conditions" },
    { "a Case without condition", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.s),
  s = flow.Switch():Case(this.finish),
  finish = flow.End(),
}]], ":Case needs a condition; use :Default(node) for the fallback" },
    { "two Split branches to the same node", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.s),
  s = flow.Split():Always(this.finish):Always(this.finish),
  finish = flow.End(),
}]], "Split 's' has two branches to 'finish'" },
    { "a zero Timeout", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.j),
  j = flow.Job(function() end):Timeout(0):Next(this.finish),
  finish = flow.End(),
}]], ":Timeout expects a number of seconds > 0, got the number 0" },
    { "Retry with a fractional attempts", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.j),
  j = flow.Job(function() end):Retry { attempts = 1.5 }:Next(this.finish),
  finish = flow.End(),
}]], ":Retry: attempts must be a positive integer" },
    { "Retry without attempts", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.j),
  j = flow.Job(function() end):Retry { backoff = 1 }:Next(this.finish),
  finish = flow.End(),
}]], ":Retry: attempts is required" },
    { "Retry with a negative backoff", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.j),
  j = flow.Job(function() end):Retry { attempts = 2, backoff = -1 }:Next(this.finish),
  finish = flow.End(),
}]], ":Retry: backoff must be a number of seconds >= 0" },
    { "Retry given a reference", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.j),
  j = flow.Job(function() end):Retry(this.finish):Next(this.finish),
  finish = flow.End(),
}]], ":Retry expects a table of options, got this.finish" },
    { "Timer with a string", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.t),
  t = flow.Timer("10"):Next(this.finish),
  finish = flow.End(),
}]], 'Timer (seconds or a function) expects a function or a this.method reference, got the string "10"' },
    { "Join with a bad option", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.j),
  j = flow.Join { wait_all = "yes" }:Next(this.finish),
  finish = flow.End(),
}]], "Join: wait_all must be a boolean" },
    { "End with arguments", [[
return flow.Flow {
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End { title = "x" },
}]], "End: unknown option 'title'" },
    { "a wrongly typed field option", [[
return flow.Flow {
  fields = { n = field.Integer { min = 1.5 } },
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]], "field.Integer: min must be an integer" },
    { "a field default of the wrong type", [[
return flow.Flow {
  fields = { n = field.Integer { default = "three" } },
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]], "field.Integer: default is not valid: Enter a whole number." },
    { "a Choice without choices", [[
return flow.Flow {
  fields = { c = field.Choice { label = "C" } },
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]], "field.Choice: choices are required" },
    { "a Choice with a default outside its choices", [[
return flow.Flow {
  fields = { c = field.Choice { choices = { "a", "b" }, default = "z" } },
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]], "field.Choice: default is not valid: Select a valid choice. 'z' is not one of the available choices." },
    { "a Choice listing a value twice", [[
return flow.Flow {
  fields = { c = field.Choice { choices = { "a", { "a", "A" } } } },
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]], "field.Choice: choice 'a' is listed twice" },
    { "min above max", [[
return flow.Flow {
  fields = { n = field.Number { min = 5, max = 1 } },
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]], "field.Number: min is greater than max" },
    { "a bad field name", [[
return flow.Flow {
  fields = { ["Bad Name"] = field.Text {} },
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]], "field name 'Bad Name' must match ^[a-z_][a-z0-9_]*$" },
  }
  for _, case in ipairs(refusals) do
    it("refuses " .. case[1], function()
      local err = compile_error(case[2])
      assert.are.equal(case[3], err.message)
      assert.are.equal("inline.lua", err.file)
      assert.is_true(err.line >= 2)
    end)
  end

  it("knows the flow.Flow line when it is not a tail call", function()
    local err = compile_error [[
local def = flow.Flow {
  finish = flow.End(),
}
return def]]
    assert.are.equal("the flow has no start node (flow.Start or flow.StartFunction)", err.message)
    assert.are.equal("inline.lua", err.file)
    assert.are.equal(2, err.line)
  end)

  it("finds the flow.Flow line from its first node when it is a tail call", function()
    local err = compile_error [[
return flow.Flow
{

  finish = flow.End(),
}]]
    assert.are.equal("the flow has no start node (flow.Start or flow.StartFunction)", err.message)
    assert.are.equal(5, err.line) -- no source file to read: the first node's line
  end)

  it("does not require Obsolete nodes to be reachable", function()
    local def = assert(compile [[
return flow.Flow {
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
  old_step = flow.Obsolete(),
}]])
    assert.are.equal("obsolete", def.by_name.old_step.kind)
  end)

  it("turns any garbage argument into a structured error, never a plain Lua error", function()
    local this, field = flow.this, flow.field
    local garbage = { false, 0, -1, 1.5, 0 / 0, math.huge, "", "x", true, {}, { 1, 2 }, { x = 1 },
      function() end, this.a, this.a.owner, flow.End(), field.String {}, flow.this }
    garbage[#garbage + 1] = nil
    local n = #garbage + 1 -- the last slot stands for nil
    local ctors = { "Start", "StartFunction", "View", "Handler", "Function", "Job", "Timer", "If", "Switch",
      "Split", "Join", "End", "Obsolete" }
    local methods = { "Next", "Permission", "Assign", "Retry", "Timeout", "Then", "Else", "Case", "Default",
      "Always", "Annotation", "Bogus" }
    local plain, tried = {}, 0
    local function try(label, fn)
      tried = tried + 1
      local ok, err = pcall(fn)
      if not ok and getmetatable(err) == nil then plain[#plain + 1] = label .. ": " .. tostring(err) end
    end
    for _, ctor in ipairs(ctors) do
      for _, method in ipairs(methods) do
        for i = 1, n do
          try(ctor .. " " .. method .. " " .. i, function()
            local node = flow[ctor](garbage[i])
            node[method](node, garbage[i % n + 1], garbage[(i + 5) % n + 1])
            return flow.Flow { start = flow.StartFunction():Next(this.node), node = node, a = flow.End() }
          end)
        end
      end
    end
    for name, ctor in pairs(field) do
      for i = 1, n do
        for _, j in ipairs({ i % n + 1, (i + 7) % n + 1 }) do
          try(name .. " " .. i .. " " .. j, function()
            return flow.Flow { start = flow.StartFunction():Next(this.e), e = flow.End(), fields = {
              f = ctor { default = garbage[i], min = garbage[j], max = garbage[i], max_length = garbage[j],
                choices = garbage[i], label = garbage[j], required = garbage[i] } } }
          end)
          try("Flow " .. i .. " " .. j, function()
            return flow.Flow { title = garbage[i], lock = garbage[j], summary = garbage[i], fields = garbage[j],
              x = garbage[i], start = flow.StartFunction():Next(this.e), e = flow.End() }
          end)
        end
      end
    end
    assert.is_true(tried > 2500)
    assert.are.same({}, plain)
  end)

  it("refuses what is not a table", function()
    local ok, err = pcall(flow.Flow, "nope")
    assert.is_false(ok)
    assert.are.equal('flow.Flow expects a table of nodes, methods and settings, got the string "nope"', err.message)
  end)
end)

---------------------------------------------------------------------------------------------

describe("flow.clean", function()
  local def = assert(compile [[
return flow.Flow {
  fields = {
    name = field.String { required = true, max_length = 5 },
    note = field.Text { default = "none" },
    count = field.Integer { min = 1, max = 10 },
    ratio = field.Number { min = 0, max = 1, default = 0.5 },
    ok = field.Boolean { default = false },
    size = field.Choice { choices = { "s", { "m", "Medium" }, { value = "l", label = "Large" } } },
    due = field.Date {},
    mail = field.Email {},
    must = field.Boolean { required = true },
  },
  start = flow.StartFunction():Next(this.finish),
  finish = flow.End(),
}]])
  local function clean(names, data) return flow.clean(def, names, data) end
  local function err_of(name, value)
    local out, errors = clean({ name }, { [name] = value })
    assert.is_nil(out)
    return errors[name]
  end
  local function ok_of(name, value)
    local out, errors = clean({ name }, { [name] = value })
    assert.is_nil(errors)
    return out[name]
  end

  it("compiles choices to value and label", function()
    assert.are.same({ { value = "s", label = "S" }, { value = "m", label = "Medium" },
      { value = "l", label = "Large" } }, def.fields[6].choices)
  end)

  it("returns only the named fields, with defaults for absent ones", function()
    local out, errors = clean({ "name", "note", "ratio", "count" }, { name = "abc" })
    assert.is_nil(errors)
    assert.are.same({ name = "abc", note = "none", ratio = 0.5 }, out)
  end)

  it("checks all fields when no names are given", function()
    local out, errors = clean(nil, { name = "x", must = false })
    assert.is_nil(errors)
    assert.are.same({ name = "x", note = "none", ratio = 0.5, ok = false, must = false }, out)
  end)

  it("refuses unknown fields, including fields of the flow not on this form", function()
    local out, errors = clean({ "name" }, { name = "abc", count = 2, bogus = 1 })
    assert.is_nil(out)
    assert.are.same({ count = "unknown field", bogus = "unknown field" }, errors)
  end)

  it("requires required fields; an empty string is missing", function()
    assert.are.equal("This field is required.", err_of("name", nil))
    assert.are.equal("This field is required.", err_of("name", ""))
    assert.are.equal("This field is required.", err_of("must", nil))
    assert.is_false(ok_of("must", false))
  end)

  it("keeps an empty string for optional text, treats it as absent otherwise", function()
    assert.are.equal("", ok_of("note", ""))
    assert.are.equal("", ok_of("mail", ""))
    assert.is_nil(ok_of("count", ""))
    assert.are.equal(0.5, ok_of("ratio", ""))
  end)

  it("checks strings and their length in UTF-8 characters", function()
    assert.are.equal("héllo", ok_of("name", "héllo"))
    assert.are.equal("ÆØÅæø", ok_of("name", "ÆØÅæø"))
    assert.are.equal("Ensure this value has at most 5 characters (it has 6).", err_of("name", "héllo!"))
    assert.are.equal("Enter a text value.", err_of("name", 12))
    assert.are.equal("Enter valid UTF-8 text.", err_of("name", "\xff\xfe"))
    assert.are.equal("Enter a text value.", err_of("note", true))
  end)

  it("checks integers; integral floats become integers", function()
    assert.are.equal(math.type(3), math.type(ok_of("count", 3.0)))
    assert.are.equal(3, ok_of("count", 3.0))
    assert.are.equal("integer", math.type(ok_of("count", 3.0)))
    assert.are.equal("Enter a whole number.", err_of("count", 3.5))
    assert.are.equal("Enter a whole number.", err_of("count", "3"))
    assert.are.equal("Enter a whole number.", err_of("count", 2 ^ 70))
    assert.are.equal("Ensure this value is greater than or equal to 1.", err_of("count", 0))
    assert.are.equal("Ensure this value is less than or equal to 10.", err_of("count", 11))
    assert.are.equal(10, ok_of("count", 10))
    assert.are.equal(1, ok_of("count", 1))
  end)

  it("checks numbers and their range", function()
    assert.are.equal(0.25, ok_of("ratio", 0.25))
    assert.are.equal(1, ok_of("ratio", 1))
    assert.are.equal("Enter a number.", err_of("ratio", "0.5"))
    assert.are.equal("Enter a number.", err_of("ratio", 0 / 0))
    assert.are.equal("Enter a number.", err_of("ratio", math.huge))
    assert.are.equal("Ensure this value is greater than or equal to 0.", err_of("ratio", -0.1))
    assert.are.equal("Ensure this value is less than or equal to 1.", err_of("ratio", 1.5))
  end)

  it("checks booleans", function()
    assert.is_true(ok_of("ok", true))
    assert.is_false(ok_of("ok", false))
    assert.are.equal("Enter true or false.", err_of("ok", "true"))
    assert.are.equal("Enter true or false.", err_of("ok", 1))
  end)

  it("checks choices", function()
    assert.are.equal("m", ok_of("size", "m"))
    assert.are.equal("Select a valid choice. 'xl' is not one of the available choices.",
      err_of("size", "xl"))
    assert.are.equal("Select a valid choice. 'Medium' is not one of the available choices.",
      err_of("size", "Medium"))
    assert.are.equal("Select a valid choice. That value is not one of the available choices.", err_of("size", 1))
  end)

  it("checks dates are real calendar dates", function()
    assert.are.equal("2024-02-29", ok_of("due", "2024-02-29"))
    assert.are.equal("2000-02-29", ok_of("due", "2000-02-29"))
    assert.are.equal("2023-12-31", ok_of("due", "2023-12-31"))
    for _, bad in ipairs({ "2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "2024-00-10",
      "2024-01-00", "2024-1-5", "24-01-05", "2024/01/05", "2024-01-05T00:00", " 2024-01-05" }) do
      assert.are.equal("Enter a valid date (YYYY-MM-DD).", err_of("due", bad), bad)
    end
    assert.are.equal("Enter a valid date (YYYY-MM-DD).", err_of("due", 20240105))
  end)

  it("checks the shape of e-mail addresses", function()
    assert.are.equal("alice@example.com", ok_of("mail", "alice@example.com"))
    assert.are.equal("a.b+c@mail.example.org", ok_of("mail", "a.b+c@mail.example.org"))
    for _, bad in ipairs({ "alice", "alice@", "@example.com", "alice@example", "alice@@example.com",
      "al ice@example.com", "alice@example..com", "alice@.example.com", "alice@example.com." }) do
      assert.are.equal("Enter a valid email address.", err_of("mail", bad), bad)
    end
  end)

  it("reports every failing field at once", function()
    local out, errors = clean({ "name", "count", "due" }, { count = 0, due = "soon" })
    assert.is_nil(out)
    assert.are.same({ name = "This field is required.",
      count = "Ensure this value is greater than or equal to 1.",
      due = "Enter a valid date (YYYY-MM-DD)." }, errors)
  end)

  it("refuses data that is not a table and accepts nil as empty", function()
    local out, errors = clean({ "note" }, "text")
    assert.is_nil(out)
    assert.are.same({ __all__ = "The form data must be an object." }, errors)
    out, errors = clean({ "note" }, nil)
    assert.is_nil(errors)
    assert.are.same({ note = "none" }, out)
  end)

  it("raises on a field name the flow does not have", function()
    assert.has_error(function() clean({ "nope" }, {}) end, "flow.clean: the flow has no field 'nope'")
  end)
end)
