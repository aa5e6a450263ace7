-- fuzz_job's flow: a Job whose results are built from the fuzzed JSON (process.data.input) by
-- a small recipe language, so that a job leaves what no JSON text can say: NaN, infinities,
-- functions, coroutines, cycles, sparse and mixed tables, float and huge integer keys, bytes
-- that are not UTF-8, big strings, deleted keys.  Strings starting with '@' are recipes:
--   @nan @inf @-inf @-0 @fn @co @self (the table being built: a cycle) @maxint @minint
--   @int:N  @bin (bytes \0 \255 \254)  @big (64 KiB)  @nil (no value: a hole)
-- A table key "#N" becomes the number N (an array index, a float key, a negative one).
-- input.keys = {name = recipe}: top-level keys of the process data set to built values;
-- input.drop = true: the job removes `input` itself; input.task = recipe: the task's data.
local flow = require "flow"
local this = flow.this

local RECIPES = {
  ["@nan"] = function() return 0 / 0 end,
  ["@inf"] = function() return math.huge end,
  ["@-inf"] = function() return -math.huge end,
  ["@-0"] = function() return -0.0 end,
  ["@fn"] = function() return function() end end,
  ["@co"] = function() return coroutine.create(function() end) end,
  ["@maxint"] = function() return math.maxinteger end,
  ["@minint"] = function() return math.mininteger end,
  ["@bin"] = function() return "\0\255\254" end,
  ["@big"] = function() return string.rep("x", 64 * 1024) end,
  ["@nil"] = function() return nil end,
}

local function build(v, depth, root)
  if depth > 16 then return nil end
  if type(v) == "string" then
    if v == "@self" then return root end
    local make = RECIPES[v]
    if make then return make() end
    local n = v:match("^@int:(.*)$")
    if n then return math.tointeger(tonumber(n)) end
    return v
  elseif type(v) == "table" then
    local out = {}
    root = root or out
    for k, x in pairs(v) do
      local key = k
      if type(k) == "string" and k:sub(1, 1) == "#" then key = tonumber(k:sub(2)) or k end
      if key == key then out[key] = build(x, depth + 1, root) end
    end
    return out
  end
  return v
end

return flow.Flow {
  title = "Job results (fuzzing)",
  start = flow.StartFunction(this.begin):Next(this.work),
  work = flow.Job(this.run):Next(this.finish),
  finish = flow.End(),

  begin = function(self, activation, data) activation.process.data.input = data.input end,
  run = function(self, activation)
    local d = activation.process.data
    local recipe = d.input
    local out = build(recipe, 0, nil)
    d.out = out
    if type(recipe) == "table" then
      if type(recipe.keys) == "table" then
        for k, v in pairs(recipe.keys) do d[k] = build(v, 0, nil) end
      end
      if recipe.task ~= nil and activation.task then activation.task.data = build(recipe.task, 0, nil) end
      if recipe.drop == true then d.input = nil end
    end
    return out
  end,
}
