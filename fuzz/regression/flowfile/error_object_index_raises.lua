-- Fixed in luavm.c decode_error: the error object was read with lua_getfield
-- outside the protected call, so its __index ran there and raised: Lua panic, abort.
error(setmetatable({}, { __index = function() error("no such key") end }))
