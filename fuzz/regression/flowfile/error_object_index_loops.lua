-- Fixed in luavm.c decode_error: the same unprotected __index, looping: the
-- budget hook is off by then, so the loader hung for ever.
error(setmetatable({}, { __index = function() while true do end end }))
