-- Fixed in flowdef.c: flowdef_push_callback/_self/_edge_cond read the compiled
-- table with lua_getfield outside any protected call; a metamethod set after
-- validation (in an engine's state) raised there: Lua panic, abort.
-- Passes validation, then tampers with its compiled table when run again in
-- the same state (as an engine's state runs every flow after validation).
local flow = require "flow"
local def = flow.Flow { start = flow.StartFunction():Next(flow.this.finish), finish = flow.End() }
_G.runs = (_G.runs or 0) + 1
if _G.runs > 1 then
  local boom = { __index = function() error("tampered") end }
  setmetatable(def.by_name, boom)
  for _, node in pairs(def.by_name) do
    setmetatable(node, boom)
    for _, edge in ipairs(node.edges) do setmetatable(edge, boom) end
  end
end
return def
