-- flow.lua: the Lua side of the flowhost DSL (design/flow-dsl.md).
--
-- While a flow file runs, the constructors here build node, field and `this.name` reference
-- objects; `flow.Flow` then resolves every reference, checks the whole graph and returns the
-- compiled definition that the C host reads (its layout is documented above `flow.Flow`).
-- `flow.clean` validates submitted form data against the flow's fields.
--
-- Errors are tables {message, file, line, errors} whose __tostring is "file:line: message".
-- Problems are collected, not raised one by one: the one nearest the top of the file is
-- raised and the whole sorted list rides along in `errors`. Pure Lua 5.4, no C.

local flow = {}

local NAME_PATTERN = "^[a-z_][a-z0-9_]*$"
local RESERVED = { title = true, description = true, fields = true, lock = true, summary = true, version = true,
  history = true }

-- One counter for nodes and fields: pairs() over the flow table has no order, but the
-- compiled definition lists things in the order they were written.
local seq_counter = 0
local function next_seq()
  seq_counter = seq_counter + 1
  return seq_counter
end

---------------------------------------------------------------------------------------------
-- Locations, errors, hints
---------------------------------------------------------------------------------------------

local MY_SOURCE = debug.getinfo(1, "S").source

-- The first frame outside this module is the user's code, where a construct was written.
local function caller_location()
  for level = 2, math.huge do
    local info = debug.getinfo(level, "Sl")
    if not info then return "?", 0 end
    if info.what ~= "C" and info.source ~= MY_SOURCE then
      local src = info.source
      local file = (src:match("^[@=]") and src:sub(2)) or info.short_src
      return file, info.currentline
    end
  end
end

local FlowError = {}
FlowError.__index = FlowError
FlowError.__tostring = function(e) return string.format("%s:%s: %s", e.file, e.line, e.message) end

local function new_error(message, file, line)
  return setmetatable({ message = message, file = file, line = line }, FlowError)
end

-- Adds a problem to a list (each node, field and flow keeps one). `locate`, if given, is
-- called only when the problem is raised, to find a more precise line in the source.
local function report(list, message, file, line, locate)
  local e = new_error(message, file, line)
  e.locate = locate
  list[#list + 1] = e
end

-- Reads a source file; only ever done on the error path (io may be absent: then no hint).
-- While an error is being raised, each file is read once (see `raise`).
local lines_cache = nil
local function read_lines(file)
  if lines_cache and lines_cache[file] ~= nil then return lines_cache[file] or nil end
  local ok, handle = pcall(function() return io.open(file, "r") end)
  local lines = false
  if ok and handle then
    lines = {}
    for text in handle:lines() do lines[#lines + 1] = text end
    handle:close()
  end
  if lines_cache then lines_cache[file] = lines end
  return lines or nil
end

-- Line of the nth match of `pattern` from line `from` on, comments ignored; nil if none.
-- An anchored pattern ("^...") counts at most once per line.
local function seek_line(file, from, pattern, nth)
  local lines = read_lines(file)
  if not lines then return nil end
  nth = nth or 1
  for i = from, #lines do
    local code = lines[i]:gsub("%-%-.*$", "")
    if pattern:sub(1, 1) == "^" then
      if code:find(pattern) then nth = nth - 1 end
    else
      for _ in code:gmatch(pattern) do nth = nth - 1 end
    end
    if nth <= 0 then return i end
  end
end

-- Edit distance counting a swap of two neighbours as one edit ("titel" -> "title"), for
-- "did you mean" hints.
local function edit_distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      d[i][j] = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        d[i][j] = math.min(d[i][j], d[i - 2][j - 2] + 1)
      end
    end
  end
  return d[#a][#b]
end

local function sorted_keys(t)
  local list = {}
  for k in pairs(t) do
    if type(k) == "string" then list[#list + 1] = k end
  end
  table.sort(list)
  return list
end

-- " (did you mean 'x'?)" when a name of `t` is close enough to be a likely typo, else "".
-- The distance costs #name * #candidate steps: past 64 characters no hint is worth it (a
-- generated name of thousands would eat the load's time budget), and a candidate whose
-- length alone differs by best_d or more cannot win.
local function suggestion(name, t)
  if #name > 64 then return "" end
  local best, best_d = nil, math.max(1, #name // 3) + 1
  for _, candidate in ipairs(sorted_keys(t)) do
    if math.abs(#candidate - #name) < best_d then
      local d = edit_distance(name, candidate)
      if d < best_d and d < #name then best, best_d = candidate, d end
    end
  end
  return best and string.format(" (did you mean '%s'?)", best) or ""
end

function flow.title_from_name(name)
  local s = tostring(name):gsub("_+", " "):gsub("^%s+", ""):gsub("%s+$", "")
  return (s:gsub("^%l", string.upper))
end

---------------------------------------------------------------------------------------------
-- `this`: lazy references, resolved by flow.Flow
---------------------------------------------------------------------------------------------

local Ref, OwnerRef = {}, {}

Ref.__index = function(ref, key)
  local file, line = caller_location()
  if key ~= "owner" then
    error(new_error(string.format("this.%s.%s: a reference only has .owner", ref.name, tostring(key)),
      file, line))
  end
  return setmetatable({ node = ref.name, file = file, line = line }, OwnerRef)
end
Ref.__tostring = function(ref) return "this." .. ref.name end
OwnerRef.__tostring = function(ref) return "this." .. ref.node .. ".owner" end

flow.this = setmetatable({}, {
  __index = function(_, name)
    local file, line = caller_location()
    if type(name) ~= "string" then error(new_error("this[...] needs a name", file, line)) end
    return setmetatable({ name = name, file = file, line = line }, Ref)
  end,
  __newindex = function()
    error(new_error("flow.this is read-only", caller_location()))
  end,
})

local function is_ref(v) return getmetatable(v) == Ref end
local function is_owner_ref(v) return getmetatable(v) == OwnerRef end

---------------------------------------------------------------------------------------------
-- Field values: the checks shared by field defaults and flow.clean
---------------------------------------------------------------------------------------------

local Field = {}
local function is_field(v) return getmetatable(v) == Field end

-- Node objects are empty proxies; their state lives here so that chain method names can
-- never collide with a node's own data.
local spec_of = setmetatable({}, { __mode = "k" })

local function describe(v)
  if is_ref(v) or is_owner_ref(v) then return tostring(v) end
  if spec_of[v] then return "a node" end
  if is_field(v) then return "a field" end
  if v == nil then return "nothing" end
  if type(v) == "string" then return string.format("the string %q", v) end
  if type(v) == "number" then return "the number " .. tostring(v) end
  return "a " .. type(v)
end

local TEXTUAL = { string = true, text = true, email = true }

local function is_date(s)
  local y, m, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then return false end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  local days = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
  if (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0 then days[2] = 29 end
  return m >= 1 and m <= 12 and d >= 1 and d <= days[m]
end

-- A shape check, not RFC 5322: one @, no spaces, a dotted domain without empty labels.
local function is_email(s)
  local domain = s:match("^[^@%s]+@([^@%s]+)$")
  if not domain then return false end
  local labels = 0
  for label in (domain .. "."):gmatch("(.-)%.") do
    if not label:match("^[%w-]+$") then return false end
    labels = labels + 1
  end
  return labels >= 2
end

local function check_range(f, v)
  if f.min and v < f.min then
    return nil, string.format("Ensure this value is greater than or equal to %s.", f.min)
  elseif f.max and v > f.max then
    return nil, string.format("Ensure this value is less than or equal to %s.", f.max)
  end
  return v
end

-- Checks one present value against a field; returns the cleaned value, or nil and a message.
local function check_value(f, v)
  local t = f.type
  if TEXTUAL[t] then
    if type(v) ~= "string" then return nil, "Enter a text value." end
    local n = utf8.len(v)
    if not n then return nil, "Enter valid UTF-8 text." end
    if f.max_length and n > f.max_length then
      return nil, string.format("Ensure this value has at most %d characters (it has %d).", f.max_length, n)
    end
    if t == "email" and not is_email(v) then return nil, "Enter a valid email address." end
    return v
  elseif t == "integer" then
    -- JSON has one number type: 3.0 is taken as 3, 3.5 is refused.
    local i = type(v) == "number" and math.tointeger(v)
    if not i then return nil, "Enter a whole number." end
    return check_range(f, i)
  elseif t == "number" then
    if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
      return nil, "Enter a number."
    end
    return check_range(f, v)
  elseif t == "boolean" then
    if type(v) ~= "boolean" then return nil, "Enter true or false." end
    return v
  elseif t == "choice" then
    for _, c in ipairs(f.choices) do
      if c.value == v then return v end
    end
    local shown = type(v) == "string" and "'" .. v .. "'" or "That value"
    return nil, string.format("Select a valid choice. %s is not one of the available choices.", shown)
  elseif t == "date" then
    if type(v) ~= "string" or not is_date(v) then return nil, "Enter a valid date (YYYY-MM-DD)." end
    return v
  end
  error("unknown field type " .. tostring(t))
end

---------------------------------------------------------------------------------------------
-- Option tables (fields, Start, View, Join, Retry...): each option has a checker that returns
-- an error text, or `true` when any value is accepted here and checked later.
---------------------------------------------------------------------------------------------

local function opt_string(v) if type(v) ~= "string" then return "must be a string" end end
local function opt_boolean(v) if type(v) ~= "boolean" then return "must be a boolean" end end
local function opt_number(v) if type(v) ~= "number" or v ~= v then return "must be a number" end end
local function opt_integer(v) if math.type(v) ~= "integer" then return "must be an integer" end end
local function opt_positive_integer(v)
  if math.type(v) ~= "integer" or v < 1 then return "must be a positive integer" end
end
local function opt_seconds(v)
  if type(v) ~= "number" or not (v >= 0) or v == math.huge then return "must be a number of seconds >= 0" end
end
local function opt_field_list(v)
  if type(v) ~= "table" or spec_of[v] or is_ref(v) then return "must be a list of field names" end
  local seen = {}
  for k, name in pairs(v) do
    if math.type(k) ~= "integer" or type(name) ~= "string" then return "must be a list of field names" end
    if seen[name] then return "lists '" .. name .. "' twice" end
    seen[name] = true
  end
end

-- Checks `opts` against `allowed`; calls complain(text) per problem; returns a usable table.
local function check_options(what, opts, allowed, complain)
  if opts == nil then return {} end
  if type(opts) ~= "table" or spec_of[opts] or is_ref(opts) or is_field(opts) then
    complain(string.format("%s expects a table of options, got %s", what, describe(opts)))
    return {}
  end
  local good = {}
  for key, value in pairs(opts) do
    local check = allowed[key]
    local text = not check and string.format("unknown option '%s'%s", tostring(key), suggestion(tostring(key), allowed))
      or check ~= true and check(value)
    if text then
      complain(string.format("%s: %s", what, text:match("^unknown") and text or key .. " " .. text))
    else
      good[key] = value
    end
  end
  return good
end

---------------------------------------------------------------------------------------------
-- Fields
---------------------------------------------------------------------------------------------

-- search = true: the field's values are indexed for GET /api/processes?data.<field>=...
local COMMON_OPTIONS = { label = opt_string, required = opt_boolean, help = opt_string, default = true,
  search = opt_boolean }

local FIELD_KINDS = {
  String  = { type = "string",  options = { max_length = opt_positive_integer } },
  Text    = { type = "text",    options = {} },
  Integer = { type = "integer", options = { min = opt_integer, max = opt_integer } },
  Number  = { type = "number",  options = { min = opt_number, max = opt_number } },
  Boolean = { type = "boolean", options = {} },
  Choice  = { type = "choice",  options = { choices = true } },
  Date    = { type = "date",    options = {} },
  Email   = { type = "email",   options = {} },
}

-- Accepts {"a", "b"}, {{"a", "Label"}, ...} or {{value = "a", label = "Label"}, ...}.
local function compile_choices(list, complain)
  if type(list) ~= "table" or #list == 0 then return complain("choices must be a non-empty list") end
  local out, seen = {}, {}
  for i, item in ipairs(list) do
    local value, label = item, nil
    if type(item) == "table" then value, label = item.value or item[1], item.label or item[2] end
    if type(value) ~= "string" or (label ~= nil and type(label) ~= "string") then
      return complain(string.format("choice %d must be a string or {value, label} of strings", i))
    end
    if seen[value] then return complain(string.format("choice '%s' is listed twice", value)) end
    seen[value] = true
    out[#out + 1] = { value = value, label = label or flow.title_from_name(value) }
  end
  return out
end

local function make_field(ctor, opts)
  local kind = FIELD_KINDS[ctor]
  local file, line = caller_location()
  local f = setmetatable({ type = kind.type, required = false, seq = next_seq(),
    file = file, line = line, problems = {} }, Field)
  local function report_here(text) report(f.problems, text, file, line) end
  local function complain(text) report_here("field." .. ctor .. ": " .. text) end

  local allowed = {}
  for k, v in pairs(COMMON_OPTIONS) do allowed[k] = v end
  for k, v in pairs(kind.options) do allowed[k] = v end
  local good = check_options("field." .. ctor, opts, allowed, report_here)
  for _, key in ipairs({ "label", "required", "help", "max_length", "min", "max", "search" }) do
    if good[key] ~= nil then f[key] = good[key] end
  end
  if f.min and f.max and f.min > f.max then complain("min is greater than max") end
  if kind.type == "choice" then
    if good.choices == nil then complain("choices are required")
    else f.choices = compile_choices(good.choices, complain) end
  end
  -- A default must itself be valid, else every form would start out invalid.
  if good.default ~= nil and (kind.type ~= "choice" or f.choices) then
    local _, text = check_value(f, good.default)
    if text then complain("default is not valid: " .. text) else f.default = good.default end
  end
  return f
end

flow.field = {}
for ctor in pairs(FIELD_KINDS) do
  flow.field[ctor] = function(opts) return make_field(ctor, opts) end
end

---------------------------------------------------------------------------------------------
-- Nodes
---------------------------------------------------------------------------------------------

local Node = {}

local KINDS = {
  start          = { ctor = "Start",         methods = { "Next", "Permission" },           needs_next = true },
  start_function = { ctor = "StartFunction", methods = { "Next" },                         needs_next = true },
  view           = { ctor = "View",          methods = { "Next", "Permission", "Assign", "OnTimeout", "Due",
                                                         "ForEach", "While", "Priority" }, needs_next = true },
  handler        = { ctor = "Handler",       methods = { "Next", "ForEach" },              needs_next = true },
  ["function"]   = { ctor = "Function",      methods = { "Next", "OnTimeout", "Due", "While" }, needs_next = true },
  job            = { ctor = "Job",           methods = { "Next", "Retry", "Timeout", "OnTimeout", "ForEach" },
                     needs_next = true },
  timer          = { ctor = "Timer",         methods = { "Next" },                         needs_next = true },
  ["if"]         = { ctor = "If",            methods = { "Then", "Else" } },
  switch         = { ctor = "Switch",        methods = { "Case", "Default" } },
  split          = { ctor = "Split",         methods = { "Next", "Always" } },
  join           = { ctor = "Join",          methods = { "Next" },                         needs_next = true },
  ["end"]        = { ctor = "End",           methods = {} },
  receive        = { ctor = "Receive",       methods = { "Next", "OnTimeout", "Due" },     needs_next = true },
  send           = { ctor = "Send",          methods = { "Next" },                         needs_next = true },
  cancel         = { ctor = "Cancel",        methods = { "Next" } },
  lock           = { ctor = "Lock",          methods = { "Next" },                         needs_next = true },
  unlock         = { ctor = "Unlock",        methods = { "Next" },                         needs_next = true },
  subprocess     = { ctor = "Subprocess",    methods = { "Next", "OnTimeout", "Due", "ForEach" }, needs_next = true },
  obsolete       = { ctor = "Obsolete",      methods = {} },
  external       = { ctor = "External",      methods = { "Next", "Retry", "OnTimeout" }, needs_next = true },
}
local START_KINDS = { start = true, start_function = true }
-- Nodes whose task is completed by a user, so that `this.node.owner` means someone.
local OWNED_KINDS = { start = true, start_function = true, view = true }

local function new_node(kind)
  local file, line = caller_location()
  local node = setmetatable({}, Node)
  spec_of[node] = { kind = kind, ctor = KINDS[kind].ctor, seq = next_seq(), file = file, line = line,
    problems = {}, branches = {}, cases = {}, calls = {} }
  return node, spec_of[node]
end

-- A site is where something was written: {file, line, locate}.
local function node_site(spec) return { file = spec.file, line = spec.line } end

-- Lua 5.4 reports every call of `flow.X{}:A():B()` at the line where the expression starts.
-- To point at the chain call itself, the source is searched (on error only) for the nth
-- ":Method" of this node from that line on.
local function chain_site(spec, method)
  local file, line = caller_location()
  spec.calls[method] = (spec.calls[method] or 0) + 1
  local nth, locate = spec.calls[method], nil
  if file == spec.file and line == spec.line then
    locate = function() return seek_line(file, line, ":%s*" .. method .. "%f[^%w_]", nth) end
  end
  return { file = file, line = line, locate = locate }
end

local function problem(spec, message, site)
  site = site or node_site(spec)
  report(spec.problems, message, site.file, site.line, site.locate)
end

-- A callback argument: a function or `this.method`; returns a record resolved by flow.Flow.
local function callable_arg(spec, v, what, site, optional)
  if v == nil and optional then return nil end
  if type(v) == "function" or is_ref(v) then return { value = v } end
  problem(spec, string.format("%s expects a function or a this.method reference, got %s", what, describe(v)), site)
end

-- A target argument: always `this.node`.
local function target_arg(spec, v, what, site)
  if is_ref(v) then return { ref = v } end
  problem(spec, string.format("%s expects a this.node reference, got %s", what, describe(v)), site)
end

local function node_options(spec, opts, allowed, site)
  return check_options(spec.ctor, opts, allowed, function(text) problem(spec, text, site) end)
end

local FORM_OPTIONS = { title = opt_string, description = opt_string, fields = opt_field_list }

function flow.Start(opts)
  local node, spec = new_node("start")
  local good = node_options(spec, opts, FORM_OPTIONS)
  spec.title, spec.description, spec.fields = good.title, good.description, good.fields
  return node
end

-- comment = "required": executing the View needs a comment; "optional" (the default) takes one.
local function opt_comment(v)
  if v ~= "required" and v ~= "optional" then return 'must be "required" or "optional"' end
end

function flow.View(opts)
  local node, spec = new_node("view")
  local allowed = { validate = true, comment = opt_comment }
  for k, v in pairs(FORM_OPTIONS) do allowed[k] = v end
  local good = node_options(spec, opts, allowed)
  spec.title, spec.description, spec.fields = good.title, good.description, good.fields
  spec.validate = callable_arg(spec, good.validate, "View validate", nil, true)
  spec.comment_required = good.comment == "required" or nil
  return node
end

-- Constructors whose single argument is a callback (optional for some).
local function callback_node(kind, optional)
  return function(fn)
    local node, spec = new_node(kind)
    spec.fn = callable_arg(spec, fn, spec.ctor, nil, optional)
    return node
  end
end

flow.StartFunction = callback_node("start_function", true)
flow.Handler = callback_node("handler")
flow.Function = callback_node("function", true)
flow.Job = callback_node("job")
flow.If = callback_node("if")

function flow.Timer(wait)
  local node, spec = new_node("timer")
  if type(wait) ~= "number" then
    spec.fn = callable_arg(spec, wait, "Timer (seconds or a function)")
  elseif wait ~= wait or wait < 0 or wait == math.huge then
    problem(spec, "Timer expects a number of seconds >= 0, got " .. describe(wait))
  else
    spec.seconds = wait
  end
  return node
end

local function no_argument_node(kind)
  return function(...)
    local node, spec = new_node(kind)
    if select("#", ...) > 0 and ... ~= nil then problem(spec, spec.ctor .. "() takes no arguments") end
    return node
  end
end

flow.Switch = no_argument_node("switch")
flow.Obsolete = no_argument_node("obsolete")

-- flow.Split() or flow.Split { first = true }: with `first`, the first waiting task of any
-- branch that completes cancels the other branches' active tasks (deferred choice).
function flow.Split(opts)
  local node, spec = new_node("split")
  spec.first = node_options(spec, opts, { first = opt_boolean }).first == true
  return node
end

-- flow.End() or flow.End { terminate = true }: a terminating end cancels every other active
-- task of the process and finishes it.
function flow.End(opts)
  local node, spec = new_node("end")
  spec.terminate = node_options(spec, opts, { terminate = opt_boolean }).terminate == true
  return node
end

-- flow.Join { wait_all = true|false, wait = N, cancel_rest = true|false, block = false }: `wait`
-- branches arriving fire it (wait_all = false means wait = 1); later arrivals end there.  With
-- block, a round does not fire while an earlier round of this join is still running (a
-- blocking discriminator / partial join).
function flow.Join(opts)
  local node, spec = new_node("join")
  local good = node_options(spec, opts, { wait_all = opt_boolean, wait = opt_positive_integer,
    cancel_rest = opt_boolean, block = opt_boolean })
  spec.wait_all = good.wait_all ~= false
  spec.wait = good.wait or (good.wait_all == false and 1 or nil)
  if good.wait and good.wait_all ~= nil then
    problem(spec, "Join: give either wait or wait_all, not both")
  end
  spec.cancel_rest = good.cancel_rest == true
  spec.block = good.block == true
  return node
end

-- Message and signal names as the HTTP routes take them.
local EVENT_NAME_PATTERN = "^[a-z_][a-z0-9_.-]*$"
local KEY_MAX = 200

local function opt_event_name(v)
  if type(v) ~= "string" or not v:match(EVENT_NAME_PATTERN) or #v > 100 then
    return "must be a name matching " .. EVENT_NAME_PATTERN .. " (at most 100 characters)"
  end
end

-- A key: a function or this.method computing it, or a constant string or integer.
local function event_key(spec, v, site)
  if math.type(v) == "integer" then return { const = string.format("%d", v) } end
  if type(v) == "string" then
    if v == "" or #v > KEY_MAX then
      return problem(spec, string.format("%s: key must be a non-empty string of at most %d bytes", spec.ctor, KEY_MAX), site)
    end
    return { const = v }
  end
  return callable_arg(spec, v, spec.ctor .. " key (a function, this.method, string or integer)", site)
end

-- One of message = / signal = (exactly one), shared by Receive and Send.
local function event_target(spec, good)
  if (good.message == nil) == (good.signal == nil) then
    return problem(spec, spec.ctor .. " needs exactly one of message = \"name\" or signal = \"name\"")
  end
  spec.message, spec.signal = good.message, good.signal
  if good.message and good.key == nil then
    problem(spec, spec.ctor .. " of a message needs key = (a function, this.method, string or integer)")
  elseif good.signal and good.key ~= nil then
    problem(spec, spec.ctor .. ": a signal has no key (it reaches every receiver)")
  elseif good.key ~= nil then
    spec.key = event_key(spec, good.key)
  end
end

-- flow.Receive { message = "payment", key = this.order_key, fields = {...}, transient = false }
-- or flow.Receive { signal = "name" }: waits for it; its data goes into the process data.
function flow.Receive(opts)
  local node, spec = new_node("receive")
  local good = node_options(spec, opts, { message = opt_event_name, signal = opt_event_name, key = true,
    fields = opt_field_list, transient = opt_boolean, title = opt_string, description = opt_string })
  event_target(spec, good)
  if good.signal and good.transient ~= nil then
    problem(spec, "Receive: transient is for messages (a signal is never kept)")
  end
  spec.title, spec.description, spec.fields = good.title, good.description, good.fields
  spec.transient = good.transient == true
  return node
end

-- flow.External { topic = "pdf", fields = {...}, title, description }: a task that a worker
-- outside the host fetches over HTTP (POST /api/external/fetch) and completes with data,
-- which the fields (or the flow's own) clean before it goes into the process data.
function flow.External(opts)
  local node, spec = new_node("external")
  local good = node_options(spec, opts, { topic = opt_event_name, fields = opt_field_list,
    title = opt_string, description = opt_string })
  if good.topic == nil then problem(spec, 'External needs topic = "name"') end
  spec.topic, spec.title, spec.description, spec.fields = good.topic, good.title, good.description, good.fields
  return node
end

-- flow.Send { message = "payment", key = fn, data = fn } or flow.Send { signal = "name", data = fn }:
-- sent when the process's write has committed.
function flow.Send(opts)
  local node, spec = new_node("send")
  local good = node_options(spec, opts, { message = opt_event_name, signal = opt_event_name, key = true,
    data = true, title = opt_string, description = opt_string })
  event_target(spec, good)
  spec.data = callable_arg(spec, good.data, "Send data", nil, true)
  spec.title, spec.description = good.title, good.description
  return node
end

-- flow.Subprocess("child", { start = "start", input = fn, output = fn }): starts a process of
-- flow `child` at its StartFunction `start` with the data input(self, activation) returns, and
-- waits for it; output(self, activation, child) maps the finished child's data back.
function flow.Subprocess(child, opts)
  local node, spec = new_node("subprocess")
  if type(child) ~= "string" or not child:match("^[a-z_][a-z0-9_]*$") then
    problem(spec, "Subprocess expects the child flow's name (a string), got " .. describe(child))
  end
  local good = node_options(spec, opts, { start = opt_string, input = true, output = true, title = opt_string,
    description = opt_string })
  if good.start and not good.start:match(NAME_PATTERN) then
    problem(spec, "Subprocess: start must be a node name, got " .. describe(good.start))
  end
  spec.subflow, spec.sub_start = child, good.start or "start"
  spec.input = callable_arg(spec, good.input, "Subprocess input", nil, true)
  spec.output = callable_arg(spec, good.output, "Subprocess output", nil, true)
  spec.title, spec.description = good.title, good.description
  return node
end

-- flow.Lock("name") ... flow.Unlock("name"): a critical section of the process.  Only one
-- branch holds a lock at a time; a branch reaching Lock while another holds it waits there
-- until it is released (by Unlock, or when the holding branch has nothing active any more).
local function lock_node(kind)
  return function(name)
    local node, spec = new_node(kind)
    if type(name) ~= "string" or not name:match(NAME_PATTERN) then
      problem(spec, string.format("%s expects a lock name matching %s, got %s", spec.ctor, NAME_PATTERN, describe(name)))
    end
    spec.lock_name = name
    return node
  end
end
flow.Lock = lock_node("lock")
flow.Unlock = lock_node("unlock")

-- flow.Cancel(this.split): cancels every active task of the split's current round (the
-- round this task is in, or the newest one); its :Next goes on outside the round.
function flow.Cancel(region)
  local node, spec = new_node("cancel")
  spec.region = target_arg(spec, region, "Cancel")
  return node
end

---------------------------------------------------------------------------------------------
-- Chain methods: each takes the node object and returns it, so that calls chain.
---------------------------------------------------------------------------------------------

local chain = {}

-- Records a single-use setting (Next, Then, Permission...) and refuses a second one.
local function set_once(spec, key, method, record, site)
  if record == nil then return end
  if spec[key] then
    problem(spec, string.format(":%s is given twice on this %s", method, spec.ctor), site)
  else
    spec[key] = record
  end
end

function chain.Next(spec, site, target, cond)
  local edge = target_arg(spec, target, ":Next", site)
  if spec.kind == "split" then
    if edge then
      edge.cond = callable_arg(spec, cond, "Split:Next condition", site, true)
      spec.branches[#spec.branches + 1] = edge
    end
    return
  end
  if cond ~= nil then problem(spec, ":Next takes one node; only Split branches have conditions", site) end
  set_once(spec, "next", "Next", edge, site)
end

function chain.Always(spec, site, target)
  local edge = target_arg(spec, target, ":Always", site)
  if edge then spec.branches[#spec.branches + 1] = edge end
end

function chain.Then(spec, site, target)
  set_once(spec, "then_edge", "Then", target_arg(spec, target, ":Then", site), site)
end

function chain.Else(spec, site, target)
  set_once(spec, "else_edge", "Else", target_arg(spec, target, ":Else", site), site)
end

function chain.Case(spec, site, target, cond)
  local edge = target_arg(spec, target, ":Case", site)
  if edge and cond == nil then
    problem(spec, ":Case needs a condition; use :Default(node) for the fallback", site)
  elseif edge then
    edge.cond = callable_arg(spec, cond, ":Case condition", site)
    spec.cases[#spec.cases + 1] = edge
  end
end

function chain.Default(spec, site, target)
  set_once(spec, "default_edge", "Default", target_arg(spec, target, ":Default", site), site)
end

function chain.Permission(spec, site, perm)
  local record
  if type(perm) == "string" and perm ~= "" then
    record = { name = perm }
  elseif type(perm) == "function" or is_ref(perm) then
    record = callable_arg(spec, perm, ":Permission", site)
  else
    problem(spec, ":Permission expects a permission name or a function, got " .. describe(perm), site)
  end
  set_once(spec, "permission", "Permission", record, site)
end

function chain.Assign(spec, site, who)
  local record
  if type(who) == "string" and who ~= "" then
    record = { user = who }
  elseif is_owner_ref(who) then
    record = { owner_of = who }
  elseif type(who) == "function" or is_ref(who) then
    record = callable_arg(spec, who, ":Assign", site)
  else
    problem(spec, ":Assign expects a user name, a function or this.node.owner, got " .. describe(who), site)
  end
  set_once(spec, "assign", "Assign", record, site)
end

-- backoff (seconds) defaults to 1; how it grows between attempts is the job runner's choice.
function chain.Retry(spec, site, opts)
  local complained = false
  local good = check_options(":Retry", opts, { attempts = opt_positive_integer, backoff = opt_seconds },
    function(text)
      complained = true
      problem(spec, text, site)
    end)
  if complained then return end
  if good.attempts == nil then return problem(spec, ":Retry: attempts is required", site) end
  set_once(spec, "retry", "Retry", { attempts = good.attempts, backoff = good.backoff or 1 }, site)
end

function chain.Timeout(spec, site, seconds)
  if type(seconds) ~= "number" or not (seconds > 0) or seconds == math.huge then
    problem(spec, ":Timeout expects a number of seconds > 0, got " .. describe(seconds), site)
  else
    set_once(spec, "timeout", "Timeout", { seconds = seconds }, site)
  end
end

-- seconds >= 0 or a callback returning them.
local function after_arg(spec, after, what, site)
  if type(after) == "number" then
    if not (after >= 0) or after == math.huge then
      return problem(spec, what .. " expects a number of seconds >= 0 or a function, got " .. describe(after), site)
    end
    return { seconds = after }
  end
  return callable_arg(spec, after, what .. " (seconds or a function)", site)
end

-- :OnTimeout(after, this.node, {interrupting = true}); may be given several times.
function chain.OnTimeout(spec, site, after, target, opts)
  local a = after_arg(spec, after, ":OnTimeout", site)
  local to = target_arg(spec, target, ":OnTimeout", site)
  local good = check_options(":OnTimeout", opts, { interrupting = opt_boolean },
    function(text) problem(spec, text, site) end)
  if not (a and to) then return end
  spec.timeouts = spec.timeouts or {}
  spec.timeouts[#spec.timeouts + 1] = { after = a, ref = to.ref, interrupting = good.interrupting ~= false }
end

-- :ForEach(list, { parallel = true, complete = N | fn, cancel_rest = true }): one task per item of
-- the list that list(self, activation) returns (or that the process field named `list` holds).
-- With cancel_rest = false, the instances still open when complete holds run on to their end.
function chain.ForEach(spec, site, list, opts)
  local record
  if type(list) == "string" and list:match(NAME_PATTERN) then record = { field = list }
  else record = callable_arg(spec, list, ":ForEach list (a function, this.method or a process field name)", site) end
  local good = check_options(":ForEach", opts, { parallel = opt_boolean, complete = true, cancel_rest = opt_boolean },
    function(text) problem(spec, text, site) end)
  local complete = good.complete
  if complete ~= nil and not (math.type(complete) == "integer" and complete >= 1) and type(complete) ~= "function"
      and not is_ref(complete) then
    problem(spec, ":ForEach: complete must be a positive integer or a function, got " .. describe(complete), site)
    complete = nil
  end
  if not record then return end
  record.parallel = good.parallel ~= false
  record.cancel_rest = good.cancel_rest ~= false
  if math.type(complete) == "integer" then record.complete_count = complete
  elseif complete ~= nil then record.complete = callable_arg(spec, complete, ":ForEach complete", site) end
  set_once(spec, "foreach", "ForEach", record, site)
end

-- :While(this.node): the task may be taken and completed only while a task of `node` is
-- active in the process (a milestone).
function chain.While(spec, site, target)
  set_once(spec, "while_ref", "While", target_arg(spec, target, ":While", site), site)
end

-- :Due(after): the task's due date, for lists and sorting; nothing happens by itself.
function chain.Due(spec, site, after)
  set_once(spec, "due", "Due", after_arg(spec, after, ":Due", site), site)
end

-- :Priority("high"|"normal"|"low"): shown beside the task in lists; nothing happens by itself.
local PRIORITIES = { high = true, normal = true, low = true }
function chain.Priority(spec, site, level)
  if not PRIORITIES[level] then
    return problem(spec, ':Priority expects "high", "normal" or "low", got ' .. describe(level), site)
  end
  set_once(spec, "priority", "Priority", level, site)
end

-- Beyond the contract's table: a title and description for nodes whose constructor takes
-- no options table (Handler, If, End...). Allowed on every node.
function chain.Annotation(spec, site, opts)
  local good = check_options(":Annotation", opts, { title = opt_string, description = opt_string },
    function(text) problem(spec, text, site) end)
  spec.title = good.title or spec.title
  spec.description = good.description or spec.description
end

-- Methods are looked up per kind; a method the kind lacks records a problem (reported with
-- the others by flow.Flow) instead of failing with "attempt to call a nil value".
Node.__index = function(node, method)
  local spec = spec_of[node]
  local allowed = method == "Annotation"
  for _, m in ipairs(KINDS[spec.kind].methods) do allowed = allowed or m == method end
  return function(self, ...)
    local site = chain_site(spec, tostring(method))
    if self ~= node then
      problem(spec, string.format("call :%s with a colon, not a dot", tostring(method)), site)
    elseif allowed then
      chain[method](spec, site, ...)
    else
      local methods = KINDS[spec.kind].methods
      problem(spec, string.format("%s has no :%s (it has %s)", spec.ctor, tostring(method),
        #methods > 0 and ":" .. table.concat(methods, ", :") or "no chain methods"), site)
    end
    return node
  end
end
Node.__newindex = function()
  error(new_error("nodes are configured with chain methods, not by assignment", caller_location()))
end

---------------------------------------------------------------------------------------------
-- flow.Flow: resolution and checks
---------------------------------------------------------------------------------------------

-- Where flow.Flow was called. Flow files end in `return flow.Flow {...}`, a tail call that
-- leaves no frame of the caller, so then the file is that of the earliest node or field and
-- the line is found in the source (lazily: only errors need it).
local function flow_location(t)
  if not debug.getinfo(2, "t").istailcall then
    local file, line = caller_location()
    return file, function() return line end
  end
  local first
  if type(t) == "table" then
    local items = {}
    for _, v in pairs(t) do items[#items + 1] = v end
    if type(t.fields) == "table" then
      for _, v in pairs(t.fields) do items[#items + 1] = v end
    end
    for _, v in ipairs(items) do
      local item = spec_of[v] or (is_field(v) and v)
      if item and (not first or item.seq < first.seq) then first = item end
    end
  end
  if not first then return "?", function() return 0 end end
  return first.file, function()
    local lines = read_lines(first.file) or {}
    for n = math.min(first.line, #lines), 1, -1 do
      if lines[n]:find("Flow%s*[{(]") then return n end
    end
    return first.line
  end
end

local function ctx_report(ctx, message, file, line)
  report(ctx.problems, message, file or ctx.file, line or 0, not line and ctx.flow_line or nil)
end

-- A top-level key has no location of its own: find "key =" after the flow.Flow line.
local function ctx_report_key(ctx, message, key)
  report(ctx.problems, message, ctx.file, 0, function()
    local from = ctx.flow_line()
    return seek_line(ctx.file, from, "^%s*" .. key:gsub("%W", "%%%0") .. "%s*=%f[^=]") or from
  end)
end

local function check_fields_table(ctx, value)
  if type(value) ~= "table" or spec_of[value] or is_field(value) or is_ref(value) then
    return ctx_report_key(ctx, "fields must be a table of flow.field values, got " .. describe(value), "fields")
  end
  for k in pairs(value) do
    if type(k) ~= "string" then
      return ctx_report_key(ctx, "fields must be keyed by field name, got key " .. describe(k), "fields")
    end
  end
  for _, name in ipairs(sorted_keys(value)) do
    local f = value[name]
    if not is_field(f) then
      ctx_report_key(ctx, string.format("fields.%s is %s, not a field (use flow.field.String{...} and the like)",
        name, describe(f)), name)
    elseif not name:match(NAME_PATTERN) then
      ctx_report(ctx, string.format("field name '%s' must match %s", name, NAME_PATTERN), f.file, f.line)
    else
      ctx.fields[name] = f
    end
  end
end

local function check_reserved(ctx, def, key, value)
  if key == "fields" then return check_fields_table(ctx, value) end
  local text
  if (key == "title" or key == "description") and type(value) ~= "string" then
    text = key .. " must be a string, got " .. describe(value)
  elseif key == "lock" and value ~= "process" and value ~= "none" then
    text = "lock must be \"process\" or \"none\", got " .. describe(value)
  elseif key == "version" and value ~= "follow" and value ~= "pin" then
    text = "version must be \"follow\" or \"pin\", got " .. describe(value)
  elseif key == "history" and value ~= "full" and value ~= "lean" then
    text = "history must be \"full\" or \"lean\", got " .. describe(value)
  elseif key == "summary" and type(value) ~= "function" then
    text = "summary must be a function, got " .. describe(value)
  end
  if text then ctx_report_key(ctx, text, key) else def[key] = value end
end

-- Sorts every key of the user's table into reserved keys, nodes and methods.
local function classify(ctx, def)
  for k in pairs(ctx.t) do
    if type(k) ~= "string" then ctx_report(ctx, "keys of a flow must be names, got " .. describe(k)) end
  end
  for _, key in ipairs(sorted_keys(ctx.t)) do
    local value = ctx.t[key]
    local spec = spec_of[value]
    if RESERVED[key] then
      check_reserved(ctx, def, key, value)
    elseif spec and spec.name then
      ctx_report(ctx, string.format("the same node is used as both '%s' and '%s'", spec.name, key),
        spec.file, spec.line)
    elseif spec then
      -- Registered even when badly named, so that references to it do not add noise.
      if not key:match(NAME_PATTERN) then
        ctx_report(ctx, string.format("node name '%s' must match %s", key, NAME_PATTERN), spec.file, spec.line)
      end
      spec.name = key
      ctx.nodes[key] = spec
    elseif type(value) == "function" then
      ctx.methods[key] = value
    elseif is_field(value) then
      ctx_report(ctx, string.format("field '%s' must be listed inside fields = { ... }", key), value.file, value.line)
    elseif is_ref(value) or is_owner_ref(value) then
      ctx_report(ctx, string.format("'%s' = %s: a reference is only meaningful as an argument", key,
        tostring(value)), value.file, value.line)
    else
      ctx_report_key(ctx, string.format("'%s' is %s; a flow key must be a node, a method (function) "
        .. "or one of title, description, fields, lock, summary, version, history", key, describe(value)), key)
    end
  end
end

-- `this.name` where a method is needed (a plain function passes through).
local function resolve_method(ctx, record, what)
  if record == nil then return nil end
  local ref = record.value
  if type(ref) == "function" then return ref end
  if ctx.methods[ref.name] then return ctx.methods[ref.name] end
  local text = ctx.nodes[ref.name]
    and string.format("%s is a node, but %s needs a method (a function of the flow)", tostring(ref), what)
    or string.format("%s: no node or method named '%s'%s", tostring(ref), ref.name, suggestion(ref.name, ctx.methods))
  ctx_report(ctx, text, ref.file, ref.line)
end

-- `this.name` where a node is needed; returns the node name.
local function resolve_node(ctx, ref, what)
  local target = ctx.nodes[ref.name]
  local text
  if target and START_KINDS[target.kind] then
    text = string.format("%s: a start node cannot be the target of %s", tostring(ref), what)
  elseif target and target.kind == "obsolete" then
    text = string.format("%s: an Obsolete node cannot be the target of %s", tostring(ref), what)
  elseif ctx.methods[ref.name] then
    text = string.format("%s is a method, but %s needs a node", tostring(ref), what)
  elseif not target then
    text = string.format("%s: no node or method named '%s'%s", tostring(ref), ref.name, suggestion(ref.name, ctx.nodes))
  end
  if text then ctx_report(ctx, text, ref.file, ref.line) end
  return target and ref.name
end

local function compile_edges(ctx, spec, node)
  local function add(record, kind, what)
    if record == nil then return end
    local to = resolve_node(ctx, record.ref, what)
    local cond = resolve_method(ctx, record.cond, what .. " condition")
    -- the condition's method name titles the branch on the chart ("is_big" -> "Is big?")
    local cond_name = record.cond and is_ref(record.cond.value) and record.cond.value.name or nil
    if to then node.edges[#node.edges + 1] = { to = to, kind = kind, cond = cond, cond_name = cond_name } end
  end
  local function missing(what)
    ctx_report(ctx, string.format("%s '%s' has no %s", spec.ctor, spec.name, what), spec.file, spec.line)
  end

  if spec.kind == "if" then
    add(spec.then_edge, "true", ":Then")
    add(spec.else_edge, "false", ":Else")
    if not spec.then_edge then missing(":Then") end
    if not spec.else_edge then missing(":Else") end
  elseif spec.kind == "switch" then
    for _, case in ipairs(spec.cases) do add(case, "case", ":Case") end
    add(spec.default_edge, "default", ":Default")
    if #spec.cases == 0 then missing(":Case") end
  elseif spec.kind == "split" then
    local seen = {}
    for _, branch in ipairs(spec.branches) do
      local ref = branch.ref
      if seen[ref.name] then
        ctx_report(ctx, string.format("Split '%s' has two branches to '%s'", spec.name, ref.name), ref.file, ref.line)
      end
      seen[ref.name] = true
      add(branch, "next", ":Next")
    end
    if #spec.branches == 0 then missing("branch (:Next or :Always)") end
  else
    add(spec.next, "next", ":Next")
    if KINDS[spec.kind].needs_next and not spec.next then missing(":Next") end
  end
end

local function compile_assign(ctx, assign, node)
  if assign == nil then return end
  if assign.user then node.assign_user = assign.user return end
  local ref = assign.owner_of
  if not ref then node.assign_fn = resolve_method(ctx, assign, ":Assign") return end
  local target = ctx.nodes[ref.node]
  if target and OWNED_KINDS[target.kind] then
    node.assign_owner_of = ref.node
  elseif target then
    ctx_report(ctx, string.format("%s: '%s' is a %s, which has no owner (only Start, StartFunction and View have one)",
      tostring(ref), ref.node, target.ctor), ref.file, ref.line)
  else
    ctx_report(ctx, string.format("%s: no node named '%s'%s", tostring(ref), ref.node,
      suggestion(ref.node, ctx.nodes)), ref.file, ref.line)
  end
end

-- A callback record or fixed seconds into node[key] (a function) or the fixed value.
local function compile_after(ctx, record, node, key, what)
  if record.seconds then return record.seconds end
  node[key] = resolve_method(ctx, record, what)
  return -1
end

-- Timeouts, due dates, keys, data and regions of the event nodes.
local function compile_events(ctx, spec, node)
  for i, t in ipairs(spec.timeouts or {}) do
    node.timeouts = node.timeouts or {}
    local to = resolve_node(ctx, t.ref, ":OnTimeout")
    local seconds = compile_after(ctx, t.after, node, "timeout_" .. i, ":OnTimeout")
    if to then node.timeouts[#node.timeouts + 1] = { to = to, interrupting = t.interrupting, seconds = seconds } end
  end
  if spec.due then node.due_seconds = compile_after(ctx, spec.due, node, "due", ":Due") end
  node.priority = spec.priority
  if spec.key and spec.key.const then node.key_value = spec.key.const
  elseif spec.key then node.key = resolve_method(ctx, spec.key, spec.ctor .. " key") end
  if spec.data then node.data = resolve_method(ctx, spec.data, "Send data") end
  if spec.lock_name then node.lock_name = spec.lock_name end
  if spec.topic then node.topic = spec.topic end
  if spec.while_ref then node.while_node = resolve_node(ctx, spec.while_ref.ref, ":While") end
  if spec.subflow then
    node.subflow, node.sub_start = spec.subflow, spec.sub_start
    node.input = resolve_method(ctx, spec.input, "Subprocess input")
    node.output = resolve_method(ctx, spec.output, "Subprocess output")
  end
  local fe = spec.foreach
  if fe then
    node.foreach_field = fe.field
    if not fe.field then node.foreach = resolve_method(ctx, fe, ":ForEach list") end
    node.parallel, node.complete_count, node.cancel_rest_instances = fe.parallel, fe.complete_count, fe.cancel_rest
    if fe.complete then node.complete = resolve_method(ctx, fe.complete, ":ForEach complete") end
  end
  if spec.region then
    local name = resolve_node(ctx, spec.region.ref, "Cancel")
    local target = name and ctx.nodes[name]
    if target and target.kind ~= "split" then
      ctx_report(ctx, string.format("%s: Cancel takes a Split (it cancels that split's round), not a %s",
        tostring(spec.region.ref), target.ctor), spec.region.ref.file, spec.region.ref.line)
    elseif target then
      node.region = name
    end
  end
end

local function compile_node(ctx, spec)
  local node = { name = spec.name, kind = spec.kind, title = spec.title or flow.title_from_name(spec.name),
    description = spec.description, line = spec.line, fields = {}, edges = {},
    fn = resolve_method(ctx, spec.fn, spec.ctor), validate = resolve_method(ctx, spec.validate, "validate"),
    seconds = spec.seconds, timeout = spec.timeout and spec.timeout.seconds }
  for _, name in ipairs(spec.fields or {}) do
    if ctx.fields[name] then
      node.fields[#node.fields + 1] = name
    else
      ctx_report(ctx, string.format("%s '%s' lists field '%s', which is not in the flow's fields%s",
        spec.ctor, spec.name, name, suggestion(name, ctx.fields)), spec.file, spec.line)
    end
  end
  if spec.kind == "join" then
    node.wait_all, node.wait, node.cancel_rest, node.block = spec.wait_all, spec.wait, spec.cancel_rest, spec.block
  end
  node.terminate, node.first, node.transient = spec.terminate, spec.first, spec.transient
  node.comment_required = spec.comment_required
  node.message, node.signal = spec.message, spec.signal
  compile_events(ctx, spec, node)
  if spec.retry then node.retry = { attempts = spec.retry.attempts, backoff = spec.retry.backoff } end
  local perm = spec.permission
  if perm and perm.name then node.permission = perm.name
  elseif perm then node.permission_fn = resolve_method(ctx, perm, ":Permission") end
  compile_assign(ctx, spec.assign, node)
  compile_edges(ctx, spec, node)
  return node
end

-- Run only once every reference resolved: otherwise it would mostly echo the typos.
local function check_reachable(ctx, def)
  local queue, reached = {}, {}
  for _, node in ipairs(def.nodes) do
    if START_KINDS[node.kind] then queue[#queue + 1] = node.name end
  end
  if #queue == 0 then
    return ctx_report(ctx, "the flow has no start node (flow.Start or flow.StartFunction)")
  end
  while #queue > 0 do
    local name = table.remove(queue)
    if not reached[name] then
      reached[name] = true
      for _, edge in ipairs(def.by_name[name].edges) do queue[#queue + 1] = edge.to end
      for _, t in ipairs(def.by_name[name].timeouts or {}) do queue[#queue + 1] = t.to end
    end
  end
  for _, node in ipairs(def.nodes) do
    if not reached[node.name] and node.kind ~= "obsolete" then
      local spec = ctx.nodes[node.name]
      ctx_report(ctx, string.format("node '%s' is not reachable from any start node", node.name),
        spec.file, spec.line)
    end
  end
end

-- Every problem of the flow, of its fields and of its nodes, in a stable order.
local function gather_problems(ctx)
  local all = {}
  local function add(list)
    for _, p in ipairs(list) do all[#all + 1] = p end
  end
  -- On one line, a node's own problems (bad arguments) explain the flow-level ones
  -- ("has no :Next"), so they come first.
  for _, name in ipairs(sorted_keys(ctx.fields)) do add(ctx.fields[name].problems) end
  for _, name in ipairs(sorted_keys(ctx.nodes)) do add(ctx.nodes[name].problems) end
  add(ctx.problems)
  return all
end

-- Raises the problem nearest the top of the flow file, with all of them in `errors`.
local function raise(ctx, problems)
  -- Line hints are best effort: a failure there must neither hide the problem nor leave the
  -- cache behind (a reloaded file would then get stale lines).
  lines_cache = {}
  for i, p in ipairs(problems) do
    local ok, line = pcall(p.locate or function() end)
    p.line = ok and line or p.line
    p.locate, p.order = nil, i
  end
  lines_cache = nil
  table.sort(problems, function(a, b)
    if (a.file == ctx.file) ~= (b.file == ctx.file) then return a.file == ctx.file end
    if a.line ~= b.line then return a.line < b.line end
    return a.order < b.order
  end)
  for _, p in ipairs(problems) do p.order = nil end
  local first = problems[1]
  local err = new_error(first.message, first.file, first.line)
  err.errors = problems
  error(err, 0)
end

--[[
flow.Flow(t) checks the flow table `t` and returns the compiled definition (or raises):

  def = { __flowdef = true, self = t, file = "flows/x.lua", title, description,
          lock = "process"|"none", summary,
          fields = { {name, type, label, required, default, help, max_length, min, max,
                      choices = {{value, label}, ...}}, ... },         -- in definition order
          nodes = { {name, kind, title, description, line, fields = {names...}, fn, validate,
                     seconds, permission, permission_fn, assign_user, assign_fn,
                     assign_owner_of, retry = {attempts, backoff}, timeout, wait_all,
                     wait, cancel_rest, terminate, first, message, signal, transient,
                     key (fn) | key_value, data (fn), region, due (fn) | due_seconds, priority,
                     subflow, sub_start, input (fn), output (fn), lock_name, while_node, topic,
                     foreach (fn) | foreach_field, parallel, complete_count | complete (fn),
                     timeouts = {{to, interrupting, seconds (-1: fn timeout_<i>)}, ...},
                     edges = {{to, kind, cond}, ...}}, ... },          -- in definition order
          by_name = { [name] = node } }
]]
function flow.Flow(t)
  local file, flow_line = flow_location(t)
  if type(t) ~= "table" or spec_of[t] or is_ref(t) or is_field(t) then
    error(new_error("flow.Flow expects a table of nodes, methods and settings, got " .. describe(t),
      file, flow_line()), 0)
  end
  local ctx = { t = t, file = file, flow_line = flow_line, problems = {}, nodes = {}, methods = {}, fields = {} }
  local def = { __flowdef = true, self = t, file = file, lock = "process", fields = {}, nodes = {}, by_name = {} }

  classify(ctx, def)

  local function by_seq(list, a, b) return list[a].seq < list[b].seq end
  local field_names = sorted_keys(ctx.fields)
  table.sort(field_names, function(a, b) return by_seq(ctx.fields, a, b) end)
  for _, name in ipairs(field_names) do
    local f = ctx.fields[name]
    def.fields[#def.fields + 1] = { name = name, type = f.type, label = f.label or flow.title_from_name(name),
      required = f.required, default = f.default, help = f.help, max_length = f.max_length,
      min = f.min, max = f.max, choices = f.choices, search = f.search or nil }
  end

  local node_names = sorted_keys(ctx.nodes)
  table.sort(node_names, function(a, b) return by_seq(ctx.nodes, a, b) end)
  for _, name in ipairs(node_names) do
    local node = compile_node(ctx, ctx.nodes[name])
    def.nodes[#def.nodes + 1] = node
    def.by_name[name] = node
  end

  if #gather_problems(ctx) == 0 then check_reachable(ctx, def) end
  local problems = gather_problems(ctx)
  if #problems > 0 then raise(ctx, problems) end
  return def
end

---------------------------------------------------------------------------------------------
-- Form data
---------------------------------------------------------------------------------------------

--[[
flow.clean(def, field_names, data) validates submitted form data against the named fields
(every field of the flow when field_names is nil). Returns the cleaned table, or nil and
{field = message} ({__all__ = message} when data is not a table). Keys outside field_names
are refused; an absent non-required field takes its default; an empty string counts as
absent, except that a non-required text field (string, text, email) keeps "" so that a form
can clear it. A name in field_names that the flow lacks is a programming error and raises.
]]
function flow.clean(def, field_names, data)
  local by_name = {}
  for _, f in ipairs(def.fields) do by_name[f.name] = f end
  if field_names == nil then
    field_names = {}
    for _, f in ipairs(def.fields) do field_names[#field_names + 1] = f.name end
  end
  if data == nil then data = {} end
  if type(data) ~= "table" then return nil, { __all__ = "The form data must be an object." } end

  local wanted = {}
  for _, name in ipairs(field_names) do
    if not by_name[name] then error("flow.clean: the flow has no field '" .. tostring(name) .. "'", 2) end
    wanted[name] = true
  end

  local out, errors = {}, {}
  for key in pairs(data) do
    if not wanted[key] then errors[tostring(key)] = "unknown field" end
  end
  for _, name in ipairs(field_names) do
    local f, v = by_name[name], data[name]
    if v == nil or v == "" then
      if f.required then
        errors[name] = "This field is required."
      elseif v == "" and TEXTUAL[f.type] then
        out[name] = ""
      else
        out[name] = f.default
      end
    else
      local value, text = check_value(f, v)
      if text then errors[name] = text else out[name] = value end
    end
  end
  if next(errors) then return nil, errors end
  return out, nil
end

return flow
